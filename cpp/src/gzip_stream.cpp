#include "geotfrecord/gzip_stream.hpp"

#include <zlib-ng.h>

#include <algorithm>
#include <cstring>
#include <limits>

namespace geotfrecord {
namespace {

// zlib-ng's stream counts are 32-bit; feed at most this much per call.
constexpr std::size_t kMaxStep = std::size_t{1} << 30;
constexpr int kGzipWindowBits = 15 + 16;  // 32 KiB window, gzip wrapper

}  // namespace

std::string deflate_library_version() { return std::string("zlib-ng ") + zlibng_version(); }

struct GzipCompressor::State {
  zng_stream stream{};
};

GzipCompressor::GzipCompressor(int level) : state_(std::make_unique<State>()), level_(level) {
  if (level < 0 || level > 9) throw std::invalid_argument("gzip level must be 0..9, got " + std::to_string(level));
  if (zng_deflateInit2(&state_->stream, level, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("zlib-ng: deflateInit2 failed");
  }
}

GzipCompressor::~GzipCompressor() { zng_deflateEnd(&state_->stream); }

namespace {

// Runs deflate with `flush` until it has consumed all input (and, for Z_FINISH, ended the stream).
void run_deflate(zng_stream& s, int flush, std::vector<uint8_t>& out) {
  for (;;) {
    const std::size_t old = out.size();
    const std::size_t room = std::max<std::size_t>(64 * 1024, zng_deflateBound(&s, s.avail_in));
    const std::size_t step = std::min(room, kMaxStep);
    out.resize(old + step);
    s.next_out = out.data() + old;
    s.avail_out = static_cast<uint32_t>(step);
    const int rc = zng_deflate(&s, flush);
    out.resize(old + (step - s.avail_out));
    if (rc == Z_STREAM_END) return;
    if (rc != Z_OK && rc != Z_BUF_ERROR) throw std::runtime_error("zlib-ng: deflate failed (" + std::to_string(rc) + ")");
    if (flush == Z_NO_FLUSH && s.avail_in == 0 && s.avail_out != 0) return;
  }
}

}  // namespace

void GzipCompressor::compress(const uint8_t* data, std::size_t size, std::vector<uint8_t>& out) {
  zng_stream& s = state_->stream;
  while (size) {
    const std::size_t step = std::min(size, kMaxStep);
    s.next_in = data;
    s.avail_in = static_cast<uint32_t>(step);
    member_open_ = true;
    run_deflate(s, Z_NO_FLUSH, out);
    data += step;
    size -= step;
  }
}

void GzipCompressor::finish(std::vector<uint8_t>& out) {
  if (!member_open_) return;
  zng_stream& s = state_->stream;
  s.next_in = nullptr;
  s.avail_in = 0;
  run_deflate(s, Z_FINISH, out);
  zng_deflateReset(&s);
  member_open_ = false;
}

std::vector<uint8_t> gzip_compress(const uint8_t* data, std::size_t size, int level) {
  GzipCompressor c(level);
  std::vector<uint8_t> out;
  out.reserve(zng_deflateBound(nullptr, static_cast<unsigned long>(std::min(size, kMaxStep))) + 64);
  c.compress(data, size, out);
  if (!c.member_open()) {
    // An empty member: only ever asked for on its own, e.g. for a file that holds no records.
    zng_stream s{};
    zng_deflateInit2(&s, level, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY);
    run_deflate(s, Z_FINISH, out);
    zng_deflateEnd(&s);
    return out;
  }
  c.finish(out);
  return out;
}

struct GzipDecompressor::State {
  zng_stream stream{};
};

GzipDecompressor::GzipDecompressor() : state_(std::make_unique<State>()) {
  if (zng_inflateInit2(&state_->stream, kGzipWindowBits) != Z_OK) throw std::runtime_error("zlib-ng: inflateInit2 failed");
}

GzipDecompressor::~GzipDecompressor() { zng_inflateEnd(&state_->stream); }

void GzipDecompressor::decompress(const uint8_t* data, std::size_t size, std::vector<uint8_t>& out,
                                  std::size_t max_output) {
  const std::size_t limit = out.size() + std::min(max_output, std::numeric_limits<std::size_t>::max() - out.size());
  if (!pending_.empty()) {
    // Earlier input first; new input joins it (the caller only adds input once pending is drained,
    // so this copy stays small).
    pending_.insert(pending_.end(), data, data + size);
    std::vector<uint8_t> input;
    input.swap(pending_);
    const uint8_t* p = input.data();
    std::size_t n = input.size();
    inflate_from(p, n, out, limit);
    pending_.assign(p, p + n);
    return;
  }
  inflate_from(data, size, out, limit);
  pending_.assign(data, data + size);
}

void GzipDecompressor::inflate_from(const uint8_t*& data, std::size_t& size, std::vector<uint8_t>& out,
                                    std::size_t limit) {
  zng_stream& s = state_->stream;
  while (out.size() < limit) {
    const std::size_t step = std::min(size, kMaxStep);
    if (step == 0 && !draining_) break;
    const std::size_t old = out.size();
    const std::size_t want = std::max<std::size_t>(256 * 1024, std::min<std::size_t>(4 * step, kMaxStep));
    const std::size_t room = std::min(want, limit - old);
    out.resize(old + room);
    s.next_in = data;
    s.avail_in = static_cast<uint32_t>(step);
    s.next_out = out.data() + old;
    s.avail_out = static_cast<uint32_t>(room);
    if (step) in_member_ = true;
    const int rc = zng_inflate(&s, Z_NO_FLUSH);
    out.resize(old + (room - s.avail_out));
    const std::size_t used = step - s.avail_in;
    consumed_ += used;
    data += used;
    size -= used;
    // A full output buffer may leave decoded bytes inside zlib-ng: drain them before the next input.
    draining_ = s.avail_out == 0;
    if (rc == Z_STREAM_END) {
      ++members_;
      in_member_ = false;
      draining_ = false;
      zng_inflateReset(&s);
    } else if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_ERROR || rc == Z_MEM_ERROR) {
      const char* why = s.msg ? s.msg : "invalid data";
      throw GzipFormatError("corrupt gzip data near compressed byte offset " + std::to_string(consumed_) +
                            " (member " + std::to_string(members_) + "): " + why);
    } else if (rc == Z_BUF_ERROR && used == 0 && s.avail_out != 0) {
      if (step == 0) break;  // nothing left inside zlib-ng either
      // No progress with both input and room for output: the stream cannot go on.
      throw GzipFormatError("corrupt gzip data near compressed byte offset " + std::to_string(consumed_) +
                            " (member " + std::to_string(members_) + "): inflate made no progress");
    }
  }
}

void GzipDecompressor::finish() const {
  if (in_member_) {
    throw GzipFormatError("truncated gzip data: the input ends inside member " + std::to_string(members_) +
                          " after " + std::to_string(consumed_) + " compressed bytes");
  }
}

}  // namespace geotfrecord
