#include "geotfrecord/record_writer.hpp"

#include <cstring>

#include "geotfrecord/crc32c.hpp"

namespace geotfrecord {

void store_le32(uint8_t* out, uint32_t value) noexcept {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<uint8_t>(value >> (8 * i));
}

void store_le64(uint8_t* out, uint64_t value) noexcept {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(value >> (8 * i));
}

uint32_t load_le32(const uint8_t* in) noexcept {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | in[i];
  return v;
}

uint64_t load_le64(const uint8_t* in) noexcept {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | in[i];
  return v;
}

void write_record_header(uint8_t* out, uint64_t data_size) noexcept {
  store_le64(out, data_size);
  store_le32(out + 8, mask_crc(crc32c(out, 8)));
}

void write_record_footer(uint8_t* out, const uint8_t* data, std::size_t size) noexcept {
  store_le32(out, mask_crc(crc32c(data, size)));
}

void frame_in_place(uint8_t* out, std::size_t data_size) noexcept {
  write_record_header(out, data_size);
  write_record_footer(out + kRecordHeaderSize + data_size, out + kRecordHeaderSize, data_size);
}

std::size_t frame_record(const uint8_t* data, std::size_t size, uint8_t* out) noexcept {
  if (size) std::memcpy(out + kRecordHeaderSize, data, size);
  frame_in_place(out, size);
  return framed_size(size);
}

std::vector<uint8_t> frame_records(const std::vector<std::string_view>& records) {
  std::size_t total = 0;
  for (const auto& r : records) total += framed_size(r.size());
  std::vector<uint8_t> out(total);
  uint8_t* p = out.data();
  for (const auto& r : records) p += frame_record(reinterpret_cast<const uint8_t*>(r.data()), r.size(), p);
  return out;
}

}  // namespace geotfrecord
