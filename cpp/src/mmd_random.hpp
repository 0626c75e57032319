#pragma once
// Counter-based keys for the permutation splits, shared by host and device code: a key
// depends only on (seed, permutation, point), so any device or thread count draws the
// same splits.
#include <cstdint>

#if defined(__CUDACC__)
#define DC_MMD_HD __host__ __device__ __forceinline__
#else
#define DC_MMD_HD inline
#endif

namespace driftcore::detail {

// splitmix64's finalizer: a bijection on 64 bits with full avalanche.
DC_MMD_HD std::uint64_t mix64(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Key stream of permutation p: mix64(base_p + i * odd constant).
DC_MMD_HD std::uint64_t perm_base(std::uint64_t seed, std::uint64_t p) noexcept {
  return mix64(mix64(seed) + p * 0x9E3779B97F4A7C15ULL);
}
DC_MMD_HD std::uint64_t perm_key(std::uint64_t base, std::uint64_t i) noexcept {
  return mix64(base + i * 0xD1B54A32D192ED03ULL);
}

}  // namespace driftcore::detail
