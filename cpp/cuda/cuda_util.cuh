#pragma once
// What the CUDA files share: runtime errors as C++ exceptions (the bindings turn them
// into RuntimeError) and a stream-ordered device allocation freed on scope exit.
#include <cuda_runtime.h>

#include <cstddef>
#include <stdexcept>
#include <string>

namespace driftcore::detail {

// A failed call also leaves the runtime's last error set: it is cleared here, so that
// the next launch's check does not report it a second time, against that launch.
inline void cuda_check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(err));
  }
}

// Before a launch: an error left by earlier work on the device (reported by whoever
// made it) must not be blamed on this launch by the check that follows it.
inline void clear_launch_error() noexcept {
  (void)cudaGetLastError();
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
  T* as() const {
    return static_cast<T*>(p);
  }
};

}  // namespace driftcore::detail
