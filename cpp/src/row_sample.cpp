#include "driftcore/row_sample.hpp"

#include <cmath>

#include "avx512.hpp"
#include "driftcore/common.hpp"
#include "host_device.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define DRIFTCORE_X86 1
#endif

namespace driftcore {
namespace {

constexpr std::uint64_t kGamma = kGoldenGamma;
constexpr double kUnit = 0x1p-53;  // a 53-bit key times this is exact

inline std::uint64_t key53(std::uint64_t base, std::uint64_t row) noexcept {
  return detail::splitmix_mix(base + (row + 1) * kGamma) >> 11;
}

// Offsets from..n-1 (rows start + from ..), appended.
void below_portable(std::uint64_t base, std::uint64_t start, std::size_t from, std::size_t n,
                    std::uint64_t cut, std::vector<std::int64_t>& rows, std::vector<double>& keys) {
  for (std::size_t i = from; i < n; ++i) {
    const std::uint64_t k = key53(base, start + i);
    if (k < cut) {
      rows.push_back(static_cast<std::int64_t>(i));
      keys.push_back(static_cast<double>(k) * kUnit);
    }
  }
}

#ifdef DRIFTCORE_X86
// Eight rows a step: the same integer arithmetic (vpmullq is the 64-bit multiply);
// kept rows are rare, so they are taken one by one from the mask.
__attribute__((target("avx512f,avx512dq"))) void below_avx512(std::uint64_t base,
                                                              std::uint64_t start, std::size_t n,
                                                              std::uint64_t cut,
                                                              std::vector<std::int64_t>& rows,
                                                              std::vector<double>& keys) {
  const std::size_t full = n - n % 8;
  const __m512i lane = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i gamma = _mm512_set1_epi64(static_cast<long long>(kGamma));
  const __m512i m1 = _mm512_set1_epi64(static_cast<long long>(0xBF58476D1CE4E5B9ull));
  const __m512i m2 = _mm512_set1_epi64(static_cast<long long>(0x94D049BB133111EBull));
  const __m512i limit = _mm512_set1_epi64(static_cast<long long>(cut));
  const __m512i step = _mm512_set1_epi64(static_cast<long long>(8 * kGamma));
  // state of row start + i + lane: base + (start + i + lane + 1) * gamma
  __m512i state =
      _mm512_add_epi64(_mm512_set1_epi64(static_cast<long long>(base + (start + 1) * kGamma)),
                       _mm512_mullo_epi64(lane, gamma));
  for (std::size_t i = 0; i < full; i += 8) {
    __m512i x = state;
    x = _mm512_mullo_epi64(_mm512_xor_si512(x, _mm512_srli_epi64(x, 30)), m1);
    x = _mm512_mullo_epi64(_mm512_xor_si512(x, _mm512_srli_epi64(x, 27)), m2);
    x = _mm512_srli_epi64(_mm512_xor_si512(x, _mm512_srli_epi64(x, 31)), 11);
    __mmask8 hit = _mm512_cmplt_epu64_mask(x, limit);
    if (hit) {
      alignas(64) std::uint64_t k[8];
      _mm512_store_si512(k, x);
      while (hit) {
        const int j = __builtin_ctz(hit);
        rows.push_back(static_cast<std::int64_t>(i + j));
        keys.push_back(static_cast<double>(k[j]) * kUnit);
        hit &= static_cast<__mmask8>(hit - 1);
      }
    }
    state = _mm512_add_epi64(state, step);
  }
  below_portable(base, start, full, n, cut, rows, keys);
}
#endif

}  // namespace

std::uint64_t sample_base(std::uint64_t seed, std::uint64_t stream) noexcept {
  return detail::splitmix_mix(detail::splitmix_mix(seed + kGamma) ^ (stream * kGamma + 1));
}

void sample_keys_at(std::uint64_t base, const std::uint64_t* rows, std::size_t n,
                    double* keys) noexcept {
  for (std::size_t i = 0; i < n; ++i) keys[i] = static_cast<double>(key53(base, rows[i])) * kUnit;
}

void sample_keys_below(std::uint64_t base, std::uint64_t start, std::size_t n, double cut,
                       std::vector<std::int64_t>& rows, std::vector<double>& keys) {
  if (std::isnan(cut)) throw invalid_input("sample cut must be a number, got NaN");
  rows.clear();
  keys.clear();
  // key < cut  <=>  k < cut * 2^53  <=>  k < ceil(cut * 2^53), for an integer k
  const std::uint64_t all = std::uint64_t(1) << 53;
  const std::uint64_t limit = cut >= 1.0 ? all
                              : cut <= 0.0
                                  ? 0
                                  : static_cast<std::uint64_t>(std::ceil(std::ldexp(cut, 53)));
  if (limit == 0 || n == 0) return;
  if (limit >= all) {  // every row: no test, no growing vectors
    rows.resize(n);
    keys.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      rows[i] = static_cast<std::int64_t>(i);
      keys[i] = static_cast<double>(key53(base, start + i)) * kUnit;
    }
    return;
  }
#ifdef DRIFTCORE_X86
  if (detail::use_avx512()) return below_avx512(base, start, n, limit, rows, keys);
#endif
  below_portable(base, start, 0, n, limit, rows, keys);
}

}  // namespace driftcore
