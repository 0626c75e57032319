// MinHash signatures, shingle sets and the LSH join. Python has checked dtypes and
// shapes; arrays arrive C-contiguous (forcecast copies only what Python already vetted).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <tuple>

#include "arrays.hpp"
#include "interrupt.hpp"
#include "driftcore/lsh.hpp"
#include "driftcore/minhash.hpp"

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
bool long_join(std::size_t docs, std::uint32_t bands) { return docs * bands >= kLongJoin; }

minhash_spec make_spec(int unit, std::uint32_t n, bool fold, std::uint32_t num_perm,
                       std::uint64_t seed, bool lower = false) {
  if (unit < 0 || unit > 2) throw invalid_input("unknown shingle unit");
  minhash_spec s{static_cast<shingle_unit>(unit), n, fold, lower, num_perm, seed};
  check_spec(s);
  return s;
}

text_view make_text(const carray<std::uint8_t>& data, const carray<std::int64_t>& offsets) {
  if (offsets.ndim() != 1 || offsets.size() < 1) throw invalid_input("offsets must be 1-D and non-empty");
  return text_view{data.data(), offsets.data(), static_cast<std::size_t>(offsets.size() - 1),
                   static_cast<std::size_t>(data.size())};
}

token_view make_tokens(const py::array& ids, const carray<std::int64_t>& offsets) {
  if (offsets.ndim() != 1 || offsets.size() < 1) throw invalid_input("offsets must be 1-D and non-empty");
  return token_view{host_view(ids), offsets.data(), static_cast<std::size_t>(offsets.size() - 1)};
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

// Worth a helper thread (and Ctrl-C) by documents or by bytes: one document can be
// gigabytes long.
bool long_input(const text_view& d) { return d.n_docs >= 256 || d.n_bytes >= (1u << 20); }
bool long_input(const token_view& d) { return d.n_docs >= 256 || d.ids.size >= (1u << 17); }

// (signatures n_docs x num_perm, shingle counts) from `kernel(docs, spec, sig, counts,
// threads)`, run without the GIL.
template <class Docs, class Kernel>
py::tuple signatures_out(const Docs& docs, const minhash_spec& s, int threads, Kernel kernel) {
  py::array_t<std::uint32_t> sig({static_cast<py::ssize_t>(docs.n_docs), static_cast<py::ssize_t>(s.num_perm)});
  py::array_t<std::uint64_t> counts(static_cast<py::ssize_t>(docs.n_docs));
  std::uint32_t* sp = sig.mutable_data();
  std::uint64_t* cp = counts.mutable_data();
  run_interruptible([&] { kernel(docs, s, sp, cp, threads); }, long_input(docs));
  return py::make_tuple(sig, counts);
}

// Shingle sets of `docs`, computed without the GIL and interruptible when long.
template <class Docs, class Kernel>
py::tuple sets_out(const Docs& docs, const minhash_spec& s, int threads, Kernel kernel) {
  shingle_sets out =
      run_interruptible([&] { return kernel(docs, s, threads); }, long_input(docs));
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
      py::arg("data"), py::arg("offsets"), py::arg("unit"), py::arg("n"), py::arg("fold_punctuation"),
      py::arg("lowercase_ascii"), py::arg("num_perm"), py::arg("seed"), py::arg("threads") = 0);
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
      py::arg("data"), py::arg("offsets"), py::arg("unit"), py::arg("n"), py::arg("fold_punctuation"),
      py::arg("lowercase_ascii"), py::arg("threads") = 0);
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
      [](std::uintptr_t bytes, std::uintptr_t offsets, std::size_t n_docs, int unit, std::uint32_t n,
         bool fold, bool lower, std::uint32_t num_perm, std::uint64_t seed, std::uintptr_t out,
         std::uintptr_t stream) {
        const minhash_spec s = make_spec(unit, n, fold, num_perm, seed, lower);
        py::gil_scoped_release release;
        gpu_minhash_text(reinterpret_cast<const std::uint8_t*>(bytes),
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
        gpu_minhash_tokens(reinterpret_cast<const std::int64_t*>(ids),
                           reinterpret_cast<const std::int64_t*>(offsets), n_docs, s,
                           reinterpret_cast<std::uint32_t*>(out), stream);
      },
      py::arg("ids"), py::arg("offsets"), py::arg("n_docs"), py::arg("n"), py::arg("num_perm"),
      py::arg("seed"), py::arg("out"), py::arg("stream"));
  m.def(
      "band_keys_device",
      [](std::uintptr_t sig, std::size_t n_docs, std::uint32_t num_perm, std::uint32_t bands,
         std::uint32_t rows, std::uintptr_t out, std::uintptr_t stream) {
        py::gil_scoped_release release;
        gpu_band_keys(reinterpret_cast<const std::uint32_t*>(sig), n_docs, num_perm, bands, rows,
                      reinterpret_cast<std::uint64_t*>(out), stream);
      },
      py::arg("signatures"), py::arg("n_docs"), py::arg("num_perm"), py::arg("bands"),
      py::arg("rows"), py::arg("out"), py::arg("stream"));
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
        py::array_t<std::uint32_t> sig({static_cast<py::ssize_t>(docs.n_docs),
                                        static_cast<py::ssize_t>(num_perm)});
        auto* sp = sig.mutable_data();
        {
          py::gil_scoped_release release;
          minhash_text_lanes(docs, s, sp);
        }
        return sig;
      },
      py::arg("data"), py::arg("offsets"), py::arg("unit"), py::arg("n"), py::arg("fold_punctuation"),
      py::arg("lowercase_ascii"), py::arg("num_perm"), py::arg("seed"),
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
  m.def(
      "band_keys",
      [](const carray<std::uint32_t>& sig, std::uint32_t bands, std::uint32_t rows, int threads) {
        if (sig.ndim() != 2) throw invalid_input("signatures must be 2-D");
        const auto n = static_cast<std::size_t>(sig.shape(0));
        const auto k = static_cast<std::uint32_t>(sig.shape(1));
        py::array_t<std::uint64_t> keys({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(bands)});
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
      [](const carray<std::uint64_t>& keys, const carray<std::uint8_t>& valid, std::size_t max_pairs,
         int threads) {
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
                                  static_cast<std::uint32_t>(a.shape(1)), left.data(),
                                  right.data(), n, out, threads);
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
