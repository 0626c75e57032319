#pragma once
/// @file radix_sort.hpp
/// @brief Sorting small float64 buffers through order-preserving 64-bit keys: an AVX-512
/// merge sort where the CPU has one (sort_avx512.cpp), else an LSD radix sort.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace driftcore {

/// @brief Map a double to a uint64 whose unsigned order is the numeric order
/// (-inf < ... < -0.0 < +0.0 < ... < +inf). NaN must be filtered before.
inline std::uint64_t order_key(double v) noexcept {
  std::uint64_t u;
  static_assert(sizeof(u) == sizeof(v));
  __builtin_memcpy(&u, &v, sizeof(u));
  return u ^ ((std::uint64_t(0) - (u >> 63)) | (std::uint64_t(1) << 63));
}

/// @brief Inverse of order_key().
inline double from_order_key(std::uint64_t k) noexcept {
  std::uint64_t u = k ^ (((k >> 63) - 1) | (std::uint64_t(1) << 63));
  double v;
  __builtin_memcpy(&v, &u, sizeof(v));
  return v;
}

/// @brief Sort a small buffer of non-NaN doubles in place (single thread). Up to 64
/// values std::sort; above, both paths order by order_key() (-0.0 before +0.0), so
/// they give the same bits.
void sort_small(double* values, std::size_t n, std::vector<std::uint64_t>& scratch);

}  // namespace driftcore
