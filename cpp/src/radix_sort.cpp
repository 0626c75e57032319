#include "driftcore/radix_sort.hpp"

#include <algorithm>
#include <cstring>

#include "avx512.hpp"
#include "sort_avx512.hpp"

namespace driftcore {

void sort_small(double* values, std::size_t n, std::vector<std::uint64_t>& scratch) {
  if (n < 2) return;
  if (n <= 64) {
    std::sort(values, values + n);
    return;
  }
  if (detail::use_avx512()) {
    // Keys padded with the largest key (no double's: NaN is excluded) to a multiple of
    // 8, and a block of readable padding on both sides of each buffer.
    const std::size_t m = (n + 7) & ~std::size_t(7);
    scratch.resize(2 * (m + 16));
    std::uint64_t* a = scratch.data() + 8;
    for (std::size_t i = 0; i < n; ++i) a[i] = order_key(values[i]);
    std::fill(a + n, a + m, ~std::uint64_t(0));
    const std::uint64_t* sorted = detail::sort_keys_avx512(a, m, a + m + 16);
    for (std::size_t i = 0; i < n; ++i) values[i] = from_order_key(sorted[i]);
    return;
  }
  scratch.resize(2 * n);
  std::uint64_t* a = scratch.data();
  std::uint64_t* b = a + n;
  std::size_t c[8][256] = {};
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t k = order_key(values[i]);
    a[i] = k;
    for (int p = 0; p < 8; ++p) ++c[p][(k >> (8 * p)) & 255];
  }
  for (int p = 0; p < 8; ++p) {
    if (c[p][(a[0] >> (8 * p)) & 255] == n) continue;  // every key shares this byte
    std::size_t run = 0;
    for (std::size_t d = 0; d < 256; ++d) {
      std::size_t t = c[p][d];
      c[p][d] = run;
      run += t;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t k = a[i];
      b[c[p][(k >> (8 * p)) & 255]++] = k;
    }
    std::swap(a, b);
  }
  for (std::size_t i = 0; i < n; ++i) values[i] = from_order_key(a[i]);
}

}  // namespace driftcore
