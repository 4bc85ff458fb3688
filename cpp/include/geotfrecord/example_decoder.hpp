// Decoding of tf.train.Example / SequenceExample back to arrays. Accepts what any protobuf writer may
// emit: packed or unpacked repeated fields, unknown fields, repeated map keys (the last one wins) and
// messages split into several occurrences (merged).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "geotfrecord/example_encoder.hpp"

namespace geotfrecord {

struct DecodedFeature {
  FeatureKind kind = FeatureKind::none;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string_view> bytes;  // views into the input buffer
};

using DecodedFeatures = std::vector<std::pair<std::string, DecodedFeature>>;

struct DecodedSequenceExample {
  DecodedFeatures context;
  std::vector<std::pair<std::string, std::vector<DecodedFeature>>> feature_lists;
};

// Throws wire::DecodeError (a std::invalid_argument) on malformed input.
DecodedFeatures decode_example(const uint8_t* data, std::size_t size);
DecodedSequenceExample decode_sequence_example(const uint8_t* data, std::size_t size);

}  // namespace geotfrecord
