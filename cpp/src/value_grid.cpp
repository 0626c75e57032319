#include "driftcore/value_grid.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "byte_io.hpp"
#include "driftcore/cancel.hpp"
#include "driftcore/radix_sort.hpp"
#include "driftcore/threading.hpp"

namespace driftcore {

namespace {

// A call is counted in pieces of this many values: bounded scratch for the sort path
// (8 bytes a value) and uint32 dense counters that cannot overflow.
constexpr std::size_t kPiece = std::size_t(1) << 22;
// Dense counting when a piece's cells span at most this many keys (256 KiB of
// counters a thread: they stay in L2); else the piece's keys are sorted.
constexpr std::uint64_t kDenseSpan = std::uint64_t(1) << 16;
// Values whose cells bound the final shift from below before a piece is counted.
constexpr std::size_t kProbe = 8192;
constexpr std::size_t kGrain = std::size_t(1) << 16;
// About 5 ns a value: a second thread pays off from 2^16 values on.
constexpr int kHeavy = 16;
constexpr double kMax = std::numeric_limits<double>::max();

inline bool finite(double v) noexcept { return std::fabs(v) <= kMax; }

// -0.0 + 0.0 is +0.0: one cell for both zeros.
inline std::uint64_t key_of(double v) noexcept { return order_key(v + 0.0); }

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

// The binades (sign and exponent: a key's top 12 bits) a piece occupies.
using binade_set = std::array<std::uint64_t, 64>;

// Locals in the loop: the callers' slots of neighbouring workers share cache lines.
template <class T>
void scan(const T* x, std::size_t n, double& lo_out, double& hi_out, std::size_t& count_out,
          binade_set& binades_out) {
  double lo = INFINITY, hi = -INFINITY;
  std::size_t count = 0;
  binade_set binades{};
  for (std::size_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(x[i]);
    if (!finite(v)) continue;
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
    ++count;
    const std::uint64_t b = key_of(v) >> 52;
    binades[b >> 6] |= std::uint64_t(1) << (b & 63);
  }
  lo_out = lo;
  hi_out = hi;
  count_out = count;
  binades_out = binades;
}

// Where each occupied binade's cells start in a dense array, at a shift below 52
// (2^(52 - shift) cells a binade). Values far apart on both sides of zero span every
// binade in between, nearly all empty: counting only occupied ones keeps the array
// small. Returns the array's size.
std::size_t binade_offsets(const binade_set& binades, int shift,
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

}  // namespace

value_grid::value_grid(std::uint32_t max_cells) : max_cells_(max_cells) {
  if (max_cells < min_cells || max_cells > max_cells_limit)
    throw invalid_input("max_cells must be in [" + std::to_string(min_cells) + ", " +
                        std::to_string(max_cells_limit) + "], got " + std::to_string(max_cells));
}

// A coarse cell at either end also spans the bit patterns of infinities and NaN: its
// bounds are clamped to the finite doubles.
double value_grid::cell_low(std::uint64_t key) const noexcept {
  return from_order_key(std::max(key << shift_, key_of(-kMax)));
}

double value_grid::cell_high(std::uint64_t key) const noexcept {
  const std::uint64_t span = (std::uint64_t(1) << shift_) - 1;
  return from_order_key(std::min((key << shift_) | span, key_of(kMax)));
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
      if (occupied(mk, mid) <= max_cells_) hi = mid; else lo = mid + 1;
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
  value_grid next = *this;  // committed only at the end
  visit_dtype(values, [&](const auto* x) {
    using T = std::remove_cv_t<std::remove_pointer_t<decltype(x)>>;
    for (std::size_t begin = 0; begin < values.size; begin += kPiece) {
      throw_if_cancelled();
      const T* p = x + begin;
      const std::size_t n = std::min(kPiece, values.size - begin);
      const int workers = range_count(n, kGrain, value_threads(n, threads, kHeavy));
      std::vector<double> lo(workers, INFINITY), hi(workers, -INFINITY);
      std::vector<std::size_t> cnt(workers, 0);
      std::vector<binade_set> occupied_binades(workers, binade_set{});
      parallel_ranges(n, kGrain, value_threads(n, threads, kHeavy),
                      [&](int w, std::size_t b, std::size_t e) {
                        scan(p + b, e - b, lo[w], hi[w], cnt[w], occupied_binades[w]);
                      });
      double vlo = INFINITY, vhi = -INFINITY;
      std::size_t nfinite = 0;
      binade_set binades{};
      for (int w = 0; w < workers; ++w) {
        vlo = std::min(vlo, lo[w]);
        vhi = std::max(vhi, hi[w]);
        nfinite += cnt[w];
        for (std::size_t j = 0; j < binades.size(); ++j) binades[j] |= occupied_binades[w][j];
      }
      if (nfinite == 0) continue;
      auto span_at = [&](int s) { return (key_of(vhi) >> s) - (key_of(vlo) >> s); };
      std::array<std::uint32_t, 4096> offset{};
      auto compact_at = [&](int s) {
        return s >= 52 ? ~std::size_t(0) : binade_offsets(binades, s, offset);
      };
      // The final shift is at least the smallest one at which this grid and a few of
      // the piece's values fit: start there, so a fine grid need not sort everything.
      if (span_at(next.shift_) >= kDenseSpan && compact_at(next.shift_) > kDenseSpan) {
        std::vector<std::uint64_t> probe;
        for (std::size_t i = 0; i < n && probe.size() < kProbe; ++i) {
          const double v = static_cast<double>(p[i]);
          if (finite(v)) probe.push_back(key_of(v) >> next.shift_);
        }
        std::sort(probe.begin(), probe.end());
        std::vector<std::uint64_t> pk, pc;
        runs(probe, pk, pc);
        value_grid trial = next;
        trial.absorb(pk, pc, next.shift_);
        next.coarsen_to(trial.shift_);
      }
      const int s = next.shift_;
      std::vector<std::uint64_t> keys, counts;
      const std::uint64_t base = key_of(vlo) >> s;
      const std::uint64_t span = span_at(s);
      const std::size_t compact = span < kDenseSpan ? ~std::size_t(0) : compact_at(s);
      if (span < kDenseSpan || compact <= kDenseSpan) {
        const bool by_binade = span >= kDenseSpan;
        const std::size_t width = by_binade ? compact : static_cast<std::size_t>(span) + 1;
        const std::uint64_t mask = by_binade ? (std::uint64_t(1) << (52 - s)) - 1 : 0;
        // Four interleaved counters a slot: runs of values in one cell (the common
        // case) would otherwise wait on each other's increments.
        std::vector<std::vector<std::uint32_t>> dense(workers);
        parallel_ranges(n, kGrain, value_threads(n, threads, kHeavy),
                        [&](int w, std::size_t b, std::size_t e) {
                          auto& d = dense[w];
                          d.assign(4 * width, 0);
                          std::uint32_t* c = d.data();
                          for (std::size_t i = b; i < e; ++i) {
                            const double v = static_cast<double>(p[i]);
                            if (!finite(v)) continue;
                            const std::uint64_t k = key_of(v);
                            const std::size_t at =
                                by_binade ? offset[k >> 52] + static_cast<std::size_t>((k >> s) & mask)
                                          : static_cast<std::size_t>((k >> s) - base);
                            ++c[4 * at + (i & 3)];
                          }
                        });
        // Slot back to key: by binade, slot j of binade b is key (b << (52 - s)) + j.
        std::vector<std::uint64_t> slot_key(width);
        if (by_binade) {
          const std::size_t per = std::size_t(1) << (52 - s);
          for (std::size_t bi = 0; bi < 4096; ++bi)
            if (binades[bi >> 6] >> (bi & 63) & 1)
              for (std::size_t j = 0; j < per; ++j)
                slot_key[offset[bi] + j] = (std::uint64_t(bi) << (52 - s)) + j;
        } else {
          for (std::size_t c = 0; c < width; ++c) slot_key[c] = base + c;
        }
        for (std::size_t c = 0; c < width; ++c) {
          std::uint64_t sum = 0;
          for (const auto& d : dense)
            if (!d.empty()) sum += std::uint64_t(d[4 * c]) + d[4 * c + 1] + d[4 * c + 2] + d[4 * c + 3];
          if (sum) {
            keys.push_back(slot_key[c]);
            counts.push_back(sum);
          }
        }
      } else {
        std::vector<std::uint64_t> all;
        all.reserve(nfinite);
        for (std::size_t i = 0; i < n; ++i) {
          const double v = static_cast<double>(p[i]);
          if (finite(v)) all.push_back(key_of(v) >> s);
        }
        std::sort(all.begin(), all.end());
        runs(all, keys, counts);
      }
      next.absorb(keys, counts, s);
    }
  });
  *this = std::move(next);
}

void value_grid::add_counts(std::vector<std::uint64_t> keys, std::vector<std::uint64_t> counts,
                            int shift) {
  if (shift < 0 || shift > max_shift)
    throw invalid_input("shift must be in [0, " + std::to_string(max_shift) + "], got " +
                        std::to_string(shift));
  if (shift > shift_)
    throw invalid_input("cells at shift " + std::to_string(shift) +
                        " are coarser than the grid's " + std::to_string(shift_));
  if (keys.size() != counts.size())
    throw invalid_input("keys and counts differ in length");
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
    throw invalid_input("corrupted value grid: shift " + std::to_string(shift) +
                        " outside [0, " + std::to_string(max_shift) + "]");
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
