#include <pybind11/numpy.h>

#include <deque>

#include "common.hpp"
#include "geotfrecord/patches.hpp"

namespace geotfrecord::bindings {
namespace {

// Keeps the strip arrays (and band names) alive while the core reads them without the GIL.
struct StripArgs {
  std::deque<std::string> names;
  std::deque<py::array> arrays;
  std::vector<StripBand> bands;
  StripShape shape;
  bool shaped = false;

  void add(const py::handle& item, bool with_lengths) {
    auto t = item.cast<py::tuple>();
    if (t.size() != (with_lengths ? 4u : 3u)) {
      throw py::value_error(with_lengths ? "sequence bands are (name, kind, array, lengths or None) tuples"
                                         : "strip bands are (name, kind, array) tuples");
    }
    names.push_back(t[0].cast<std::string>());
    StripBand b;
    b.name = names.back();
    const int kind = t[1].cast<int>();
    py::array a = t[2].cast<py::array>();
    py::dtype want;
    switch (kind) {
      case static_cast<int>(FeatureKind::float_list): want = py::dtype::of<float>(); break;
      case static_cast<int>(FeatureKind::int64_list): want = py::dtype::of<int64_t>(); break;
      case static_cast<int>(FeatureKind::bytes_list): want = py::dtype::of<uint8_t>(); break;
      default: throw py::value_error("band '" + names.back() + "': unknown kind " + std::to_string(kind));
    }
    if (!a.dtype().is(want) || a.ndim() != 3 || !(a.flags() & py::array::c_style)) {
      throw py::value_error("band '" + names.back() + "': expected a C-contiguous 3-D array of " +
                            py::str(want).cast<std::string>() + ", got " + py::str(a.dtype()).cast<std::string>() +
                            " with " + std::to_string(a.ndim()) + " dimensions");
    }
    b.kind = static_cast<FeatureKind>(kind);
    b.depth = static_cast<std::size_t>(a.shape(0));
    const auto rows = static_cast<std::size_t>(a.shape(1));
    const auto cols = static_cast<std::size_t>(a.shape(2));
    if (!shaped) {
      shape.rows = rows;
      shape.cols = cols;
      shaped = true;
    } else if (rows != shape.rows || cols != shape.cols) {
      throw py::value_error("band '" + names.back() + "': every band of a strip must have the same rows and columns");
    }
    b.data = a.data();
    arrays.push_back(a);
    if (with_lengths && !t[3].is_none()) {
      auto lengths = py::array_t<int32_t, py::array::c_style | py::array::forcecast>::ensure(t[3]);
      if (!lengths || lengths.ndim() != 2 || static_cast<std::size_t>(lengths.shape(0)) != rows ||
          static_cast<std::size_t>(lengths.shape(1)) != cols) {
        throw py::value_error("band '" + names.back() + "': lengths must be an int32 array of the strip's rows x columns");
      }
      b.lengths = lengths.data();
      arrays.push_back(lengths);
    }
    bands.push_back(b);
  }
};

std::vector<std::size_t> offsets_of(const py::sequence& cols) {
  std::vector<std::size_t> out;
  out.reserve(cols.size());
  for (const auto& c : cols) {
    const auto v = c.cast<int64_t>();
    if (v < 0) throw py::value_error("tile column offsets must be >= 0");
    out.push_back(static_cast<std::size_t>(v));
  }
  return out;
}

}  // namespace

void register_patches(py::module_& m) {
  m.def(
      "encode_tile_examples",
      [](const py::sequence& bands, std::size_t tile_width, const py::sequence& col_offsets, unsigned threads) {
        StripArgs args;
        for (const auto& b : bands) args.add(b, false);
        if (args.bands.empty()) throw py::value_error("a strip needs at least one band");
        args.shape.tile_width = tile_width;
        const auto cols = offsets_of(col_offsets);
        EncodedRecords encoded;
        {
          py::gil_scoped_release release;  // every array the core reads is owned by `args`
          encoded = encode_tile_examples(args.bands, args.shape, cols, threads);
        }
        return records_to_python(std::move(encoded));
      },
      py::arg("bands"), py::arg("tile_width"), py::arg("col_offsets"), py::arg("threads") = 1,
      "Encode the tiles of a strip as framed tf.train.Example records; returns (uint8 bytes, uint64 framed sizes).");

  m.def(
      "encode_pixel_sequences",
      [](const py::sequence& context, const py::sequence& sequence, std::size_t tile_width,
         const py::sequence& col_offsets, unsigned threads) {
        StripArgs ctx;
        for (const auto& b : context) ctx.add(b, false);
        StripArgs seq;
        for (const auto& b : sequence) seq.add(b, true);
        if (ctx.bands.empty() && seq.bands.empty()) throw py::value_error("a strip needs at least one band");
        StripShape shape = ctx.shaped ? ctx.shape : seq.shape;
        if (ctx.shaped && seq.shaped && (ctx.shape.rows != seq.shape.rows || ctx.shape.cols != seq.shape.cols)) {
          throw py::value_error("context and sequence bands must have the same rows and columns");
        }
        shape.tile_width = tile_width;
        const auto cols = offsets_of(col_offsets);
        EncodedRecords encoded;
        {
          py::gil_scoped_release release;
          encoded = encode_pixel_sequences(ctx.bands, seq.bands, shape, cols, threads);
        }
        return records_to_python(std::move(encoded));
      },
      py::arg("context"), py::arg("sequence"), py::arg("tile_width"), py::arg("col_offsets"), py::arg("threads") = 1,
      "Encode one framed tf.train.SequenceExample per pixel of each tile; returns (uint8 bytes, uint64 framed sizes).");
}

}  // namespace geotfrecord::bindings
