#pragma once
// What the CUDA files share: runtime errors as C++ exceptions (the bindings turn them
// into RuntimeError) and a stream-ordered device allocation freed on scope exit.
#include <cuda_runtime.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
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

// An attribute of the current device (multiprocessors, shared memory a block...).
inline int device_attribute(cudaDeviceAttr attr) {
  int device = 0, value = 0;
  cuda_check(cudaGetDevice(&device), "cudaGetDevice");
  cuda_check(cudaDeviceGetAttribute(&value, attr, device), "cudaDeviceGetAttribute");
  return value;
}

// The device's default memory pool hands its memory back to the driver at every
// synchronization unless told to keep it, and then every call allocates afresh: keep
// what it has (at most the largest set of scratch buffers one call used). Set once a
// device; later calls cost one cudaGetDevice and one atomic load.
inline void keep_pool_memory() {
  constexpr int kDevices = 64;
  static std::atomic<bool> kept[kDevices];
  static std::mutex m;
  int device = 0;
  cuda_check(cudaGetDevice(&device), "cudaGetDevice");
  const bool tracked = device >= 0 && device < kDevices;
  if (tracked && kept[device].load(std::memory_order_acquire)) return;
  std::lock_guard<std::mutex> lock(m);
  if (tracked && kept[device].load(std::memory_order_relaxed)) return;
  cudaMemPool_t pool;
  if (cudaDeviceGetDefaultMemPool(&pool, device) == cudaSuccess) {
    std::uint64_t keep = UINT64_MAX;
    cuda_check(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep),
               "cudaMemPoolSetAttribute");
  } else {
    (void)cudaGetLastError();  // no pool support: allocations still work, only slower
  }
  if (tracked) kept[device].store(true, std::memory_order_release);
}

struct device_buffer {
  void* p = nullptr;
  cudaStream_t s;
  device_buffer(std::size_t bytes, cudaStream_t stream) : s(stream) {
    if (bytes) {
      keep_pool_memory();
      cuda_check(cudaMallocAsync(&p, bytes, s), "cudaMallocAsync");
    }
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
