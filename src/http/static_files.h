// The files of a built browser app served under a path prefix (`vesta serve` serves the web app
// of web/ at /app/; docs/web-app.md). Knows nothing of FHIR.
//
//   http::StaticFiles app("/usr/share/vesta/web", "/app");
//   if (std::optional<http::Response> r = app.Handle(req)) return *r;   // under /app
//
// - `/app` redirects to `/app/`; `/app/` and every path under it that names no file and has no
//   file extension is answered with index.html, so the app's own routes (`/app/patient/123`)
//   load the app (HTML5 history routing).
// - A path with a `.` or `..` segment, an empty segment, a backslash or a NUL is a 404, and a file
//   is served only when its real path is inside the root (no way out through a symbolic link).
// - Content-Type from the extension; `Cache-Control: public, max-age=31536000, immutable` for
//   files under `assets/` (the bundler puts a content hash in their names), `no-cache` for the
//   rest (index.html: revalidated, so a new build is seen at once); `X-Content-Type-Options:
//   nosniff` and a Content-Security-Policy that allows only this origin.
// - GET and HEAD only (405 with Allow otherwise).
//
// The files are small (the bundle is tens of KiB) and read whole into the response body per
// request, so that the server's gzip applies; a new build in the root is served without a
// restart. Thread-safe (const after construction).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "http/server.h"

namespace vesta::http {

class StaticFiles {
 public:
  // `root`: the folder of the built files (index.html at its top); `prefix`: the path they are
  // served under, without a trailing slash ("/app").
  StaticFiles(std::string root, std::string prefix);

  // Whether the root holds an index.html (the app is built).
  bool available() const;
  const std::string& root() const { return root_; }

  // The response for a request under the prefix; nullopt for any other path.
  std::optional<Response> Handle(const Request& req) const;

 private:
  Response File(const std::string& relative) const;

  std::string root_;  // real path when it exists
  std::string prefix_;
};

// Whether a request for `/` comes from a browser's navigation rather than an API client: a GET
// whose Accept names text/html and no FHIR format, and with no _format parameter. Browsers send
// "text/html,application/xhtml+xml,..."; FHIR clients send application/fhir+json (or +xml), or
// nothing.
bool IsBrowserNavigation(const Request& req);

// The Content-Type for a file name by its extension ("application/octet-stream" when unknown).
std::string_view ContentTypeFor(std::string_view file_name);

}  // namespace vesta::http
