#include "driftcore/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#endif

#include "avx512.hpp"
#include "binning.hpp"
#include "byte_io.hpp"
#include "count_limit.hpp"
#include "driftcore/cancel.hpp"
#include "driftcore/radix_sort.hpp"
#include "driftcore/threading.hpp"

namespace driftcore {
namespace {

constexpr std::size_t kGrain = 1 << 16;          // counts: any split works (integers)
constexpr std::size_t kWeightBlock = 1 << 20;    // weights: fixed blocks, summed in order
constexpr std::size_t kWeightScratch = 1 << 26;  // bytes of block buffers per wave, soft
// A fine lookup table (many cells per bin) makes most arbitrary-edge lookups a single
// load, but costs milliseconds to build: new histograms get a coarse one, and the
// first large fill upgrades it. Both are exact; only speed differs.
constexpr std::size_t kCoarseCells = 64, kFineCells = 1024, kMaxCells = std::size_t(1) << 16;
constexpr std::size_t kFineFill = std::size_t(1) << 18;
constexpr std::size_t kPairSlots = 80;  // pair table up to 80^2 cells (51 KB for two copies)

using detail::edges_binner;
using detail::uniform_binner;

// Hardware prefetchers alone leave this streaming loop waiting on memory on some
// machines (seen: +40% throughput on a 2-vCPU Xeon VM with an explicit prefetch).
constexpr std::size_t kPrefetchBytes = 8192;

template <class T, class Binner>
void slots_of(const T* x, std::size_t m, const Binner& bin, std::uint32_t* out) {
  for (std::size_t j = 0; j < m; ++j) {
    if ((j & 7) == 0) __builtin_prefetch(reinterpret_cast<const char*>(x + j) + kPrefetchBytes);
    out[j] = static_cast<std::uint32_t>(bin(static_cast<double>(x[j])));
  }
}

#if defined(__GNUC__) && defined(__x86_64__)
#define DRIFTCORE_AVX512 1
// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized inside their own intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// How far from an integer the guess f = fl(fl(x - lo) * scale) must be for floor(f)
// to be x's bin without checking the edges. With u = 2^-53, w = (hi - lo) / n and
// M = max(|lo|, |hi|): f is within 4.1 n u of the exact position (x - lo) / w, and each
// edge fl(fl(k step) + lo) within 3 n u + u M / w of the integer k. So a guess whose
// fractional part keeps twice their sum (plus slack) from 0 and 1 is the bin. Returns
// 1 (fast path off) when the margin would not be small.
double guess_margin(const uniform_binner& bin) {
  const double u = std::ldexp(1.0, -53), n = static_cast<double>(bin.n);
  const double m = std::max(std::abs(bin.lo), std::abs(bin.hi));
  const double margin = 2.0 * (8.0 * n + m / bin.step + 8.0) * u;
  return margin < 1e-3 ? margin : 1.0;
}

// Eight values as float64, with a prefetch well ahead of the stream.
template <class T>
__attribute__((target("avx512f,avx512dq,avx512vl"))) inline __m512d load8(const T* x) {
  _mm_prefetch(reinterpret_cast<const char*>(x) + kPrefetchBytes, _MM_HINT_T0);
  return detail::load8_f64(x);
}

// The uniform rule of binning.hpp, eight values at a time. Every step is the same
// IEEE operation as the scalar code (subtract, multiply, truncate, compare), so the
// slots are identical; only the order of evaluation differs.
// Slots j..j+7 as they are, or (Pairs) as four pair cells a * nslots + b at out[j / 2]
// (64-bit lanes hold a low, b high).
template <bool Pairs>
__attribute__((target("avx512f,avx512dq,avx512vl"))) inline void store8(__m256i slot,
                                                                        std::uint32_t* out,
                                                                        std::size_t j,
                                                                        __m256i width) {
  if constexpr (Pairs) {
    const __m256i cell =
        _mm256_add_epi64(_mm256_mul_epu32(slot, width), _mm256_srli_epi64(slot, 32));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + j / 2), _mm256_cvtepi64_epi32(cell));
  } else {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + j), slot);
  }
}

// Pairs: consecutive slots a, b are written as one pair-table cell a * nslots + b
// (out[j / 2]), so the counting loop needs no index arithmetic; m must be even.
template <class T, bool Pairs = false>
__attribute__((target("avx512f,avx512dq,avx512vl"))) void slots_avx512(const T* x, std::size_t m,
                                                                       const uniform_binner& bin,
                                                                       std::uint32_t* out,
                                                                       std::uint32_t nslots = 0) {
  const __m512d lo = _mm512_set1_pd(bin.lo), hi = _mm512_set1_pd(bin.hi);
  const __m512d scale = _mm512_set1_pd(bin.scale), zero = _mm512_setzero_pd();
  const __m512d last = _mm512_set1_pd(static_cast<double>(bin.n - 1));
  const __m512d step = _mm512_set1_pd(bin.step);
  const __m256i one = _mm256_set1_epi32(1), nm1 = _mm256_set1_epi32(static_cast<int>(bin.n - 1));
  const __m256i under = _mm256_setzero_si256(),
                over = _mm256_set1_epi32(static_cast<int>(bin.n + 1));
  const __m256i nan = _mm256_set1_epi32(static_cast<int>(bin.n + 2));
  const __m256i bins = _mm256_set1_epi32(static_cast<int>(bin.n));
  const __m256i width = _mm256_set1_epi64x(nslots);
  const double margin = guess_margin(bin);
  std::size_t j = 0;
  const __m512d frac_lo = _mm512_set1_pd(margin), frac_hi = _mm512_set1_pd(1.0 - margin);
  for (; j + 8 <= m; j += 8) {
    const __m512d v = load8(x + j);
    __m512d f = _mm512_mul_pd(_mm512_sub_pd(v, lo), scale);
    __m256i i = _mm512_cvttpd_epi32(f);  // NaN and huge values give 0x80000000
    // Fast path: every guess a bin number 0..n-1 and far from a bin edge, so it is the
    // bin (see guess_margin; a guess at least `margin` inside [0, n] also puts the
    // value strictly inside [lo, hi]). The exact check below is then not needed.
    const __m512d frac = _mm512_sub_pd(f, _mm512_cvtepi32_pd(i));  // exact
    const __mmask8 sure = _mm512_mask_cmp_pd_mask(_mm512_cmp_pd_mask(frac, frac_lo, _CMP_GE_OQ),
                                                  frac, frac_hi, _CMP_LE_OQ) &
                          _mm256_cmplt_epu32_mask(i, bins);
    if (sure == 0xFF) {
      store8<Pairs>(_mm256_add_epi32(i, one), out, j, width);
      continue;
    }
    f = _mm512_max_pd(f, zero);  // NaN -> 0 (max returns the second operand)
    f = _mm512_min_pd(f, last);
    i = _mm512_cvttpd_epi32(f);
    // e_i = i * step + lo, as two roundings (no FMA), as in binning.hpp.
    __m512d ei = _mm512_add_pd(_mm512_mul_pd(_mm512_cvtepi32_pd(i), step), lo);
    i = _mm256_mask_sub_epi32(i, _mm512_cmp_pd_mask(v, ei, _CMP_LT_OQ), i, one);
    __m256i ip1 = _mm256_add_epi32(i, one);
    __mmask8 not_last = _mm256_cmplt_epi32_mask(i, nm1);
    __m512d ej = _mm512_add_pd(_mm512_mul_pd(_mm512_cvtepi32_pd(ip1), step), lo);
    ej = _mm512_mask_mov_pd(hi, not_last, ej);  // e_n is hi itself
    __mmask8 above = _mm512_cmp_pd_mask(v, ej, _CMP_GE_OQ) & not_last;
    i = _mm256_mask_add_epi32(i, above, i, one);
    __m256i slot = _mm256_add_epi32(i, one);
    slot = _mm256_mask_mov_epi32(slot, _mm512_cmp_pd_mask(v, lo, _CMP_LT_OQ), under);
    slot = _mm256_mask_mov_epi32(slot, _mm512_cmp_pd_mask(v, hi, _CMP_GT_OQ), over);
    slot = _mm256_mask_mov_epi32(slot, _mm512_cmp_pd_mask(v, v, _CMP_UNORD_Q), nan);
    store8<Pairs>(slot, out, j, width);
  }
  for (; j < m; j += Pairs ? 2 : 1) {
    const auto a = static_cast<std::uint32_t>(bin(static_cast<double>(x[j])));
    if constexpr (Pairs)
      out[j / 2] = a * nslots + static_cast<std::uint32_t>(bin(static_cast<double>(x[j + 1])));
    else
      out[j] = a;
  }
}

template <class T>
void slots_of(const T* x, std::size_t m, const uniform_binner& bin, std::uint32_t* out) {
  if constexpr (std::is_same_v<T, double> || std::is_same_v<T, float>) {
    if (detail::use_avx512() && bin.n < (std::size_t(1) << 30)) return slots_avx512(x, m, bin, out);
  }
  for (std::size_t j = 0; j < m; ++j)
    out[j] = static_cast<std::uint32_t>(bin(static_cast<double>(x[j])));
}

// Arbitrary edges, eight values at a time: range tests and cell indices are vector
// operations (the same IEEE steps as edges_binner::cell); the table is read with
// scalar loads (gathers are slow on some CPUs). When all eight values are inside and
// no cell is split, that is the answer; otherwise the scalar rule redoes the eight.
template <class T>
__attribute__((target("avx512f,avx512dq,avx512vl"))) void edges_avx512(const T* x, std::size_t m,
                                                                       const edges_binner& bin,
                                                                       std::uint32_t* out) {
  const __m512d lo = _mm512_set1_pd(bin.lo), hi = _mm512_set1_pd(bin.hi);
  const __m512d cscale = _mm512_set1_pd(bin.cscale), zero = _mm512_setzero_pd();
  const __m512d last = _mm512_set1_pd(static_cast<double>(bin.ncell - 1));
  alignas(32) std::int32_t cells[8];
  std::size_t j = 0;
  for (; j + 8 <= m; j += 8) {
    const __m512d v = load8(x + j);
    __m512d f = _mm512_mul_pd(_mm512_sub_pd(v, lo), cscale);
    f = _mm512_min_pd(_mm512_max_pd(f, zero), last);
    _mm256_store_si256(reinterpret_cast<__m256i*>(cells), _mm512_cvttpd_epi32(f));
    const __mmask8 inside =
        _mm512_cmp_pd_mask(v, lo, _CMP_GE_OQ) & _mm512_cmp_pd_mask(v, hi, _CMP_LE_OQ);
    std::uint32_t any_split = 0;
    for (int q = 0; q < 8; ++q) {
      const std::uint32_t u = bin.clo[cells[q]];
      any_split |= u;
      out[j + q] = u + 1;
    }
    if (inside != 0xFF || (any_split & edges_binner::kSplit)) {
      for (int q = 0; q < 8; ++q)
        out[j + q] = static_cast<std::uint32_t>(bin(static_cast<double>(x[j + q])));
    }
  }
  for (; j < m; ++j) out[j] = static_cast<std::uint32_t>(bin(static_cast<double>(x[j])));
}

// Pair-table cells of consecutive values: out[k] = slot(x[2k]) * nslots + slot(x[2k+1])
// for k < m / 2 (m even), computed in the binning loop's registers.
template <class T>
void pair_cells(const T* x, std::size_t m, const uniform_binner& bin, std::uint32_t nslots,
                std::uint32_t* out) {
  if constexpr (std::is_same_v<T, double> || std::is_same_v<T, float>) {
    if (detail::use_avx512() && bin.n < (std::size_t(1) << 30))
      return slots_avx512<T, true>(x, m, bin, out, nslots);
  }
  slots_of(x, m, bin, out);
  for (std::size_t k = 0; k < m / 2; ++k) out[k] = out[2 * k] * nslots + out[2 * k + 1];
}

template <class T>
void slots_of(const T* x, std::size_t m, const edges_binner& bin, std::uint32_t* out) {
  if constexpr (std::is_same_v<T, double> || std::is_same_v<T, float>) {
    // With a coarse table most groups of eight hit a split cell: scalar is faster.
    if (detail::use_avx512() && bin.ncell >= 64 * bin.n) return edges_avx512(x, m, bin, out);
  }
  for (std::size_t j = 0; j < m; ++j) {
    if ((j & 7) == 0) __builtin_prefetch(reinterpret_cast<const char*>(x + j) + kPrefetchBytes);
    out[j] = static_cast<std::uint32_t>(bin(static_cast<double>(x[j])));
  }
}

#endif

// One worker's counts of slot numbers, fed block by block; the tables live as long as
// the worker, so small blocks cost no setup.
class slot_counter {
 public:
  explicit slot_counter(std::size_t nslots)
      : n_(nslots),
        total_(nslots, 0),
        // Few slots: count pairs of consecutive values in an nslots^2 table, one
        // increment per two values, then add each pair to both of its slots (flush).
        // Two copies break store-to-load chains on repeated pairs; 32-bit cells are
        // flushed to the 64-bit totals before they could overflow. More slots: four
        // interleaved copies of plain counts, for the same reason.
        cells_(nslots <= kPairSlots ? 2 * nslots * nslots : 4 * nslots, 0) {}

  template <class T, class Binner>
  void add(const T* x, std::size_t b, std::size_t e, const Binner& bin) {
    if (n_ <= kPairSlots)
      add_pairs(x, b, e, bin);
    else
      add_singles(x, b, e, bin);
  }

  /// Adds everything counted so far to out[0..nslots).
  void add_to(std::uint64_t* out) {
    flush();
    for (std::size_t k = 0; k < n_; ++k) out[k] += total_[k];
    std::fill(total_.begin(), total_.end(), 0u);
  }

 private:
  static constexpr std::size_t kRun = 2048;

  // The 32-bit cells into the 64-bit totals: each pair cell to both of its slots, or
  // the four copies of each slot.
  void flush() {
    const std::uint32_t* c = cells_.data();
    if (n_ <= kPairSlots) {
      for (std::size_t a = 0; a < n_; ++a)
        for (std::size_t b = 0; b < n_; ++b) {
          const std::uint64_t k = std::uint64_t(c[a * n_ + b]) + c[n_ * n_ + a * n_ + b];
          total_[a] += k;
          total_[b] += k;
        }
    } else {
      for (std::size_t k = 0; k < n_; ++k)
        total_[k] += std::uint64_t{c[k]} + c[n_ + k] + c[2 * n_ + k] + c[3 * n_ + k];
    }
    std::fill(cells_.begin(), cells_.end(), 0u);
    since_flush_ = 0;
  }

  template <class T, class Binner>
  void add_pairs(const T* x, std::size_t b, std::size_t e, const Binner& bin) {
    // Uniform bins on AVX-512 get their cells from the binning loop; others from slots.
#ifdef DRIFTCORE_AVX512
    constexpr bool fused = std::is_same_v<Binner, uniform_binner>;
#else
    constexpr bool fused = false;
#endif
    std::uint32_t* p0 = cells_.data();
    std::uint32_t* p1 = p0 + n_ * n_;
    const auto width = static_cast<std::uint32_t>(n_);
    auto cell = [&](std::size_t k) { return fused ? s_[k] : s_[2 * k] * width + s_[2 * k + 1]; };
    for (std::size_t i = b; i < e; i += kRun) {
      const std::size_t m = std::min(kRun, e - i), even = m & ~std::size_t{1};
      if constexpr (fused)
        pair_cells(x + i, even, bin, width, s_);
      else
        slots_of(x + i, even, bin, s_);
      std::size_t k = 0;
      for (; k + 2 <= even / 2; k += 2) {
        ++p0[cell(k)];
        ++p1[cell(k + 1)];
      }
      if (k < even / 2) ++p0[cell(k)];
      if (m != even) ++total_[bin(static_cast<double>(x[i + even]))];
      if ((since_flush_ += m) >= (std::size_t(1) << 31)) flush();
    }
  }

  template <class T, class Binner>
  void add_singles(const T* x, std::size_t b, std::size_t e, const Binner& bin) {
    std::uint32_t* c0 = cells_.data();
    std::uint32_t* c1 = c0 + n_;
    std::uint32_t* c2 = c1 + n_;
    std::uint32_t* c3 = c2 + n_;
    for (std::size_t i = b; i < e; i += kRun) {
      const std::size_t m = std::min(kRun, e - i);
      slots_of(x + i, m, bin, s_);
      std::size_t j = 0;
      for (; j + 4 <= m; j += 4) {
        ++c0[s_[j]];
        ++c1[s_[j + 1]];
        ++c2[s_[j + 2]];
        ++c3[s_[j + 3]];
      }
      for (; j < m; ++j) ++c0[s_[j]];
      // Each 32-bit cell gets at most a quarter of the values (plus the tail).
      if ((since_flush_ += m) >= (std::size_t(1) << 31)) flush();
    }
  }

  std::size_t n_, since_flush_ = 0;
  std::vector<std::uint64_t> total_;
  std::vector<std::uint32_t> cells_;
  std::uint32_t s_[kRun];
};

template <class T, class W, class Binner>
void weigh_block(const T* x, const W* w, std::size_t b, std::size_t e, const Binner& bin,
                 std::uint64_t* counts, double* sums) {
  for (std::size_t i = b; i < e; ++i) {
    std::size_t s = bin(static_cast<double>(x[i]));
    ++counts[s];
    sums[s] += static_cast<double>(w[i]);
  }
}

template <class Binner>
void fill_with(const Binner& bin, const array_view& values, const array_view* weights, int threads,
               std::size_t nslots, std::vector<std::uint64_t>& counts, std::vector<double>& sums) {
  const std::size_t n = values.size;
  if (!weights) {
    // 16 blocks per worker or more, taken as workers come free (integer counts add up
    // the same whichever worker took a block), so a slowed core does less of them.
    const int workers = range_count(n, kGrain, value_threads(n, threads));
    const std::size_t grain = std::clamp<std::size_t>(n / (16 * static_cast<std::size_t>(workers)),
                                                      kGrain, std::size_t{1} << 20);
    std::vector<slot_counter> counters(static_cast<std::size_t>(workers), slot_counter(nslots));
    visit_dtype(values, [&](auto* x) {
      parallel_blocks(n, grain, workers, [&](int w, std::size_t b, std::size_t e) {
        counters[static_cast<std::size_t>(w)].add(x, b, e, bin);
      });
    });
    for (auto& c : counters) c.add_to(counts.data());
    return;
  }
  // Weight sums are floats, so blocks have fixed boundaries and are added to the total
  // in block order, whatever the thread count. Blocks go in waves, each block into its
  // own buffer, merged in block order after the wave. A wave holds as many blocks as
  // fit kWeightScratch, but at least one per worker: scratch stays bounded (it was
  // blocks x slots: +960 MiB for 2^22 bins and 2^24 values), and few bins still take
  // all blocks in one wave, one thread start.
  const std::size_t nblocks = (n + kWeightBlock - 1) / kWeightBlock;
  const int workers = range_count(nblocks, 1, value_threads(n, threads));
  const std::size_t per_block = nslots * (sizeof(std::uint64_t) + sizeof(double));
  const std::size_t nw =
      std::min(nblocks, std::max(static_cast<std::size_t>(workers), kWeightScratch / per_block));
  std::vector<std::uint64_t> pc(nw * nslots);
  std::vector<double> ps(nw * nslots);
  visit_dtype(values, [&](auto* x) {
    visit_dtype(*weights, [&](auto* wt) {
      for (std::size_t first = 0; first < nblocks; first += nw) {
        const std::size_t wave = std::min(nw, nblocks - first);
        std::fill(pc.begin(), pc.end(), 0);
        std::fill(ps.begin(), ps.end(), 0.0);
        parallel_ranges(wave, 1, workers, [&](int, std::size_t b, std::size_t e) {
          for (std::size_t k = b; k < e; ++k) {
            throw_if_cancelled();
            const std::size_t bb = (first + k) * kWeightBlock, be = std::min(n, bb + kWeightBlock);
            weigh_block(x, wt, bb, be, bin, pc.data() + k * nslots, ps.data() + k * nslots);
          }
        });
        for (std::size_t k = 0; k < wave; ++k)
          for (std::size_t s = 0; s < nslots; ++s) {
            counts[s] += pc[k * nslots + s];
            sums[s] += ps[k * nslots + s];
          }
      }
    });
  });
}

// True when the edges are exactly numpy.linspace(lo, hi, n + 1), the form the fast
// kernel recomputes instead of loading.
bool equally_spaced(const std::vector<double>& e) {
  const std::size_t n = e.size() - 1;
  const double lo = e.front(), hi = e.back();
  if (!std::isfinite(hi - lo) || !std::isfinite(static_cast<double>(n) / (hi - lo)) ||
      n >= (std::size_t(1) << 30))
    return false;
  const double step = (hi - lo) / static_cast<double>(n);
  for (std::size_t i = 1; i < n; ++i)
    if (e[i] != static_cast<double>(i) * step + lo) return false;
  return true;
}

// Neighbouring doubles of a finite value, through the ordered bit pattern (inline,
// unlike std::nextafter: the table build calls these a few times per cell).
inline double ulp_up(double x) {
  return from_order_key(order_key(x) + 1);
}
inline double ulp_down(double x) {
  return from_order_key(order_key(x) - 1);
}

// The double halfway between a and b in the order of bit patterns (a < b, same sign
// or zero crossing handled through order_key), for bisection over representable values.
double ordered_midpoint(double a, double b) {
  const std::uint64_t ka = order_key(a), kb = order_key(b);
  return from_order_key(ka + (kb - ka) / 2);
}

}  // namespace

histogram::histogram(std::vector<double> edges, bool weighted)
    : edges_(std::move(edges)), uniform_(false), weighted_(weighted) {
  if (edges_.size() < 2) throw invalid_input("a histogram needs at least 2 edges (1 bin)");
  if (edges_.size() - 1 > kMaxBins)
    throw invalid_input("too many bins: " + std::to_string(edges_.size() - 1) +
                        " (max 2^26 = " + std::to_string(kMaxBins) + ")");
  for (std::size_t i = 0; i < edges_.size(); ++i) {
    if (!std::isfinite(edges_[i])) throw invalid_input("histogram edges must be finite");
    if (i && !(edges_[i] > edges_[i - 1]))
      throw invalid_input("histogram edges must be strictly increasing (edge " + std::to_string(i) +
                          " is not above edge " + std::to_string(i - 1) + ")");
  }
  uniform_ = equally_spaced(edges_);
  slots_.assign(nbins() + 3, 0);
  if (weighted_) wslots_.assign(nbins() + 3, 0.0);
  if (!uniform_) build_lookup(kCoarseCells);
}

void histogram::build_lookup(std::size_t cells_per_bin) {
  const std::size_t n = nbins();
  const double lo = edges_.front(), hi = edges_.back();
  std::size_t ncell = std::clamp<std::size_t>(cells_per_bin * n, 64, kMaxCells);
  // Ranges too wide or too narrow for a finite cell scale get one cell: bisection only.
  const double scale = static_cast<double>(ncell) / (hi - lo);
  if (!std::isfinite(hi - lo) || !std::isfinite(scale) || n >= edges_binner::kSplit) ncell = 1;
  cell_scale_ = ncell == 1 ? 0.0 : scale;
  const edges_binner probe{edges_.data(), n, lo, hi, cell_scale_, nullptr, nullptr, ncell};
  // first[c]: the smallest double in [lo, hi] that probe.cell() maps to c or above
  // (cell() is monotone in x). The estimate lo + c / scale is at most a few ulps off:
  // step one ulp at a time, and bisect over representable values if that is not enough.
  std::vector<double> first(ncell + 1);
  first[0] = lo;
  first[ncell] = INFINITY;
  for (std::size_t c = 1; c < ncell; ++c) {
    double g = std::clamp(lo + static_cast<double>(c) / cell_scale_, lo, hi);
    int step = 0;
    if (probe.cell(g) >= c) {
      for (; step < 8 && g > lo; ++step) {
        const double down = ulp_down(g);
        if (probe.cell(down) < c) break;
        g = down;
      }
    } else {
      for (; step < 8 && g < hi && probe.cell(g) < c; ++step) g = ulp_up(g);
    }
    const bool found = probe.cell(g) >= c && (g == lo || probe.cell(ulp_down(g)) < c);
    if (!found) {
      if (probe.cell(hi) < c) {
        first[c] = INFINITY;
        continue;
      }
      double below = lo, above = hi;  // cell(below) < c <= cell(above)
      while (ulp_up(below) < above) {
        const double mid = ordered_midpoint(below, above);
        (probe.cell(mid) >= c ? above : below) = mid;
      }
      g = above;
    }
    first[c] = g;
  }
  // Bins of each cell's first and last value, with a pointer that only moves forward.
  cell_lo_.assign(ncell, 0);
  cell_hi_.assign(ncell, 0);
  std::size_t bin = 0;  // largest bin with e[bin] <= value, clamped to n - 1
  auto bin_at = [&](double v) {
    while (bin + 1 < n && edges_[bin + 1] <= v) ++bin;
    return static_cast<std::uint32_t>(bin);
  };
  for (std::size_t c = 0; c < ncell; ++c) {
    if (first[c] > hi) continue;  // empty cell: never looked up
    const double last = first[c + 1] > hi ? hi : ulp_down(first[c + 1]);
    const std::uint32_t a = bin_at(first[c]), b = bin_at(last);
    cell_lo_[c] = a | (a != b ? edges_binner::kSplit : 0u);
    cell_hi_[c] = b;
  }
}

void histogram::prepare_for(std::size_t values) {
  const std::size_t fine = std::min(kMaxCells, std::max<std::size_t>(64, kFineCells * nbins()));
  if (!uniform_ && values >= kFineFill && cell_scale_ != 0.0 && cell_lo_.size() < fine)
    build_lookup(kFineCells);
}

void histogram::update(const array_view& values, const array_view* weights, int threads) {
  if (weights && !weighted_) throw invalid_input("weights given to an unweighted histogram");
  if (weights && weights->size != values.size)
    throw invalid_input("weights have " + std::to_string(weights->size) +
                        " entries but values have " + std::to_string(values.size));
  if (values.size == 0) return;
  prepare_for(values.size);
  std::vector<std::uint64_t> counts(slots_.size(), 0);
  std::vector<double> sums(slots_.size(), 0.0);
  const double* e = edges_.data();
  const std::size_t n = nbins();
  const double lo = edges_.front(), hi = edges_.back();
  if (uniform_) {
    uniform_binner bin{n, lo, hi, static_cast<double>(n) / (hi - lo),
                       (hi - lo) / static_cast<double>(n)};
    fill_with(bin, values, weighted_ ? weights : nullptr, threads, slots_.size(), counts, sums);
  } else {
    edges_binner bin{e, n, lo, hi, cell_scale_, cell_lo_.data(), cell_hi_.data(), cell_lo_.size()};
    fill_with(bin, values, weighted_ ? weights : nullptr, threads, slots_.size(), counts, sums);
  }
  // A weighted histogram filled without weights counts each value with weight 1.
  for (std::size_t s = 0; s < slots_.size(); ++s) {
    slots_[s] += counts[s];
    if (weighted_) wslots_[s] += weights ? sums[s] : static_cast<double>(counts[s]);
  }
}

void histogram::add_slot_counts(const std::uint64_t* slots, const double* weight_slots) {
  for (std::size_t s = 0; s < slots_.size(); ++s) {
    slots_[s] += slots[s];
    if (weighted_) wslots_[s] += weight_slots ? weight_slots[s] : static_cast<double>(slots[s]);
  }
}

bool histogram::same_layout(const histogram& o) const noexcept {
  return weighted_ == o.weighted_ && edges_ == o.edges_;
}

void histogram::merge(const histogram& o) {
  if (weighted_ != o.weighted_)
    throw invalid_input("cannot merge a weighted histogram with an unweighted one");
  if (edges_ != o.edges_) throw invalid_input("cannot merge histograms with different edges");
  std::uint64_t total = 0;
  for (auto c : slots_) total += c;  // below kMaxCount: loaded states are checked
  for (auto c : o.slots_)
    total = detail::add_counts(total, c, "cannot merge: the histogram's total count");
  add_slot_counts(o.slots_.data(), weighted_ ? o.wslots_.data() : nullptr);
}

histogram histogram::empty_copy() const {
  histogram h(*this);
  std::fill(h.slots_.begin(), h.slots_.end(), 0);
  std::fill(h.wslots_.begin(), h.wslots_.end(), 0.0);
  return h;
}

bool histogram::operator==(const histogram& o) const noexcept {
  return same_layout(o) && slots_ == o.slots_ && wslots_ == o.wslots_;
}

std::string histogram::serialize() const {
  detail::byte_writer w;
  w.put<std::uint8_t>(weighted_ ? 1 : 0);
  w.put_vector(edges_);
  w.put_vector(slots_);
  if (weighted_) w.put_vector(wslots_);
  return w.take();
}

histogram histogram::deserialize(const std::string& payload) {
  detail::byte_reader r(payload);
  auto flag = r.get<std::uint8_t>("weighted flag");
  if (flag > 1) throw invalid_input("corrupted payload: bad weighted flag");
  auto edges = r.get_vector<double>("edges");
  histogram h(std::move(edges), flag == 1);
  h.slots_ = r.get_vector<std::uint64_t>("counts", h.nbins() + 3);
  if (h.weighted_) h.wslots_ = r.get_vector<double>("weights", h.nbins() + 3);
  r.finish();
  std::uint64_t total = 0;
  for (auto c : h.slots_)
    total = detail::add_counts(total, c, "corrupted payload: histogram total count");
  // A weight sum is NaN only if written so (sums of finite weights can at worst
  // overflow to +-inf), and a slot no value reached has none.
  for (std::size_t s = 0; s < h.wslots_.size(); ++s) {
    if (std::isnan(h.wslots_[s]) || (h.slots_[s] == 0 && h.wslots_[s] != 0.0))
      throw invalid_input("corrupted payload: histogram weight of slot " + std::to_string(s) +
                          " is " + std::to_string(h.wslots_[s]) + " for a count of " +
                          std::to_string(h.slots_[s]));
  }
  return h;
}

}  // namespace driftcore
