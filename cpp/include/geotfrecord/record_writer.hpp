// TFRecord framing: pure functions over buffers.
//
// On-disk layout of one record (all integers little-endian):
//   uint64  length                      8 bytes
//   uint32  masked_crc32c(length)       4 bytes  (CRC of the 8 length bytes)
//   byte    data[length]
//   uint32  masked_crc32c(data)         4 bytes
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace geotfrecord {

constexpr std::size_t kRecordHeaderSize = 12;
constexpr std::size_t kRecordFooterSize = 4;
constexpr std::size_t kRecordOverhead = kRecordHeaderSize + kRecordFooterSize;

// Bytes one record of `data_size` payload bytes takes on disk.
constexpr std::size_t framed_size(std::size_t data_size) noexcept { return data_size + kRecordOverhead; }

// Stores `value` little-endian whatever the host order.
void store_le32(uint8_t* out, uint32_t value) noexcept;
void store_le64(uint8_t* out, uint64_t value) noexcept;
uint32_t load_le32(const uint8_t* in) noexcept;
uint64_t load_le64(const uint8_t* in) noexcept;

// Writes the 12-byte header of a record of `data_size` bytes.
void write_record_header(uint8_t* out, uint64_t data_size) noexcept;

// Writes the 4-byte footer (masked CRC) of `data`.
void write_record_footer(uint8_t* out, const uint8_t* data, std::size_t size) noexcept;

// Frames a payload that already sits at out + kRecordHeaderSize (encoders write it there, so the
// record is framed in place with no copy); `out` must hold framed_size(data_size) bytes.
void frame_in_place(uint8_t* out, std::size_t data_size) noexcept;

// Copies `data` into `out` framed; `out` must hold framed_size(size) bytes. Returns bytes written.
std::size_t frame_record(const uint8_t* data, std::size_t size, uint8_t* out) noexcept;

// Framed records, back to back, and the framed size of each, in order (what the encoders produce).
struct EncodedRecords {
  std::vector<uint8_t> bytes;
  std::vector<uint64_t> sizes;
};

// Frames every record, in order, into one contiguous buffer.
std::vector<uint8_t> frame_records(const std::vector<std::string_view>& records);

}  // namespace geotfrecord
