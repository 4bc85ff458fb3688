// Gzip streams on zlib-ng's native API: a streaming compressor that writes gzip members, and a
// decompressor that reads any number of concatenated members.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace geotfrecord {

// Corrupt or truncated gzip data.
class GzipFormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "zlib-ng 2.3.3"
std::string deflate_library_version();

// Streams input into gzip members. A member is started by the first byte after construction or after
// finish(); finish() with no input since then writes nothing, because an empty member followed by more
// data can make TensorFlow's GZIP reader stop early.
class GzipCompressor {
 public:
  explicit GzipCompressor(int level = 6);
  ~GzipCompressor();
  GzipCompressor(const GzipCompressor&) = delete;
  GzipCompressor& operator=(const GzipCompressor&) = delete;

  // Appends the compressed form of `data` (possibly nothing yet) to `out`.
  void compress(const uint8_t* data, std::size_t size, std::vector<uint8_t>& out);
  // Ends the current member, appending its remaining bytes and trailer to `out`.
  void finish(std::vector<uint8_t>& out);
  bool member_open() const noexcept { return member_open_; }
  int level() const noexcept { return level_; }

 private:
  struct State;
  std::unique_ptr<State> state_;
  int level_;
  bool member_open_ = false;
};

// One complete gzip member of `data` (an empty one if size == 0).
std::vector<uint8_t> gzip_compress(const uint8_t* data, std::size_t size, int level = 6);

#if defined(GEOTFRECORD_HAVE_ISAL)
// The same with ISA-L's igzip (levels 0..3), where the build found libisal.
std::vector<uint8_t> isal_gzip_compress(const uint8_t* data, std::size_t size, int level = 1);
// "isa-l 2.30.0"
std::string isal_library_version();
#endif

class GzipDecompressor {
 public:
  GzipDecompressor();
  ~GzipDecompressor();
  GzipDecompressor(const GzipDecompressor&) = delete;
  GzipDecompressor& operator=(const GzipDecompressor&) = delete;

  // Appends the decompressed bytes of `data` to `out`; members may span calls and follow each other.
  // Stops once `out` has grown by `max_output` bytes, keeping the rest of the input for the next call
  // (with no new data), so that a highly compressible stream never inflates in one piece.
  void decompress(const uint8_t* data, std::size_t size, std::vector<uint8_t>& out,
                  std::size_t max_output = static_cast<std::size_t>(-1));
  // Whether input given earlier is still waiting because of `max_output`.
  bool has_pending_input() const noexcept { return !pending_.empty() || draining_; }
  // Throws GzipFormatError if the input ended inside a member.
  void finish() const;
  bool in_member() const noexcept { return in_member_; }
  uint64_t members() const noexcept { return members_; }

 private:
  struct State;
  std::unique_ptr<State> state_;
  void inflate_from(const uint8_t*& data, std::size_t& size, std::vector<uint8_t>& out, std::size_t limit);

  bool in_member_ = false;
  uint64_t members_ = 0;
  uint64_t consumed_ = 0;
  std::vector<uint8_t> pending_;  // input not yet inflated because the output limit was reached
  bool draining_ = false;         // zlib-ng may hold decoded output that did not fit the last call
};

}  // namespace geotfrecord
