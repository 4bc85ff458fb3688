#include "geotfrecord/record_reader.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "geotfrecord/crc32c.hpp"
#include "geotfrecord/record_writer.hpp"

namespace geotfrecord {
namespace {

std::string describe(uint64_t index, uint64_t offset) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "record %" PRIu64 " (byte offset %" PRIu64 ")", index, offset);
  return buf;
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

}  // namespace

void RecordParser::check_header(const uint8_t* header) const {
  const uint32_t stored = load_le32(header + 8);
  const uint32_t computed = mask_crc(crc32c(header, 8));
  if (stored != computed) {
    throw RecordFormatError(describe(records_read_, consumed_) + ": length CRC mismatch (stored " + hex32(stored) +
                                ", computed " + hex32(computed) + "); the file is corrupt or not a TFRecord file",
                            records_read_, consumed_);
  }
  const uint64_t length = load_le64(header);
  if (length > max_record_size_) {
    throw RecordFormatError(describe(records_read_, consumed_) + ": length " + std::to_string(length) +
                                " bytes exceeds the limit of " + std::to_string(max_record_size_) + " bytes",
                            records_read_, consumed_);
  }
}

void RecordParser::check_footer(const uint8_t* data, uint64_t size, const uint8_t* footer) const {
  const uint32_t stored = load_le32(footer);
  const uint32_t computed = mask_crc(crc32c(data, static_cast<std::size_t>(size)));
  if (stored != computed) {
    throw RecordFormatError(describe(records_read_, consumed_) + ": data CRC mismatch (stored " + hex32(stored) +
                                ", computed " + hex32(computed) + ")",
                            records_read_, consumed_);
  }
}

void RecordParser::feed(const uint8_t* data, std::size_t size, std::vector<uint8_t>& payload,
                        std::vector<std::size_t>& sizes) {
  if (error_) std::rethrow_exception(error_);
  const std::size_t before = sizes.size();
  try {
    parse(data, size, payload, sizes);
  } catch (const RecordFormatError&) {
    error_ = std::current_exception();
    pending_.clear();
    if (sizes.size() == before) throw;
  }
}

void RecordParser::parse(const uint8_t* data, std::size_t size, std::vector<uint8_t>& payload,
                         std::vector<std::size_t>& sizes) {
  // Work on pending_ + data without copying data unless a record straddles the chunk boundary.
  const uint8_t* p = data;
  std::size_t left = size;
  if (!pending_.empty()) {
    // Complete the header first, then the whole record, from the new bytes.
    auto take = [&](std::size_t want) {
      const std::size_t n = std::min(want, left);
      pending_.insert(pending_.end(), p, p + n);
      p += n;
      left -= n;
    };
    if (pending_.size() < kRecordHeaderSize) take(kRecordHeaderSize - pending_.size());
    if (pending_.size() < kRecordHeaderSize) return;
    check_header(pending_.data());
    const uint64_t length = load_le64(pending_.data());
    const std::size_t total = framed_size(static_cast<std::size_t>(length));
    take(total - pending_.size());
    if (pending_.size() < total) return;
    const uint8_t* body = pending_.data() + kRecordHeaderSize;
    check_footer(body, length, body + length);
    payload.insert(payload.end(), body, body + length);
    sizes.push_back(static_cast<std::size_t>(length));
    ++records_read_;
    consumed_ += total;
    pending_.clear();
  }
  while (left >= kRecordHeaderSize) {
    check_header(p);
    const uint64_t length = load_le64(p);
    const std::size_t total = framed_size(static_cast<std::size_t>(length));
    if (left < total) break;
    const uint8_t* body = p + kRecordHeaderSize;
    check_footer(body, length, body + length);
    payload.insert(payload.end(), body, body + length);
    sizes.push_back(static_cast<std::size_t>(length));
    ++records_read_;
    consumed_ += total;
    p += total;
    left -= total;
  }
  pending_.assign(p, p + left);
}

void RecordParser::finish() const {
  if (error_) std::rethrow_exception(error_);
  if (pending_.empty()) return;
  std::string what = describe(records_read_, consumed_) + ": truncated: the data ends ";
  if (pending_.size() < kRecordHeaderSize) {
    what += "after " + std::to_string(pending_.size()) + " of the " + std::to_string(kRecordHeaderSize) +
            " header bytes";
  } else {
    const uint64_t length = load_le64(pending_.data());
    what += "after " + std::to_string(pending_.size()) + " of the record's " +
            std::to_string(framed_size(static_cast<std::size_t>(length))) + " bytes";
  }
  throw RecordFormatError(what, records_read_, consumed_);
}

}  // namespace geotfrecord
