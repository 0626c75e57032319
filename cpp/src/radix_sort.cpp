#include "driftcore/radix_sort.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "driftcore/threading.hpp"

namespace driftcore {
namespace {

constexpr int kBits = 8;  // 256 destinations per pass keep the scatter TLB-friendly
constexpr std::size_t kRadix = std::size_t(1) << kBits;
constexpr int kPasses = 64 / kBits;
constexpr std::size_t kGrain = 1 << 16;

inline std::size_t digit(std::uint64_t k, int pass) noexcept {
  return static_cast<std::size_t>((k >> (pass * kBits)) & (kRadix - 1));
}

}  // namespace

void radix_sort_keys(std::uint64_t* keys, std::uint64_t* tmp, std::size_t n, int threads) {
  if (n < 2) return;
  const int workers = range_count(n, kGrain, threads);
  std::vector<std::size_t> counts(static_cast<std::size_t>(workers) * kRadix);
  std::uint64_t* src = keys;
  std::uint64_t* dst = tmp;
  for (int p = 0; p < kPasses; ++p) {
    std::fill(counts.begin(), counts.end(), 0);
    parallel_ranges(n, kGrain, threads, [&](int w, std::size_t b, std::size_t e) {
      std::size_t* c = counts.data() + std::size_t(w) * kRadix;
      for (std::size_t i = b; i < e; ++i) ++c[digit(src[i], p)];
    });
    // Skip a pass whose digit is shared by every key: it would not move anything.
    std::size_t shared = 0;
    for (int w = 0; w < workers; ++w) shared += counts[std::size_t(w) * kRadix + digit(src[0], p)];
    if (shared == n) continue;
    // Stable: digit-major, then worker order, then input order within a worker, so
    // the output is the same for every thread count.
    std::size_t run = 0;
    for (std::size_t d = 0; d < kRadix; ++d)
      for (int w = 0; w < workers; ++w) {
        std::size_t& c = counts[std::size_t(w) * kRadix + d];
        const std::size_t t = c;
        c = run;
        run += t;
      }
    parallel_ranges(n, kGrain, threads, [&](int w, std::size_t b, std::size_t e) {
      std::size_t* off = counts.data() + std::size_t(w) * kRadix;
      for (std::size_t i = b; i < e; ++i) {
        const std::uint64_t k = src[i];
        dst[off[digit(k, p)]++] = k;
      }
    });
    std::swap(src, dst);
  }
  if (src != keys) std::memcpy(keys, src, n * sizeof(std::uint64_t));
}

std::vector<double> sorted_finite_or_inf(const array_view& in, int threads) {
  std::vector<std::uint64_t> keys(in.size);
  std::size_t m = 0;
  visit_dtype(in, [&](auto* x) {
    for (std::size_t i = 0; i < in.size; ++i) {
      const double v = static_cast<double>(x[i]);
      if (!std::isnan(v)) keys[m++] = order_key(v);
    }
  });
  keys.resize(m);
  std::vector<std::uint64_t> tmp(m);
  radix_sort_keys(keys.data(), tmp.data(), m, threads);
  std::vector<double> out(m);
  for (std::size_t i = 0; i < m; ++i) out[i] = from_order_key(keys[i]);
  return out;
}

void radix_sort_small(double* values, std::size_t n, std::vector<std::uint64_t>& scratch) {
  if (n < 2) return;
  if (n <= 64) {
    std::sort(values, values + n);
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
