#include "driftcore/value_grid.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <utility>

#include "byte_io.hpp"
#include "column_scan.hpp"
#include "driftcore/cancel.hpp"
#include "driftcore/radix_sort.hpp"
#include "driftcore/threading.hpp"

namespace driftcore {

namespace {

// A call is counted in blocks of this many values: they stay in L2 between the scan
// and the counting pass, the sort path's scratch is bounded (8 bytes a value) and
// uint32 dense counters cannot overflow.
constexpr std::size_t kBlock = std::size_t(1) << 16;
// Dense counting when a piece's cells span at most this many keys (256 KiB of
// counters a thread: they stay in L2); else the piece's keys are sorted.
constexpr std::uint64_t kDenseSpan = std::uint64_t(1) << 16;
// Values whose cells bound the final shift from below before a piece is counted.
constexpr std::size_t kProbe = 8192;
// About 5 ns a value: a second thread pays off from 2^16 values on.
constexpr int kHeavy = 16;
constexpr double kMax = std::numeric_limits<double>::max();

inline bool finite(double v) noexcept {
  return std::fabs(v) <= kMax;
}

// -0.0 + 0.0 is +0.0: one cell for both zeros.
inline std::uint64_t key_of(double v) noexcept {
  return order_key(v + 0.0);
}

// Cells occupied by sorted keys after shifting them right by d more bits.
std::size_t occupied(const std::vector<std::uint64_t>& keys, int d) {
  if (keys.empty()) return 0;
  if (d >= 64) return 1;
  std::size_t n = 1;
  for (std::size_t i = 1; i < keys.size(); ++i) n += (keys[i] >> d) != (keys[i - 1] >> d);
  return n;
}

// Sorted keys with counts, shifted right by d bits and re-aggregated in place.
void aggregate(std::vector<std::uint64_t>& keys, std::vector<std::uint64_t>& counts, int d) {
  if (d <= 0 || keys.empty()) return;
  std::size_t out = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::uint64_t k = d >= 64 ? 0 : keys[i] >> d;
    if (out && keys[out - 1] == k) {
      counts[out - 1] += counts[i];
    } else {
      keys[out] = k;
      counts[out] = counts[i];
      ++out;
    }
  }
  keys.resize(out);
  counts.resize(out);
}

// Run-length encode sorted keys.
void runs(const std::vector<std::uint64_t>& sorted, std::vector<std::uint64_t>& keys,
          std::vector<std::uint64_t>& counts) {
  keys.clear();
  counts.clear();
  for (std::uint64_t k : sorted) {
    if (!keys.empty() && keys.back() == k) {
      ++counts.back();
    } else {
      keys.push_back(k);
      counts.push_back(1);
    }
  }
}

// Where each occupied binade's cells start in a dense array, at a shift below 52
// (2^(52 - shift) cells a binade). Values far apart on both sides of zero span every
// binade in between, nearly all empty: counting only occupied ones keeps the array
// small. Returns the array's size.
std::size_t binade_offsets(const detail::binade_set& binades, int shift,
                           std::array<std::uint32_t, 4096>& offset) {
  const std::size_t per = std::size_t(1) << (52 - shift);
  std::size_t next = 0;
  for (std::size_t b = 0; b < 4096; ++b) {
    offset[b] = static_cast<std::uint32_t>(next);
    if (binades[b >> 6] >> (b & 63) & 1) next += per;
    if (next > kDenseSpan) return next;
  }
  return next;
}

// Dense counting of values [b, e) at shift s into four interleaved counters a slot:
// runs of values in one cell (the common case) would otherwise wait on each other's
// increments. A slot is the cell's offset from `base`, or by binade: the binade's
// offset plus the cell's place in it. Arguments by value, so that the loop keeps them
// in registers (the counters' stores could alias anything reached by reference).
template <bool ByBinade, class T>
void count_cells(const T* p, std::size_t b, std::size_t e, int s, std::uint64_t base,
                 std::uint64_t mask, const std::uint32_t* offset, std::uint32_t* c) {
  for (std::size_t i = b; i < e; ++i) {
    const double v = static_cast<double>(p[i]);
    if (!finite(v)) continue;
    const std::uint64_t k = key_of(v);
    std::size_t at;
    if constexpr (ByBinade)
      at = offset[k >> 52] + static_cast<std::size_t>((k >> s) & mask);
    else
      at = static_cast<std::size_t>((k >> s) - base);
    ++c[4 * at + (i & 3)];
  }
}

}  // namespace

value_grid::value_grid(std::uint32_t max_cells) : max_cells_(max_cells) {
  if (max_cells < min_cells || max_cells > max_cells_limit)
    throw invalid_input("max_cells must be in [" + std::to_string(min_cells) + ", " +
                        std::to_string(max_cells_limit) + "], got " + std::to_string(max_cells));
}

// A coarse cell at either end also spans the bit patterns of infinities and NaN: its
// bounds are clamped to the finite doubles.
double value_grid::cell_low(std::uint64_t key, int shift) noexcept {
  return from_order_key(std::max(key << shift, key_of(-kMax)));
}

double value_grid::cell_high(std::uint64_t key, int shift) noexcept {
  const std::uint64_t span = (std::uint64_t(1) << shift) - 1;
  return from_order_key(std::min((key << shift) | span, key_of(kMax)));
}

void value_grid::coarsen_to(int shift) {
  if (shift <= shift_) return;
  aggregate(keys_, counts_, shift - shift_);
  shift_ = shift;
}

void value_grid::absorb(std::vector<std::uint64_t>& keys, std::vector<std::uint64_t>& counts,
                        int shift) {
  // Both sides onto the coarser of the two shifts, then a sorted merge.
  int s = std::max(shift, shift_);
  aggregate(keys, counts, s - shift);
  std::vector<std::uint64_t> mk, mc;
  {
    std::vector<std::uint64_t> own_k = keys_, own_c = counts_;
    aggregate(own_k, own_c, s - shift_);
    mk.reserve(own_k.size() + keys.size());
    mc.reserve(own_k.size() + keys.size());
    std::size_t i = 0, j = 0;
    while (i < own_k.size() || j < keys.size()) {
      if (j == keys.size() || (i < own_k.size() && own_k[i] < keys[j])) {
        mk.push_back(own_k[i]);
        mc.push_back(own_c[i++]);
      } else if (i == own_k.size() || keys[j] < own_k[i]) {
        mk.push_back(keys[j]);
        mc.push_back(counts[j++]);
      } else {
        mk.push_back(own_k[i]);
        mc.push_back(own_c[i++] + counts[j++]);
      }
    }
  }
  // The smallest further shift at which the cells fit (occupied() only falls as the
  // shift grows, so a binary search finds it).
  if (mk.size() > max_cells_) {
    int lo = 1, hi = max_shift - s;
    while (lo < hi) {
      const int mid = (lo + hi) / 2;
      if (occupied(mk, mid) <= max_cells_)
        hi = mid;
      else
        lo = mid + 1;
    }
    aggregate(mk, mc, lo);
    s += lo;
  }
  std::uint64_t added = 0;
  for (std::uint64_t c : counts) added += c;
  keys_ = std::move(mk);
  counts_ = std::move(mc);
  shift_ = s;
  total_ += added;
}

void value_grid::update(const array_view& values, int threads) {
  update_summarized(values, threads);
}

// Counts one block of values into a grid: scans it (adding to the scanner's summary),
// chooses the shift, counts the cells and absorbs them. A block fits in L2, so the
// counting pass reads it from cache.
struct value_grid_block {
  // Reused from block to block by one worker.
  struct scratch {
    std::vector<std::uint32_t> dense;
    std::vector<std::uint64_t> keys, counts, slot_key, sorted;
    std::vector<std::uint64_t> table;  // hashed_count's: key + 1 and count, side by side
  };

  // Count the block's cells at shift s in an open-addressing table of at most `cap`
  // cells; false (and nothing counted) when the block occupies more. Fills w.keys and
  // w.counts in key order.
  template <class T>
  static bool hashed_count(const T* p, std::size_t n, int s, std::size_t cap, scratch& w) {
    std::size_t size = 16;
    while (size < 2 * cap) size *= 2;
    const std::size_t mask = size - 1;
    int bits = 0;
    while ((std::size_t(1) << bits) < size) ++bits;
    // Slots hold key + 1 (0: empty); keys of finite values are below 2^64 - 1.
    std::vector<std::uint64_t>& slot = w.table;
    slot.assign(2 * size, 0);
    std::size_t distinct = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double v = static_cast<double>(p[i]);
      if (!finite(v)) continue;
      const std::uint64_t k = (key_of(v) >> s) + 1;
      std::size_t h = static_cast<std::size_t>((k * kGoldenGamma) >> (64 - bits));
      while (slot[2 * h] != k && slot[2 * h] != 0) h = (h + 1) & mask;
      if (slot[2 * h] == 0) {
        if (++distinct > cap) return false;
        slot[2 * h] = k;
      }
      ++slot[2 * h + 1];
    }
    std::vector<std::pair<std::uint64_t, std::uint64_t>> cells;
    cells.reserve(distinct);
    for (std::size_t h = 0; h < size; ++h)
      if (slot[2 * h]) cells.emplace_back(slot[2 * h] - 1, slot[2 * h + 1]);
    std::sort(cells.begin(), cells.end());
    w.keys.resize(cells.size());
    w.counts.resize(cells.size());
    for (std::size_t c = 0; c < cells.size(); ++c) {
      w.keys[c] = cells[c].first;
      w.counts[c] = cells[c].second;
    }
    return true;
  }

  template <class T>
  static void count(value_grid& g, const T* p, std::size_t n, detail::column_scanner& scanner,
                    scratch& w) {
    const detail::scan_totals t = scanner.add(p, n);
    if (t.count == 0) return;
    const std::uint64_t klo = key_of(t.lo), khi = key_of(t.hi);
    auto span_at = [&](int s) { return (khi >> s) - (klo >> s); };
    std::array<std::uint32_t, 4096> offset{};
    auto compact_at = [&](int s) {
      return s >= 52 ? ~std::size_t(0) : binade_offsets(t.binades, s, offset);
    };
    const bool dense_now = span_at(g.shift_) < kDenseSpan || compact_at(g.shift_) <= kDenseSpan;
    // Cells spread too far for dense counters (few distinct values in distant binades,
    // or a grid too coarse for per-binade slots): counted in a small hash table, when
    // the block occupies at most max_cells cells at the grid's shift.
    if (!dense_now && hashed_count(p, n, g.shift_, g.max_cells_, w)) {
      g.absorb(w.keys, w.counts, g.shift_);
      return;
    }
    // The final shift is at least the smallest one at which this grid and a few of
    // the block's values fit: start there, so a fine grid need not sort everything.
    if (!dense_now) {
      std::vector<std::uint64_t>& probe = w.sorted;
      probe.clear();
      for (std::size_t i = 0; i < n && probe.size() < kProbe; ++i) {
        const double v = static_cast<double>(p[i]);
        if (finite(v)) probe.push_back(key_of(v) >> g.shift_);
      }
      std::sort(probe.begin(), probe.end());
      std::vector<std::uint64_t> pk, pc;
      runs(probe, pk, pc);
      value_grid trial = g;
      trial.absorb(pk, pc, g.shift_);
      g.coarsen_to(trial.shift_);
    }
    const int s = g.shift_;
    w.keys.clear();
    w.counts.clear();
    const std::uint64_t base = klo >> s;
    const std::uint64_t span = span_at(s);
    const std::size_t compact = span < kDenseSpan ? ~std::size_t(0) : compact_at(s);
    if (span < kDenseSpan || compact <= kDenseSpan) {
      const bool by_binade = span >= kDenseSpan;
      const std::size_t width = by_binade ? compact : static_cast<std::size_t>(span) + 1;
      const std::uint64_t mask = by_binade ? (std::uint64_t(1) << (52 - s)) - 1 : 0;
      w.dense.assign(4 * width, 0);
      const std::uint32_t* d = w.dense.data();
      if (by_binade)
        count_cells<true>(p, 0, n, s, 0, mask, offset.data(), w.dense.data());
      else
        count_cells<false>(p, 0, n, s, base, 0, nullptr, w.dense.data());
      // Slot back to key: by binade, slot j of binade b is key (b << (52 - s)) + j.
      w.slot_key.resize(width);
      if (by_binade) {
        const std::size_t per = std::size_t(1) << (52 - s);
        for (std::size_t bi = 0; bi < 4096; ++bi)
          if (t.binades[bi >> 6] >> (bi & 63) & 1)
            for (std::size_t j = 0; j < per; ++j)
              w.slot_key[offset[bi] + j] = (std::uint64_t(bi) << (52 - s)) + j;
      } else {
        for (std::size_t c = 0; c < width; ++c) w.slot_key[c] = base + c;
      }
      for (std::size_t c = 0; c < width; ++c) {
        const std::uint64_t sum =
            std::uint64_t(d[4 * c]) + d[4 * c + 1] + d[4 * c + 2] + d[4 * c + 3];
        if (sum) {
          w.keys.push_back(w.slot_key[c]);
          w.counts.push_back(sum);
        }
      }
    } else {
      std::vector<std::uint64_t>& sorted = w.sorted;
      sorted.clear();
      for (std::size_t i = 0; i < n; ++i) {
        const double v = static_cast<double>(p[i]);
        if (finite(v)) sorted.push_back(key_of(v) >> s);
      }
      std::sort(sorted.begin(), sorted.end());
      runs(sorted, w.keys, w.counts);
    }
    g.absorb(w.keys, w.counts, s);
  }
};

value_summary value_grid::update_summarized(const array_view& values, int threads) {
  // Each worker counts its range into a grid of its own, block by block; the grids
  // then merge into this one. The result is the grid of all the values whatever the
  // split, as for any merge. Workers start at this grid's shift: the final one is at
  // least that.
  const std::size_t n = values.size;
  const int nthreads = value_threads(n, threads, kHeavy);
  const auto workers = static_cast<std::size_t>(range_count(n, kBlock, nthreads));
  value_grid start(max_cells_);
  start.shift_ = shift_;
  std::vector<value_grid> grids(workers, start);
  std::vector<detail::column_scanner> scanners(workers);
  visit_dtype(values, [&](const auto* x) {
    parallel_ranges(n, kBlock, nthreads, [&](int w, std::size_t b, std::size_t e) {
      value_grid_block::scratch scratch;
      for (std::size_t at = b; at < e; at += kBlock) {
        throw_if_cancelled();
        value_grid_block::count(grids[static_cast<std::size_t>(w)], x + at,
                                std::min(kBlock, e - at), scanners[static_cast<std::size_t>(w)],
                                scratch);
      }
    });
  });
  value_grid next = *this;  // committed only at the end
  detail::scan_totals all;
  detail::exact_limbs sums;
  for (std::size_t w = 0; w < workers; ++w) {
    next.absorb(grids[w].keys_, grids[w].counts_, grids[w].shift_);
    all.add(scanners[w].totals);
    scanners[w].sums.propagate();
    sums.add(scanners[w].sums);
  }
  value_summary out;
  out.counts.count = all.count;
  out.counts.nan = all.nan;
  out.counts.pos_inf = all.pos_inf;
  out.counts.neg_inf = all.neg_inf;
  if (all.count) {
    out.counts.min = all.lo;
    out.counts.max = all.hi;
  }
  out.sums = sums.result();
  *this = std::move(next);
  return out;
}

void value_grid::add_counts(std::vector<std::uint64_t> keys, std::vector<std::uint64_t> counts,
                            int shift) {
  if (shift < 0 || shift > max_shift)
    throw invalid_input("shift must be in [0, " + std::to_string(max_shift) + "], got " +
                        std::to_string(shift));
  if (shift > shift_)
    throw invalid_input("cells at shift " + std::to_string(shift) +
                        " are coarser than the grid's " + std::to_string(shift_));
  if (keys.size() != counts.size()) throw invalid_input("keys and counts differ in length");
  const std::uint64_t lowest = key_of(-kMax) >> shift, highest = key_of(kMax) >> shift;
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i && keys[i] <= keys[i - 1]) throw invalid_input("keys are not strictly increasing");
    if (keys[i] < lowest || keys[i] > highest)
      throw invalid_input("a key is the cell of no finite value");
    if (counts[i] == 0) throw invalid_input("a count is 0");
    if (sum > std::numeric_limits<std::uint64_t>::max() - counts[i] ||
        total_ > std::numeric_limits<std::uint64_t>::max() - sum - counts[i])
      throw invalid_input("the total count would overflow");
    sum += counts[i];
  }
  value_grid next = *this;
  next.absorb(keys, counts, shift);
  *this = std::move(next);
}

void value_grid::merge(const value_grid& other) {
  if (other.max_cells_ != max_cells_)
    throw invalid_input("cannot merge value grids with different max_cells: " +
                        std::to_string(max_cells_) + " != " + std::to_string(other.max_cells_));
  if (total_ > std::numeric_limits<std::uint64_t>::max() - other.total_)
    throw invalid_input("cannot merge value grids: the total count would overflow");
  std::vector<std::uint64_t> k = other.keys_, c = other.counts_;
  value_grid next = *this;
  next.absorb(k, c, other.shift_);
  *this = std::move(next);
}

std::string value_grid::to_bytes() const {
  detail::byte_writer w;
  w.put<std::uint32_t>(max_cells_);
  w.put<std::int32_t>(shift_);
  w.put<std::uint64_t>(total_);
  w.put_vector(keys_);
  w.put_vector(counts_);
  return w.take();
}

value_grid value_grid::from_bytes(const std::string& payload) {
  detail::byte_reader r(payload);
  value_grid g(r.get<std::uint32_t>("max_cells"));
  const auto shift = r.get<std::int32_t>("shift");
  if (shift < 0 || shift > max_shift)
    throw invalid_input("corrupted value grid: shift " + std::to_string(shift) + " outside [0, " +
                        std::to_string(max_shift) + "]");
  g.shift_ = shift;
  g.total_ = r.get<std::uint64_t>("total");
  g.keys_ = r.get_vector<std::uint64_t>("keys");
  g.counts_ = r.get_vector<std::uint64_t>("counts", g.keys_.size());
  r.finish();
  if (g.keys_.size() > g.max_cells_)
    throw invalid_input("corrupted value grid: " + std::to_string(g.keys_.size()) +
                        " cells, more than max_cells " + std::to_string(g.max_cells_));
  const std::uint64_t lowest = key_of(-kMax) >> shift, highest = key_of(kMax) >> shift;
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < g.keys_.size(); ++i) {
    if (i && g.keys_[i] <= g.keys_[i - 1])
      throw invalid_input("corrupted value grid: keys are not strictly increasing");
    if (g.keys_[i] < lowest || g.keys_[i] > highest)
      throw invalid_input("corrupted value grid: a cell holds no finite value");
    if (g.counts_[i] == 0) throw invalid_input("corrupted value grid: a cell counts 0 values");
    if (sum > std::numeric_limits<std::uint64_t>::max() - g.counts_[i])
      throw invalid_input("corrupted value grid: counts overflow");
    sum += g.counts_[i];
  }
  if (sum != g.total_)
    throw invalid_input("corrupted value grid: total " + std::to_string(g.total_) +
                        " is not the sum of the counts " + std::to_string(sum));
  return g;
}

}  // namespace driftcore
