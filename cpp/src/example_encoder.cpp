#include "geotfrecord/example_encoder.hpp"

#include <cstring>
#include <stdexcept>
#include <string>

#include "geotfrecord/protobuf_wire.hpp"
#include "parallel.hpp"

namespace geotfrecord {
namespace {

using wire::delimited_size;
using wire::put_delimited_header;
using wire::varint_size;

// Size of the list message inside a Feature (FloatList / Int64List / BytesList).
std::size_t list_size(const FeatureRef& f) noexcept {
  switch (f.kind) {
    case FeatureKind::float_list:
      return f.count ? delimited_size(4 * f.count) : 0;
    case FeatureKind::int64_list: {
      if (!f.count) return 0;
      std::size_t payload = 0;
      for (std::size_t i = 0; i < f.count; ++i) payload += varint_size(static_cast<uint64_t>(f.ints[i]));
      return delimited_size(payload);
    }
    case FeatureKind::bytes_list: {
      std::size_t total = 0;
      for (const auto& b : f.bytes) total += delimited_size(b.size());
      return total;
    }
    case FeatureKind::none:
      break;
  }
  return 0;
}

uint8_t* write_floats(uint8_t* out, const float* values, std::size_t count) noexcept {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  for (std::size_t i = 0; i < count; ++i) {
    uint32_t bits;
    std::memcpy(&bits, values + i, 4);
    bits = __builtin_bswap32(bits);
    std::memcpy(out + 4 * i, &bits, 4);
  }
#else
  if (count) std::memcpy(out, values, 4 * count);
#endif
  return out + 4 * count;
}

std::size_t feature_list_size(const FeatureListRef& list) noexcept {
  std::size_t total = 0;
  for (const auto& f : list.features) total += delimited_size(feature_size(f));
  return total;
}

std::size_t map_entry_size(std::string_view key, std::size_t value_size) noexcept {
  return delimited_size(key.size()) + delimited_size(value_size);
}

uint8_t* write_map_entry_header(uint8_t* out, std::string_view key, std::size_t value_size) noexcept {
  out = put_delimited_header(out, 1, map_entry_size(key, value_size));
  out = put_delimited_header(out, 1, key.size());
  if (!key.empty()) std::memcpy(out, key.data(), key.size());
  out += key.size();
  return put_delimited_header(out, 2, value_size);
}

uint8_t* write_features(const std::vector<FeatureRef>& features, uint8_t* out) noexcept {
  for (const auto& f : features) {
    out = write_map_entry_header(out, f.name, feature_size(f));
    out = write_feature(f, out);
  }
  return out;
}

std::size_t feature_lists_size(const std::vector<FeatureListRef>& lists) noexcept {
  std::size_t total = 0;
  for (const auto& l : lists) total += delimited_size(map_entry_size(l.name, feature_list_size(l)));
  return total;
}

}  // namespace

std::size_t feature_size(const FeatureRef& f) noexcept {
  if (f.kind == FeatureKind::none) return 0;
  return delimited_size(list_size(f));
}

uint8_t* write_feature(const FeatureRef& f, uint8_t* out) noexcept {
  if (f.kind == FeatureKind::none) return out;
  out = put_delimited_header(out, static_cast<uint32_t>(f.kind), list_size(f));
  switch (f.kind) {
    case FeatureKind::float_list:
      if (f.count) out = write_floats(put_delimited_header(out, 1, 4 * f.count), f.floats, f.count);
      break;
    case FeatureKind::int64_list:
      if (f.count) {
        std::size_t payload = 0;
        for (std::size_t i = 0; i < f.count; ++i) payload += varint_size(static_cast<uint64_t>(f.ints[i]));
        out = put_delimited_header(out, 1, payload);
        for (std::size_t i = 0; i < f.count; ++i) out = wire::put_varint(out, static_cast<uint64_t>(f.ints[i]));
      }
      break;
    case FeatureKind::bytes_list:
      for (const auto& b : f.bytes) {
        out = put_delimited_header(out, 1, b.size());
        if (!b.empty()) std::memcpy(out, b.data(), b.size());
        out += b.size();
      }
      break;
    case FeatureKind::none:
      break;
  }
  return out;
}

std::size_t features_size(const std::vector<FeatureRef>& features) noexcept {
  std::size_t total = 0;
  for (const auto& f : features) total += delimited_size(map_entry_size(f.name, feature_size(f)));
  return total;
}

std::size_t example_size(const std::vector<FeatureRef>& features) noexcept {
  return delimited_size(features_size(features));
}

uint8_t* write_example(const std::vector<FeatureRef>& features, uint8_t* out) noexcept {
  out = put_delimited_header(out, 1, features_size(features));
  return write_features(features, out);
}

std::vector<uint8_t> encode_example(const std::vector<FeatureRef>& features) {
  std::vector<uint8_t> out(example_size(features));
  write_example(features, out.data());
  return out;
}

std::size_t sequence_example_size(const std::vector<FeatureRef>& context,
                                  const std::vector<FeatureListRef>& feature_lists) noexcept {
  return delimited_size(features_size(context)) + delimited_size(feature_lists_size(feature_lists));
}

uint8_t* write_sequence_example(const std::vector<FeatureRef>& context,
                                const std::vector<FeatureListRef>& feature_lists, uint8_t* out) noexcept {
  out = put_delimited_header(out, 1, features_size(context));
  out = write_features(context, out);
  out = put_delimited_header(out, 2, feature_lists_size(feature_lists));
  for (const auto& list : feature_lists) {
    const std::size_t list_bytes = feature_list_size(list);
    out = write_map_entry_header(out, list.name, list_bytes);
    for (const auto& f : list.features) {
      out = put_delimited_header(out, 1, feature_size(f));
      out = write_feature(f, out);
    }
  }
  return out;
}

std::vector<uint8_t> encode_sequence_example(const std::vector<FeatureRef>& context,
                                             const std::vector<FeatureListRef>& feature_lists) {
  std::vector<uint8_t> out(sequence_example_size(context, feature_lists));
  write_sequence_example(context, feature_lists, out.data());
  return out;
}

namespace {

// The row's values of one column as a borrowed FeatureRef, so rows reuse the Example writer above.
FeatureRef row_feature(const ColumnRef& c, std::size_t r) {
  FeatureRef f;
  f.name = c.name;
  f.kind = c.kind;
  switch (c.kind) {
    case FeatureKind::float_list:
      f.floats = c.floats + r * c.width;
      f.count = c.width;
      break;
    case FeatureKind::int64_list:
      f.ints = c.ints + r * c.width;
      f.count = c.width;
      break;
    case FeatureKind::bytes_list: {
      const auto begin = static_cast<std::size_t>(c.offsets[r]);
      const auto end = static_cast<std::size_t>(c.offsets[r + 1]);
      f.bytes.emplace_back(reinterpret_cast<const char*>(c.bytes) + begin, end - begin);
      break;
    }
    case FeatureKind::none:
      break;
  }
  return f;
}

std::vector<FeatureRef> row_features(const std::vector<ColumnRef>& columns, std::size_t r) {
  std::vector<FeatureRef> out;
  out.reserve(columns.size());
  for (const auto& c : columns) out.push_back(row_feature(c, r));
  return out;
}

}  // namespace

EncodedRecords encode_row_examples(const std::vector<ColumnRef>& columns, std::size_t rows, unsigned threads) {
  for (const auto& c : columns) {
    if (c.kind == FeatureKind::bytes_list) {
      for (std::size_t r = 0; r < rows; ++r) {
        if (c.offsets[r] < 0 || c.offsets[r + 1] < c.offsets[r]) {
          throw std::invalid_argument("column '" + std::string(c.name) + "': byte offsets must be non-decreasing");
        }
      }
    }
  }
  auto size_of = [&](std::size_t r) -> uint64_t { return framed_size(example_size(row_features(columns, r))); };
  auto write = [&](std::size_t r, uint8_t* out) {
    const auto features = row_features(columns, r);
    write_example(features, out + kRecordHeaderSize);
    frame_in_place(out, example_size(features));
  };
  return detail::lay_out(rows, threads, size_of, write);
}

}  // namespace geotfrecord
