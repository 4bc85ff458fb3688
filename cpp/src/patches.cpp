#include "geotfrecord/patches.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "geotfrecord/protobuf_wire.hpp"
#include "parallel.hpp"
#include "geotfrecord/record_writer.hpp"

namespace geotfrecord {
namespace {

using detail::lay_out;
using wire::delimited_size;
using wire::put_delimited_header;
using wire::put_varint;
using wire::varint_size;

std::size_t element_size(FeatureKind kind) {
  switch (kind) {
    case FeatureKind::float_list: return 4;
    case FeatureKind::int64_list: return 8;
    case FeatureKind::bytes_list: return 1;
    case FeatureKind::none: break;
  }
  throw std::invalid_argument("a strip band needs a float, int64 or bytes kind");
}

// Start of row `y` of depth slice `d`, at column x0.
template <typename T>
const T* row_at(const StripBand& b, const StripShape& s, std::size_t d, std::size_t y, std::size_t x0) {
  return static_cast<const T*>(b.data) + (d * s.rows + y) * s.cols + x0;
}

// Bytes of the packed values of one band's window.
std::size_t window_payload(const StripBand& b, const StripShape& s, std::size_t x0) {
  const std::size_t n = b.depth * s.rows * s.tile_width;
  if (b.kind != FeatureKind::int64_list) return n * element_size(b.kind);
  std::size_t total = 0;
  for (std::size_t d = 0; d < b.depth; ++d) {
    for (std::size_t y = 0; y < s.rows; ++y) {
      const int64_t* row = row_at<int64_t>(b, s, d, y, x0);
      for (std::size_t x = 0; x < s.tile_width; ++x) total += varint_size(static_cast<uint64_t>(row[x]));
    }
  }
  return total;
}

// Size of the list message (FloatList / Int64List / BytesList) holding `payload` bytes of values.
std::size_t list_size(std::size_t payload) { return payload ? delimited_size(payload) : 0; }

std::size_t entry_size(std::string_view name, std::size_t feature) {
  return delimited_size(name.size()) + delimited_size(feature);
}

uint8_t* put_entry_header(uint8_t* p, std::string_view name, std::size_t feature) {
  p = put_delimited_header(p, 1, entry_size(name, feature));
  p = put_delimited_header(p, 1, name.size());
  if (!name.empty()) std::memcpy(p, name.data(), name.size());
  p += name.size();
  return put_delimited_header(p, 2, feature);
}

uint8_t* put_floats(uint8_t* p, const float* v, std::size_t n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  for (std::size_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, v + i, 4);
    bits = __builtin_bswap32(bits);
    std::memcpy(p + 4 * i, &bits, 4);
  }
#else
  std::memcpy(p, v, 4 * n);
#endif
  return p + 4 * n;
}

uint8_t* put_window(uint8_t* p, const StripBand& b, const StripShape& s, std::size_t x0) {
  for (std::size_t d = 0; d < b.depth; ++d) {
    for (std::size_t y = 0; y < s.rows; ++y) {
      switch (b.kind) {
        case FeatureKind::float_list:
          p = put_floats(p, row_at<float>(b, s, d, y, x0), s.tile_width);
          break;
        case FeatureKind::int64_list: {
          const int64_t* row = row_at<int64_t>(b, s, d, y, x0);
          for (std::size_t x = 0; x < s.tile_width; ++x) p = put_varint(p, static_cast<uint64_t>(row[x]));
          break;
        }
        case FeatureKind::bytes_list:
          std::memcpy(p, row_at<uint8_t>(b, s, d, y, x0), s.tile_width);
          p += s.tile_width;
          break;
        case FeatureKind::none:
          break;
      }
    }
  }
  return p;
}

void check_strip(const std::vector<StripBand>& bands, const StripShape& s, const std::vector<std::size_t>& cols) {
  if (s.tile_width == 0 || s.rows == 0) throw std::invalid_argument("tiles must be at least 1 x 1 pixels");
  for (const auto& b : bands) {
    element_size(b.kind);
    if (!b.data) throw std::invalid_argument("strip band '" + std::string(b.name) + "' has no data");
    if (b.depth == 0) throw std::invalid_argument("strip band '" + std::string(b.name) + "' has depth 0");
  }
  for (const auto x0 : cols) {
    if (x0 + s.tile_width > s.cols) {
      throw std::invalid_argument("tile at column " + std::to_string(x0) + " of width " + std::to_string(s.tile_width) +
                                  " runs past the strip's " + std::to_string(s.cols) + " columns");
    }
  }
}

}  // namespace

EncodedRecords encode_tile_examples(const std::vector<StripBand>& bands, const StripShape& shape,
                                    const std::vector<std::size_t>& col_offsets, unsigned threads) {
  check_strip(bands, shape, col_offsets);
  struct Sizes {
    std::vector<std::size_t> payload;  // per band
    std::size_t features = 0;
    std::size_t example = 0;
  };
  std::vector<Sizes> sizes(col_offsets.size());
  auto size_of = [&](std::size_t t) -> uint64_t {
    Sizes& z = sizes[t];
    z.payload.resize(bands.size());
    for (std::size_t i = 0; i < bands.size(); ++i) {
      z.payload[i] = window_payload(bands[i], shape, col_offsets[t]);
      const std::size_t feature = delimited_size(list_size(z.payload[i]));
      z.features += delimited_size(entry_size(bands[i].name, feature));
    }
    z.example = delimited_size(z.features);
    return framed_size(z.example);
  };
  auto write = [&](std::size_t t, uint8_t* out) {
    const Sizes& z = sizes[t];
    uint8_t* p = put_delimited_header(out + kRecordHeaderSize, 1, z.features);
    for (std::size_t i = 0; i < bands.size(); ++i) {
      const std::size_t list = list_size(z.payload[i]);
      p = put_entry_header(p, bands[i].name, delimited_size(list));
      p = put_delimited_header(p, static_cast<uint32_t>(bands[i].kind), list);
      if (z.payload[i]) {
        p = put_delimited_header(p, 1, z.payload[i]);
        p = put_window(p, bands[i], shape, col_offsets[t]);
      }
    }
    frame_in_place(out, z.example);
  };
  return lay_out(col_offsets.size(), threads, size_of, write);
}

namespace {

// One value of a band at (d, y, x) as a one-value Feature.
std::size_t one_value_payload(const StripBand& b, const StripShape& s, std::size_t d, std::size_t y, std::size_t x) {
  if (b.kind == FeatureKind::int64_list) return varint_size(static_cast<uint64_t>(*row_at<int64_t>(b, s, d, y, x)));
  return element_size(b.kind);
}

std::size_t one_value_feature(const StripBand& b, const StripShape& s, std::size_t d, std::size_t y, std::size_t x) {
  return delimited_size(delimited_size(one_value_payload(b, s, d, y, x)));
}

uint8_t* put_one_value_feature(uint8_t* p, const StripBand& b, const StripShape& s, std::size_t d, std::size_t y,
                               std::size_t x) {
  const std::size_t payload = one_value_payload(b, s, d, y, x);
  p = put_delimited_header(p, static_cast<uint32_t>(b.kind), delimited_size(payload));
  p = put_delimited_header(p, 1, payload);
  switch (b.kind) {
    case FeatureKind::float_list: return put_floats(p, row_at<float>(b, s, d, y, x), 1);
    case FeatureKind::int64_list: return put_varint(p, static_cast<uint64_t>(*row_at<int64_t>(b, s, d, y, x)));
    case FeatureKind::bytes_list: *p = *row_at<uint8_t>(b, s, d, y, x); return p + 1;
    case FeatureKind::none: break;
  }
  return p;
}

std::size_t steps_at(const StripBand& b, const StripShape& s, std::size_t y, std::size_t x) {
  if (!b.lengths) return b.depth;
  const int32_t n = b.lengths[y * s.cols + x];
  return n <= 0 ? 0 : std::min<std::size_t>(static_cast<std::size_t>(n), b.depth);
}

}  // namespace

EncodedRecords encode_pixel_sequences(const std::vector<StripBand>& context, const std::vector<StripBand>& sequence,
                                      const StripShape& shape, const std::vector<std::size_t>& col_offsets,
                                      unsigned threads) {
  check_strip(context, shape, col_offsets);
  check_strip(sequence, shape, col_offsets);
  for (const auto& b : context) {
    if (b.depth != 1) throw std::invalid_argument("context band '" + std::string(b.name) + "' must have depth 1");
  }
  const std::size_t pixels = shape.rows * shape.tile_width;
  // Record i is pixel (i % pixels) of tile (i / pixels).
  auto locate = [&](std::size_t i, std::size_t& y, std::size_t& x) {
    const std::size_t t = i / pixels;
    const std::size_t p = i % pixels;
    y = p / shape.tile_width;
    x = col_offsets[t] + p % shape.tile_width;
  };
  auto sizes = [&](std::size_t y, std::size_t x, std::size_t& ctx, std::size_t& lists) {
    ctx = 0;
    for (const auto& b : context) ctx += delimited_size(entry_size(b.name, one_value_feature(b, shape, 0, y, x)));
    lists = 0;
    for (const auto& b : sequence) {
      std::size_t list = 0;
      for (std::size_t d = 0, n = steps_at(b, shape, y, x); d < n; ++d) {
        list += delimited_size(one_value_feature(b, shape, d, y, x));
      }
      lists += delimited_size(entry_size(b.name, list));
    }
  };
  auto size_of = [&](std::size_t i) -> uint64_t {
    std::size_t y, x, ctx, lists;
    locate(i, y, x);
    sizes(y, x, ctx, lists);
    return framed_size(delimited_size(ctx) + delimited_size(lists));
  };
  auto write = [&](std::size_t i, uint8_t* out) {
    std::size_t y, x, ctx, lists;
    locate(i, y, x);
    sizes(y, x, ctx, lists);
    uint8_t* p = put_delimited_header(out + kRecordHeaderSize, 1, ctx);
    for (const auto& b : context) {
      p = put_entry_header(p, b.name, one_value_feature(b, shape, 0, y, x));
      p = put_one_value_feature(p, b, shape, 0, y, x);
    }
    p = put_delimited_header(p, 2, lists);
    for (const auto& b : sequence) {
      const std::size_t n = steps_at(b, shape, y, x);
      std::size_t list = 0;
      for (std::size_t d = 0; d < n; ++d) list += delimited_size(one_value_feature(b, shape, d, y, x));
      p = put_entry_header(p, b.name, list);
      for (std::size_t d = 0; d < n; ++d) {
        p = put_delimited_header(p, 1, one_value_feature(b, shape, d, y, x));
        p = put_one_value_feature(p, b, shape, d, y, x);
      }
    }
    frame_in_place(out, delimited_size(ctx) + delimited_size(lists));
  };
  return lay_out(col_offsets.size() * pixels, threads, size_of, write);
}

}  // namespace geotfrecord
