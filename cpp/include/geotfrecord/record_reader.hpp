// Incremental TFRecord parser: bytes in (any chunking), verified records out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace geotfrecord {

// A record whose length or CRC is wrong, or a stream that ends inside a record. The message names the
// record index and byte offset; the caller adds the file name.
class RecordFormatError : public std::runtime_error {
 public:
  RecordFormatError(const std::string& what, uint64_t record_index, uint64_t offset)
      : std::runtime_error(what), record_index_(record_index), offset_(offset) {}
  uint64_t record_index() const noexcept { return record_index_; }
  uint64_t offset() const noexcept { return offset_; }

 private:
  uint64_t record_index_;
  uint64_t offset_;
};

// Default ceiling on one record's length: a corrupt length field must not make us allocate wildly.
constexpr uint64_t kDefaultMaxRecordSize = uint64_t{1} << 31;

class RecordParser {
 public:
  explicit RecordParser(uint64_t max_record_size = kDefaultMaxRecordSize) : max_record_size_(max_record_size) {}

  // Appends the complete, CRC-verified records found in `data` (plus what was buffered before) to
  // `records` as (offset, size) pairs into `payload`, which receives their bytes back to back.
  // On a bad length or CRC, the records before the bad one are still returned and the error is
  // thrown by the next call (at once if there are none), so a reader sees every good record first.
  void feed(const uint8_t* data, std::size_t size, std::vector<uint8_t>& payload,
            std::vector<std::size_t>& sizes);

  // Checks that the stream ended on a record boundary; throws RecordFormatError if not.
  void finish() const;

  uint64_t records_read() const noexcept { return records_read_; }
  uint64_t bytes_consumed() const noexcept { return consumed_; }

 private:
  void parse(const uint8_t* data, std::size_t size, std::vector<uint8_t>& payload, std::vector<std::size_t>& sizes);
  void check_header(const uint8_t* header) const;
  void check_footer(const uint8_t* data, uint64_t size, const uint8_t* footer) const;

  uint64_t max_record_size_;
  uint64_t records_read_ = 0;
  uint64_t consumed_ = 0;             // stream offset of the first byte of pending_
  std::vector<uint8_t> pending_;      // an incomplete record carried over between feeds
  std::exception_ptr error_;          // sticky: a corrupt stream stays corrupt
};

}  // namespace geotfrecord
