#include "driftcore/common.hpp"

#include <atomic>

namespace driftcore {

namespace {
std::atomic<bool> simd{true};
}

bool simd_allowed() noexcept { return simd.load(std::memory_order_relaxed); }
void set_simd(bool allowed) noexcept { simd.store(allowed, std::memory_order_relaxed); }

std::size_t dtype_size(dtype t) noexcept {
  switch (t) {
    case dtype::i8: case dtype::u8: return 1;
    case dtype::i16: case dtype::u16: return 2;
    case dtype::f32: case dtype::i32: case dtype::u32: return 4;
    default: return 8;
  }
}

}  // namespace driftcore
