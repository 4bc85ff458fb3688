// Helpers shared by the binding units: borrowing Python buffers and building bytes with the GIL
// released for the heavy part.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "geotfrecord/record_writer.hpp"

namespace geotfrecord::bindings {

namespace py = pybind11;

// Work smaller than this runs with the GIL held: releasing it costs more than it saves.
constexpr std::size_t kReleaseGilAbove = 64 * 1024;

// A read-only, C-contiguous view of any object with the buffer protocol (bytes, bytearray,
// memoryview, numpy array). Holds the buffer, and so keeps its memory alive, until destroyed.
class BufferView {
 public:
  explicit BufferView(const py::handle& obj) {
    if (PyObject_GetBuffer(obj.ptr(), &view_, PyBUF_SIMPLE) != 0) {
      PyErr_Clear();
      throw py::type_error(std::string("expected a bytes-like object (bytes, bytearray, memoryview or a "
                                       "contiguous numpy array), got ") +
                           Py_TYPE(obj.ptr())->tp_name);
    }
  }
  ~BufferView() { PyBuffer_Release(&view_); }
  BufferView(const BufferView&) = delete;
  BufferView& operator=(const BufferView&) = delete;
  BufferView(BufferView&& other) noexcept : view_(other.view_) { other.view_.obj = nullptr; other.view_.buf = nullptr; }

  const uint8_t* data() const noexcept { return static_cast<const uint8_t*>(view_.buf); }
  std::size_t size() const noexcept { return static_cast<std::size_t>(view_.len); }

 private:
  Py_buffer view_{};
};

// Releases the GIL for the lifetime of the guard when `size` is large enough to be worth it.
class MaybeReleaseGil {
 public:
  explicit MaybeReleaseGil(std::size_t size) {
    if (size > kReleaseGilAbove) state_ = PyEval_SaveThread();
  }
  ~MaybeReleaseGil() {
    if (state_) PyEval_RestoreThread(state_);
  }
  MaybeReleaseGil(const MaybeReleaseGil&) = delete;
  MaybeReleaseGil& operator=(const MaybeReleaseGil&) = delete;

 private:
  PyThreadState* state_ = nullptr;
};

// A new bytes object of `size` bytes filled by `fill(uint8_t*)` with the GIL released. Safe: the
// object is not yet visible to any other Python code, so nothing else can read or move it.
template <typename Fill>
py::bytes make_bytes(std::size_t size, Fill&& fill) {
  PyObject* obj = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(size));
  if (!obj) throw py::error_already_set();
  auto result = py::reinterpret_steal<py::bytes>(obj);
  {
    MaybeReleaseGil release(size);
    fill(reinterpret_cast<uint8_t*>(PyBytes_AS_STRING(obj)));
  }
  return result;
}

inline py::bytes to_bytes(const std::vector<uint8_t>& v) {
  return py::bytes(reinterpret_cast<const char*>(v.data()), v.size());
}

// (uint8 array of framed records, uint64 array of their sizes), handed to numpy without a copy: the
// capsules free the buffers with the arrays.
inline py::tuple records_to_python(EncodedRecords&& encoded) {
  // Hand the buffers to numpy without copying; the capsule frees them with the arrays.
  auto* bytes = new std::vector<uint8_t>(std::move(encoded.bytes));
  auto* sizes = new std::vector<uint64_t>(std::move(encoded.sizes));
  py::capsule free_bytes(bytes, [](void* p) { delete static_cast<std::vector<uint8_t>*>(p); });
  py::capsule free_sizes(sizes, [](void* p) { delete static_cast<std::vector<uint64_t>*>(p); });
  return py::make_tuple(py::array_t<uint8_t>({bytes->size()}, {1}, bytes->data(), free_bytes),
                        py::array_t<uint64_t>({sizes->size()}, {8}, sizes->data(), free_sizes));
}

void register_crc32c(py::module_& m);
void register_records(py::module_& m);
void register_example(py::module_& m);
void register_gzip(py::module_& m);
void register_patches(py::module_& m);

}  // namespace geotfrecord::bindings
