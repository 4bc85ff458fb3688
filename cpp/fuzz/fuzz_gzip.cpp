// libFuzzer target: gzip streams (any number of members) from untrusted bytes, then the TFRecord
// framing inside them. Output is capped so that a small "gzip bomb" input cannot exhaust memory.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "geotfrecord/gzip_stream.hpp"
#include "geotfrecord/record_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  constexpr std::size_t kChunk = 97;
  constexpr std::size_t kMaxOutput = 16 << 20;
  geotfrecord::GzipDecompressor inflater;
  geotfrecord::RecordParser parser(1 << 20);
  std::vector<uint8_t> payload;
  std::vector<std::size_t> sizes;
  std::size_t produced = 0;
  try {
    for (std::size_t at = 0; at < size && produced < kMaxOutput; at += kChunk) {
      std::vector<uint8_t> out;
      inflater.decompress(data + at, at + kChunk <= size ? kChunk : size - at, out);
      produced += out.size();
      parser.feed(out.data(), out.size(), payload, sizes);
    }
    inflater.finish();
    parser.finish();
  } catch (const geotfrecord::GzipFormatError&) {
  } catch (const geotfrecord::RecordFormatError&) {
  }
  return 0;
}
