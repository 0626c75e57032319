#pragma once
/// @file device.hpp
/// @brief The CUDA side of the engine, callable without CUDA headers. When driftcore
/// is built without CUDA these exist and say so (cuda_compiled() is false, kernels
/// throw).

#include <cstdint>
#include <string>

#include "driftcore/common.hpp"
#include "driftcore/histogram.hpp"

namespace driftcore {

/// @brief True when the CUDA kernels were compiled into this build.
bool cuda_compiled() noexcept;

/// @brief Number of usable CUDA devices (0 without a driver or a device).
int cuda_device_count() noexcept;

/// @brief CUDA toolkit version and architectures of this build ("" without CUDA).
std::string cuda_build_summary();

/// @brief Histogram of device-resident @p values (and @p weights when not null) with the
/// binning of @p h, enqueued on @p stream (a cudaStream_t as an integer; 0 = legacy
/// default). Slot counts are written to the host arrays (nbins + 3 entries each;
/// @p wslots may be null when unweighted). Counts equal the CPU kernel's exactly.
/// @throws std::runtime_error on a CUDA error or a build without CUDA.
void gpu_histogram(const histogram& h, const array_view& values, const array_view* weights,
                   std::uintptr_t stream, std::uint64_t* slots, double* wslots);

}  // namespace driftcore
