#pragma once
// Sorting 64-bit keys and dropping repeats in a way that a cancellation flag can stop
// (std::sort cannot be stopped: on 10^8 keys it runs for seconds).
#include <cstdint>
#include <vector>

namespace driftcore::detail {

/// Sort v ascending and erase repeated values. Checks the cancellation flag about every
/// 2^16 keys moved; a cancelled call leaves v's contents unspecified.
void sort_unique(std::vector<std::uint64_t>& v);

}  // namespace driftcore::detail
