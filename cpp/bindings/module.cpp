// The private extension module geotfrecord._core: wiring only; each area registers itself.
#include <pybind11/pybind11.h>

#include "common.hpp"
#include "geotfrecord/crc32c.hpp"
#include "geotfrecord/gzip_stream.hpp"

#ifndef GEOTFRECORD_VERSION
#define GEOTFRECORD_VERSION "0+unknown"
#endif
#ifndef GEOTFRECORD_ZLIB_NG_ORIGIN
#define GEOTFRECORD_ZLIB_NG_ORIGIN "unknown"
#endif

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "geotfrecord's compiled core: CRC32C, TFRecord framing, Example encoding, gzip streams.";
  m.attr("__version__") = GEOTFRECORD_VERSION;

  geotfrecord::bindings::register_crc32c(m);
  geotfrecord::bindings::register_records(m);
  geotfrecord::bindings::register_example(m);
  geotfrecord::bindings::register_gzip(m);
  geotfrecord::bindings::register_patches(m);

  m.def("build_info", [] {
    py::dict info;
    info["version"] = GEOTFRECORD_VERSION;
    info["deflate"] = geotfrecord::deflate_library_version();
    info["deflate_origin"] = GEOTFRECORD_ZLIB_NG_ORIGIN;
    info["crc32c"] = geotfrecord::crc32c_backend();
#if defined(__clang__)
    info["compiler"] = "clang " __clang_version__;
#elif defined(__GNUC__)
    info["compiler"] = "gcc " __VERSION__;
#else
    info["compiler"] = "unknown";
#endif
    return info;
  }, "Deflate library and version, active CRC32C backend, compiler.");
}
