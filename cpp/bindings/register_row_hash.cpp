#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "arrays.hpp"
#include "driftcore/common.hpp"
#include "driftcore/row_hash.hpp"

namespace py = pybind11;
using namespace driftcore;

namespace {

// No forcecast: the hashes are updated in place and the bits are already uint64, so
// any other dtype is a caller's mistake, refused rather than silently cast.
using u64_arr = py::array_t<std::uint64_t, py::array::c_style | bind::aligned>;

std::uint64_t* writable(u64_arr& h) {
  if (h.ndim() != 1) throw invalid_input("row hashes must be a 1-D uint64 array");
  if (!h.writeable()) throw invalid_input("row hashes must be writable");
  return h.mutable_data();
}

}  // namespace

void register_row_hash(py::module_& m) {
  m.attr("GOLDEN_GAMMA") = py::int_(kGoldenGamma);
  m.def(
      "row_hash_mix",
      [](u64_arr h, const u64_arr& bits, std::uint64_t column_index) {
        std::uint64_t* ph = writable(h);
        if (bits.ndim() != 1 || bits.size() != h.size())
          throw invalid_input("row_hash_mix: bits must be 1-D, one per row hash (" +
                              std::to_string(h.size()) + ")");
        const std::uint64_t* pb = bits.data();
        const auto n = static_cast<std::size_t>(h.size());
        // Safe without the GIL: plain buffers owned by arrays this frame keeps alive.
        py::gil_scoped_release release;
        row_hash_mix(ph, pb, n, column_index);
      },
      py::arg("h").noconvert(), py::arg("bits").noconvert(), py::arg("column_index"),
      "h = (h ^ fmix64(bits + (column_index + 1) * G)) * G in place (uint64 arrays).");
  m.def(
      "row_hash_mix_values",
      [](u64_arr h, const py::array& values, std::uint64_t column_index, std::uint64_t nan_bits) {
        std::uint64_t* ph = writable(h);
        const array_view v = bind::host_view(values);
        if (v.size != static_cast<std::size_t>(h.size()))
          throw invalid_input("row_hash_mix_values: values must be 1-D, one per row hash (" +
                              std::to_string(h.size()) + ")");
        py::gil_scoped_release release;
        row_hash_mix_values(ph, v, column_index, nan_bits);
      },
      py::arg("h").noconvert(), py::arg("values"), py::arg("column_index"), py::arg("nan_bits"),
      "row_hash_mix of a numeric column's canonical bits (double(v) + 0.0; nan_bits for NaN).");
  m.def(
      "row_hash_mix_codes",
      [](u64_arr h, const u64_arr& dict_bits, const py::array& codes, std::uint64_t column_index) {
        std::uint64_t* ph = writable(h);
        if (dict_bits.ndim() != 1) throw invalid_input("row_hash_mix_codes: dict_bits must be 1-D");
        const array_view c = bind::host_view(codes);
        if (c.size != static_cast<std::size_t>(h.size()))
          throw invalid_input("row_hash_mix_codes: codes must be 1-D, one per row hash (" +
                              std::to_string(h.size()) + ")");
        const std::uint64_t* pd = dict_bits.data();
        const auto nd = static_cast<std::size_t>(dict_bits.size());
        py::gil_scoped_release release;
        row_hash_mix_codes(ph, pd, nd, c, column_index);
      },
      py::arg("h").noconvert(), py::arg("dict_bits").noconvert(), py::arg("codes"),
      py::arg("column_index"),
      "row_hash_mix of a dictionary-coded column: entry i's bits are dict_bits[codes[i]].");
  m.def(
      "row_hash_finish",
      [](u64_arr h) {
        std::uint64_t* ph = writable(h);
        const auto n = static_cast<std::size_t>(h.size());
        py::gil_scoped_release release;
        row_hash_finish(ph, n);
      },
      py::arg("h").noconvert(), "h = fmix64(h) in place (a uint64 array).");
  m.def(
      "hash_bucket_starts",
      [](const u64_arr& set) {
        if (set.ndim() != 1)
          throw invalid_input("hash_bucket_starts: set must be a 1-D uint64 array");
        const std::uint64_t* ps = set.data();
        const auto n = static_cast<std::size_t>(set.size());
        for (std::size_t i = 1; i < n; ++i)
          if (ps[i] <= ps[i - 1])
            throw invalid_input("hash_bucket_starts: set must be strictly ascending");
        const int bits = hash_bucket_bits(n);
        py::array_t<std::uint64_t> starts((py::ssize_t(1) << bits) + 1);
        std::uint64_t* out = starts.mutable_data();
        {
          py::gil_scoped_release release;
          hash_bucket_starts(ps, n, bits, out);
        }
        return starts;
      },
      py::arg("set").noconvert(),
      "The bucket index of a strictly ascending uint64 array, for sorted_member.");
  m.def(
      "sorted_member",
      [](const u64_arr& values, const u64_arr& set, const u64_arr& starts) {
        if (values.ndim() != 1 || set.ndim() != 1 || starts.ndim() != 1)
          throw invalid_input("sorted_member: values, set and starts must be 1-D uint64 arrays");
        const auto buckets = static_cast<std::size_t>(starts.size()) - 1;
        if (starts.size() < 2 || (buckets & (buckets - 1)) != 0)
          throw invalid_input(
              "sorted_member: starts must hold 2^bits + 1 values (hash_bucket_starts)");
        int bits = 0;
        while ((std::size_t(1) << bits) < buckets) ++bits;
        py::array_t<std::uint8_t> out(values.size());
        std::uint8_t* po = out.mutable_data();
        const std::uint64_t* pv = values.data();
        const std::uint64_t* ps = set.data();
        const std::uint64_t* pb = starts.data();
        const auto n = static_cast<std::size_t>(values.size());
        const auto m = static_cast<std::size_t>(set.size());
        {
          py::gil_scoped_release release;
          sorted_member(pv, n, ps, m, pb, bits, po);
        }
        return out;
      },
      py::arg("values").noconvert(), py::arg("set").noconvert(), py::arg("starts").noconvert(),
      "1 where values[i] is in the strictly ascending uint64 array set, else 0.");
}
