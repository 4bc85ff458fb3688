// Image tiles cut from a strip of rows and encoded straight into framed TFRecord bytes.
//
// The caller prepares a strip: for each band a C-contiguous (depth, rows, cols) array whose rows are
// exactly one tile high, with masked and out-of-image pixels already set to the default value and
// its values already in the output type (float32 for float lists, int64 for int64 lists, uint8 for
// a raw byte string). Tiles are windows of that strip starting at given columns. The encoder copies
// each window row by row into its record (CHW order: band, then depth, then row, then column), so
// a tile is one pass over its bytes plus the CRC.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "geotfrecord/example_encoder.hpp"
#include "geotfrecord/record_writer.hpp"

namespace geotfrecord {

struct StripBand {
  std::string_view name;
  FeatureKind kind = FeatureKind::float_list;  // float_list: float data; int64_list: int64; bytes_list: uint8
  const void* data = nullptr;                  // (depth, rows, cols), C-contiguous
  std::size_t depth = 1;
  const int32_t* lengths = nullptr;            // sequences only: valid length per pixel (rows, cols), or null
};

struct StripShape {
  std::size_t rows = 0;  // == tile height
  std::size_t cols = 0;
  std::size_t tile_width = 0;
};

// One tf.train.Example per tile: one feature per band of depth x rows x tile_width values.
// Tiles are encoded on up to `threads` threads; the output does not depend on the thread count.
EncodedRecords encode_tile_examples(const std::vector<StripBand>& bands, const StripShape& shape,
                                    const std::vector<std::size_t>& col_offsets, unsigned threads = 1);

// One tf.train.SequenceExample per pixel of each tile, pixels row-major within a tile: `context`
// bands (depth 1) become one-value context features; each `sequence` band becomes a feature list
// of one one-value Feature per element (its depth, or the pixel's valid length when given).
EncodedRecords encode_pixel_sequences(const std::vector<StripBand>& context, const std::vector<StripBand>& sequence,
                                      const StripShape& shape, const std::vector<std::size_t>& col_offsets,
                                      unsigned threads = 1);

}  // namespace geotfrecord
