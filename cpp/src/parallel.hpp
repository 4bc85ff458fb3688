// Tiny fork-join helpers for the encoders: records are sized, laid out back to back, then filled in
// parallel; each record's bytes depend only on its input, so the output never depends on threads.
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "geotfrecord/record_writer.hpp"

namespace geotfrecord::detail {

// Runs fn(i) for i in [0, n) on up to `threads` threads, in contiguous ranges.
template <typename Fn>
inline void parallel_for(std::size_t n, unsigned threads, Fn fn) {
  const std::size_t workers = std::max<std::size_t>(1, std::min<std::size_t>(threads, n));
  if (workers <= 1) {
    for (std::size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::vector<std::thread> pool;
  std::exception_ptr error;
  std::mutex error_lock;
  const std::size_t per = (n + workers - 1) / workers;
  for (std::size_t w = 0; w < workers; ++w) {
    const std::size_t begin = w * per;
    const std::size_t end = std::min(n, begin + per);
    if (begin >= end) break;
    pool.emplace_back([&, begin, end] {
      try {
        for (std::size_t i = begin; i < end; ++i) fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> guard(error_lock);
        if (!error) error = std::current_exception();
      }
    });
  }
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

// Sizes every record with `size_of(i)`, lays them out back to back, then fills them with `write(i, at)`.
template <typename SizeOf, typename Write>
inline EncodedRecords lay_out(std::size_t count, unsigned threads, SizeOf size_of, Write write) {
  EncodedRecords out;
  out.sizes.resize(count);
  parallel_for(count, threads, [&](std::size_t i) { out.sizes[i] = size_of(i); });
  std::vector<std::size_t> offsets(count);
  std::size_t total = 0;
  for (std::size_t i = 0; i < count; ++i) {
    offsets[i] = total;
    total += out.sizes[i];
  }
  out.bytes.resize(total);
  parallel_for(count, threads, [&](std::size_t i) { write(i, out.bytes.data() + offsets[i]); });
  return out;
}

}  // namespace geotfrecord::detail
