// CRC32C: portable slicing-by-8, the shift tables the hardware loops share, and run-time dispatch.
#include "geotfrecord/crc32c.hpp"

#include <cstring>

#include "crc32c_internal.hpp"

#if defined(GEOTFRECORD_HAVE_SSE42)
#include <cpuid.h>
#endif
#if defined(GEOTFRECORD_HAVE_ARM64_CRC) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace geotfrecord {
namespace detail {
namespace {

using SliceTables = std::array<std::array<uint32_t, 256>, 8>;

SliceTables make_slice_tables() noexcept {
  SliceTables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? (c >> 1) ^ kCrc32cPoly : c >> 1;
    t[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; ++i) {
    for (std::size_t s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xffu];
  }
  return t;
}

const SliceTables& slice_tables() noexcept {
  static const SliceTables tables = make_slice_tables();
  return tables;
}

// a * b modulo the polynomial, both as reflected polynomials (x^0 in the top bit), as zlib's multmodp.
uint32_t multmodp(uint32_t a, uint32_t b) noexcept {
  uint32_t m = 1u << 31;
  uint32_t p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) == 0) break;
    }
    m >>= 1;
    b = (b & 1u) ? (b >> 1) ^ kCrc32cPoly : b >> 1;
  }
  return p;
}

// x^(8 * bytes) modulo the polynomial.
uint32_t x_pow_8n(std::size_t bytes) noexcept {
  uint32_t result = 1u << 31;  // x^0
  uint32_t square = 1u << 30;  // x^1, squared up to x^(2^k)
  std::size_t bits = bytes * 8;
  while (bits) {
    if (bits & 1u) result = multmodp(square, result);
    square = multmodp(square, square);
    bits >>= 1;
  }
  return result;
}

}  // namespace

CrcShiftTable make_crc_shift_table(std::size_t bytes) noexcept {
  CrcShiftTable shift;
  const uint32_t op = x_pow_8n(bytes);
  for (std::size_t byte = 0; byte < 4; ++byte) {
    for (uint32_t v = 0; v < 256; ++v) shift.table[byte][v] = multmodp(op, v << (8 * byte));
  }
  return shift;
}

const CrcShiftTable& long_lane_shift() noexcept {
  static const CrcShiftTable table = make_crc_shift_table(kLongLane);
  return table;
}

const CrcShiftTable& short_lane_shift() noexcept {
  static const CrcShiftTable table = make_crc_shift_table(kShortLane);
  return table;
}

uint32_t crc32c_raw_portable(uint32_t reg, const uint8_t* data, std::size_t n) noexcept {
  const SliceTables& t = slice_tables();
  while (n && (reinterpret_cast<std::uintptr_t>(data) & 7u)) {
    reg = (reg >> 8) ^ t[0][(reg ^ *data++) & 0xffu];
    --n;
  }
  while (n >= 8) {
    uint32_t lo;
    uint32_t hi;
    std::memcpy(&lo, data, 4);
    std::memcpy(&hi, data + 4, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    lo = __builtin_bswap32(lo);
    hi = __builtin_bswap32(hi);
#endif
    lo ^= reg;
    reg = t[7][lo & 0xffu] ^ t[6][(lo >> 8) & 0xffu] ^ t[5][(lo >> 16) & 0xffu] ^ t[4][lo >> 24] ^
          t[3][hi & 0xffu] ^ t[2][(hi >> 8) & 0xffu] ^ t[1][(hi >> 16) & 0xffu] ^ t[0][hi >> 24];
    data += 8;
    n -= 8;
  }
  while (n--) reg = (reg >> 8) ^ t[0][(reg ^ *data++) & 0xffu];
  return reg;
}

}  // namespace detail

namespace {

using RawCrcFn = uint32_t (*)(uint32_t, const uint8_t*, std::size_t) noexcept;

struct Backend {
  RawCrcFn fn;
  const char* name;
};

// Chosen once, on first use (a function-local static is initialised thread-safely).
const Backend& hardware_backend() noexcept {
  static const Backend backend = []() noexcept -> Backend {
#if defined(GEOTFRECORD_HAVE_SSE42)
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_SSE4_2)) {
      return {detail::crc32c_raw_sse42, "sse4.2"};
    }
#endif
#if defined(GEOTFRECORD_HAVE_ARM64_CRC)
#if defined(__linux__)
    if (getauxval(AT_HWCAP) & HWCAP_CRC32) return {detail::crc32c_raw_arm64, "armv8-crc"};
#elif defined(__APPLE__)
    return {detail::crc32c_raw_arm64, "armv8-crc"};
#endif
#endif
    return {detail::crc32c_raw_portable, "portable (slicing-by-8)"};
  }();
  return backend;
}

}  // namespace

uint32_t crc32c_extend(uint32_t crc, const uint8_t* data, std::size_t n) noexcept {
  return ~hardware_backend().fn(~crc, data, n);
}

uint32_t crc32c_extend_portable(uint32_t crc, const uint8_t* data, std::size_t n) noexcept {
  return ~detail::crc32c_raw_portable(~crc, data, n);
}

uint32_t crc32c_extend_hardware(uint32_t crc, const uint8_t* data, std::size_t n) noexcept {
  return crc32c_extend(crc, data, n);
}

const char* crc32c_backend() noexcept { return hardware_backend().name; }

}  // namespace geotfrecord
