#pragma once
// What the CPU and CUDA kernels share at the lowest level: the qualifier that compiles
// a function for both, and the two 64-bit finalizers (bijections with full avalanche)
// that every counter-based hash here is built from. One definition each: two headers
// once defined different `detail::mix64`s, which the linker may merge.
#include <cstdint>

#include "driftcore/common.hpp"

#if defined(__CUDACC__)
#define DC_HD __host__ __device__ __forceinline__
#else
#define DC_HD inline
#endif

namespace driftcore::detail {

/// SplitMix64's finalizer.
DC_HD std::uint64_t splitmix_mix(std::uint64_t x) noexcept {
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/// SplitMix64: the finalizer of x plus the golden-ratio increment.
DC_HD std::uint64_t splitmix64(std::uint64_t x) noexcept {
  return splitmix_mix(x + kGoldenGamma);
}

/// MurmurHash3's 64-bit finalizer (fmix64).
DC_HD std::uint64_t murmur_mix(std::uint64_t x) noexcept {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDull;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ull;
  x ^= x >> 33;
  return x;
}

}  // namespace driftcore::detail
