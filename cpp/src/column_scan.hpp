#pragma once
// One pass over a numeric column: counts of finite, NaN and infinite values, the finite
// extremes, the binades (sign and exponent) the finite values occupy on the value grid,
// and, when asked, the exact sums of the values and of their squares. value_grid
// fuses it into its first pass, so a profile reads each value once for all of these;
// compute_power_sums runs it alone.
//
// Exact sums: a finite double is m * 2^(e - 1075) with m < 2^53 (e = max(field, 1)),
// a float m * 2^(e - 150) with m < 2^24. Within a block, values of one raw binade
// (sign and exponent field) add their m and m^2 in integers, four interleaved sets so
// that a run of values in one binade does not wait on its own read-modify-writes; at
// the end of the block each binade's sums are placed into a fixed-point accumulator
// of base-2^32 digits in int64 limbs. Integer sums: the same bits in any order.

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <tuple>
#include <type_traits>
#include <vector>

#include "driftcore/moments.hpp"
#include "driftcore/radix_sort.hpp"

namespace driftcore::detail {

constexpr int kS1Limbs = 70;   // bits 0 .. 2240: 2^1074 * 2^1024 * 2^63, plus slack
constexpr int kS2Limbs = 136;  // bits 0 .. 4352: 2^2148 * 2^2048 * 2^63, plus slack

/// S1 * 2^1074 and S2 * 2^2148 as base-2^32 digits in int64 limbs, least significant
/// first; a limb may hold more than a digit until propagate().
struct exact_limbs {
  std::int64_t s1[kS1Limbs] = {};
  std::int64_t s2[kS2Limbs] = {};
  std::size_t pending = 0;  ///< blocks added since the last propagate()

  void propagate() noexcept {
    carry(s1, kS1Limbs);
    carry(s2, kS2Limbs);
    pending = 0;
  }
  void add(const exact_limbs& o) noexcept {
    for (int i = 0; i < kS1Limbs; ++i) s1[i] += o.s1[i];
    for (int i = 0; i < kS2Limbs; ++i) s2[i] += o.s2[i];
  }
  /// Propagated, as power_sums digits.
  power_sums result() {
    propagate();
    power_sums out;
    out.s1.assign(s1, s1 + kS1Limbs);
    out.s2.assign(s2, s2 + kS2Limbs);
    return out;
  }
  // Add (or subtract) the unsigned integer of `count` 64-bit words, least significant
  // first, shifted left by p. Zero words are skipped: only the value must fit.
  static void put_words(std::int64_t* limbs, int p, const std::uint64_t* words, int count,
                        bool negative) noexcept {
    for (int k = 0; k < count; ++k) {
      const int q = p + 64 * k;
      if (words[k]) put64(limbs, q >> 5, q & 31, words[k], negative);
    }
  }
  // Add (or subtract) the unsigned 128-bit v << p.
  static void put(std::int64_t* limbs, int p, unsigned __int128 v, bool negative) noexcept {
    put64(limbs, p >> 5, p & 31, static_cast<std::uint64_t>(v), negative);
    const int q = p + 64;
    put64(limbs, q >> 5, q & 31, static_cast<std::uint64_t>(v >> 64), negative);
  }

 private:
  static void carry(std::int64_t* limbs, int n) noexcept {
    for (int i = 0; i + 1 < n; ++i) {
      const std::int64_t c = limbs[i] >> 32;  // floor division by 2^32
      limbs[i] -= c * (std::int64_t(1) << 32);
      limbs[i + 1] += c;
    }
  }
  // v << (32 * i + sh) into limbs i .. i + 2, each getting a digit below 2^32.
  static void put64(std::int64_t* limbs, int i, int sh, std::uint64_t v, bool negative) noexcept {
    const unsigned __int128 w = static_cast<unsigned __int128>(v) << sh;
    const auto d = [&](int k) {
      return static_cast<std::int64_t>(static_cast<std::uint32_t>(w >> (32 * k)));
    };
    if (negative) {
      limbs[i] -= d(0);
      limbs[i + 1] -= d(1);
      limbs[i + 2] -= d(2);
    } else {
      limbs[i] += d(0);
      limbs[i + 1] += d(1);
      limbs[i + 2] += d(2);
    }
  }
};

/// The binades of value_grid keys (order_key >> 52: 4096 of them) seen, as bits.
using binade_set = std::array<std::uint64_t, 64>;

struct scan_totals {
  double lo = INFINITY, hi = -INFINITY;  ///< finite extremes
  std::uint64_t count = 0, nan = 0, pos_inf = 0, neg_inf = 0;
  binade_set binades{};

  void add(const scan_totals& o) noexcept {
    lo = o.lo < lo ? o.lo : lo;
    hi = o.hi > hi ? o.hi : hi;
    count += o.count;
    nan += o.nan;
    pos_inf += o.pos_inf;
    neg_inf += o.neg_inf;
    for (std::size_t j = 0; j < binades.size(); ++j) binades[j] |= o.binades[j];
  }
  void mark(unsigned key_binade) noexcept {
    binades[key_binade >> 6] |= std::uint64_t(1) << (key_binade & 63);
  }
};

constexpr int kSets = 4;

// The IEEE-754 layout of a float type, and its per-binade sums within a block. A
// double's m < 2^53: 2^11 values fit a uint64 sum, so a block of 2^13 values gives
// each of the four sets at most 2^11; its m^2 needs 128 bits. A float's m < 2^24 and
// m^2 < 2^48: 2^16 values a set fit in 64 bits.
template <class F>
struct layout {
  static constexpr bool wide = sizeof(F) == 8;
  using bits_t = std::conditional_t<wide, std::uint64_t, std::uint32_t>;
  using square_t = std::conditional_t<wide, unsigned __int128, std::uint64_t>;
  static constexpr int mantissa = wide ? 52 : 23;
  static constexpr unsigned fields = wide ? 2048 : 256;
  static constexpr int to_double = wide ? 0 : 896;  // a normal float's field as a double's
  // Where a binade's sums go: m of field e at bit e + p1, m^2 at 2e + p2 (e = max(field, 1)).
  static constexpr int p1 = wide ? -1 : 924, p2 = wide ? -2 : 1848;
  static constexpr std::size_t block = std::size_t(1) << (wide ? 13 : 16);

  // Padded so that no two sets, and not the two signs of a field, lie a multiple of
  // 4 KiB apart: a load 4 KiB from a pending store waits for it as if they were the
  // same address (values of one field and both signs alternate in a normal column).
  struct sums {
    static constexpr std::size_t row = 2 * fields + 24;
    static constexpr std::size_t at(std::size_t set, unsigned rb) {
      return set * row + rb + ((rb / fields) << 3);
    }
    std::uint64_t s1[kSets * row];
    square_t s2[kSets * row];
  };
};

/// One worker's scan: totals and exact sums. A binade holds a value with a nonzero m
/// exactly when its sum of m is nonzero: that marks the binades seen, without a
/// read-modify-write of the binade set for every value.
class column_scanner {
 public:
  scan_totals totals;
  exact_limbs sums;

  /// Scan @p n values into the totals and sums; returns the totals of these values.
  /// Floats are read as floats; every other type through double (the grid and the
  /// sums are of the double).
  template <class T>
  scan_totals add(const T* x, std::size_t n) {
    using F = std::conditional_t<std::is_same_v<T, float>, float, double>;
    scan_totals before = totals;
    totals = scan_totals{};
    for (std::size_t at = 0; at < n; at += layout<F>::block)
      block<F>(x + at, std::min(layout<F>::block, n - at));
    const scan_totals these = totals;
    totals = before;
    totals.add(these);
    return these;
  }

 private:
  template <class F, class T>
  void block(const T* x, std::size_t n) {
    using L = layout<F>;
    using bits_t = typename L::bits_t;
    constexpr bits_t field_mask = L::fields - 1, implicit = bits_t(1) << L::mantissa;
    auto& slot = std::get<std::unique_ptr<typename L::sums>>(tables_);
    if (!slot) {
      slot = std::make_unique<typename L::sums>();
      std::memset(slot.get(), 0, sizeof(typename L::sums));
    }
    auto& f = *slot;
    F lo = INFINITY, hi = -INFINITY;
    std::uint64_t skipped = 0;
    int flo = static_cast<int>(L::fields), fhi = -1;
    bool subnormal = false;
    // Set is a constant in each unrolled copy: one address computation less a value.
    auto one = [&](std::size_t i, std::size_t set) {
      const F v = static_cast<F>(x[i]);
      bits_t bits;
      std::memcpy(&bits, &v, sizeof bits);
      const auto rb = static_cast<unsigned>(bits >> L::mantissa);  // sign and field
      const int field = static_cast<int>(rb & field_mask);
      if (field == static_cast<int>(field_mask)) {
        non_finite(v);
        ++skipped;
        return;
      }
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
      flo = field < flo ? field : flo;
      fhi = field > fhi ? field : fhi;
      bits_t m = bits & (implicit - 1);
      if (field) m |= implicit;
      if constexpr (!L::wide) subnormal |= field == 0 && m != 0;
      const std::size_t a = L::sums::at(set, rb);
      f.s1[a] += m;
      f.s2[a] += static_cast<typename L::square_t>(m) * m;
    };
    static_assert(kSets == 4);
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      __builtin_prefetch(x + i + 128);
      one(i, 0);
      one(i + 1, 1);
      one(i + 2, 2);
      one(i + 3, 3);
    }
    for (; i < n; ++i) one(i, i & 3);
    const std::uint64_t count = n - skipped;
    if (count) {
      totals.lo = std::min(totals.lo, static_cast<double>(lo));
      totals.hi = std::max(totals.hi, static_cast<double>(hi));
    }
    totals.count += count;
    // Zeros (the only finite values with m = 0, so no sum marks them) are possible
    // only when the values reach zero; their binade then has slots whether or not
    // one occurs (empty slots cost nothing but their counters).
    if (count && lo <= 0 && hi >= 0) totals.mark(0x800);
    // Subnormal floats are normal doubles of several fields: marked one by one.
    if (!L::wide && subnormal) {
      for (std::size_t i = 0; i < n; ++i) {
        const double v = static_cast<double>(x[i]);
        if (v != 0.0 && std::fabs(v) < 1.1754943508222875e-38)
          totals.mark(static_cast<unsigned>(order_key(v) >> 52));
      }
    }
    for (int field = flo; field <= fhi; ++field) {
      const int neg_rb = field | static_cast<int>(L::fields);
      unsigned __int128 pos = 0, neg = 0, sq = 0;
      for (int k = 0; k < kSets; ++k) {
        const std::size_t p = L::sums::at(k, static_cast<unsigned>(field));
        const std::size_t q = L::sums::at(k, static_cast<unsigned>(neg_rb));
        pos += f.s1[p];
        neg += f.s1[q];
        sq += static_cast<unsigned __int128>(f.s2[p]) + f.s2[q];
        f.s1[p] = f.s1[q] = 0;
        f.s2[p] = f.s2[q] = 0;
      }
      if (L::wide || field) mark(static_cast<unsigned>(field + L::to_double), pos, neg);
      const int e = field ? field : 1;
      place(e + L::p1, 2 * e + L::p2, pos, neg, sq);
    }
    settle();
  }

  // The grid binades of a double field's positive and negative values, when seen.
  void mark(unsigned field, unsigned __int128 pos, unsigned __int128 neg) noexcept {
    if (pos) totals.mark(field | 0x800);
    if (neg) totals.mark(~(field | 0x800) & 0xFFF);
  }

  template <class V>
  void non_finite(V v) noexcept {
    if (v != v)
      ++totals.nan;
    else if (v > 0)
      ++totals.pos_inf;
    else
      ++totals.neg_inf;
  }

  // A binade's m sums (positive and negative values) at bit p1, its m^2 sum at p2.
  void place(int p1, int p2, unsigned __int128 pos, unsigned __int128 neg, unsigned __int128 sq) {
    if (pos != neg) {
      const bool negative = neg > pos;
      exact_limbs::put(sums.s1, p1, negative ? neg - pos : pos - neg, negative);
    }
    if (sq) exact_limbs::put(sums.s2, p2, sq, false);
  }

  // A block adds at most a few hundred digits below 2^32 to one limb (under 2^41):
  // carries go up every 2^20 blocks, far below the 2^63 a limb holds.
  void settle() noexcept {
    if (++sums.pending == std::size_t(1) << 20) sums.propagate();
  }

  std::tuple<std::unique_ptr<layout<double>::sums>, std::unique_ptr<layout<float>::sums>> tables_;
};

}  // namespace driftcore::detail
