#include "geotfrecord/example_decoder.hpp"

#include <cstring>

#include "geotfrecord/protobuf_wire.hpp"

namespace geotfrecord {
namespace {

using wire::Reader;

float load_float(const uint8_t* p) noexcept {
  uint32_t bits = 0;
  for (int i = 3; i >= 0; --i) bits = (bits << 8) | p[i];
  float v;
  std::memcpy(&v, &bits, 4);
  return v;
}

void read_float_list(Reader r, DecodedFeature& f) {
  while (!r.done()) {
    const uint64_t key = r.varint();
    const auto field = key >> 3;
    const auto type = static_cast<uint32_t>(key & 7);
    if (field == 1 && type == wire::kLengthDelimited) {
      Reader packed = r.sub("FloatList");
      const std::size_t n = packed.remaining();
      if (n % 4) packed.fail("packed float payload of " + std::to_string(n) + " bytes is not a multiple of 4");
      const uint8_t* p = packed.bytes(n);
      const std::size_t old = f.floats.size();
      f.floats.resize(old + n / 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
      for (std::size_t i = 0; i < n / 4; ++i) f.floats[old + i] = load_float(p + 4 * i);
#else
      if (n) std::memcpy(f.floats.data() + old, p, n);
#endif
    } else if (field == 1 && type == wire::kFixed32) {
      f.floats.push_back(load_float(r.bytes(4)));
    } else {
      r.skip(type);
    }
  }
}

void read_int64_list(Reader r, DecodedFeature& f) {
  while (!r.done()) {
    const uint64_t key = r.varint();
    const auto field = key >> 3;
    const auto type = static_cast<uint32_t>(key & 7);
    if (field == 1 && type == wire::kLengthDelimited) {
      Reader packed = r.sub("Int64List");
      while (!packed.done()) f.ints.push_back(static_cast<int64_t>(packed.varint()));
    } else if (field == 1 && type == wire::kVarint) {
      f.ints.push_back(static_cast<int64_t>(r.varint()));
    } else {
      r.skip(type);
    }
  }
}

void read_bytes_list(Reader r, DecodedFeature& f) {
  while (!r.done()) {
    const uint64_t key = r.varint();
    const auto field = key >> 3;
    const auto type = static_cast<uint32_t>(key & 7);
    if (field == 1 && type == wire::kLengthDelimited) {
      Reader value = r.sub("BytesList");
      const std::size_t n = value.remaining();
      f.bytes.emplace_back(reinterpret_cast<const char*>(value.bytes(n)), n);
    } else {
      r.skip(type);
    }
  }
}

// Feature is a oneof: a second occurrence of the same member merges into it, another member replaces it.
void read_feature(Reader r, DecodedFeature& f) {
  while (!r.done()) {
    const uint64_t key = r.varint();
    const auto field = key >> 3;
    const auto type = static_cast<uint32_t>(key & 7);
    if (field >= 1 && field <= 3 && type == wire::kLengthDelimited) {
      const auto kind = static_cast<FeatureKind>(field);
      if (f.kind != kind) f = DecodedFeature{kind, {}, {}, {}};
      Reader list = r.sub("Feature");
      if (kind == FeatureKind::bytes_list) read_bytes_list(list, f);
      if (kind == FeatureKind::float_list) read_float_list(list, f);
      if (kind == FeatureKind::int64_list) read_int64_list(list, f);
    } else {
      r.skip(type);
    }
  }
}

template <typename Value>
Value& upsert(std::vector<std::pair<std::string, Value>>& map, std::string key) {
  // Maps are small (a few bands); a linear scan keeps first-appearance order and needs no hashing.
  for (auto& entry : map) {
    if (entry.first == key) {
      entry.second = Value{};
      return entry.second;
    }
  }
  map.emplace_back(std::move(key), Value{});
  return map.back().second;
}

// Reads one map entry { string key = 1; Message value = 2; } and hands the value to `read_value`.
template <typename Map, typename ReadValue>
void read_map_entry(Reader entry, Map& map, ReadValue read_value) {
  std::string key;
  const uint8_t* value_at = nullptr;
  std::size_t value_size = 0;
  bool has_value = false;
  while (!entry.done()) {
    const uint64_t k = entry.varint();
    const auto field = k >> 3;
    const auto type = static_cast<uint32_t>(k & 7);
    if (field == 1 && type == wire::kLengthDelimited) {
      Reader s = entry.sub("map key");
      const std::size_t n = s.remaining();
      key.assign(reinterpret_cast<const char*>(s.bytes(n)), n);
    } else if (field == 2 && type == wire::kLengthDelimited) {
      Reader v = entry.sub("map value");
      value_at = v.position();
      value_size = v.remaining();
      has_value = true;
    } else {
      entry.skip(type);
    }
  }
  auto& value = upsert(map, std::move(key));
  if (has_value) read_value(Reader(value_at, value_size, "map value"), value);
}

void read_features(Reader r, DecodedFeatures& out) {
  while (!r.done()) {
    const uint64_t key = r.varint();
    const auto type = static_cast<uint32_t>(key & 7);
    if ((key >> 3) == 1 && type == wire::kLengthDelimited) {
      read_map_entry(r.sub("Features entry"), out, read_feature);
    } else {
      r.skip(type);
    }
  }
}

void read_feature_list(Reader r, std::vector<DecodedFeature>& out) {
  while (!r.done()) {
    const uint64_t key = r.varint();
    const auto type = static_cast<uint32_t>(key & 7);
    if ((key >> 3) == 1 && type == wire::kLengthDelimited) {
      out.emplace_back();
      read_feature(r.sub("FeatureList"), out.back());
    } else {
      r.skip(type);
    }
  }
}

}  // namespace

DecodedFeatures decode_example(const uint8_t* data, std::size_t size) {
  DecodedFeatures out;
  Reader r(data, size, "Example");
  while (!r.done()) {
    const uint64_t key = r.varint();
    const auto type = static_cast<uint32_t>(key & 7);
    if ((key >> 3) == 1 && type == wire::kLengthDelimited) {
      read_features(r.sub("Features"), out);
    } else {
      r.skip(type);
    }
  }
  return out;
}

DecodedSequenceExample decode_sequence_example(const uint8_t* data, std::size_t size) {
  DecodedSequenceExample out;
  Reader r(data, size, "SequenceExample");
  while (!r.done()) {
    const uint64_t key = r.varint();
    const auto field = key >> 3;
    const auto type = static_cast<uint32_t>(key & 7);
    if (field == 1 && type == wire::kLengthDelimited) {
      read_features(r.sub("context"), out.context);
    } else if (field == 2 && type == wire::kLengthDelimited) {
      Reader lists = r.sub("FeatureLists");
      while (!lists.done()) {
        const uint64_t k = lists.varint();
        const auto t = static_cast<uint32_t>(k & 7);
        if ((k >> 3) == 1 && t == wire::kLengthDelimited) {
          read_map_entry(lists.sub("FeatureLists entry"), out.feature_lists, read_feature_list);
        } else {
          lists.skip(t);
        }
      }
    } else {
      r.skip(type);
    }
  }
  return out;
}

}  // namespace geotfrecord
