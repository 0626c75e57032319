#pragma once
// Counts of a state stay below 2^63: they then fit int64 wherever they go (numpy,
// JSON, Arrow), and the sum of two states cannot wrap around 2^64 unnoticed.
#include <cstdint>
#include <string>

#include "driftcore/common.hpp"

namespace driftcore::detail {

constexpr std::uint64_t kMaxCount = INT64_MAX;

/// a + b; throws invalid_input("<what> would pass 2^63 - 1") when it passes kMaxCount.
inline std::uint64_t add_counts(std::uint64_t a, std::uint64_t b, const std::string& what) {
  if (a > kMaxCount || b > kMaxCount - a) throw invalid_input(what + " would pass 2^63 - 1");
  return a + b;
}

}  // namespace driftcore::detail
