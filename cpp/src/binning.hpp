#pragma once
// The binning rule, shared verbatim by the CPU kernel and the CUDA kernel so that
// both give the same slot for every value (same float64 operations, no FMA).
#include <cstddef>
#include <cstdint>

#if defined(__CUDACC__)
#define DC_HD __host__ __device__ __forceinline__
#else
#define DC_HD inline
#endif

namespace driftcore::detail {

// Slots: 0 underflow (incl. -inf), 1..n bins, n+1 overflow (incl. +inf), n+2 NaN.
//
// Equally spaced edges are numpy.linspace's, e_i = fl(fl(i * step) + lo) for i < n and
// e_n = hi; the histogram only takes this path when its edges are exactly that. The
// bin is guessed from the spacing, then corrected by one step against e_i and e_{i+1}
// recomputed the same way, which needs no memory access (gathers are slow on some
// CPUs) and gives numpy.histogram's bins.
struct uniform_binner {
  std::size_t n;
  double lo, hi, scale, step;
  DC_HD double edge(std::int64_t i) const noexcept {
    return i >= std::int64_t(n) ? hi : static_cast<double>(i) * step + lo;
  }
  DC_HD std::size_t operator()(double x) const noexcept {
    double f = (x - lo) * scale;
    f = f > 0.0 ? f : 0.0;  // also maps NaN to 0
    f = f < double(n - 1) ? f : double(n - 1);
    std::int64_t i = static_cast<std::int64_t>(f);
    i -= static_cast<std::int64_t>(x < edge(i));
    i += static_cast<std::int64_t>((i < std::int64_t(n) - 1) & (x >= edge(i + 1)));
    const std::size_t inside = static_cast<std::size_t>(i) + 1;
    const std::size_t outside = x < lo ? 0 : (x > hi ? n + 1 : n + 2);
    return (x >= lo && x <= hi) ? inside : outside;
  }
};

// Arbitrary edges: a uniform grid of cells over [e_0, e_n] gives a short range of
// candidate bins (usually one or two), searched by bisection. Heavy-tailed edges only
// make the ranges longer, never wrong.
struct edges_binner {
  const double* e;
  std::size_t n;
  double lo, hi, cscale;
  const std::uint32_t* clo;
  const std::uint32_t* chi;
  std::size_t ncell;
  int steps;  // bisection steps that cover the widest cell range
  DC_HD std::size_t operator()(double x) const noexcept {
    if (x >= lo && x <= hi) {
      std::size_t c = static_cast<std::size_t>(static_cast<std::int64_t>((x - lo) * cscale));
      if (c >= ncell) c = ncell - 1;
      std::uint32_t a = clo[c], b = chi[c];
      // A fixed number of branch-free steps: no mispredictions on random data.
      for (int s = 0; s < steps; ++s) {
        const std::uint32_t m = (a + b + 1) >> 1;
        // Arithmetic selects: compilers turn a ternary here into a branch.
        const std::uint32_t up = 0u - static_cast<std::uint32_t>(x >= e[m]);
        a = (m & up) | (a & ~up);
        b = (b & up) | ((m - 1) & ~up);
      }
      return std::size_t(a) + 1;
    }
    return x < lo ? 0 : (x > hi ? n + 1 : n + 2);
  }
};

}  // namespace driftcore::detail
