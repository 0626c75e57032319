// LSH band keys, the candidate-pair joins and the pair checks. Python has checked
// dtypes and shapes; arrays arrive C-contiguous.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "arrays.hpp"
#include "driftcore/lsh.hpp"
#include "interrupt.hpp"

namespace py = pybind11;
using namespace driftcore;
using namespace driftcore::bind;

namespace {

template <class T>
using carray = in_array<T>;

// Documents (or pairs) from which a join runs on a helper thread, so Ctrl-C stops it;
// below this the call takes well under a millisecond and runs inline.
constexpr std::size_t kLongJoin = 1 << 14;

// A join's documents x bands: a few thousand documents in large buckets can still
// produce tens of millions of candidate pairs.
bool long_join(std::size_t docs, std::uint32_t bands) {
  return docs * bands >= kLongJoin;
}

std::size_t rows_of(const py::array& a, std::size_t cols, const char* what) {
  if (a.ndim() != 2 || static_cast<std::size_t>(a.shape(1)) != cols)
    throw invalid_input(std::string(what) + " has the wrong shape");
  return static_cast<std::size_t>(a.shape(0));
}

py::tuple unpack_pairs(const std::vector<std::uint64_t>& pairs) {
  py::array_t<std::int64_t> left(static_cast<py::ssize_t>(pairs.size()));
  py::array_t<std::int64_t> right(static_cast<py::ssize_t>(pairs.size()));
  auto* l = left.mutable_data();
  auto* r = right.mutable_data();
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    l[i] = static_cast<std::int64_t>(pairs[i] >> 32);
    r[i] = static_cast<std::int64_t>(pairs[i] & 0xFFFFFFFFu);
  }
  return py::make_tuple(left, right);
}

}  // namespace

void register_lsh(py::module_& m) {
  m.def(
      "band_keys_device",
      [](std::uintptr_t sig, std::size_t n_docs, std::uint32_t num_perm, std::uint32_t bands,
         std::uint32_t rows, std::uintptr_t out, std::uintptr_t stream) {
        py::gil_scoped_release release;
        band_keys_device(reinterpret_cast<const std::uint32_t*>(sig), n_docs, num_perm, bands, rows,
                         reinterpret_cast<std::uint64_t*>(out), stream);
      },
      py::arg("signatures"), py::arg("n_docs"), py::arg("num_perm"), py::arg("bands"),
      py::arg("rows"), py::arg("out"), py::arg("stream"));
  m.def(
      "band_keys",
      [](const carray<std::uint32_t>& sig, std::uint32_t bands, std::uint32_t rows, int threads) {
        if (sig.ndim() != 2) throw invalid_input("signatures must be 2-D");
        const auto n = static_cast<std::size_t>(sig.shape(0));
        const auto k = static_cast<std::uint32_t>(sig.shape(1));
        py::array_t<std::uint64_t> keys(
            {static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(bands)});
        auto* kp = keys.mutable_data();
        run_interruptible([&] { band_keys(sig.data(), n, k, bands, rows, kp, threads); },
                          n >= kLongJoin);
        return keys;
      },
      py::arg("signatures"), py::arg("bands"), py::arg("rows"), py::arg("threads") = 0);
  m.def(
      "lsh_cross_pairs",
      [](const carray<std::uint64_t>& build, const carray<std::uint8_t>& build_valid,
         const carray<std::uint64_t>& probe, const carray<std::uint8_t>& probe_valid,
         std::size_t max_pairs, int threads) {
        if (build.ndim() != 2) throw invalid_input("band keys must be 2-D");
        const auto bands = static_cast<std::uint32_t>(build.shape(1));
        const std::size_t nb = rows_of(build, bands, "index keys");
        const std::size_t np_ = rows_of(probe, bands, "query keys");
        if (static_cast<std::size_t>(build_valid.size()) != nb ||
            static_cast<std::size_t>(probe_valid.size()) != np_)
          throw invalid_input("validity flags do not match the keys");
        const std::vector<std::uint64_t> pairs = run_interruptible(
            [&] {
              return lsh_cross_pairs(build.data(), build_valid.data(), nb, probe.data(),
                                     probe_valid.data(), np_, bands, max_pairs, threads);
            },
            long_join(nb + np_, bands));
        return unpack_pairs(pairs);
      },
      py::arg("build"), py::arg("build_valid"), py::arg("probe"), py::arg("probe_valid"),
      py::arg("max_pairs"), py::arg("threads") = 0);
  m.def(
      "lsh_self_pairs",
      [](const carray<std::uint64_t>& keys, const carray<std::uint8_t>& valid,
         std::size_t max_pairs, int threads) {
        if (keys.ndim() != 2) throw invalid_input("band keys must be 2-D");
        const auto bands = static_cast<std::uint32_t>(keys.shape(1));
        const std::size_t n = rows_of(keys, bands, "keys");
        if (static_cast<std::size_t>(valid.size()) != n)
          throw invalid_input("validity flags do not match the keys");
        const std::vector<std::uint64_t> pairs = run_interruptible(
            [&] { return lsh_self_pairs(keys.data(), valid.data(), n, bands, max_pairs, threads); },
            long_join(n, bands));
        return unpack_pairs(pairs);
      },
      py::arg("keys"), py::arg("valid"), py::arg("max_pairs"), py::arg("threads") = 0);
  m.def(
      "signature_agreement",
      [](const carray<std::uint32_t>& a, const carray<std::uint32_t>& b,
         const carray<std::int64_t>& left, const carray<std::int64_t>& right, int threads) {
        if (a.ndim() != 2 || b.ndim() != 2 || a.shape(1) != b.shape(1))
          throw invalid_input("signatures must be 2-D with the same num_perm");
        if (left.size() != right.size()) throw invalid_input("left and right differ in length");
        const auto n = static_cast<std::size_t>(left.size());
        py::array_t<std::uint32_t> agree(static_cast<py::ssize_t>(n));
        auto* out = agree.mutable_data();
        run_interruptible(
            [&] {
              signature_agreement(a.data(), static_cast<std::size_t>(a.shape(0)), b.data(),
                                  static_cast<std::size_t>(b.shape(0)),
                                  static_cast<std::uint32_t>(a.shape(1)), left.data(), right.data(),
                                  n, out, threads);
            },
            n >= kLongJoin);
        return agree;
      },
      py::arg("a"), py::arg("b"), py::arg("left"), py::arg("right"), py::arg("threads") = 0);
  m.def(
      "set_intersections",
      [](const carray<std::uint64_t>& a, const carray<std::int64_t>& a_off,
         const carray<std::uint64_t>& b, const carray<std::int64_t>& b_off,
         const carray<std::int64_t>& left, const carray<std::int64_t>& right, int threads) {
        if (left.size() != right.size()) throw invalid_input("left and right differ in length");
        const auto n = static_cast<std::size_t>(left.size());
        py::array_t<std::uint64_t> both(static_cast<py::ssize_t>(n));
        auto* out = both.mutable_data();
        run_interruptible(
            [&] {
              set_intersections(a.data(), a_off.data(), static_cast<std::size_t>(a_off.size() - 1),
                                b.data(), b_off.data(), static_cast<std::size_t>(b_off.size() - 1),
                                left.data(), right.data(), n, out, threads);
            },
            n >= kLongJoin);
        return both;
      },
      py::arg("a"), py::arg("a_offsets"), py::arg("b"), py::arg("b_offsets"), py::arg("left"),
      py::arg("right"), py::arg("threads") = 0);
}
