#pragma once
/// @file mmd.hpp
/// @brief Kernel maximum mean discrepancy (MMD): the sums behind the observed and all
/// permuted statistics in one tiled pass over the pooled kernel matrix, which is never
/// stored.
///
/// Pool the samples as z = [x; y] (N = n + m rows of d values). For each column p of a
/// 0/1 matrix S (N x ncols; column 0 marks x, the others mark the x side of a random
/// permutation) and the kernel matrix K0 with a zero diagonal:
///   a_p = s_p^T K0 s_p,   c_p = s_p^T K0 1,   t = 1^T K0 1.
/// Every within- and between-sample sum of permutation p follows: xx = a_p,
/// xy = c_p - a_p, yy = t - 2 c_p + a_p. Work O(N^2 (d + ncols) / 2) (symmetry),
/// memory O(N ncols / 8) for the bit masks, O(N min(ncols, 128)) for the 0/1 columns
/// of the current chunk of 128, plus O(64 (d + ncols)) per thread.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace driftcore {

/// @brief Kernel family: Gaussian exp(-|u-v|^2 / (2 s^2)) or Laplacian exp(-|u-v| / s).
enum class mmd_kernel : std::uint8_t { rbf = 0, laplacian = 1 };

/// @brief A kernel with one or more bandwidths; several bandwidths mean the average
/// of the kernels (so k(u, u) = 1 always).
struct mmd_kernel_spec {
  mmd_kernel kind = mmd_kernel::rbf;
  std::vector<double> bandwidths;  ///< all > 0 and finite
};

/// @brief The sums a_p, c_p (one per column of S) and t described in the file comment.
struct mmd_sums {
  std::vector<double> a, c;
  double t = 0.0;
};

/// @brief Words of 64 bits per row of a permutation mask matrix with @p ncols columns.
inline std::size_t mmd_mask_words(std::size_t ncols) noexcept {
  return (ncols + 63) / 64;
}

/// @brief Fill @p masks (N x mmd_mask_words(P + 1) words, row-major by point) with the
/// x-side indicator of the identity (column 0) and of P random splits of the N = n + m
/// points into n and m. Split p marks the n points with the smallest counter-based keys
/// hash(seed, p, i) (ties by index): the same seed gives the same splits on any
/// machine, thread count or device.
void mmd_permutation_masks(std::size_t n, std::size_t m, std::size_t permutations,
                           std::uint64_t seed, std::uint64_t* masks, int threads);

/// @brief a, c and t for the pooled float64 sample @p z (N x d, row-major) and the
/// @p ncols mask columns in @p masks (N x mmd_mask_words(ncols)). Deterministic: the
/// same result for any thread count (fixed 64-row tiles, partials summed in order).
/// @throws invalid_input on an empty sample, d = 0 or a bad kernel.
mmd_sums mmd_permutation_sums(const double* z, std::size_t N, std::size_t d,
                              const mmd_kernel_spec& kernel, const std::uint64_t* masks,
                              std::size_t ncols, int threads);

/// @brief Exact median and mean of the squared Euclidean distances over the
/// N (N - 1) / 2 pairs i < j of @p z (N x d), selected from streamed distances with
/// memory O(bracket), never O(N^2).
/// The median of an even count is the mean of the two middle values (as numpy).
/// One pass counts and keeps the distances inside a bracket taken from a fixed sample
/// of pairs; @p histogram_only forces the two-pass histogram method (the fallback when
/// the bracket misses), for tests.
/// @throws invalid_input when N < 2 or N > 65536.
struct mmd_distance_summary {
  double median_sq = 0.0, mean_sq = 0.0;
};
mmd_distance_summary mmd_median_sq_distance(const double* z, std::size_t N, std::size_t d,
                                            int threads, bool histogram_only = false);

/// @brief GPU twin of mmd_permutation_sums on device-resident float32 @p z (N x d),
/// enqueued on @p stream (cudaStream_t as an integer). Host @p masks are uploaded.
/// Distances and kernel values are float32, every sum of them float64. Any number of
/// columns (launches of 1,024 columns, each recomputing the kernel values).
/// @throws std::runtime_error on a CUDA error or a build without CUDA.
mmd_sums mmd_permutation_sums_device(const float* z, std::size_t N, std::size_t d,
                                     const mmd_kernel_spec& kernel, const std::uint64_t* masks,
                                     std::size_t ncols, std::uintptr_t stream);

/// @brief mmd_permutation_sums_device's arithmetic replayed on the CPU for tests: the
/// kernel's float32 and float64 operations in its order, for @p grid blocks (host expf
/// and sqrtf). The device's precision is tested against mmd_permutation_sums with it.
/// @throws invalid_input as mmd_permutation_sums_device, or when grid = 0.
mmd_sums mmd_permutation_sums_replay(const float* z, std::size_t N, std::size_t d,
                                     const mmd_kernel_spec& kernel, const std::uint64_t* masks,
                                     std::size_t ncols, std::size_t grid);

}  // namespace driftcore
