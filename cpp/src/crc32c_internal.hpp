// Shared pieces of the CRC32C backends: the polynomial, GF(2) shift operators for lane combining.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace geotfrecord::detail {

// Reflected Castagnoli polynomial (0x1EDC6F41 bit-reversed).
constexpr uint32_t kCrc32cPoly = 0x82f63b78u;

// The hardware backends run three independent CRC chains over three adjacent lanes of a block to
// hide the instruction's latency, then merge them: for the raw (uninverted) CRC register,
// crc(A||B) = shift(crc(A), |B|) ^ crc0(B), and shift by a fixed byte count is linear in the register,
// so it is four table lookups.
struct CrcShiftTable {
  std::array<std::array<uint32_t, 256>, 4> table{};
  uint32_t operator()(uint32_t reg) const noexcept {
    return table[0][reg & 0xffu] ^ table[1][(reg >> 8) & 0xffu] ^ table[2][(reg >> 16) & 0xffu] ^
           table[3][reg >> 24];
  }
};

// Table that advances a raw CRC register over `bytes` zero bytes.
CrcShiftTable make_crc_shift_table(std::size_t bytes) noexcept;

// Lane sizes of the three-way interleaved hardware loops (a block is three lanes).
constexpr std::size_t kLongLane = 8192;
constexpr std::size_t kShortLane = 256;

const CrcShiftTable& long_lane_shift() noexcept;
const CrcShiftTable& short_lane_shift() noexcept;

uint32_t crc32c_raw_portable(uint32_t reg, const uint8_t* data, std::size_t n) noexcept;

#if defined(GEOTFRECORD_HAVE_SSE42)
uint32_t crc32c_raw_sse42(uint32_t reg, const uint8_t* data, std::size_t n) noexcept;
#endif
#if defined(GEOTFRECORD_HAVE_ARM64_CRC)
uint32_t crc32c_raw_arm64(uint32_t reg, const uint8_t* data, std::size_t n) noexcept;
#endif

}  // namespace geotfrecord::detail
