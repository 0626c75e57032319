#pragma once
// The binning rule, shared verbatim by the CPU kernel and the CUDA kernel so that
// both give the same slot for every value (same float64 operations, no FMA).
#include <cstddef>
#include <cstdint>

#include "host_device.hpp"

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

// Arbitrary edges: a grid of equal cells over [e_0, e_n]. For each cell the table
// holds the bin of its smallest value, and a flag when an edge falls inside the cell;
// only then (a few percent of values with a fine grid) is a short bisection over
// [lo, chi] needed. The table is built with cell() itself, exact values included, so
// no rounding margin is needed.
struct edges_binner {
  static constexpr std::uint32_t kSplit = 0x80000000u;
  const double* e;
  std::size_t n;
  double lo, hi, cscale;
  const std::uint32_t* clo;  // bin of the cell's first value | kSplit when an edge is inside
  const std::uint32_t* chi;  // bin of the cell's last value
  std::size_t ncell;
  DC_HD std::size_t cell(double x) const noexcept {
    const std::size_t c = static_cast<std::size_t>(static_cast<std::int64_t>((x - lo) * cscale));
    return c < ncell ? c : ncell - 1;
  }
  DC_HD std::size_t operator()(double x) const noexcept {
    if (x >= lo && x <= hi) {
      const std::size_t c = cell(x);
      const std::uint32_t u = clo[c];
      std::uint32_t a = u & ~kSplit;
      if (u & kSplit) {
        std::uint32_t b = chi[c];
        while (a < b) {
          const std::uint32_t m = (a + b + 1) >> 1;
          if (x >= e[m])
            a = m;
          else
            b = m - 1;
        }
      }
      return std::size_t(a) + 1;
    }
    return x < lo ? 0 : (x > hi ? n + 1 : n + 2);
  }
};

}  // namespace driftcore::detail
