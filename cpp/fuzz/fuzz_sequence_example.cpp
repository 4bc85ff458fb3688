// libFuzzer target: tf.train.SequenceExample decoding from untrusted bytes.
#include <cstddef>
#include <cstdint>

#include "geotfrecord/example_decoder.hpp"
#include "geotfrecord/protobuf_wire.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  try {
    const auto decoded = geotfrecord::decode_sequence_example(data, size);
    std::size_t steps = 0;
    for (const auto& list : decoded.feature_lists) steps += list.second.size();
    (void)steps;
  } catch (const geotfrecord::wire::DecodeError&) {
  }
  return 0;
}
