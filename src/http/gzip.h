// gzip (RFC 1952) with zlib, for response bodies and gzip-encoded request bodies. Internal to
// vesta_http; no Beast, no sockets.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vesta::http::internal {

// Compresses `in` into one gzip member in `out`. False on a zlib failure (the caller then sends
// the body uncompressed).
bool GzipCompress(std::string_view in, std::string& out);

enum class InflateResult { kOk, kCorrupt, kTooLarge };

// Inflates a gzip body (possibly several members, RFC 1952 §2.2) into `out`, refusing to produce
// more than `limit` bytes so that a small "zip bomb" cannot exhaust memory. kCorrupt also for a
// truncated body.
InflateResult GzipInflate(std::string_view in, size_t limit, std::string& out);

}  // namespace vesta::http::internal
