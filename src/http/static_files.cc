#include "http/static_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

#include "base/strings.h"

namespace vesta::http {
namespace {

namespace fs = std::filesystem;

constexpr char kSecurityPolicy[] =
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

Response Plain(int status, std::string body) {
  return Response{status, {{"Content-Type", "text/plain; charset=utf-8"}}, std::move(body), ""};
}

// Each segment of a decoded path under the prefix: no "." or "..", no empty segment (except a
// trailing slash), no backslash or NUL.
bool SafeRelativePath(std::string_view relative) {
  if (relative.find('\\') != std::string_view::npos ||
      relative.find('\0') != std::string_view::npos) {
    return false;
  }
  std::vector<std::string_view> segments = Split(relative, '/');
  for (size_t i = 0; i < segments.size(); ++i) {
    std::string_view s = segments[i];
    if (s == "." || s == "..") return false;
    if (s.empty() && i + 1 != segments.size()) return false;
  }
  return true;
}

bool HasExtension(std::string_view relative) {
  const size_t slash = relative.rfind('/');
  std::string_view last = slash == std::string_view::npos ? relative : relative.substr(slash + 1);
  return last.find('.') != std::string_view::npos;
}

std::optional<std::string> ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::move(out).str();
}

}  // namespace

std::string_view ContentTypeFor(std::string_view file_name) {
  struct Type {
    std::string_view extension;
    std::string_view content_type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
      {".woff2", "font/woff2"},
      {".webmanifest", "application/manifest+json"},
  };
  for (const Type& t : kTypes) {
    if (file_name.ends_with(t.extension)) return t.content_type;
  }
  return "application/octet-stream";
}

bool IsBrowserNavigation(const Request& req) {
  if (req.method != "GET" && req.method != "HEAD") return false;
  for (const auto& [name, value] : req.query) {
    if (name == "_format") return false;
  }
  const std::string accept = Lower(req.Header("Accept"));
  return accept.find("text/html") != std::string::npos && accept.find("fhir") == std::string::npos;
}

StaticFiles::StaticFiles(std::string root, std::string prefix) : prefix_(std::move(prefix)) {
  std::error_code ec;
  fs::path real = fs::canonical(root, ec);
  root_ = ec ? std::move(root) : real.string();
}

bool StaticFiles::available() const {
  std::error_code ec;
  return fs::is_regular_file(fs::path(root_) / "index.html", ec);
}

std::optional<Response> StaticFiles::Handle(const Request& req) const {
  if (req.path == prefix_) {
    Response r = Plain(301, "moved to " + prefix_ + "/\n");
    r.headers.emplace_back("Location", prefix_ + "/");
    return r;
  }
  if (!req.path.starts_with(prefix_ + "/")) return std::nullopt;
  if (req.method != "GET" && req.method != "HEAD") {
    Response r = Plain(405, "the app's files are read with GET\n");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  const std::string relative = req.path.substr(prefix_.size() + 1);
  if (!SafeRelativePath(relative)) return Plain(404, "not found\n");
  if (!available()) {
    return Plain(404,
                 "the web app is not built: build the vesta_web target, or give vesta serve "
                 "--app-dir\n");
  }
  if (relative.empty() || relative.back() == '/') return File("index.html");
  std::error_code ec;
  const fs::path wanted = fs::path(root_) / relative;
  if (fs::is_regular_file(wanted, ec)) return File(relative);
  // A client-side route (no extension) loads the app; a missing asset is a 404.
  if (HasExtension(relative)) return Plain(404, "not found\n");
  return File("index.html");
}

Response StaticFiles::File(const std::string& relative) const {
  std::error_code ec;
  const fs::path real = fs::canonical(fs::path(root_) / relative, ec);
  const std::string real_text = real.string();
  if (ec || !real_text.starts_with(root_ + "/")) return Plain(404, "not found\n");
  std::optional<std::string> body = ReadWhole(real_text);
  if (!body) return Plain(500, "the file cannot be read\n");
  Response r{200, {{"Content-Type", std::string(ContentTypeFor(relative))}}, "", ""};
  r.headers.emplace_back("Cache-Control", relative.starts_with("assets/")
                                              ? "public, max-age=31536000, immutable"
                                              : "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Content-Security-Policy", kSecurityPolicy);
  r.body = std::move(*body);  // the server sends only the header for HEAD
  return r;
}

}  // namespace vesta::http
