#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <deque>

#include "common.hpp"
#include "geotfrecord/example_decoder.hpp"
#include "geotfrecord/example_encoder.hpp"

namespace geotfrecord::bindings {
namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;
using IntArray = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;

// Owns what the FeatureRefs borrow (arrays, buffers, names) until encoding is done.
struct Borrowed {
  std::deque<std::string> names;
  std::deque<FloatArray> floats;
  std::deque<IntArray> ints;
  std::deque<BufferView> buffers;
  std::size_t payload = 0;

  FeatureRef feature(int kind, const py::handle& values) {
    FeatureRef f;
    switch (kind) {
      case 0:
        break;
      case static_cast<int>(FeatureKind::float_list): {
        floats.push_back(FloatArray::ensure(values));
        if (!floats.back()) throw py::error_already_set();
        f.kind = FeatureKind::float_list;
        f.floats = floats.back().data();
        f.count = static_cast<std::size_t>(floats.back().size());
        payload += 4 * f.count;
        break;
      }
      case static_cast<int>(FeatureKind::int64_list): {
        ints.push_back(IntArray::ensure(values));
        if (!ints.back()) throw py::error_already_set();
        f.kind = FeatureKind::int64_list;
        f.ints = ints.back().data();
        f.count = static_cast<std::size_t>(ints.back().size());
        payload += 8 * f.count;
        break;
      }
      case static_cast<int>(FeatureKind::bytes_list):
        f.kind = FeatureKind::bytes_list;
        for (const auto& item : values) {
          buffers.emplace_back(item);
          f.bytes.emplace_back(reinterpret_cast<const char*>(buffers.back().data()), buffers.back().size());
          payload += buffers.back().size();
        }
        break;
      default:
        throw py::value_error("unknown feature kind " + std::to_string(kind) + " (0 none, 1 bytes, 2 float, 3 int64)");
    }
    return f;
  }

  // (name, kind, values) tuples → FeatureRefs.
  std::vector<FeatureRef> features(const py::sequence& items) {
    std::vector<FeatureRef> out;
    out.reserve(items.size());
    for (const auto& item : items) {
      auto t = item.cast<py::tuple>();
      if (t.size() != 3) throw py::value_error("each feature must be a (name, kind, values) tuple");
      names.push_back(t[0].cast<std::string>());
      FeatureRef f = feature(t[1].cast<int>(), t[2]);
      f.name = names.back();
      out.push_back(std::move(f));
    }
    return out;
  }
};

py::object to_python(const DecodedFeature& f) {
  switch (f.kind) {
    case FeatureKind::bytes_list: {
      py::list out(f.bytes.size());
      for (std::size_t i = 0; i < f.bytes.size(); ++i) out[i] = py::bytes(f.bytes[i].data(), f.bytes[i].size());
      return std::move(out);
    }
    case FeatureKind::int64_list: {
      py::array_t<int64_t> a(static_cast<py::ssize_t>(f.ints.size()));
      if (!f.ints.empty()) std::memcpy(a.mutable_data(), f.ints.data(), 8 * f.ints.size());
      return std::move(a);
    }
    case FeatureKind::float_list:
    case FeatureKind::none:
      break;
  }
  py::array_t<float> a(static_cast<py::ssize_t>(f.floats.size()));
  if (!f.floats.empty()) std::memcpy(a.mutable_data(), f.floats.data(), 4 * f.floats.size());
  return std::move(a);
}

py::dict to_python(const DecodedFeatures& features) {
  py::dict out;
  for (const auto& [name, f] : features) out[py::str(name)] = to_python(f);
  return out;
}

}  // namespace

void register_example(py::module_& m) {
  m.def(
      "encode_row_examples",
      [](const py::sequence& columns, std::size_t rows, unsigned threads) {
        Borrowed owned;
        std::vector<ColumnRef> refs;
        for (const auto& item : columns) {
          auto t = item.cast<py::tuple>();
          if (t.size() != 3) throw py::value_error("columns are (name, kind, values) tuples");
          owned.names.push_back(t[0].cast<std::string>());
          ColumnRef c;
          c.name = owned.names.back();
          const int kind = t[1].cast<int>();
          auto need_rows = [&](py::ssize_t n, const char* what) {
            if (static_cast<std::size_t>(n) != rows) {
              throw py::value_error("column '" + owned.names.back() + "': " + what + " has " + std::to_string(n) +
                                    " rows, expected " + std::to_string(rows));
            }
          };
          if (kind == static_cast<int>(FeatureKind::float_list) || kind == static_cast<int>(FeatureKind::int64_list)) {
            const bool is_float = kind == static_cast<int>(FeatureKind::float_list);
            py::array a = is_float ? py::array(FloatArray::ensure(t[2])) : py::array(IntArray::ensure(t[2]));
            if (!a) throw py::error_already_set();
            if (a.ndim() != 2) throw py::value_error("column '" + owned.names.back() + "': values must be 2-D (rows, width)");
            need_rows(a.shape(0), "values");
            c.kind = static_cast<FeatureKind>(kind);
            c.width = static_cast<std::size_t>(a.shape(1));
            if (is_float) {
              owned.floats.push_back(FloatArray::ensure(a));
              c.floats = owned.floats.back().data();
            } else {
              owned.ints.push_back(IntArray::ensure(a));
              c.ints = owned.ints.back().data();
            }
          } else if (kind == static_cast<int>(FeatureKind::bytes_list)) {
            auto pair = t[2].cast<py::tuple>();
            if (pair.size() != 2) throw py::value_error("a bytes column's values are (data, offsets)");
            owned.buffers.emplace_back(pair[0]);
            owned.ints.push_back(IntArray::ensure(pair[1]));
            if (!owned.ints.back()) throw py::error_already_set();
            need_rows(owned.ints.back().size() - 1, "offsets");
            const auto& offsets = owned.ints.back();
            if (offsets.size() > 0 && static_cast<std::size_t>(offsets.data()[offsets.size() - 1]) > owned.buffers.back().size()) {
              throw py::value_error("column '" + owned.names.back() + "': offsets run past the data");
            }
            c.kind = FeatureKind::bytes_list;
            c.bytes = owned.buffers.back().data();
            c.offsets = offsets.data();
          } else {
            throw py::value_error("column '" + owned.names.back() + "': unknown kind " + std::to_string(kind));
          }
          refs.push_back(c);
        }
        EncodedRecords encoded;
        {
          py::gil_scoped_release release;  // every array read is owned by `owned`
          encoded = encode_row_examples(refs, rows, threads);
        }
        return records_to_python(std::move(encoded));
      },
      py::arg("columns"), py::arg("rows"), py::arg("threads") = 1,
      "Encode one framed tf.train.Example per table row; returns (uint8 bytes, uint64 framed sizes).");

  m.def(
      "encode_example",
      [](const py::sequence& items) {
        Borrowed owned;
        const auto features = owned.features(items);
        std::vector<uint8_t> out;
        {
          MaybeReleaseGil release(owned.payload);  // everything borrowed is owned by `owned`
          out = encode_example(features);
        }
        return to_bytes(out);
      },
      py::arg("features"), "Serialise a tf.train.Example from (name, kind, values) tuples, in order.");

  m.def(
      "encode_sequence_example",
      [](const py::sequence& context, const py::sequence& lists) {
        Borrowed owned;
        const auto context_refs = owned.features(context);
        std::vector<FeatureListRef> list_refs;
        list_refs.reserve(lists.size());
        for (const auto& item : lists) {
          auto t = item.cast<py::tuple>();
          if (t.size() != 2) throw py::value_error("each feature list must be a (name, [(kind, values), ...]) tuple");
          owned.names.push_back(t[0].cast<std::string>());
          FeatureListRef list;
          list.name = owned.names.back();
          for (const auto& entry : t[1].cast<py::sequence>()) {
            auto kv = entry.cast<py::tuple>();
            if (kv.size() != 2) throw py::value_error("each feature of a feature list must be a (kind, values) tuple");
            list.features.push_back(owned.feature(kv[0].cast<int>(), kv[1]));
          }
          list_refs.push_back(std::move(list));
        }
        std::vector<uint8_t> out;
        {
          MaybeReleaseGil release(owned.payload);
          out = encode_sequence_example(context_refs, list_refs);
        }
        return to_bytes(out);
      },
      py::arg("context"), py::arg("feature_lists"),
      "Serialise a tf.train.SequenceExample from context (name, kind, values) tuples and (name, [(kind, values)]) lists.");

  m.def(
      "decode_example",
      [](const py::object& data) {
        BufferView buf(data);
        DecodedFeatures decoded;
        {
          MaybeReleaseGil release(buf.size());
          decoded = decode_example(buf.data(), buf.size());
        }
        return to_python(decoded);
      },
      py::arg("data"), "Decode a serialised tf.train.Example into {name: float32/int64 array or list of bytes}.");

  m.def(
      "decode_sequence_example",
      [](const py::object& data) {
        BufferView buf(data);
        DecodedSequenceExample decoded;
        {
          MaybeReleaseGil release(buf.size());
          decoded = decode_sequence_example(buf.data(), buf.size());
        }
        py::dict lists;
        for (const auto& [name, features] : decoded.feature_lists) {
          py::list values(features.size());
          for (std::size_t i = 0; i < features.size(); ++i) values[i] = to_python(features[i]);
          lists[py::str(name)] = values;
        }
        return py::make_tuple(to_python(decoded.context), lists);
      },
      py::arg("data"), "Decode a serialised tf.train.SequenceExample into (context, feature_lists).");
}

}  // namespace geotfrecord::bindings
