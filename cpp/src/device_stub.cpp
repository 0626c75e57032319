// Compiled instead of cpp/cuda/*.cu when no CUDA compiler was found.
#include <stdexcept>

#include "driftcore/device.hpp"
#include "driftcore/histogram.hpp"
#include "driftcore/lsh.hpp"
#include "driftcore/minhash.hpp"
#include "driftcore/mmd.hpp"
#include "driftcore/value_grid.hpp"

namespace driftcore {

bool cuda_compiled() noexcept {
  return false;
}
int cuda_device_count() noexcept {
  return 0;
}
std::string cuda_build_summary() {
  return "";
}

void set_small_shared_memory(bool) noexcept {}
bool small_shared_memory() noexcept {
  return false;
}

namespace {
[[noreturn]] void no_cuda() {
  throw std::runtime_error(
      "driftcore was built without CUDA; reinstall with nvcc on PATH "
      "(DRIFTCORE_CUDA=ON pip install driftcore) to use the GPU");
}
}  // namespace

void histogram::update_device(const array_view&, const array_view*, std::uintptr_t) {
  no_cuda();
}

void minhash_text_device(const std::uint8_t*, const std::int64_t*, std::size_t, const minhash_spec&,
                         std::uint32_t*, std::uintptr_t) {
  no_cuda();
}

void minhash_tokens_device(const std::int64_t*, const std::int64_t*, std::size_t,
                           const minhash_spec&, std::uint32_t*, std::uintptr_t) {
  no_cuda();
}

void band_keys_device(const std::uint32_t*, std::size_t, std::uint32_t, std::uint32_t,
                      std::uint32_t, std::uint64_t*, std::uintptr_t) {
  no_cuda();
}

mmd_sums mmd_permutation_sums_device(const float*, std::size_t, std::size_t, const mmd_kernel_spec&,
                                     const std::uint64_t*, std::size_t, std::uintptr_t) {
  no_cuda();
}

value_summary value_grid::update_summarized_device(const array_view&, std::uintptr_t) {
  no_cuda();
}

}  // namespace driftcore
