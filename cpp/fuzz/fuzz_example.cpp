// libFuzzer target: tf.train.Example decoding from untrusted bytes. Whatever decodes must survive a
// round trip: re-encoding the decoded features and decoding again gives the same features.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "geotfrecord/example_decoder.hpp"
#include "geotfrecord/example_encoder.hpp"
#include "geotfrecord/protobuf_wire.hpp"

namespace {

std::vector<geotfrecord::FeatureRef> refs(const geotfrecord::DecodedFeatures& decoded) {
  std::vector<geotfrecord::FeatureRef> out;
  for (const auto& [name, f] : decoded) {
    geotfrecord::FeatureRef r;
    r.name = name;
    r.kind = f.kind;
    r.floats = f.floats.data();
    r.ints = f.ints.data();
    r.count = f.kind == geotfrecord::FeatureKind::float_list ? f.floats.size() : f.ints.size();
    r.bytes = f.bytes;
    out.push_back(r);
  }
  return out;
}

bool same(const geotfrecord::DecodedFeature& a, const geotfrecord::DecodedFeature& b) {
  if (a.kind != b.kind || a.ints != b.ints || a.bytes != b.bytes || a.floats.size() != b.floats.size()) return false;
  for (std::size_t i = 0; i < a.floats.size(); ++i) {
    // Compare bits: NaN payloads must survive too.
    if (__builtin_memcmp(&a.floats[i], &b.floats[i], 4) != 0) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  geotfrecord::DecodedFeatures decoded;
  try {
    decoded = geotfrecord::decode_example(data, size);
  } catch (const geotfrecord::wire::DecodeError&) {
    return 0;
  }
  const auto encoded = geotfrecord::encode_example(refs(decoded));
  const auto again = geotfrecord::decode_example(encoded.data(), encoded.size());
  if (again.size() != decoded.size()) __builtin_trap();
  for (std::size_t i = 0; i < again.size(); ++i) {
    if (again[i].first != decoded[i].first || !same(again[i].second, decoded[i].second)) __builtin_trap();
  }
  return 0;
}
