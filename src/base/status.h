// Status and Result<T>: errors as values.
//
// A Status is either OK or carries what an OperationOutcome needs: a code (which maps to an
// HTTP status in one place, rest/outcome.cc), a human-readable message and, optionally, a list of
// issues each with a FHIRPath location. Library exceptions are caught at the adapter that calls
// the library and turned into a Status; they never cross a module boundary.
//
//   Result<Document> doc = json::Parse(body);
//   if (!doc.ok()) return doc.status();
//
//   ASSIGN_OR_RETURN(auto doc, json::Parse(body));
//   RETURN_IF_ERROR(Validate(doc));
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace vesta {

// The error categories. Pick the narrowest that fits; rest/outcome.cc maps each to an HTTP
// status and an OperationOutcome issue type.
enum class StatusCode {
  kOk,
  kInvalid,        // the input is malformed or breaks a rule of the spec (400)
  kUnprocessable,  // well-formed but fails a business rule or profile check (422)
  kNotFound,       // no such resource, version or route (404)
  kGone,           // the resource was deleted (410)
  kConflict,       // the request conflicts with the current state, e.g. a concurrent write (409)
  kPreconditionFailed,  // If-Match / conditional precondition not met (412)
  kNotSupported,        // a known interaction or feature that this server does not do (501/405)
  kMethodNotAllowed,    // the method is not allowed on this path (405)
  kNotAcceptable,       // the requested format is not served (406)
  kUnsupportedMedia,    // the request body's media type is not accepted (415)
  kTooLarge,            // the request body is over the configured limit (413)
  kInternal,            // a bug or an environment failure (500)
  kUnavailable,         // the server is shutting down or overloaded (503)
  kUnauthenticated,     // no credentials, or credentials that are not valid (401)
  kForbidden,           // valid credentials that do not allow this request (403)
  kTooManyRequests,     // a limit on concurrent work was reached; try again later (429)
};

// The severity of one issue in an OperationOutcome.
enum class Severity { kFatal, kError, kWarning, kInformation };

// One problem found in the input: what it is and where (a FHIRPath expression such as
// "Patient.name[0].given[1]"). The `type` is an OperationOutcome issue-type code
// (https://hl7.org/fhir/R4/valueset-issue-type.html), e.g. "invalid", "structure", "value".
struct Issue {
  Severity severity = Severity::kError;
  std::string type = "invalid";
  std::string diagnostics;
  std::string location;  // FHIRPath; empty when the issue is not about one element
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  Status(StatusCode code, std::string message, std::vector<Issue> issues)
      : code_(code), message_(std::move(message)), issues_(std::move(issues)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // The individual problems; empty means the message alone describes the error.
  const std::vector<Issue>& issues() const { return issues_; }

  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::vector<Issue> issues_;
};

inline Status Invalid(std::string m) { return Status(StatusCode::kInvalid, std::move(m)); }
inline Status NotFound(std::string m) { return Status(StatusCode::kNotFound, std::move(m)); }
inline Status Internal(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }
inline Status Conflict(std::string m) { return Status(StatusCode::kConflict, std::move(m)); }
inline Status Unauthenticated(std::string m) {
  return Status(StatusCode::kUnauthenticated, std::move(m));
}
inline Status Forbidden(std::string m) { return Status(StatusCode::kForbidden, std::move(m)); }
inline Status NotSupported(std::string m) {
  return Status(StatusCode::kNotSupported, std::move(m));
}

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok() && "Result built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  // REQUIRES: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace vesta

#define VESTA_CONCAT_INNER(a, b) a##b
#define VESTA_CONCAT(a, b) VESTA_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    ::vesta::Status vesta_status_ = (expr);        \
    if (!vesta_status_.ok()) return vesta_status_; \
  } while (0)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(VESTA_CONCAT(vesta_result_, __LINE__), lhs, expr)
