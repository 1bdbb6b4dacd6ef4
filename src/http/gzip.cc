// gzip (RFC 1952) with zlib; see gzip.h.
#include "http/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <climits>

namespace vesta::http::internal {
namespace {

constexpr int kGzipLevel = 5;  // compression vs CPU: level 5 is close to 6 in size, faster

}  // namespace

bool GzipCompress(std::string_view in, std::string& out) {
  if (in.size() > UINT_MAX) return false;
  z_stream zs{};
  // windowBits 15 + 16: write a gzip header and trailer instead of a zlib wrapper.
  if (deflateInit2(&zs, kGzipLevel, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return false;
  }
  out.resize(deflateBound(&zs, static_cast<uLong>(in.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  size_t produced = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return false;
  out.resize(produced);
  return true;
}

InflateResult GzipInflate(std::string_view in, size_t limit, std::string& out) {
  out.clear();
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return InflateResult::kCorrupt;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  size_t remaining_in = in.size();
  std::array<char, 64 * 1024> chunk;
  InflateResult result = InflateResult::kCorrupt;
  for (;;) {
    if (zs.avail_in == 0 && remaining_in > 0) {
      zs.avail_in = static_cast<uInt>(std::min<size_t>(remaining_in, UINT_MAX));
      remaining_in -= zs.avail_in;
    }
    zs.next_out = reinterpret_cast<Bytef*>(chunk.data());
    zs.avail_out = static_cast<uInt>(chunk.size());
    int rc = inflate(&zs, Z_NO_FLUSH);
    size_t produced = chunk.size() - zs.avail_out;
    if (out.size() + produced > limit) {
      result = InflateResult::kTooLarge;
      break;
    }
    out.append(chunk.data(), produced);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0 && remaining_in == 0) {
        result = InflateResult::kOk;
        break;
      }
      if (inflateReset(&zs) != Z_OK) break;  // another gzip member follows
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && remaining_in == 0) break;  // truncated
    if (rc != Z_OK && rc != Z_BUF_ERROR) break;
  }
  inflateEnd(&zs);
  return result;
}

}  // namespace vesta::http::internal
