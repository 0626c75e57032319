#pragma once
// Counter-based keys for the permutation splits, shared by host and device code: a key
// depends only on (seed, permutation, point), so any device or thread count draws the
// same splits.
#include <cstdint>

#include "host_device.hpp"

namespace driftcore::detail {

// Key stream of permutation p: splitmix_mix(base_p + i * odd constant).
DC_HD std::uint64_t perm_base(std::uint64_t seed, std::uint64_t p) noexcept {
  return splitmix_mix(splitmix_mix(seed) + p * kGoldenGamma);
}
DC_HD std::uint64_t perm_key(std::uint64_t base, std::uint64_t i) noexcept {
  return splitmix_mix(base + i * 0xD1B54A32D192ED03ULL);
}

}  // namespace driftcore::detail
