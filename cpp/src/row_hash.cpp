#include "driftcore/row_hash.hpp"

#include <algorithm>
#include <vector>

#include "avx512.hpp"
#include "host_device.hpp"

namespace driftcore {

namespace {
constexpr std::uint64_t golden = 0x9E3779B97F4A7C15ull;
}  // namespace

void row_hash_mix(std::uint64_t* h, const std::uint64_t* bits, std::size_t n,
                  std::uint64_t column_index) noexcept {
  const std::uint64_t offset = (column_index + 1) * golden;
  for (std::size_t i = 0; i < n; ++i)
    h[i] = (h[i] ^ detail::murmur_mix(bits[i] + offset)) * golden;
}

namespace {

inline void mix_f64(std::uint64_t* h, const double* values, std::size_t n,
                    std::uint64_t offset, std::uint64_t nan_bits) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const double v = values[i] + 0.0;
    std::uint64_t bits;
    __builtin_memcpy(&bits, &v, sizeof(bits));
    bits = (v != v) ? nan_bits : bits;
    h[i] = (h[i] ^ detail::murmur_mix(bits + offset)) * golden;
  }
}

#if defined(__x86_64__) || defined(_M_X64)
// The same loop, vectorized by the compiler with AVX-512's 64-bit multiply.
__attribute__((target("avx512f,avx512dq"))) void mix_f64_avx512(
    std::uint64_t* h, const double* values, std::size_t n, std::uint64_t offset,
    std::uint64_t nan_bits) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const double v = values[i] + 0.0;
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

void row_hash_mix_f64(std::uint64_t* h, const double* values, std::size_t n,
                      std::uint64_t column_index, std::uint64_t nan_bits) noexcept {
  const std::uint64_t offset = (column_index + 1) * golden;
#if defined(__x86_64__) || defined(_M_X64)
  if (detail::use_avx512()) return mix_f64_avx512(h, values, n, offset, nan_bits);
#endif
  mix_f64(h, values, n, offset, nan_bits);
}

void row_hash_finish(std::uint64_t* h, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) h[i] = detail::murmur_mix(h[i]);
}

void sorted_member(const std::uint64_t* values, std::size_t n, const std::uint64_t* set,
                   std::size_t set_size, std::uint8_t* out) {
  std::fill(out, out + n, std::uint8_t(0));
  if (n == 0 || set_size == 0) return;
  // LSD radix sort of (value, position) by 16-bit digits.
  std::vector<std::uint64_t> key(values, values + n), key2(n);
  std::vector<std::uint32_t> pos(n), pos2(n);
  for (std::size_t i = 0; i < n; ++i) pos[i] = static_cast<std::uint32_t>(i);
  std::vector<std::size_t> count(1 << 16);
  for (int shift = 0; shift < 64; shift += 16) {
    std::fill(count.begin(), count.end(), 0);
    for (std::size_t i = 0; i < n; ++i) ++count[(key[i] >> shift) & 0xFFFF];
    std::size_t sum = 0;
    for (auto& c : count) {
      const std::size_t here = c;
      c = sum;
      sum += here;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t at = count[(key[i] >> shift) & 0xFFFF]++;
      key2[at] = key[i];
      pos2[at] = pos[i];
    }
    key.swap(key2);
    pos.swap(pos2);
  }
  // Gallop: from the last position, double the step until past the value, then
  // binary-search that stretch.
  std::size_t at = 0;
  for (std::size_t i = 0; i < n && at < set_size; ++i) {
    const std::uint64_t v = key[i];
    if (set[at] < v) {
      std::size_t step = 1, lo = at;
      while (lo + step < set_size && set[lo + step] < v) {
        lo += step;
        step *= 2;
      }
      const std::size_t hi = std::min(lo + step, set_size);
      at = static_cast<std::size_t>(std::lower_bound(set + lo, set + hi, v) - set);
      if (at == set_size) break;
    }
    out[pos[i]] = set[at] == v;
  }
}

}  // namespace driftcore
