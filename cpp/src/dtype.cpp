#include <atomic>

#include "avx512.hpp"
#include "driftcore/common.hpp"

namespace driftcore {

namespace {
std::atomic<bool> simd_allowed{true};
}

void set_simd(bool allowed) noexcept {
  simd_allowed.store(allowed, std::memory_order_relaxed);
}

detail::simd_level detail::simd() noexcept {
#if defined(__x86_64__) || defined(_M_X64)
  static const simd_level cpu = [] {
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma"))
      return simd_level::avx512_fma;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
      return simd_level::avx2_fma;
    return simd_level::portable;
  }();
  return simd_allowed.load(std::memory_order_relaxed) ? cpu : simd_level::portable;
#else
  return simd_level::portable;
#endif
}

bool detail::use_avx512() noexcept {
#if defined(__x86_64__) || defined(_M_X64)
  static const bool cpu = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                          __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
  return cpu && simd_allowed.load(std::memory_order_relaxed);
#else
  return false;
#endif
}

std::size_t dtype_size(dtype t) noexcept {
  switch (t) {
    case dtype::i8:
    case dtype::u8:
      return 1;
    case dtype::i16:
    case dtype::u16:
      return 2;
    case dtype::f32:
    case dtype::i32:
    case dtype::u32:
      return 4;
    default:
      return 8;
  }
}

}  // namespace driftcore
