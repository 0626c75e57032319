#pragma once
/// @file device.hpp
/// @brief What this build knows of CUDA. The GPU kernels themselves are declared
/// beside their CPU twins (histogram::update_device, minhash_text_device,
/// band_keys_device, mmd_permutation_sums_device); in a build without CUDA they exist
/// and throw, and cuda_compiled() is false.

#include <cstdint>
#include <string>

namespace driftcore {

/// @brief True when the CUDA kernels were compiled into this build.
bool cuda_compiled() noexcept;

/// @brief Number of usable CUDA devices (0 without a driver or a device).
int cuda_device_count() noexcept;

/// @brief CUDA toolkit version and architectures of this build ("" without CUDA).
std::string cuda_build_summary();

/// @brief For tests: kernels whose counters need more shared memory than some cards
/// have (the value grid's scan) take their other path, as on such a card.
void set_small_shared_memory(bool on) noexcept;

/// @brief Whether set_small_shared_memory() is on.
bool small_shared_memory() noexcept;

}  // namespace driftcore
