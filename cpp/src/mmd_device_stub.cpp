// Compiled instead of cpp/cuda/mmd.cu when no CUDA compiler was found.
#include <stdexcept>

#include "driftcore/mmd.hpp"

namespace driftcore {

mmd_sums gpu_mmd_permutation_sums(const float*, std::size_t, std::size_t, const mmd_kernel_spec&,
                                  const std::uint64_t*, std::size_t, std::uintptr_t) {
  throw std::runtime_error(
      "driftcore was built without CUDA; reinstall with nvcc on PATH "
      "(DRIFTCORE_CUDA=ON pip install driftcore) to use the GPU");
}

}  // namespace driftcore
