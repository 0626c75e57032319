// driftcore._core: the compiled engine. One register_* function per area.
#include <pybind11/pybind11.h>

namespace py = pybind11;

void register_device(py::module_& m);
void register_histogram(py::module_& m);
void register_lsh(py::module_& m);
void register_minhash(py::module_& m);
void register_mmd(py::module_& m);
void register_pvalues(py::module_& m);
void register_quantile_sketch(py::module_& m);
void register_row_hash(py::module_& m);
void register_stats(py::module_& m);
void register_value_grid(py::module_& m);

PYBIND11_MODULE(_core, m) {
  m.doc() = "driftcore's compiled engine (use the driftcore package, not this module)";
  register_device(m);
  register_histogram(m);
  register_lsh(m);
  register_minhash(m);
  register_mmd(m);
  register_pvalues(m);
  register_quantile_sketch(m);
  register_row_hash(m);
  register_stats(m);
  register_value_grid(m);
}
