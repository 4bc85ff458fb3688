#include "common.hpp"
#include "geotfrecord/crc32c.hpp"

namespace geotfrecord::bindings {

void register_crc32c(py::module_& m) {
  using Fn = uint32_t (*)(uint32_t, const uint8_t*, std::size_t) noexcept;
  auto bind = [&m](const char* name, Fn fn, const char* doc) {
    m.def(
        name,
        [fn](const py::object& data, uint32_t crc) {
          BufferView buf(data);
          MaybeReleaseGil release(buf.size());  // the buffer is held by `buf`, so it cannot go away
          return fn(crc, buf.data(), buf.size());
        },
        py::arg("data"), py::arg("crc") = 0, doc);
  };
  bind("crc32c", crc32c_extend, "CRC32C of `data`, extending `crc` (the CRC of what came before).");
  bind("crc32c_portable", crc32c_extend_portable, "CRC32C with the portable slicing-by-8 backend.");
  bind("crc32c_hardware", crc32c_extend_hardware, "CRC32C with the hardware backend (portable if none).");
  m.def("crc32c_backend", &crc32c_backend, "Name of the CRC32C backend in use.");
  m.def("mask_crc", &mask_crc, py::arg("crc"), "TFRecord's masking of a CRC.");
  m.def("unmask_crc", &unmask_crc, py::arg("masked"), "Inverse of mask_crc.");
}

}  // namespace geotfrecord::bindings
