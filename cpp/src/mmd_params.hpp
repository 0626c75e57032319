#pragma once
// An MMD kernel's scales as the GPU kernel (cuda/mmd.cu) and its CPU replay
// (mmd_device_replay.cpp) read them: float32 reciprocals of the bandwidths.
#include <cmath>

#include "driftcore/common.hpp"
#include "driftcore/mmd.hpp"

namespace driftcore::detail {

constexpr int kMmdMaxScales = 8;

struct mmd_params {
  int kind;  // 0 rbf, 1 laplacian
  int nscales;
  float scales[kMmdMaxScales];  // 1 / (2 s^2) (rbf) or 1 / s (laplacian)
};

/// @throws invalid_input unless there are 1 to 8 positive, finite bandwidths.
inline mmd_params mmd_device_params(const mmd_kernel_spec& kernel) {
  if (kernel.bandwidths.empty() || kernel.bandwidths.size() > kMmdMaxScales)
    throw invalid_input("mmd on the GPU: 1 to 8 bandwidths");
  mmd_params kp{};
  kp.kind = kernel.kind == mmd_kernel::rbf ? 0 : 1;
  kp.nscales = static_cast<int>(kernel.bandwidths.size());
  for (int b = 0; b < kp.nscales; ++b) {
    const double s = kernel.bandwidths[b];
    if (!(s > 0.0) || !std::isfinite(s)) throw invalid_input("mmd: bandwidth must be positive");
    kp.scales[b] = static_cast<float>(kp.kind == 0 ? 1.0 / (2.0 * s * s) : 1.0 / s);
  }
  return kp;
}

}  // namespace driftcore::detail
