#include <mutex>

#include "common.hpp"
#include "geotfrecord/record_reader.hpp"
#include "geotfrecord/record_writer.hpp"

namespace geotfrecord::bindings {
namespace {

// The parser plus a lock, because with the GIL released two Python threads could otherwise feed it at once.
struct PyRecordParser {
  explicit PyRecordParser(uint64_t max_record_size) : parser(max_record_size) {}
  RecordParser parser;
  std::mutex lock;
};

}  // namespace

void register_records(py::module_& m) {
  auto record_error = py::register_exception<RecordFormatError>(m, "RecordFormatError", PyExc_ValueError);
  (void)record_error;

  m.attr("RECORD_OVERHEAD") = kRecordOverhead;
  m.attr("DEFAULT_MAX_RECORD_SIZE") = kDefaultMaxRecordSize;

  m.def(
      "frame_records",
      [](const py::sequence& records) {
        std::vector<BufferView> views;
        views.reserve(records.size());
        std::size_t total = 0;
        for (const auto& r : records) {
          views.emplace_back(r);
          total += framed_size(views.back().size());
        }
        return make_bytes(total, [&](uint8_t* out) {
          for (const auto& v : views) out += frame_record(v.data(), v.size(), out);
        });
      },
      py::arg("records"), "Frame every record, in order, into one buffer of TFRecord bytes.");

  py::class_<PyRecordParser>(m, "RecordParser", "Incremental TFRecord parser that verifies both CRCs of every record.")
      .def(py::init<uint64_t>(), py::arg("max_record_size") = kDefaultMaxRecordSize)
      .def(
          "feed",
          [](PyRecordParser& self, const py::object& data) {
            BufferView buf(data);
            std::vector<uint8_t> payload;
            std::vector<std::size_t> sizes;
            {
              MaybeReleaseGil release(buf.size());
              std::lock_guard<std::mutex> guard(self.lock);
              self.parser.feed(buf.data(), buf.size(), payload, sizes);
            }
            py::list out(sizes.size());
            std::size_t offset = 0;
            for (std::size_t i = 0; i < sizes.size(); ++i) {
              out[i] = py::bytes(reinterpret_cast<const char*>(payload.data() + offset), sizes[i]);
              offset += sizes[i];
            }
            return out;
          },
          py::arg("data"), "Parse more bytes; returns the records completed by them.")
      .def("finish", [](PyRecordParser& self) { self.parser.finish(); },
           "Raise RecordFormatError if the stream stopped inside a record.")
      .def_property_readonly("records_read", [](PyRecordParser& self) { return self.parser.records_read(); })
      .def_property_readonly("bytes_consumed", [](PyRecordParser& self) { return self.parser.bytes_consumed(); });
}

}  // namespace geotfrecord::bindings
