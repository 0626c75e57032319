#pragma once
// Eight float32 or float64 values as one AVX-512 vector of float64 (the widening is
// exact), for the kernels that compute in float64 whatever the input's float type.

#if defined(__x86_64__) || defined(_M_X64)
#include <type_traits>

#include <immintrin.h>

namespace driftcore::detail {

template <class T>
__attribute__((target("avx512f"))) inline __m512d load8_f64(const T* x) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
  // The zero-masked form: GCC 12 warns of an uninitialized value inside the plain one.
  if constexpr (std::is_same_v<T, float>) return _mm512_maskz_cvtps_pd(0xFF, _mm256_loadu_ps(x));
  else return _mm512_loadu_pd(x);
}

}  // namespace driftcore::detail
#endif
