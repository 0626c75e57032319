#pragma once
// The device algorithm of value_grid::update_summarized_device, written once for two
// backends: the CUDA kernels (cuda/value_grid.cu) and a host replay that runs the
// kernels' per-value code, chunk by chunk, one value at a time
// (value_grid_device_replay.cpp), so that every CPU build tests the algorithm.
//
// Pass 1 (scan): per binade (the top 12 bits of a value's grid key: its sign and
// exponent), the count of the finite values and the exact sums of their mantissas m
// and of m^2, in 192-bit integers; NaN and infinity counts; the extreme keys. These
// give the moments' counts and extremes, the exact power sums, and the grid's cells
// at shift 52. Each chunk of values sums into 128-bit counters (a block's, in shared
// memory), which are then added to the 192-bit totals.
//
// Passes 2 and on, only when the grid's final shift is below 52: the occupied cells
// at a level p (at most max_cells) are refined into 2^(p-s) children each at level
// s, as many as fit a fixed dense array. The cells occupied at every level between s
// and p (the grid's own cells marked among them) give the final shift, or show that
// it lies below s, and the next pass refines the cells at s. Only cells at a shift no
// finer than the final one reach the host: at most max_cells of them, besides the
// 4096 binades. The grid then absorbs them as it absorbs any counts.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <vector>

#include "column_scan.hpp"
#include "driftcore/radix_sort.hpp"
#include "driftcore/value_grid.hpp"
#include "host_device.hpp"

namespace driftcore::detail {

constexpr unsigned kBinades = 4096;
constexpr int kBinadeShift = 52;  // a key's binade: key >> 52
/// Children of one dense pass: 32 MiB of 64-bit counters.
constexpr std::size_t kDenseCells = std::size_t(1) << 22;
/// Values of one scan chunk, summed in 128 bits: m^2 < 2^106, so the sums stay below
/// 2^126.
constexpr std::size_t kScanChunkValues = std::size_t(1) << 20;

/// Values of a scan chunk when @p n values are spread over a card of @p sms
/// multiprocessors: two chunks a multiprocessor or more, whole warps, at most
/// kScanChunkValues.
inline std::size_t scan_chunk_values(std::size_t n, int sms) {
  const std::size_t blocks = 2 * static_cast<std::size_t>(sms > 0 ? sms : 1);
  std::size_t per = (n + blocks - 1) / blocks;
  per = (per + 1023) / 1024 * 1024;
  return std::min(std::max<std::size_t>(per, 1024), kScanChunkValues);
}

/// What the scan leaves on the device and brings back in one copy.
struct scan_words {
  std::uint64_t count[kBinades];
  std::uint64_t s1[3][kBinades];  // sum of m (shifted right by `low`), 192 bits
  std::uint64_t s2[3][kBinades];  // sum of m^2, 192 bits
  std::uint64_t nan, pos_inf, neg_inf;
  std::uint64_t min_key, max_key;  // grid keys of the finite extremes
};

/// The counters of the chunk a scan block is summing (in shared memory on the device).
struct scan_block {
  std::uint32_t* count;
  std::uint64_t *s1_lo, *s1_hi, *s2_lo, *s2_hi;
};

/// One thread's tallies of what is not a binade sum.
struct scan_tally {
  std::uint64_t nan = 0, pos_inf = 0, neg_inf = 0;
  std::uint64_t min_key = ~std::uint64_t(0), max_key = 0;
};

DC_HD std::uint64_t double_bits(double v) noexcept {
#ifdef __CUDA_ARCH__
  return static_cast<std::uint64_t>(__double_as_longlong(v));
#else
  std::uint64_t u;
  std::memcpy(&u, &v, sizeof u);
  return u;
#endif
}

DC_HD bool is_finite(double v) noexcept {
  return v - v == 0.0;  // NaN for NaN and +-inf
}

/// The grid key of a finite value: order_key() of v + 0.0 (one cell for both zeros).
DC_HD std::uint64_t grid_key(double v) noexcept {
  const std::uint64_t u = double_bits(v + 0.0);
  return u ^ ((std::uint64_t(0) - (u >> 63)) | (std::uint64_t(1) << 63));
}

/// m and m^2 of a finite value, m its integer mantissa (implicit bit included)
/// shifted right by `low` bits (29 for float32 input: those bits are zero).
DC_HD void mantissa_terms(double v, int low, std::uint64_t& m, std::uint64_t& sq_lo,
                          std::uint64_t& sq_hi) noexcept {
  const std::uint64_t u = double_bits(v);
  const std::uint64_t field = (u >> 52) & 0x7FF;
  m = ((u & ((std::uint64_t(1) << 52) - 1)) | (field ? std::uint64_t(1) << 52 : 0)) >> low;
#ifdef __CUDA_ARCH__
  sq_lo = m * m;
  sq_hi = __umul64hi(m, m);
#else
  const unsigned __int128 p = static_cast<unsigned __int128>(m) * m;
  sq_lo = static_cast<std::uint64_t>(p);
  sq_hi = static_cast<std::uint64_t>(p >> 64);
#endif
}

/// Adds v_hi:v_lo to hi:lo with `add` (an atomic add returning the old word on the
/// device, a plain one in the replay): the carry out of the low word is whether it
/// wrapped, whatever the other threads add.
template <class Add>
DC_HD void add_wide(Add add, std::uint64_t* lo, std::uint64_t* hi, std::uint64_t v_lo,
                    std::uint64_t v_hi) {
  const std::uint64_t old = add(lo, v_lo);
  const std::uint64_t up = v_hi + (old + v_lo < old ? 1 : 0);
  if (up) add(hi, up);
}

/// One value into its block's counters and its thread's tallies.
template <class Add>
DC_HD void scan_value(double v, int low, const scan_block& b, scan_tally& t, Add add) {
  if (v != v) {
    ++t.nan;
    return;
  }
  if (v == INFINITY || v == -INFINITY) {
    ++(v > 0 ? t.pos_inf : t.neg_inf);
    return;
  }
  const std::uint64_t key = grid_key(v);
  const unsigned binade = static_cast<unsigned>(key >> kBinadeShift);
  t.min_key = key < t.min_key ? key : t.min_key;
  t.max_key = key > t.max_key ? key : t.max_key;
  std::uint64_t m, sq_lo, sq_hi;
  mantissa_terms(v, low, m, sq_lo, sq_hi);
  add(&b.count[binade], 1u);
  if (m) {
    add_wide(add, &b.s1_lo[binade], &b.s1_hi[binade], m, 0);
    add_wide(add, &b.s2_lo[binade], &b.s2_hi[binade], sq_lo, sq_hi);
  }
}

/// A block's counters of one binade into the 192-bit totals.
template <class Add>
DC_HD void flush_binade(unsigned binade, const scan_block& b, scan_words* w, Add add) {
  const std::uint32_t count = b.count[binade];
  if (!count) return;
  add(&w->count[binade], static_cast<std::uint64_t>(count));
  const std::uint64_t* src[2][2] = {{b.s1_lo + binade, b.s1_hi + binade},
                                    {b.s2_lo + binade, b.s2_hi + binade}};
  std::uint64_t* dst[2][3] = {{&w->s1[0][binade], &w->s1[1][binade], &w->s1[2][binade]},
                              {&w->s2[0][binade], &w->s2[1][binade], &w->s2[2][binade]}};
  for (int k = 0; k < 2; ++k) {
    const std::uint64_t lo = *src[k][0], hi = *src[k][1];
    const std::uint64_t old = add(dst[k][0], lo);
    const std::uint64_t mid = hi + (old + lo < old ? 1 : 0);  // hi < 2^62: no wrap
    if (mid) {
      const std::uint64_t old_mid = add(dst[k][1], mid);
      if (old_mid + mid < old_mid) add(dst[k][2], std::uint64_t(1));
    }
  }
}

/// Where a finite value's cell at level s sits among the children (2^(p-s) each) of
/// the sorted cells `parents` at level p; its parent must be one of them.
DC_HD std::uint64_t dense_slot(std::uint64_t key, const std::uint64_t* parents,
                               std::uint32_t nparents, int p, int s) noexcept {
  const std::uint64_t parent = key >> p;
  std::uint32_t lo = 0, hi = nparents;
  while (lo < hi) {
    const std::uint32_t mid = (lo + hi) / 2;
    if (parents[mid] < parent)
      lo = mid + 1;
    else
      hi = mid;
  }
  const std::uint64_t children = (key >> s) & ((std::uint64_t(1) << (p - s)) - 1);
  return (std::uint64_t(lo) << (p - s)) | children;
}

/// Cell i of the next coarser level: the sum of two counts and of two marks;
/// returns whether it is occupied.
DC_HD bool halve_cell(const std::uint64_t* counts, const std::uint8_t* marks,
                      std::uint64_t* next_counts, std::uint8_t* next_marks,
                      std::size_t i) noexcept {
  const std::uint64_t c = counts[2 * i] + counts[2 * i + 1];
  const std::uint8_t m = marks[2 * i] | marks[2 * i + 1];
  next_counts[i] = c;
  next_marks[i] = m;
  return c || m;
}

/// The moments' counts and extremes and the exact power sums of a scan.
inline value_summary finish_scan(const scan_words& w, int low) {
  value_summary out;
  moments& m = out.counts;
  m.nan = w.nan;
  m.pos_inf = w.pos_inf;
  m.neg_inf = w.neg_inf;
  exact_limbs sums;
  for (unsigned b = 0; b < kBinades; ++b) {
    if (!w.count[b]) continue;
    m.count += w.count[b];
    const bool negative = b < 0x800;
    const int field = static_cast<int>(negative ? 0x7FF - b : b & 0x7FF);
    const int e = field ? field : 1;
    const std::uint64_t s1[3] = {w.s1[0][b], w.s1[1][b], w.s1[2][b]};
    const std::uint64_t s2[3] = {w.s2[0][b], w.s2[1][b], w.s2[2][b]};
    exact_limbs::put_words(sums.s1, e - 1 + low, s1, 3, negative);
    exact_limbs::put_words(sums.s2, 2 * e - 2 + 2 * low, s2, 3, false);
  }
  if (m.count) {
    m.min = from_order_key(w.min_key);
    m.max = from_order_key(w.max_key);
  }
  out.sums = sums.result();
  return out;
}

}  // namespace driftcore::detail

namespace driftcore {

/// The level search of the device algorithm over a backend that provides its passes:
///   scan(scan_words&);
///   dense(parents, p, s, marks, occupied): count the values' cells at level s as
///     children of `parents` (sorted cells at level p), mark the dense slots `marks`,
///     and give the occupied cells (counted or marked) of each level s .. p - 1;
///   cells(t, slots, counts): the counted slots at level t of the last dense pass, in
///     increasing order, with their counts.
struct value_grid_levels {
  template <class Backend>
  static value_summary run(value_grid& grid, Backend& backend, int low) {
    using detail::kBinadeShift;
    auto words = std::make_unique<detail::scan_words>();
    backend.scan(*words);
    value_summary out = detail::finish_scan(*words, low);
    if (out.counts.count == 0) return out;

    value_grid next = grid;  // committed only at the end
    const std::size_t limit = next.max_cells_;
    // The grid's own cells at level t >= its shift, sorted and distinct.
    const auto own_at = [&](int t) {
      std::vector<std::uint64_t> k;
      for (std::uint64_t key : next.keys_) {
        const std::uint64_t c = key >> (t - next.shift_);
        if (k.empty() || k.back() != c) k.push_back(c);
      }
      return k;
    };
    const auto united = [](const std::vector<std::uint64_t>& a,
                           const std::vector<std::uint64_t>& b) {
      std::vector<std::uint64_t> u;
      std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(u));
      return u;
    };

    // The values' cells at level p with their counts: first the binades.
    int p = kBinadeShift;
    std::vector<std::uint64_t> keys, counts;
    for (unsigned b = 0; b < detail::kBinades; ++b) {
      if (words->count[b]) {
        keys.push_back(b);
        counts.push_back(words->count[b]);
      }
    }
    std::vector<std::uint64_t> parents;
    if (next.shift_ < p) parents = united(keys, own_at(p));
    // Invariant: the final shift is at least p (or these cells are coarser than the
    // grid's: absorb() aggregates them) exactly when the cells at p do not fit.
    while (next.shift_ < p && parents.size() <= limit) {
      int j = 0;
      while ((parents.size() << (j + 1)) <= detail::kDenseCells) ++j;
      const int s = std::max(next.shift_, p - j);
      std::vector<std::uint64_t> marks;
      for (std::uint64_t c : own_at(s))
        marks.push_back(detail::dense_slot(c << s, parents.data(),
                                           static_cast<std::uint32_t>(parents.size()), p, s));
      std::vector<std::uint64_t> occupied;
      backend.dense(parents, p, s, marks, occupied);
      // The final shift is the first level from s up at which the cells fit (p at most).
      int t = s;
      while (t < p && occupied[static_cast<std::size_t>(t - s)] > limit) ++t;
      if (t == p) break;
      std::vector<std::uint64_t> slots;
      backend.cells(t, slots, counts);
      keys.resize(slots.size());
      const int d = p - t;
      for (std::size_t i = 0; i < slots.size(); ++i)
        keys[i] = (parents[slots[i] >> d] << d) | (slots[i] & ((std::uint64_t(1) << d) - 1));
      p = t;
      if (t > s || t == next.shift_) break;  // the final shift is t
      parents = united(keys, own_at(p));
    }
    next.absorb(keys, counts, p);
    grid = std::move(next);
    return out;
  }
};

}  // namespace driftcore
