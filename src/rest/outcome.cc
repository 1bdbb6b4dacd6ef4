#include "rest/outcome.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "base/log.h"
#include "json/writer.h"

namespace vesta::rest {
namespace {

// https://hl7.org/fhir/R4/valueset-issue-type.html for each category.
const char* IssueTypeFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "informational";
    case StatusCode::kInvalid:
      return "invalid";
    case StatusCode::kUnprocessable:
      return "processing";
    case StatusCode::kNotFound:
      return "not-found";
    case StatusCode::kGone:
      return "deleted";
    case StatusCode::kConflict:
      return "conflict";
    case StatusCode::kPreconditionFailed:
      return "conflict";
    case StatusCode::kNotSupported:
      return "not-supported";
    case StatusCode::kMethodNotAllowed:
      return "not-supported";
    case StatusCode::kNotAcceptable:
      return "not-supported";
    case StatusCode::kUnsupportedMedia:
      return "not-supported";
    case StatusCode::kTooLarge:
      return "too-costly";
    case StatusCode::kInternal:
      return "exception";
    case StatusCode::kUnavailable:
      return "transient";
    case StatusCode::kUnauthenticated:
      return "login";
    case StatusCode::kForbidden:
      return "forbidden";
    case StatusCode::kTooManyRequests:
      return "throttled";
  }
  return "exception";
}

const char* SeverityName(Severity s) {
  switch (s) {
    case Severity::kFatal:
      return "fatal";
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kInformation:
      return "information";
  }
  return "error";
}

void AppendIssue(const Issue& issue, std::string* out) {
  *out += "{\"severity\":\"";
  *out += SeverityName(issue.severity);
  *out += "\",\"code\":";
  json::WriteString(issue.type, out);
  if (!issue.diagnostics.empty()) {
    *out += ",\"diagnostics\":";
    json::WriteString(issue.diagnostics, out);
  }
  if (!issue.location.empty()) {
    *out += ",\"expression\":[";
    json::WriteString(issue.location, out);
    *out += "]";
  }
  *out += "}";
}

// A 500 or a 503 is the server's failure, not the client's, so the node's log says why: a bug
// (500) or the database unreachable or busy (503). 501 (not implemented) is not logged. An outage
// answers thousands of requests with the same 503, so each cause (the status and the message's
// last part, after its last ": ", e.g. "canceling statement due to statement timeout [SQLSTATE
// 57014]") is logged at most once per interval, with the number of answers left out since.
void LogServerError(int http_status, const Status& status) {
  constexpr auto kInterval = std::chrono::seconds(5);
  constexpr size_t kMaxCauses = 64;  // past it, the rest share one entry
  struct Last {
    std::chrono::steady_clock::time_point logged;
    int64_t left_out = 0;
  };
  static std::mutex mu;
  static std::map<std::string, Last> last;
  const std::string& message = status.message();
  size_t colon = message.rfind(": ");
  std::string cause = std::to_string(http_status) + " " +
                      message.substr(colon == std::string::npos ? 0 : colon + 2, 120);
  const auto now = std::chrono::steady_clock::now();
  int64_t left_out = 0;
  {
    std::lock_guard lock(mu);
    if (last.size() >= kMaxCauses && !last.contains(cause)) cause = "other";
    Last& slot = last[cause];
    if (slot.logged != std::chrono::steady_clock::time_point{} && now - slot.logged < kInterval) {
      ++slot.left_out;
      return;
    }
    slot.logged = now;
    left_out = std::exchange(slot.left_out, 0);
  }
  std::string line = "answered " + std::to_string(http_status) + ": " + message;
  if (left_out > 0) {
    line += " (and " + std::to_string(left_out) + " more answers for the same cause since, " +
            "not logged)";
  }
  if (http_status == 503) {
    LogWarning(line);
  } else {
    LogError(line);
  }
}

}  // namespace

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalid:
      return 400;
    case StatusCode::kUnprocessable:
      return 422;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kGone:
      return 410;
    case StatusCode::kConflict:
      return 409;
    case StatusCode::kPreconditionFailed:
      return 412;
    case StatusCode::kNotSupported:
      return 501;
    case StatusCode::kMethodNotAllowed:
      return 405;
    case StatusCode::kNotAcceptable:
      return 406;
    case StatusCode::kUnsupportedMedia:
      return 415;
    case StatusCode::kTooLarge:
      return 413;
    case StatusCode::kInternal:
      return 500;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kForbidden:
      return 403;
    case StatusCode::kTooManyRequests:
      return 429;
  }
  return 500;
}

std::string OperationOutcomeJson(const Status& status) {
  std::string out = "{\"resourceType\":\"OperationOutcome\",\"issue\":[";
  if (status.issues().empty()) {
    Issue issue;
    issue.severity = status.ok() ? Severity::kInformation : Severity::kError;
    issue.type = IssueTypeFor(status.code());
    issue.diagnostics = status.message();
    AppendIssue(issue, &out);
  } else {
    bool first = true;
    for (const Issue& issue : status.issues()) {
      if (!first) out += ",";
      first = false;
      AppendIssue(issue, &out);
    }
  }
  out += "]}";
  return out;
}

std::string InformationOutcomeJson(const std::string& message) {
  return InformationOutcomeJson(message, {});
}

std::string InformationOutcomeJson(const std::string& message, const std::vector<Issue>& warnings) {
  std::string out = "{\"resourceType\":\"OperationOutcome\",\"issue\":[";
  AppendIssue(Issue{Severity::kInformation, "informational", message, ""}, &out);
  for (const Issue& w : warnings) {
    out += ",";
    AppendIssue(w, &out);
  }
  out += "]}";
  return out;
}

Response ErrorResponse(const Status& status) {
  Response r;
  r.status = HttpStatusFor(status.code());
  r.headers.emplace_back("Content-Type", "application/fhir+json; charset=utf-8");
  r.body = OperationOutcomeJson(status);
  if (r.status == 500 || r.status == 503) LogServerError(r.status, status);
  return r;
}

}  // namespace vesta::rest
