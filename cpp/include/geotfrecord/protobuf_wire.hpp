// The few protobuf wire-format primitives the Example encoder and decoder need (no protobuf library).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace geotfrecord::wire {

// Wire types (the low three bits of a field tag).
constexpr uint32_t kVarint = 0;
constexpr uint32_t kFixed64 = 1;
constexpr uint32_t kLengthDelimited = 2;
constexpr uint32_t kFixed32 = 5;

constexpr uint8_t tag(uint32_t field, uint32_t wire_type) noexcept {
  return static_cast<uint8_t>((field << 3) | wire_type);
}

constexpr std::size_t varint_size(uint64_t v) noexcept {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

inline uint8_t* put_varint(uint8_t* out, uint64_t v) noexcept {
  while (v >= 0x80) {
    *out++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *out++ = static_cast<uint8_t>(v);
  return out;
}

// Size of a length-delimited field with a one-byte tag and `payload` bytes of content.
constexpr std::size_t delimited_size(std::size_t payload) noexcept { return 1 + varint_size(payload) + payload; }

inline uint8_t* put_delimited_header(uint8_t* out, uint32_t field, std::size_t payload) noexcept {
  *out++ = tag(field, kLengthDelimited);
  return put_varint(out, payload);
}

// Malformed protobuf input.
class DecodeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// A bounds-checked cursor over one message's bytes.
class Reader {
 public:
  Reader(const uint8_t* data, std::size_t size, const char* what) noexcept
      : p_(data), end_(data + size), what_(what) {}

  bool done() const noexcept { return p_ >= end_; }
  std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - p_); }
  const uint8_t* position() const noexcept { return p_; }

  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) fail("truncated varint");
      const uint8_t b = *p_++;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    fail("varint longer than 10 bytes");
  }

  // Reads a length prefix and returns a reader over that many bytes, advancing past them.
  Reader sub(const char* what) {
    const uint64_t n = varint();
    if (n > remaining()) fail("length " + std::to_string(n) + " runs past the end of the message");
    Reader r(p_, static_cast<std::size_t>(n), what);
    p_ += n;
    return r;
  }

  const uint8_t* bytes(std::size_t n) {
    if (n > remaining()) fail("truncated fixed-width field");
    const uint8_t* at = p_;
    p_ += n;
    return at;
  }

  void skip(uint32_t wire_type) {
    switch (wire_type) {
      case kVarint: varint(); break;
      case kFixed64: bytes(8); break;
      case kLengthDelimited: sub(what_); break;
      case kFixed32: bytes(4); break;
      default: fail("unsupported wire type " + std::to_string(wire_type));
    }
  }

  [[noreturn]] void fail(const std::string& why) const {
    throw DecodeError(std::string("malformed ") + what_ + ": " + why);
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  const char* what_;
};

}  // namespace geotfrecord::wire
