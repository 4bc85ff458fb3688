// CRC32C with the ARMv8 CRC extension; this file alone is compiled with -march=armv8-a+crc and is
// only called after the kernel's HWCAP says the extension exists.
#include <arm_acle.h>

#include <cstring>

#include "crc32c_internal.hpp"

namespace geotfrecord::detail {
namespace {

inline uint64_t load64(const uint8_t* p) noexcept {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

template <std::size_t Lane>
inline uint32_t three_lanes(uint32_t reg, const uint8_t* p, const CrcShiftTable& shift) noexcept {
  uint32_t c0 = reg;
  uint32_t c1 = 0;
  uint32_t c2 = 0;
  for (std::size_t i = 0; i < Lane; i += 8) {
    c0 = __crc32cd(c0, load64(p + i));
    c1 = __crc32cd(c1, load64(p + Lane + i));
    c2 = __crc32cd(c2, load64(p + 2 * Lane + i));
  }
  return shift(shift(c0) ^ c1) ^ c2;
}

}  // namespace

uint32_t crc32c_raw_arm64(uint32_t reg, const uint8_t* data, std::size_t n) noexcept {
  while (n && (reinterpret_cast<std::uintptr_t>(data) & 7u)) {
    reg = __crc32cb(reg, *data++);
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
  while (n >= 8) {
    reg = __crc32cd(reg, load64(data));
    data += 8;
    n -= 8;
  }
  while (n--) reg = __crc32cb(reg, *data++);
  return reg;
}

}  // namespace geotfrecord::detail
