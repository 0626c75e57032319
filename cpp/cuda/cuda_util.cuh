#pragma once
// What the CUDA files share: runtime errors as C++ exceptions (the bindings turn them
// into RuntimeError) and a stream-ordered device allocation freed on scope exit.
#include <cuda_runtime.h>

#include <cstddef>
#include <stdexcept>
#include <string>

namespace driftcore::detail {

inline void cuda_check(cudaError_t err, const char* what) {
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(err));
}

struct device_buffer {
  void* p = nullptr;
  cudaStream_t s;
  device_buffer(std::size_t bytes, cudaStream_t stream) : s(stream) {
    if (bytes) cuda_check(cudaMallocAsync(&p, bytes, s), "cudaMallocAsync");
  }
  ~device_buffer() {
    if (p) cudaFreeAsync(p, s);
  }
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;
  template <class T>
  T* as() const { return static_cast<T*>(p); }
};

}  // namespace driftcore::detail
