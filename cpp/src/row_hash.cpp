#include "driftcore/row_hash.hpp"

#include "host_device.hpp"

namespace driftcore {

namespace {
constexpr std::uint64_t golden = 0x9E3779B97F4A7C15ull;
}  // namespace

void row_hash_mix(std::uint64_t* h, const std::uint64_t* bits, std::size_t n,
                  std::uint64_t column_index) noexcept {
  const std::uint64_t offset = (column_index + 1) * golden;
  for (std::size_t i = 0; i < n; ++i)
    h[i] = (h[i] ^ detail::murmur_mix(bits[i] + offset)) * golden;
}

void row_hash_finish(std::uint64_t* h, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) h[i] = detail::murmur_mix(h[i]);
}

}  // namespace driftcore
