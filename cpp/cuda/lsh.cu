// LSH band keys on the GPU: one thread per (document, band), the same key function
// as the CPU (shingle_hash.hpp).
#include <cuda_runtime.h>

#include "../src/shingle_hash.hpp"
#include "cuda_util.cuh"
#include "driftcore/common.hpp"
#include "driftcore/lsh.hpp"

namespace driftcore {
namespace {

using detail::cuda_check;
constexpr int kThreads = 256;

__global__ void band_key_kernel(const std::uint32_t* __restrict__ sig, std::size_t n_docs,
                                std::uint32_t num_perm, std::uint32_t bands, std::uint32_t rows,
                                std::uint64_t* __restrict__ keys) {
  const std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n_docs * bands) return;
  const std::size_t doc = i / bands;
  keys[i] = detail::band_key(sig + doc * num_perm, static_cast<std::uint32_t>(i % bands), rows);
}

}  // namespace

void band_keys_device(const std::uint32_t* signatures, std::size_t n_docs, std::uint32_t num_perm,
                      std::uint32_t bands, std::uint32_t rows, std::uint64_t* keys,
                      std::uintptr_t stream) {
  if (bands == 0 || rows == 0 || static_cast<std::uint64_t>(bands) * rows > num_perm)
    throw invalid_input("bands x rows must be between 1 and num_perm");
  if (n_docs == 0) return;
  auto s = reinterpret_cast<cudaStream_t>(stream);
  const std::size_t total = n_docs * bands;
  detail::clear_launch_error();
  band_key_kernel<<<static_cast<unsigned>((total + kThreads - 1) / kThreads), kThreads, 0, s>>>(
      signatures, n_docs, num_perm, bands, rows, keys);
  cuda_check(cudaGetLastError(), "band key kernel launch");
  cuda_check(cudaStreamSynchronize(s), "band key kernel");  // a fault reported here
}

}  // namespace driftcore
