// CUDA device discovery. The runtime is linked statically, so these calls fail
// gracefully (no device) on machines without a driver.
#include <cuda_runtime.h>

#include <atomic>

#include "build_config.hpp"
#include "driftcore/device.hpp"

namespace driftcore {

bool cuda_compiled() noexcept {
  return true;
}

int cuda_device_count() noexcept {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return n;
}

std::string cuda_build_summary() {
  return std::string("CUDA ") + DRIFTCORE_CUDA_VERSION + ", architectures " + DRIFTCORE_CUDA_ARCHS;
}

namespace {
std::atomic<bool> small_shared{false};
}  // namespace

void set_small_shared_memory(bool on) noexcept {
  small_shared.store(on);
}

bool small_shared_memory() noexcept {
  return small_shared.load();
}

}  // namespace driftcore
