#include "driftcore/row_hash.hpp"

#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

#include "avx512.hpp"
#include "host_device.hpp"

namespace driftcore {

namespace {
constexpr std::uint64_t golden = kGoldenGamma;
}  // namespace

void row_hash_mix(std::uint64_t* h, const std::uint64_t* bits, std::size_t n,
                  std::uint64_t column_index) noexcept {
  const std::uint64_t offset = (column_index + 1) * golden;
  for (std::size_t i = 0; i < n; ++i) h[i] = (h[i] ^ detail::murmur_mix(bits[i] + offset)) * golden;
}

namespace {

template <class T>
inline std::uint64_t canonical(T x, std::uint64_t nan_bits) noexcept {
  const double v = static_cast<double>(x) + 0.0;
  std::uint64_t bits;
  __builtin_memcpy(&bits, &v, sizeof(bits));
  return (v != v) ? nan_bits : bits;
}

template <class T>
void mix_values(std::uint64_t* h, const T* values, std::size_t n, std::uint64_t offset,
                std::uint64_t nan_bits) noexcept {
  for (std::size_t i = 0; i < n; ++i)
    h[i] = (h[i] ^ detail::murmur_mix(canonical(values[i], nan_bits) + offset)) * golden;
}

#if defined(__x86_64__) || defined(_M_X64)
// The same loop, vectorized by the compiler with AVX-512's 64-bit multiply (and
// conversions from 64-bit integers).
template <class T>
__attribute__((target("avx512f,avx512dq"))) void mix_values_avx512(
    std::uint64_t* h, const T* values, std::size_t n, std::uint64_t offset,
    std::uint64_t nan_bits) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(values[i]) + 0.0;
    std::uint64_t x;
    __builtin_memcpy(&x, &v, sizeof(x));
    x = ((v != v) ? nan_bits : x) + offset;
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDull;
    x ^= x >> 33;
    x *= 0xC4CEB9FE1A85EC53ull;
    x ^= x >> 33;
    h[i] = (h[i] ^ x) * golden;
  }
}
#endif

}  // namespace

void row_hash_mix_values(std::uint64_t* h, const array_view& values, std::uint64_t column_index,
                         std::uint64_t nan_bits) noexcept {
  const std::uint64_t offset = (column_index + 1) * golden;
  const std::size_t n = values.size;
  visit_dtype(values, [&](const auto* x) {
#if defined(__x86_64__) || defined(_M_X64)
    if (detail::use_avx512()) return mix_values_avx512(h, x, n, offset, nan_bits);
#endif
    mix_values(h, x, n, offset, nan_bits);
  });
}

void row_hash_mix_codes(std::uint64_t* h, const std::uint64_t* dict_bits, std::size_t dict_size,
                        const array_view& codes, std::uint64_t column_index) {
  const std::uint64_t offset = (column_index + 1) * golden;
  const std::size_t n = codes.size;
  visit_dtype(codes, [&](const auto* c) {
    using C = std::remove_cv_t<std::remove_pointer_t<decltype(c)>>;
    if constexpr (std::is_floating_point_v<C>) {
      throw invalid_input("row_hash_mix_codes: codes must be integers");
    } else {
      auto outside = [&](C code) {
        if constexpr (std::is_signed_v<C>) {
          if (code < 0) return true;
        }
        return static_cast<std::uint64_t>(code) >= dict_size;
      };
      for (std::size_t i = 0; i < n; ++i)
        if (outside(c[i]))
          throw invalid_input("row_hash_mix_codes: code " + std::to_string(c[i]) +
                              " outside the dictionary of " + std::to_string(dict_size));
      for (std::size_t i = 0; i < n; ++i)
        h[i] = (h[i] ^ detail::murmur_mix(dict_bits[c[i]] + offset)) * golden;
    }
  });
}

void row_hash_finish(std::uint64_t* h, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) h[i] = detail::murmur_mix(h[i]);
}

int hash_bucket_bits(std::size_t set_size) noexcept {
  int bits = 0;
  while (bits < 40 && (std::size_t(8) << bits) < set_size) ++bits;
  return bits;
}

void hash_bucket_starts(const std::uint64_t* set, std::size_t set_size, int bits,
                        std::uint64_t* starts) noexcept {
  const std::size_t buckets = std::size_t(1) << bits;
  std::size_t at = 0;
  for (std::size_t b = 0; b < buckets; ++b) {
    starts[b] = at;
    while (at < set_size && (bits ? set[at] >> (64 - bits) : 0) <= b) ++at;
  }
  starts[buckets] = set_size;
}

void sorted_member(const std::uint64_t* values, std::size_t n, const std::uint64_t* set,
                   std::size_t set_size, const std::uint64_t* starts, int bits,
                   std::uint8_t* out) noexcept {
  const int down = bits ? 64 - bits : 0;
  auto bucket = [&](std::uint64_t v) -> std::size_t { return bits ? v >> down : 0; };
  // Lookups of neighbouring values are independent, so their cache misses can
  // overlap: the bucket start of the value 16 ahead is fetched, and the bucket of the
  // value 8 ahead (whose start has arrived by then).
  constexpr std::size_t ahead = 16;
  for (std::size_t i = 0; i < n; ++i) {
    if (i + 2 * ahead < n) __builtin_prefetch(starts + bucket(values[i + 2 * ahead]));
    if (i + ahead < n)
      __builtin_prefetch(set +
                         std::min<std::uint64_t>(starts[bucket(values[i + ahead])], set_size));
    const std::uint64_t v = values[i];
    const std::size_t b = bucket(v);
    const std::size_t hi = std::min<std::uint64_t>(starts[b + 1], set_size);
    std::size_t lo = std::min<std::uint64_t>(starts[b], hi);
    lo = static_cast<std::size_t>(std::lower_bound(set + lo, set + hi, v) - set);
    out[i] = lo < hi && set[lo] == v;
  }
}

}  // namespace driftcore
