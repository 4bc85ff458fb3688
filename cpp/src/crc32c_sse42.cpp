// CRC32C with the SSE4.2 crc32 instruction; this file alone is compiled with -msse4.2 and is only
// called after CPUID says the instruction exists.
#include <nmmintrin.h>

#include <cstring>

#include "crc32c_internal.hpp"

namespace geotfrecord::detail {
namespace {

inline uint64_t load64(const uint8_t* p) noexcept {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Three chains over three adjacent lanes: the instruction has a latency of 3 cycles and a throughput
// of 1, so three independent chains keep it busy; the lane CRCs are merged with shift tables.
template <std::size_t Lane>
inline uint32_t three_lanes(uint32_t reg, const uint8_t* p, const CrcShiftTable& shift) noexcept {
  uint64_t c0 = reg;
  uint64_t c1 = 0;
  uint64_t c2 = 0;
  for (std::size_t i = 0; i < Lane; i += 8) {
    c0 = _mm_crc32_u64(c0, load64(p + i));
    c1 = _mm_crc32_u64(c1, load64(p + Lane + i));
    c2 = _mm_crc32_u64(c2, load64(p + 2 * Lane + i));
  }
  const uint32_t ab = shift(static_cast<uint32_t>(c0)) ^ static_cast<uint32_t>(c1);
  return shift(ab) ^ static_cast<uint32_t>(c2);
}

}  // namespace

uint32_t crc32c_raw_sse42(uint32_t reg, const uint8_t* data, std::size_t n) noexcept {
  while (n && (reinterpret_cast<std::uintptr_t>(data) & 7u)) {
    reg = _mm_crc32_u8(reg, *data++);
    --n;
  }
  if (n >= 3 * kLongLane) {
    const CrcShiftTable& shift = long_lane_shift();
    while (n >= 3 * kLongLane) {
      reg = three_lanes<kLongLane>(reg, data, shift);
      data += 3 * kLongLane;
      n -= 3 * kLongLane;
    }
  }
  if (n >= 3 * kShortLane) {
    const CrcShiftTable& shift = short_lane_shift();
    while (n >= 3 * kShortLane) {
      reg = three_lanes<kShortLane>(reg, data, shift);
      data += 3 * kShortLane;
      n -= 3 * kShortLane;
    }
  }
  uint64_t reg64 = reg;
  while (n >= 8) {
    reg64 = _mm_crc32_u64(reg64, load64(data));
    data += 8;
    n -= 8;
  }
  reg = static_cast<uint32_t>(reg64);
  while (n--) reg = _mm_crc32_u8(reg, *data++);
  return reg;
}

}  // namespace geotfrecord::detail
