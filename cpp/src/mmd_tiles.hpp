#pragma once
// Shared description of one tiled MMD pass. The per-instruction-set code lives in
// mmd_tile_impl.inc, compiled once per ISA by mmd.cpp.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace driftcore::detail {

constexpr std::size_t kTile = 64;  // rows per tile: 64 x 64 kernel values (32 KiB)

struct mmd_pass {
  const double* z;               // N x d pooled sample, row-major
  std::size_t N, d, nb;          // nb = tiles per side
  const std::uint64_t* masks;    // N x words
  std::size_t words, ncols, pp;  // pp = ncols rounded up to a multiple of 4
  const double* s;       // N x pp: the mask bits as 0/1 doubles (unpacked once, not per tile)
  int kind;              // 0 rbf, 1 laplacian
  const double* scales;  // rbf: 1 / (2 s^2); laplacian: 1 / s
  std::size_t nscales;
};

// Partial sums of one tile row I (tiles (I, J) for J >= I).
struct tile_row_out {
  double* a;  // ncols
  double* c;  // ncols
  double* t;
};

struct mmd_scratch {
  std::vector<double> zit, kt, sit, adot_off, adot_diag, cacc, rowacc, colsum;
  // The distance tiles only: all the median passes need.
  void reserve_distances(std::size_t d) {
    zit.assign(d * kTile, 0.0);
    kt.assign(kTile * kTile, 0.0);
  }
  void reserve(std::size_t d, std::size_t pp) {
    reserve_distances(d);
    sit.assign(pp * kTile, 0.0);
    adot_off.assign(pp * 8, 0.0);
    adot_diag.assign(pp * 8, 0.0);
    cacc.assign(pp, 0.0);
    rowacc.assign(kTile, 0.0);
    colsum.assign(kTile, 0.0);
  }
};

// Median pass: histogram of the float bits of squared distances (2^20 buckets).
constexpr int kKeyShift = 43;
constexpr std::size_t kBuckets = std::size_t(1) << 20;

}  // namespace driftcore::detail
