#pragma once
// What the AVX-512 kernels share: whether they may run, and eight float32 or float64
// values loaded as one vector of float64 (the widening is exact).

namespace driftcore::detail {

/// The instruction sets a kernel may choose from: the CPU's, or portable code only once
/// set_simd(false) switched the vectorized paths off. This is the one place that
/// decides; every kernel with vectorized copies asks it on each call.
enum class simd_level { portable, avx2_fma, avx512_fma };
simd_level simd() noexcept;

/// True where the CPU has AVX-512 F, DQ, VL and BW (every AVX-512 CPU since Skylake-SP)
/// and set_simd() has not switched the vectorized paths off. Every AVX-512 path gives
/// the portable code's bits.
bool use_avx512() noexcept;

}  // namespace driftcore::detail

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include <type_traits>

namespace driftcore::detail {

template <class T>
__attribute__((target("avx512f"))) inline __m512d load8_f64(const T* x) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
  // The zero-masked form: GCC 12 warns of an uninitialized value inside the plain one.
  if constexpr (std::is_same_v<T, float>)
    return _mm512_maskz_cvtps_pd(0xFF, _mm256_loadu_ps(x));
  else
    return _mm512_loadu_pd(x);
}

}  // namespace driftcore::detail
#endif
