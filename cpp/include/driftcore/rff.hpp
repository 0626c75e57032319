#pragma once
/// @file rff.hpp
/// @brief Random Fourier features for streaming MMD: sums over rows of cos(w_f . x) and
/// sin(w_f . x), the mergeable mean embedding of a sample.

#include <cstddef>
#include <cstdint>

namespace driftcore {

/// @brief Add sum_rows cos(x_r . w_f) to @p cos_sum[f] and sum_rows sin(x_r . w_f) to
/// @p sin_sum[f] for the @p n rows of @p x (n x d, row-major) and the frequency matrix
/// @p w (d x F, row-major). float64 throughout (projections, a vectorized sincos
/// accurate to ~1e-16 for |angle| < 1e6, sums). Rows are split in blocks whose size
/// depends only on n, partial sums added in block order: the result does not depend
/// on the thread count.
/// @throws invalid_input when d or F is 0.
void rff_accumulate(const double* x, std::size_t n, std::size_t d, const double* w, std::size_t F,
                    double* cos_sum, double* sin_sum, int threads);

/// @brief @p count uniforms in (0, 1), a function of (@p seed, @p stream, i) alone (the
/// random features' frequencies are drawn from them, so a state's seed fixes them on
/// every machine): base = splitmix_mix(seed * G + stream), h_i = splitmix_mix(base +
/// i * 0xD1B54A32D192ED03), u_i = ((h_i >> 11) + 0.5) / 2^53, uint64 arithmetic
/// modulo 2^64, G = 0x9E3779B97F4A7C15, splitmix_mix SplitMix64's finalizer.
void rff_uniforms(std::uint64_t seed, std::uint64_t stream, double* out,
                  std::size_t count) noexcept;

}  // namespace driftcore
