// Compiled instead of cpp/cuda/*.cu when no CUDA compiler was found.
#include <stdexcept>

#include "driftcore/device.hpp"

namespace driftcore {

bool cuda_compiled() noexcept { return false; }
int cuda_device_count() noexcept { return 0; }
std::string cuda_build_summary() { return ""; }

void gpu_histogram(const histogram&, const array_view&, const array_view*, std::uintptr_t,
                   std::uint64_t*, double*) {
  throw std::runtime_error(
      "driftcore was built without CUDA; reinstall with nvcc on PATH "
      "(DRIFTCORE_CUDA=ON pip install driftcore) to use the GPU");
}

}  // namespace driftcore
