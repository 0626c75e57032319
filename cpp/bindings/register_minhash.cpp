// MinHash signatures and shingle sets. Python has checked dtypes and
// shapes; arrays arrive C-contiguous (forcecast copies only what Python already vetted).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <tuple>

#include "arrays.hpp"
#include "driftcore/minhash.hpp"
#include "interrupt.hpp"

namespace py = pybind11;
using namespace driftcore;
using namespace driftcore::bind;

namespace {

template <class T>
using carray = in_array<T>;

minhash_spec make_spec(int unit, std::uint32_t n, bool fold, std::uint32_t num_perm,
                       std::uint64_t seed, bool lower = false) {
  if (unit < 0 || unit > 2) throw invalid_input("unknown shingle unit");
  minhash_spec s{static_cast<shingle_unit>(unit), n, fold, lower, num_perm, seed};
  check_spec(s);
  return s;
}

text_view make_text(const carray<std::uint8_t>& data, const carray<std::int64_t>& offsets) {
  if (offsets.ndim() != 1 || offsets.size() < 1)
    throw invalid_input("offsets must be 1-D and non-empty");
  return text_view{data.data(), offsets.data(), static_cast<std::size_t>(offsets.size() - 1),
                   static_cast<std::size_t>(data.size())};
}

token_view make_tokens(const py::array& ids, const carray<std::int64_t>& offsets) {
  if (offsets.ndim() != 1 || offsets.size() < 1)
    throw invalid_input("offsets must be 1-D and non-empty");
  return token_view{host_view(ids), offsets.data(), static_cast<std::size_t>(offsets.size() - 1)};
}

// Worth a helper thread (and Ctrl-C) by documents or by bytes: one document can be
// gigabytes long.
bool long_input(const text_view& d) {
  return d.n_docs >= 256 || d.n_bytes >= (1u << 20);
}
bool long_input(const token_view& d) {
  return d.n_docs >= 256 || d.ids.size >= (1u << 17);
}

// (signatures n_docs x num_perm, shingle counts) from `kernel(docs, spec, sig, counts,
// threads)`, run without the GIL.
template <class Docs, class Kernel>
py::tuple signatures_out(const Docs& docs, const minhash_spec& s, int threads, Kernel kernel) {
  py::array_t<std::uint32_t> sig(
      {static_cast<py::ssize_t>(docs.n_docs), static_cast<py::ssize_t>(s.num_perm)});
  py::array_t<std::uint64_t> counts(static_cast<py::ssize_t>(docs.n_docs));
  std::uint32_t* sp = sig.mutable_data();
  std::uint64_t* cp = counts.mutable_data();
  run_interruptible([&] { kernel(docs, s, sp, cp, threads); }, long_input(docs));
  return py::make_tuple(sig, counts);
}

// Shingle sets of `docs`, computed without the GIL and interruptible when long.
template <class Docs, class Kernel>
py::tuple sets_out(const Docs& docs, const minhash_spec& s, int threads, Kernel kernel) {
  shingle_sets out = run_interruptible([&] { return kernel(docs, s, threads); }, long_input(docs));
  return py::make_tuple(to_numpy(out.hashes), to_numpy(out.offsets));
}

}  // namespace

void register_minhash(py::module_& m) {
  m.def(
      "minhash_text",
      [](const carray<std::uint8_t>& data, const carray<std::int64_t>& offsets, int unit,
         std::uint32_t n, bool fold, bool lower, std::uint32_t num_perm, std::uint64_t seed,
         int threads) {
        const minhash_spec s = make_spec(unit, n, fold, num_perm, seed, lower);
        return signatures_out(make_text(data, offsets), s, threads,
                              [](const auto&... a) { minhash_text(a...); });
      },
      py::arg("data"), py::arg("offsets"), py::arg("unit"), py::arg("n"),
      py::arg("fold_punctuation"), py::arg("lowercase_ascii"), py::arg("num_perm"), py::arg("seed"),
      py::arg("threads") = 0);
  m.def(
      "minhash_tokens",
      [](const py::array& ids, const carray<std::int64_t>& offsets, std::uint32_t n,
         std::uint32_t num_perm, std::uint64_t seed, int threads) {
        const minhash_spec s = make_spec(2, n, false, num_perm, seed);
        return signatures_out(make_tokens(ids, offsets), s, threads,
                              [](const auto&... a) { minhash_tokens(a...); });
      },
      py::arg("ids"), py::arg("offsets"), py::arg("n"), py::arg("num_perm"), py::arg("seed"),
      py::arg("threads") = 0);
  m.def(
      "text_shingle_sets",
      [](const carray<std::uint8_t>& data, const carray<std::int64_t>& offsets, int unit,
         std::uint32_t n, bool fold, bool lower, int threads) {
        const minhash_spec s = make_spec(unit, n, fold, 16, 0, lower);
        return sets_out(make_text(data, offsets), s, threads,
                        [](const auto&... a) { return text_shingle_sets(a...); });
      },
      py::arg("data"), py::arg("offsets"), py::arg("unit"), py::arg("n"),
      py::arg("fold_punctuation"), py::arg("lowercase_ascii"), py::arg("threads") = 0);
  m.def(
      "token_shingle_sets",
      [](const py::array& ids, const carray<std::int64_t>& offsets, std::uint32_t n, int threads) {
        const minhash_spec s = make_spec(2, n, false, 16, 0);
        return sets_out(make_tokens(ids, offsets), s, threads,
                        [](const auto&... a) { return token_shingle_sets(a...); });
      },
      py::arg("ids"), py::arg("offsets"), py::arg("n"), py::arg("threads") = 0);
  m.def(
      "minhash_text_device",
      [](std::uintptr_t bytes, std::uintptr_t offsets, std::size_t n_docs, int unit,
         std::uint32_t n, bool fold, bool lower, std::uint32_t num_perm, std::uint64_t seed,
         std::uintptr_t out, std::uintptr_t stream) {
        const minhash_spec s = make_spec(unit, n, fold, num_perm, seed, lower);
        py::gil_scoped_release release;
        minhash_text_device(reinterpret_cast<const std::uint8_t*>(bytes),
                            reinterpret_cast<const std::int64_t*>(offsets), n_docs, s,
                            reinterpret_cast<std::uint32_t*>(out), stream);
      },
      py::arg("bytes"), py::arg("offsets"), py::arg("n_docs"), py::arg("unit"), py::arg("n"),
      py::arg("fold_punctuation"), py::arg("lowercase_ascii"), py::arg("num_perm"), py::arg("seed"),
      py::arg("out"), py::arg("stream"));
  m.def(
      "minhash_tokens_device",
      [](std::uintptr_t ids, std::uintptr_t offsets, std::size_t n_docs, std::uint32_t n,
         std::uint32_t num_perm, std::uint64_t seed, std::uintptr_t out, std::uintptr_t stream) {
        const minhash_spec s = make_spec(2, n, false, num_perm, seed);
        py::gil_scoped_release release;
        minhash_tokens_device(reinterpret_cast<const std::int64_t*>(ids),
                              reinterpret_cast<const std::int64_t*>(offsets), n_docs, s,
                              reinterpret_cast<std::uint32_t*>(out), stream);
      },
      py::arg("ids"), py::arg("offsets"), py::arg("n_docs"), py::arg("n"), py::arg("num_perm"),
      py::arg("seed"), py::arg("out"), py::arg("stream"));
  m.def(
      "non_ascii_documents",
      [](const carray<std::uint8_t>& data, const carray<std::int64_t>& offsets, int threads) {
        const text_view docs = make_text(data, offsets);
        py::array_t<std::uint8_t> out(static_cast<py::ssize_t>(docs.n_docs));
        auto* o = out.mutable_data();
        {
          py::gil_scoped_release release;
          non_ascii_documents(docs, o, threads);
        }
        return out;
      },
      py::arg("data"), py::arg("offsets"), py::arg("threads") = 0);
  m.def(
      "minhash_text_lanes",
      [](const carray<std::uint8_t>& data, const carray<std::int64_t>& offsets, int unit,
         std::uint32_t n, bool fold, bool lower, std::uint32_t num_perm, std::uint64_t seed) {
        const minhash_spec s = make_spec(unit, n, fold, num_perm, seed, lower);
        const text_view docs = make_text(data, offsets);
        py::array_t<std::uint32_t> sig(
            {static_cast<py::ssize_t>(docs.n_docs), static_cast<py::ssize_t>(num_perm)});
        auto* sp = sig.mutable_data();
        {
          py::gil_scoped_release release;
          minhash_text_lanes(docs, s, sp);
        }
        return sig;
      },
      py::arg("data"), py::arg("offsets"), py::arg("unit"), py::arg("n"),
      py::arg("fold_punctuation"), py::arg("lowercase_ascii"), py::arg("num_perm"), py::arg("seed"),
      "The GPU kernel's algorithm one lane at a time on the CPU (for tests).");
  m.def(
      "perm_params",
      [](std::uint32_t num_perm, std::uint64_t seed) {
        const minhash_spec s = make_spec(0, 1, true, num_perm, seed);
        std::vector<std::uint32_t> a(num_perm), b(num_perm);
        perm_params(s, a.data(), b.data());
        return py::make_tuple(to_numpy(a), to_numpy(b));
      },
      py::arg("num_perm"), py::arg("seed"));
}
