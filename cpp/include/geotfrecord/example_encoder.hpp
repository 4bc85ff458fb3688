// tf.train.Example and tf.train.SequenceExample serialisation, written by hand.
//
// The messages (tensorflow/core/example/{example,feature}.proto):
//   Example         { Features features = 1; }
//   SequenceExample { Features context = 1; FeatureLists feature_lists = 2; }
//   Features        { map<string, Feature> feature = 1; }        // entry: key = 1, value = 2
//   FeatureLists    { map<string, FeatureList> feature_list = 1; }
//   FeatureList     { repeated Feature feature = 1; }
//   Feature         { oneof kind { BytesList bytes_list = 1; FloatList float_list = 2; Int64List int64_list = 3; } }
//   BytesList { repeated bytes value = 1; }  FloatList { repeated float value = 1 [packed]; }
//   Int64List { repeated int64 value = 1 [packed]; }   // varints; negatives take 10 bytes
// Map entries are written in the order given, so output is deterministic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "geotfrecord/record_writer.hpp"

namespace geotfrecord {

enum class FeatureKind : uint8_t { none = 0, bytes_list = 1, float_list = 2, int64_list = 3 };

// A borrowed view of one feature's values; `name` is ignored inside a feature list.
struct FeatureRef {
  std::string_view name;
  FeatureKind kind = FeatureKind::none;
  const float* floats = nullptr;   // float_list: `count` values
  const int64_t* ints = nullptr;   // int64_list: `count` values
  std::size_t count = 0;
  std::vector<std::string_view> bytes;  // bytes_list
};

struct FeatureListRef {
  std::string_view name;
  std::vector<FeatureRef> features;
};

// Serialised size of a Feature message (without its enclosing tag and length).
std::size_t feature_size(const FeatureRef& f) noexcept;
uint8_t* write_feature(const FeatureRef& f, uint8_t* out) noexcept;

// Serialised size of a Features message holding `features`.
std::size_t features_size(const std::vector<FeatureRef>& features) noexcept;

std::size_t example_size(const std::vector<FeatureRef>& features) noexcept;
// Writes the Example into `out` (example_size bytes); returns the end pointer.
uint8_t* write_example(const std::vector<FeatureRef>& features, uint8_t* out) noexcept;
std::vector<uint8_t> encode_example(const std::vector<FeatureRef>& features);

std::size_t sequence_example_size(const std::vector<FeatureRef>& context,
                                  const std::vector<FeatureListRef>& feature_lists) noexcept;
uint8_t* write_sequence_example(const std::vector<FeatureRef>& context,
                                const std::vector<FeatureListRef>& feature_lists, uint8_t* out) noexcept;
std::vector<uint8_t> encode_sequence_example(const std::vector<FeatureRef>& context,
                                             const std::vector<FeatureListRef>& feature_lists);

// One column of a table: `rows` x `width` values row-major (float_list / int64_list), or for a
// bytes_list one value per row, row r being bytes[offsets[r], offsets[r + 1]).
struct ColumnRef {
  std::string_view name;
  FeatureKind kind = FeatureKind::float_list;
  const float* floats = nullptr;
  const int64_t* ints = nullptr;
  std::size_t width = 0;
  const uint8_t* bytes = nullptr;
  const int64_t* offsets = nullptr;
};

// One framed tf.train.Example per row, one feature per column in the order given.
EncodedRecords encode_row_examples(const std::vector<ColumnRef>& columns, std::size_t rows, unsigned threads = 1);

}  // namespace geotfrecord
