// libFuzzer target: TFRecord framing from untrusted bytes, fed in chunks whose size the input picks.
// Any outcome but records or RecordFormatError (a crash, a sanitizer report, another exception) is a bug.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "geotfrecord/record_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = 1 + data[0] % 64;
  geotfrecord::RecordParser parser(1 << 20);
  std::vector<uint8_t> payload;
  std::vector<std::size_t> sizes;
  try {
    for (std::size_t at = 1; at < size; at += chunk) {
      const std::size_t n = at + chunk <= size ? chunk : size - at;
      parser.feed(data + at, n, payload, sizes);
    }
    parser.finish();
  } catch (const geotfrecord::RecordFormatError&) {
  }
  std::size_t total = 0;
  for (const auto s : sizes) total += s;
  if (total != payload.size()) __builtin_trap();  // the sizes must describe the payload exactly
  return 0;
}
