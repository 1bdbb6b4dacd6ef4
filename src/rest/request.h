// The REST layer's request and response: HTTP-shaped, but independent of the HTTP server, so that
// the same interactions serve HTTP, transaction Bundle entries and in-process callers.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/caller.h"

namespace vesta::rest {

using HeaderList = std::vector<std::pair<std::string, std::string>>;
using QueryList = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // GET, HEAD, POST, PUT, DELETE, PATCH
  std::string path;    // percent-decoded, without the query: "/Patient/1/_history/2"
  QueryList query;     // decoded, in order
  HeaderList headers;
  std::string body;
  // Who is asking, from the verified access token; null when authorization is off. Set by
  // RestApi::Handle only (never from anything the client sends), and carried to the entries of a
  // batch or transaction.
  std::shared_ptr<const auth::Caller> caller;
  // Whether the request came over TLS (links then say https:// when no base URL is configured).
  bool secure = false;

  // The first header with this name (case-insensitive); "" when absent.
  std::string_view Header(std::string_view name) const;
  // The first query parameter with this name; nullptr when absent.
  const std::string* Param(std::string_view name) const;
};

struct Response {
  int status = 200;
  HeaderList headers;
  std::string body;
  // When set, the body is this file's content instead of `body`, streamed by the HTTP server
  // (http::Response::body_file): Bulk Data export files.
  std::string body_file;
  bool remove_body_file = false;  // http::Response::remove_body_file
  // Lenient validation's warnings about the resource written, as an OperationOutcome (or ""):
  // what a batch puts in the entry's response.outcome.
  std::string warnings_outcome;
  // Who asked (the verified token's caller; null without a token or with authorization off),
  // for the audit trail of the layer that called RestApi::Handle.
  std::shared_ptr<const auth::Caller> caller;

  void SetHeader(std::string name, std::string value);
};

}  // namespace vesta::rest
