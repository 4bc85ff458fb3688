// CRC32C (Castagnoli), the checksum TFRecord uses, with TFRecord's masking.
#pragma once

#include <cstddef>
#include <cstdint>

namespace geotfrecord {

// Extends `crc` (a finished CRC32C, 0 for an empty prefix) over `n` more bytes; streaming-safe:
// crc32c_extend(crc32c_extend(0, a), b) == crc32c(a + b). Uses the fastest backend this CPU has.
uint32_t crc32c_extend(uint32_t crc, const uint8_t* data, std::size_t n) noexcept;

// CRC32C of one buffer.
inline uint32_t crc32c(const uint8_t* data, std::size_t n) noexcept { return crc32c_extend(0, data, n); }

// The portable slicing-by-8 backend, exposed so tests can compare every backend on the same input.
uint32_t crc32c_extend_portable(uint32_t crc, const uint8_t* data, std::size_t n) noexcept;

// The hardware backend (SSE4.2 or ARMv8 CRC); falls back to the portable one where the CPU has none.
uint32_t crc32c_extend_hardware(uint32_t crc, const uint8_t* data, std::size_t n) noexcept;

// Name of the backend crc32c_extend uses: "sse4.2", "armv8-crc" or "portable (slicing-by-8)".
const char* crc32c_backend() noexcept;

// TFRecord stores CRCs masked (rotated right by 15 bits plus a constant) because a CRC computed over
// data that itself contains CRCs is otherwise prone to degenerate values.
constexpr uint32_t kCrcMaskDelta = 0xa282ead8u;

constexpr uint32_t mask_crc(uint32_t crc) noexcept {
  return ((crc >> 15) | (crc << 17)) + kCrcMaskDelta;
}

constexpr uint32_t unmask_crc(uint32_t masked) noexcept {
  const uint32_t rotated = masked - kCrcMaskDelta;
  return (rotated >> 17) | (rotated << 15);
}

}  // namespace geotfrecord
