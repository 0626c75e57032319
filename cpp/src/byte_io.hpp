#pragma once
// Little-endian POD writer/reader for state payloads. The reader checks every length
// against what is left, so a truncated or corrupted payload throws instead of reading
// past the end.
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "driftcore/common.hpp"

namespace driftcore::detail {

class byte_writer {
 public:
  template <class T>
  void put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    const char* p = reinterpret_cast<const char*>(&v);
    out_.append(p, sizeof(T));
  }
  template <class T>
  void put_vector(const std::vector<T>& v) {
    put<std::uint64_t>(v.size());
    if (!v.empty()) out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class byte_reader {
 public:
  explicit byte_reader(const std::string& s) : p_(s.data()), left_(s.size()) {}
  template <class T>
  T get(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, p_, sizeof(T));
    p_ += sizeof(T);
    left_ -= sizeof(T);
    return v;
  }
  template <class T>
  std::vector<T> get_vector(const char* what, std::uint64_t expected = UINT64_MAX) {
    auto n = get<std::uint64_t>(what);
    if (expected != UINT64_MAX && n != expected)
      throw invalid_input(std::string("corrupted payload: ") + what + " has " + std::to_string(n) +
                          " entries, expected " + std::to_string(expected));
    if (n > left_ / sizeof(T)) need(SIZE_MAX, what);
    std::vector<T> v(n);
    if (n) std::memcpy(v.data(), p_, n * sizeof(T));
    p_ += n * sizeof(T);
    left_ -= n * sizeof(T);
    return v;
  }
  void finish() const {
    if (left_ != 0)
      throw invalid_input("corrupted payload: " + std::to_string(left_) +
                          " unexpected trailing bytes");
  }

 private:
  void need(std::size_t n, const char* what) const {
    if (n > left_) throw invalid_input(std::string("truncated payload while reading ") + what);
  }
  const char* p_;
  std::size_t left_;
};

}  // namespace driftcore::detail
