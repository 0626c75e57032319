#include "driftcore/quantile_sketch.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <type_traits>
#include <utility>

#include "avx512.hpp"
#include "byte_io.hpp"
#include "count_limit.hpp"
#include "driftcore/cancel.hpp"
#include "driftcore/radix_sort.hpp"
#include "host_device.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define DRIFTCORE_X86 1
#endif

namespace driftcore {
namespace {

constexpr std::size_t kBuffer = 4096;  // level-0 batch, sorted by radix sort
constexpr std::size_t kMaxLevels = 64;

using detail::splitmix64;

// The definition of a batch's scan: whether it holds a NaN, and the min and max of the
// rest, kept as the first of equal values (so -0.0 and +0.0 keep their order).
template <class T>
bool scan_portable(const T* x, std::size_t n, double& lo, double& hi) noexcept {
  double clo = INFINITY, chi = -INFINITY;
  bool nan = false;
  for (std::size_t j = 0; j < n; ++j) {
    const double v = static_cast<double>(x[j]);
    nan |= v != v;
    clo = v < clo ? v : clo;
    chi = v > chi ? v : chi;
  }
  lo = clo, hi = chi;
  return nan;
}

#ifdef DRIFTCORE_X86
// The same scan 32 values a step (one chained min/max per value cost about 4 cycles).
// vminpd/vmaxpd choose as the ternaries above do, lane by lane; the lanes see the
// values in another order, which can only show in a tie between -0.0 and +0.0, so a
// batch with a -0.0 whose min or max is a zero is scanned again the portable way.
// n is a multiple of 32.
template <class T>
__attribute__((target("avx512f,avx512dq"))) bool scan_avx512(const T* x, std::size_t n, double& lo,
                                                             double& hi) noexcept {
  __m512d vlo[4], vhi[4];
  for (int k = 0; k < 4; ++k) vlo[k] = _mm512_set1_pd(INFINITY), vhi[k] = _mm512_set1_pd(-INFINITY);
  const __m512i negzero = _mm512_set1_epi64(INT64_MIN);
  __mmask8 nan = 0, negz = 0;
  for (std::size_t i = 0; i < n; i += 32) {
    for (int k = 0; k < 4; ++k) {
      const __m512d v = detail::load8_f64(x + i + 8 * k);
      nan |= _mm512_cmp_pd_mask(v, v, _CMP_UNORD_Q);
      negz |= _mm512_cmpeq_epi64_mask(_mm512_castpd_si512(v), negzero);
      vlo[k] = _mm512_min_pd(v, vlo[k]);
      vhi[k] = _mm512_max_pd(v, vhi[k]);
    }
  }
  if (nan) return true;  // the batch is staged value by value; lo and hi are unused
  const __m512d l = _mm512_min_pd(_mm512_min_pd(vlo[0], vlo[1]), _mm512_min_pd(vlo[2], vlo[3]));
  const __m512d h = _mm512_max_pd(_mm512_max_pd(vhi[0], vhi[1]), _mm512_max_pd(vhi[2], vhi[3]));
  lo = _mm512_reduce_min_pd(l);
  hi = _mm512_reduce_max_pd(h);
  if (negz && (lo == 0.0 || hi == 0.0)) return scan_portable(x, n, lo, hi);
  return false;
}
#endif

template <class T>
bool scan_batch(const T* x, std::size_t n, double& lo, double& hi) noexcept {
#ifdef DRIFTCORE_X86
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    if (detail::use_avx512() && n % 32 == 0) return scan_avx512(x, n, lo, hi);
  }
#endif
  return scan_portable(x, n, lo, hi);
}

}  // namespace

quantile_sketch::quantile_sketch(std::uint32_t k, std::uint64_t seed) : k_(k), seed_(seed) {
  if (k < 8 || k > 65535)
    throw invalid_input("quantile sketch k must be in [8, 65535], got " + std::to_string(k));
  levels_.resize(1);
  min_ = max_ = NAN;
  // Capacities by depth, computed once: compress() asks for them after every batch.
  for (std::size_t depth = 0; depth < cap_by_depth_.size(); ++depth) {
    const double c =
        std::ceil(static_cast<double>(k_) * std::pow(2.0 / 3.0, static_cast<double>(depth)));
    cap_by_depth_[depth] = std::max<std::size_t>(2, static_cast<std::size_t>(c));
  }
}

double quantile_sketch::rank_error_for(std::uint32_t k) noexcept {
  return 2.296 / std::pow(static_cast<double>(k), 0.9723);
}

double quantile_sketch::rank_error() const noexcept {
  return exact() ? 0.0 : rank_error_for(k_);
}

std::size_t quantile_sketch::retained() const noexcept {
  std::size_t r = 0;
  for (const auto& l : levels_) r += l.size();
  return r;
}

std::size_t quantile_sketch::capacity(std::size_t level) const noexcept {
  // Past depth 63 every k gives 2, as the last entry does.
  const std::size_t cap = cap_by_depth_[std::min<std::size_t>(levels_.size() - 1 - level, 63)];
  return level == 0 ? std::max(cap, kBuffer) + kBuffer / 2 : cap;
}

void quantile_sketch::note_range(double lo, double hi) noexcept {
  if (std::isnan(min_) || lo < min_) min_ = lo;
  if (std::isnan(max_) || hi > max_) max_ = hi;
}

void quantile_sketch::compact(std::size_t h) {
  if (levels_[h].size() < 2) return;
  if (h + 1 == levels_.size()) levels_.emplace_back();  // before taking references
  auto& lv = levels_[h];
  if (h == 0) sort_small(lv.data(), lv.size(), scratch_);
  const std::size_t even = lv.size() & ~std::size_t(1);
  const std::size_t coin = splitmix64(seed_ ^ splitmix64(++coins_)) & 1;
  std::vector<double> up;
  up.reserve(even / 2);
  for (std::size_t i = coin; i < even; i += 2) up.push_back(lv[i]);
  // An odd value out stays behind at this level.
  std::vector<double> rest;
  if (lv.size() != even) rest.push_back(lv.back());
  lv = std::move(rest);
  auto& next = levels_[h + 1];
  std::vector<double> merged(next.size() + up.size());
  std::merge(next.begin(), next.end(), up.begin(), up.end(), merged.begin());
  next = std::move(merged);
}

// Lazy compaction (as in Apache DataSketches' KLL): levels may fill past their own
// capacity while the sketch as a whole has room; when it has none, only the lowest
// level over capacity is compacted. Fewer compactions, smaller error.
std::size_t quantile_sketch::total_capacity() const noexcept {
  std::size_t c = 0;
  for (std::size_t h = 0; h < levels_.size(); ++h) c += capacity(h);
  return c;
}

void quantile_sketch::compress() {
  // Leave room for half a buffer, so the next update adds values in big batches.
  while (retained() + kBuffer / 2 >= total_capacity()) {
    std::size_t h = 0;
    while (h < levels_.size() && levels_[h].size() < capacity(h)) ++h;
    if (h == levels_.size()) h = 0;
    compact(h);
  }
}

// Sampling instead of sorting at the bottom (the "sampler" of Karnin, Lang and
// Liberty): keeping one random value out of each group of 2^s incoming values, with
// weight 2^s, estimates every rank without bias, and its error over a stream of n
// values has a standard deviation of at most sqrt(2^s / n) / 2 (normalized). We pick
// the largest s with 2^s <= n * (eps / 5)^2, so that deviation stays below eps / 10,
// a tenth of the stated bound. Only 1 in 2^s values is then sorted.
std::uint32_t quantile_sketch::sampler_level() const noexcept {
  const double eps = rank_error_for(k_);
  const double budget = static_cast<double>(n_) * (eps / 5.0) * (eps / 5.0);
  std::uint32_t s = 0;
  while (s + 1 < levels_.size() && s < 20 && std::ldexp(1.0, static_cast<int>(s + 1)) <= budget)
    ++s;
  return s;
}

// One batch of non-NaN values into the levels (sampled when the stream is long).
template <class T>
void quantile_sketch::absorb(const T* values, std::size_t m) {
  const std::uint32_t s = sampler_level();
  auto& buf0 = levels_[0];
  if (s == 0) {
    buf0.insert(buf0.end(), values, values + m);
  } else {
    const std::size_t groups = m >> s, mask = (std::size_t(1) << s) - 1;
    std::vector<double> picks(groups);
    std::uint64_t bits = 0;
    int left = 0;
    for (std::size_t g = 0; g < groups; ++g) {
      if (left < static_cast<int>(s)) {
        bits = splitmix64(seed_ ^ splitmix64(++coins_));
        left = 64;
      }
      picks[g] = static_cast<double>(values[(g << s) | (bits & mask)]);
      bits >>= s;
      left -= static_cast<int>(s);
    }
    sort_small(picks.data(), picks.size(), scratch_);
    auto& lv = levels_[s];
    std::vector<double> merged(lv.size() + picks.size());
    std::merge(lv.begin(), lv.end(), picks.begin(), picks.end(), merged.begin());
    lv = std::move(merged);
    // The values that do not fill a group keep weight 1.
    levels_[0].insert(levels_[0].end(), values + (groups << s), values + m);
  }
  compress();
}

// Values go in batches of kBuffer non-NaN values. A whole batch without NaN is taken
// straight from the input after one scan for NaN, minimum and maximum; elsewhere values
// are staged one by one. Both give the same batches, so the same sketch.
template <class T>
void quantile_sketch::update_values(const T* x, std::size_t n) {
  std::vector<double> stage;
  double lo = INFINITY, hi = -INFINITY;
  std::size_t i = 0, batches = 0;
  while (i < n) {
    if (++batches % 16 == 0) throw_if_cancelled();  // every 2^16 values or so
    if (stage.empty() && n - i >= kBuffer) {
      double clo, chi;
      if (!scan_batch(x + i, kBuffer, clo, chi)) {
        n_ += kBuffer;
        note_range(clo, chi);
        absorb(x + i, kBuffer);
        i += kBuffer;
        continue;
      }
    }
    // Staged: up to the end of the batch this value belongs to.
    const std::size_t stop = std::min(n, i + (kBuffer - stage.size()));
    for (; i < stop; ++i) {
      const double v = static_cast<double>(x[i]);
      if (std::isnan(v)) {
        ++nan_;
        continue;
      }
      stage.push_back(v);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      if (stage.size() == kBuffer) break;
    }
    if (stage.size() == kBuffer) ++i;  // the value that filled the batch
    if (stage.size() == kBuffer || (i >= n && !stage.empty())) {
      n_ += stage.size();
      note_range(lo, hi);
      absorb(stage.data(), stage.size());
      stage.clear();
    }
  }
}

void quantile_sketch::update(const array_view& values) {
  if (current_cancel_flag() == nullptr) {
    visit_dtype(values, [&](auto* x) { update_values(x, values.size); });
    return;
  }
  // Cancellable: batches change the levels as they go, so work on a copy (a few
  // thousand values: small beside an update long enough to be cancelled) and take it
  // only when every batch went in; a cancelled update leaves this sketch as it was.
  quantile_sketch work(*this);
  visit_dtype(values, [&](auto* x) { work.update_values(x, values.size); });
  *this = std::move(work);
}

void quantile_sketch::update_compacted(const double* values, std::size_t n, std::uint32_t level,
                                       double lo, double hi, std::uint64_t nan_count) {
  if (level > 40) throw invalid_input("compacted level too large");
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(values[i]) || (i && values[i] < values[i - 1]))
      throw invalid_input("compacted values must be sorted and free of NaN");
  }
  nan_ += nan_count;
  if (n == 0) return;
  if (!(lo <= values[0] && hi >= values[n - 1]))
    throw invalid_input("compacted extremes do not cover the values");
  while (levels_.size() <= level) levels_.emplace_back();
  auto& lv = levels_[level];
  if (level == 0) {
    lv.insert(lv.end(), values, values + n);
  } else {
    std::vector<double> merged(lv.size() + n);
    std::merge(lv.begin(), lv.end(), values, values + n, merged.begin());
    lv = std::move(merged);
  }
  n_ += static_cast<std::uint64_t>(n) << level;
  note_range(lo, hi);
  compress();
}

void quantile_sketch::merge(const quantile_sketch& o) {
  if (o.k_ != k_)
    throw invalid_input("cannot merge quantile sketches with different k (" + std::to_string(k_) +
                        " and " + std::to_string(o.k_) + ")");
  detail::add_counts(n_ + nan_, o.n_ + o.nan_, "cannot merge: the sketch's count of values");
  while (levels_.size() < o.levels_.size()) levels_.emplace_back();
  for (std::size_t h = 0; h < o.levels_.size(); ++h) {
    auto& lv = levels_[h];
    const auto& ov = o.levels_[h];
    if (h == 0) {
      lv.insert(lv.end(), ov.begin(), ov.end());
    } else {
      std::vector<double> merged(lv.size() + ov.size());
      std::merge(lv.begin(), lv.end(), ov.begin(), ov.end(), merged.begin());
      lv = std::move(merged);
    }
  }
  if (o.n_) note_range(o.min_, o.max_);
  n_ += o.n_;
  nan_ += o.nan_;
  coins_ += o.coins_;
  compress();
}

void quantile_sketch::sorted_view(std::vector<double>& values, std::vector<double>& cum) const {
  std::vector<std::pair<double, double>> items;
  items.reserve(retained());
  for (std::size_t h = 0; h < levels_.size(); ++h)
    for (double v : levels_[h]) items.emplace_back(v, std::ldexp(1.0, static_cast<int>(h)));
  std::sort(items.begin(), items.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  values.resize(items.size());
  cum.resize(items.size());
  double run = 0.0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    values[i] = items[i].first;
    run += items[i].second;
    cum[i] = run;
  }
}

std::vector<double> quantile_sketch::quantiles(const double* q, std::size_t m) const {
  std::vector<double> out(m, NAN);
  if (n_ == 0) return out;
  std::vector<double> v, c;
  sorted_view(v, c);
  const double total = static_cast<double>(n_);
  for (std::size_t i = 0; i < m; ++i) {
    if (!(q[i] >= 0.0 && q[i] <= 1.0)) throw invalid_input("quantile ranks must lie in [0, 1]");
    if (q[i] == 0.0) {
      out[i] = min_;
      continue;
    }
    if (q[i] == 1.0) {
      out[i] = max_;
      continue;
    }
    auto it = std::lower_bound(c.begin(), c.end(), q[i] * total);
    out[i] = it == c.end() ? max_ : v[static_cast<std::size_t>(it - c.begin())];
  }
  return out;
}

std::vector<double> quantile_sketch::cdf(const double* x, std::size_t m) const {
  std::vector<double> out(m, NAN);
  if (n_ == 0) return out;
  std::vector<double> v, c;
  sorted_view(v, c);
  const double total = static_cast<double>(n_);
  for (std::size_t i = 0; i < m; ++i) {
    if (std::isnan(x[i])) continue;
    auto it = std::upper_bound(v.begin(), v.end(), x[i]);
    out[i] = it == v.begin() ? 0.0 : c[static_cast<std::size_t>(it - v.begin()) - 1] / total;
  }
  return out;
}

bool quantile_sketch::operator==(const quantile_sketch& o) const noexcept {
  auto same = [](double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); };
  return k_ == o.k_ && seed_ == o.seed_ && n_ == o.n_ && nan_ == o.nan_ && coins_ == o.coins_ &&
         same(min_, o.min_) && same(max_, o.max_) && levels_ == o.levels_;
}

std::string quantile_sketch::serialize() const {
  detail::byte_writer w;
  w.put<std::uint32_t>(k_);
  w.put<std::uint64_t>(seed_);
  w.put<std::uint64_t>(n_);
  w.put<std::uint64_t>(nan_);
  w.put<std::uint64_t>(coins_);
  w.put<double>(min_);
  w.put<double>(max_);
  w.put<std::uint32_t>(static_cast<std::uint32_t>(levels_.size()));
  for (const auto& l : levels_) w.put_vector(l);
  return w.take();
}

quantile_sketch quantile_sketch::deserialize(const std::string& payload) {
  detail::byte_reader r(payload);
  const auto k = r.get<std::uint32_t>("k");
  const auto seed = r.get<std::uint64_t>("seed");
  quantile_sketch s(k, seed);
  s.n_ = r.get<std::uint64_t>("n");
  s.nan_ = r.get<std::uint64_t>("nan count");
  s.coins_ = r.get<std::uint64_t>("coin counter");
  s.min_ = r.get<double>("min");
  s.max_ = r.get<double>("max");
  const auto nlevels = r.get<std::uint32_t>("level count");
  if (nlevels == 0 || nlevels > kMaxLevels)
    throw invalid_input("corrupted payload: bad level count");
  detail::add_counts(s.n_, s.nan_, "corrupted payload: sketch n + nan count");
  // Empty: min and max as a new sketch has them (NaN); else ordered, never NaN (they
  // may be infinite), so that quantiles at 0 and 1 are values.
  if (s.n_ == 0 ? !(std::isnan(s.min_) && std::isnan(s.max_)) : !(s.min_ <= s.max_))
    throw invalid_input("corrupted payload: sketch min " + std::to_string(s.min_) + " and max " +
                        std::to_string(s.max_) + " do not fit its n of " + std::to_string(s.n_));
  s.levels_.clear();
  std::uint64_t weight = 0;  // exact: every level's weight is checked below 2^63
  for (std::uint32_t h = 0; h < nlevels; ++h) {
    s.levels_.push_back(r.get_vector<double>("level"));
    const auto& lv = s.levels_.back();
    for (std::size_t i = 0; i < lv.size(); ++i)
      if (std::isnan(lv[i]) || (h > 0 && i && lv[i] < lv[i - 1]) || lv[i] < s.min_ ||
          lv[i] > s.max_)
        throw invalid_input("corrupted payload: sketch level values out of order or range");
    if (lv.size() > (detail::kMaxCount >> h))
      throw invalid_input("corrupted payload: sketch level " + std::to_string(h) +
                          " weighs more than 2^63");
    weight = detail::add_counts(weight, static_cast<std::uint64_t>(lv.size()) << h,
                                "corrupted payload: sketch level weight");
  }
  r.finish();
  if (weight != s.n_)
    throw invalid_input("corrupted payload: sketch level weights add up to " +
                        std::to_string(weight) + ", not its n of " + std::to_string(s.n_));
  // Never compacted: level 0 holds every value, so min and max are among them.
  if (nlevels == 1 && s.n_ > 0) {
    const auto [lo, hi] = std::minmax_element(s.levels_[0].begin(), s.levels_[0].end());
    if (*lo != s.min_ || *hi != s.max_)
      throw invalid_input(
          "corrupted payload: exact sketch min and max are not its smallest and largest values");
  }
  return s;
}

std::uint64_t quantile_sketch::compaction_offset(std::uint64_t count,
                                                 std::uint32_t level) const noexcept {
  return splitmix64(seed_ ^ n_ ^ count) & ((std::uint64_t(1) << (level & 63)) - 1);
}

}  // namespace driftcore
