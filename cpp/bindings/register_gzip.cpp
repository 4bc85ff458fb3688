#include <mutex>

#include "common.hpp"
#include "geotfrecord/gzip_stream.hpp"

namespace geotfrecord::bindings {
namespace {

// Each stream object carries a lock: with the GIL released, two Python threads could otherwise drive it at once.
struct PyGzipCompressor {
  explicit PyGzipCompressor(int level) : compressor(level) {}
  GzipCompressor compressor;
  std::mutex lock;
};

struct PyGzipDecompressor {
  GzipDecompressor decompressor;
  std::mutex lock;
};

}  // namespace

void register_gzip(py::module_& m) {
  py::register_exception<GzipFormatError>(m, "GzipFormatError", PyExc_ValueError);
  m.def("deflate_library_version", &deflate_library_version);

  // Best first: the default engine is the first one.
  py::list engines;
#if defined(GEOTFRECORD_HAVE_ISAL)
  engines.append(py::make_tuple("isal", isal_library_version()));
#endif
  engines.append(py::make_tuple("zlib-ng", deflate_library_version()));
  m.attr("GZIP_ENGINES") = engines;

  m.def(
      "gzip_compress",
      [](const py::object& data, int level, const std::string& engine) {
        BufferView buf(data);
        std::vector<uint8_t> out;
        if (engine == "zlib-ng") {
          MaybeReleaseGil release(buf.size());
          out = gzip_compress(buf.data(), buf.size(), level);
#if defined(GEOTFRECORD_HAVE_ISAL)
        } else if (engine == "isal") {
          MaybeReleaseGil release(buf.size());
          out = isal_gzip_compress(buf.data(), buf.size(), level);
#endif
        } else {
          throw py::value_error("unknown gzip engine '" + engine + "' (this build has: zlib-ng" +
#if defined(GEOTFRECORD_HAVE_ISAL)
                                ", isal" +
#endif
                                std::string(")"));
        }
        return to_bytes(out);
      },
      py::arg("data"), py::arg("level") = 6, py::arg("engine") = "zlib-ng",
      "One complete gzip member holding `data`, deflated by `engine` (zlib-ng, or isal where built).");

  py::class_<PyGzipCompressor>(m, "GzipCompressor", "Streaming gzip compressor (zlib-ng).")
      .def(py::init<int>(), py::arg("level") = 6)
      .def(
          "compress",
          [](PyGzipCompressor& self, const py::object& data) {
            BufferView buf(data);
            std::vector<uint8_t> out;
            {
              MaybeReleaseGil release(buf.size());
              std::lock_guard<std::mutex> guard(self.lock);
              self.compressor.compress(buf.data(), buf.size(), out);
            }
            return to_bytes(out);
          },
          py::arg("data"))
      .def("finish",
           [](PyGzipCompressor& self) {
             std::vector<uint8_t> out;
             {
               py::gil_scoped_release release;
               std::lock_guard<std::mutex> guard(self.lock);
               self.compressor.finish(out);
             }
             return to_bytes(out);
           },
           "End the current gzip member (writes nothing if no data was given since the last one).")
      .def_property_readonly("member_open", [](PyGzipCompressor& self) { return self.compressor.member_open(); })
      .def_property_readonly("level", [](PyGzipCompressor& self) { return self.compressor.level(); });

  py::class_<PyGzipDecompressor>(m, "GzipDecompressor", "Streaming decompressor of concatenated gzip members.")
      .def(py::init<>())
      .def(
          "decompress",
          [](PyGzipDecompressor& self, const py::object& data, std::size_t max_output) {
            BufferView buf(data);
            std::vector<uint8_t> out;
            {
              MaybeReleaseGil release(buf.size() + (self.decompressor.has_pending_input() ? kReleaseGilAbove + 1 : 0));
              std::lock_guard<std::mutex> guard(self.lock);
              self.decompressor.decompress(buf.data(), buf.size(), out, max_output);
            }
            return to_bytes(out);
          },
          py::arg("data"), py::arg("max_output") = static_cast<std::size_t>(-1),
          "Decompress more input; at most `max_output` bytes come out, the rest of the input waits for "
          "the next call (see has_pending_input).")
      .def_property_readonly("has_pending_input",
                             [](PyGzipDecompressor& self) { return self.decompressor.has_pending_input(); })
      .def("finish", [](PyGzipDecompressor& self) { self.decompressor.finish(); },
           "Raise GzipFormatError if the input stopped inside a member.")
      .def_property_readonly("members", [](PyGzipDecompressor& self) { return self.decompressor.members(); })
      .def_property_readonly("in_member", [](PyGzipDecompressor& self) { return self.decompressor.in_member(); });
}

}  // namespace geotfrecord::bindings
