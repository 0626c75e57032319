// The GPU MMD kernel (cuda/mmd.cu) replayed on the CPU, one thread of the block at a
// time: the same float32 and float64 operations in the same order, so the precision of
// the device's arithmetic is tested on every CI run, without a device. What differs:
// expf and sqrtf come from the host's libm (the device's are within 2 ulp), and the
// number of blocks is a parameter (the device takes as many as fit at once).
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "driftcore/common.hpp"
#include "driftcore/mmd.hpp"
#include "mmd_params.hpp"

namespace driftcore {
namespace {

// The kernel's tile geometry (cuda/mmd.cu).
constexpr int kT = 64, kDK = 32, kPC = 64, kMaxWords = 16;
using params = detail::mmd_params;

float kernel_value(float d2, const params& kp) {
  const float r = kp.kind == 0 ? d2 : std::sqrt(d2);
  float k = 0.0f;
  for (int b = 0; b < kp.nscales; ++b) k += std::exp(-r * kp.scales[b]);
  return k / static_cast<float>(kp.nscales);
}

bool bit(const std::uint64_t* row, int p) {
  return (row[p >> 6] >> (p & 63)) & 1ull;
}

// One block's walk over tiles t = block, block + grid, ..., adding to its partials.
void replay_block(const float* z, std::size_t N, int d, const std::uint64_t* masks, int words,
                  int ncols, const params& kp, std::size_t block, std::size_t grid, double* pa,
                  double* pc, double* pt) {
  const std::size_t nb = (N + kT - 1) / kT, ntiles = nb * (nb + 1) / 2;
  std::vector<float> kt(kT * kT), s(kT * kPC);
  std::vector<double> red(16 * kPC), rs(kT), cs(kT);
  for (std::size_t t = block; t < ntiles; t += grid) {
    std::size_t I = 0, off = 0;  // tile t of the upper triangle, row-major
    while (off + (nb - I) <= t) off += nb - I++;
    const std::size_t J = I + (t - off), i0 = I * kT, j0 = J * kT;
    const int ni = static_cast<int>(std::min<std::size_t>(kT, N - i0));
    const int nj = static_cast<int>(std::min<std::size_t>(kT, N - j0));
    const double w = I == J ? 1.0 : 2.0;
    // Squared distances: fmaf over k in chunks of kDK, zero padding.
    const int kpad = (d + kDK - 1) / kDK * kDK;
    for (int i = 0; i < kT; ++i)
      for (int j = 0; j < kT; ++j) {
        float acc = 0.0f;
        for (int k = 0; k < kpad; ++k) {
          const float a = (i < ni && k < d) ? z[(i0 + i) * d + k] : 0.0f;
          const float b = (j < nj && k < d) ? z[(j0 + j) * d + k] : 0.0f;
          const float diff = a - b;
          acc = std::fma(diff, diff, acc);
        }
        const bool valid = i < ni && j < nj && !(I == J && i == j);
        kt[j * kT + i] = valid ? kernel_value(acc, kp) : 0.0f;
      }
    for (int i = 0; i < kT; ++i) {  // row and column sums, float, in index order
      double r = 0.0, c = 0.0;
      for (int j = 0; j < kT; ++j) r += kt[j * kT + i];
      for (int k = 0; k < kT; ++k) c += kt[i * kT + k];
      rs[i] = r;
      cs[i] = c;
    }
    double total = 0.0;
    for (int j = 0; j < kT; ++j) total += cs[j];
    *pt += w * total;
    const auto mask_i = [&](int i) -> const std::uint64_t* {
      static const std::uint64_t zero[kMaxWords] = {};
      return i < ni ? masks + (i0 + i) * words : zero;
    };
    for (int p0 = 0; p0 < ncols; p0 += kPC) {
      for (int j = 0; j < kT; ++j)
        for (int q = 0; q < kPC; ++q) {
          const int p = p0 + q;
          s[j * kPC + q] = (j < nj && p < ncols && bit(masks + (j0 + j) * words, p)) ? 1.0f : 0.0f;
        }
      // Thread (ty, tx): g over j in order, then its rows' part per column.
      for (int ty = 0; ty < 16; ++ty)
        for (int tx = 0; tx < 16; ++tx) {
          double g[4][4] = {};
          for (int j = 0; j < nj; ++j)
            for (int x = 0; x < 4; ++x)
              for (int y = 0; y < 4; ++y)
                g[x][y] = std::fma(double(kt[j * kT + ty * 4 + x]), double(s[j * kPC + tx * 4 + y]),
                                   g[x][y]);
          for (int y = 0; y < 4; ++y) {
            const int p = p0 + tx * 4 + y;
            double part = 0.0;
            if (p < ncols)
              for (int x = 0; x < 4; ++x)
                if (bit(mask_i(ty * 4 + x), p)) part += g[x][y];
            red[ty * kPC + tx * 4 + y] = part;
          }
        }
      for (int q = 0; q < kPC && p0 + q < ncols; ++q) {
        const int p = p0 + q;
        double a = 0.0, c = 0.0;
        for (int r = 0; r < 16; ++r) a += red[r * kPC + q];
        for (int i = 0; i < kT; ++i)
          if (bit(mask_i(i), p)) c += rs[i];
        if (I != J)
          for (int j = 0; j < kT; ++j) c += static_cast<double>(s[j * kPC + q]) * cs[j];
        pa[p] += w * a;
        pc[p] += c;
      }
    }
  }
}

}  // namespace

mmd_sums mmd_permutation_sums_replay(const float* z, std::size_t N, std::size_t d,
                                     const mmd_kernel_spec& kernel, const std::uint64_t* masks,
                                     std::size_t ncols, std::size_t grid) {
  if (N == 0 || d == 0) throw invalid_input("mmd: empty sample (N = 0 or d = 0)");
  if (ncols == 0 || ncols > 64 * kMaxWords)
    throw invalid_input("mmd replay: 1 to " + std::to_string(64 * kMaxWords) + " columns");
  if (grid == 0) throw invalid_input("mmd replay: at least one block");
  const params kp = detail::mmd_device_params(kernel);
  const int words = static_cast<int>(mmd_mask_words(ncols));
  const std::size_t stride = 2 * ncols + 1;
  std::vector<double> part(grid * stride, 0.0);
  for (std::size_t b = 0; b < grid; ++b) {
    double* pa = part.data() + b * stride;
    replay_block(z, N, static_cast<int>(d), masks, words, static_cast<int>(ncols), kp, b, grid, pa,
                 pa + ncols, pa + 2 * ncols);
  }
  mmd_sums out;  // summed over blocks in block order, as the device's host code does
  out.a.assign(ncols, 0.0);
  out.c.assign(ncols, 0.0);
  for (std::size_t b = 0; b < grid; ++b) {
    const double* r = part.data() + b * stride;
    for (std::size_t p = 0; p < ncols; ++p) {
      out.a[p] += r[p];
      out.c[p] += r[ncols + p];
    }
    out.t += r[2 * ncols];
  }
  return out;
}

}  // namespace driftcore
