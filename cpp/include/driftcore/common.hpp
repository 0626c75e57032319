#pragma once
/// @file common.hpp
/// @brief Element types and the view of a caller's buffer that every kernel takes.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace driftcore {

/// @brief 2^64 / golden ratio, odd: SplitMix64's increment and the multiplier of every
/// 64-bit mix in driftcore (multiplying by an odd constant is a bijection mod 2^64).
constexpr std::uint64_t kGoldenGamma = 0x9E3779B97F4A7C15ull;

/// @brief Element type of an input buffer (numpy's typestr kinds we accept).
enum class dtype : std::uint8_t { f32, f64, i8, i16, i32, i64, u8, u16, u32, u64 };

/// @brief Size in bytes of one element of @p t.
std::size_t dtype_size(dtype t) noexcept;

/// @brief A read-only, contiguous buffer owned by the caller (host or device memory).
struct array_view {
  const void* data = nullptr;
  std::size_t size = 0;  ///< number of elements
  dtype type = dtype::f64;
};

/// @brief Raised when the caller's input is unusable; bindings map it to ValueError.
struct invalid_input : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/// @brief Call @p f with a typed pointer to the view's data.
template <class F>
decltype(auto) visit_dtype(const array_view& v, F&& f) {
  switch (v.type) {
    case dtype::f32:
      return f(static_cast<const float*>(v.data));
    case dtype::f64:
      return f(static_cast<const double*>(v.data));
    case dtype::i8:
      return f(static_cast<const std::int8_t*>(v.data));
    case dtype::i16:
      return f(static_cast<const std::int16_t*>(v.data));
    case dtype::i32:
      return f(static_cast<const std::int32_t*>(v.data));
    case dtype::i64:
      return f(static_cast<const std::int64_t*>(v.data));
    case dtype::u8:
      return f(static_cast<const std::uint8_t*>(v.data));
    case dtype::u16:
      return f(static_cast<const std::uint16_t*>(v.data));
    case dtype::u32:
      return f(static_cast<const std::uint32_t*>(v.data));
    case dtype::u64:
      return f(static_cast<const std::uint64_t*>(v.data));
  }
  throw invalid_input("unknown dtype");
}

/// @brief Allow (the default) or forbid the AVX-512 paths where the CPU has them. Each
/// gives the same bits as the portable code; tests switch them off to check that.
void set_simd(bool allowed) noexcept;

}  // namespace driftcore
