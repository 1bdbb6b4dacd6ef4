// [base]/ViewDefinition/$viewdefinition-run: a SQL on FHIR v2 view run over HTTP
// (https://sql-on-fhir.org/ig/latest/OperationDefinition-ViewDefinitionRun.html).
//
// Parameters, in a Parameters body (and _format, header, _limit, patient, _since also in the
// query):
//   viewResource  the ViewDefinition, inline
//   viewReference a stored ViewDefinition (view_store.cc): "ViewDefinition/[id]" or "[id]"; the
//                 instance level, [base]/ViewDefinition/[id]/$viewdefinition-run (GET or POST),
//                 runs that view
//   resource      resources to run the view over instead of the store (repeated)
//   _format       csv | ndjson | json, or their media types; else Accept; else json
//   header        csv only: false leaves out the header row (default true)
//   _limit        at most this many rows
//   patient       over the store: only the patient's compartment (Patient: that patient)
//   _since        over the store: only resources last updated after this instant
//   group         over the store: only the compartments of the Group's patients (Group.member,
//                 nested groups, inactive members left out: bulk/group_members.h)
// An invalid view is a 400 OperationOutcome whose diagnostics begin with the place in the view
// (views/view.h); a resource the view fails on is a 400 naming the resource and the place. Over
// the store the view's type is read page by page with Store::Search, narrowed to what the caller's
// token may search (rest/access.h, NarrowSearch).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bulk/group_members.h"
#include "fhir/validate/validator.h"
#include "rest/access.h"
#include "rest/context.h"
#include "rest/outcome.h"
#include "views/output.h"
#include "views/runner.h"
#include "views/view.h"

namespace vesta::rest {
namespace {

constexpr int kPageSize = 1000;

struct RunParams {
  const json::Value* view = nullptr;
  std::vector<const json::Value*> resources;
  std::string format;
  bool header = true;
  int64_t limit = -1;
  std::string patient;
  std::string since;
  std::string view_reference;  // a stored view's id
  std::string group;           // a Group's id: its patients' compartments
};

// The text of a primitive value[x] of a Parameters entry ("" when it has none).
std::string PrimitiveValue(const json::Value& p) {
  for (const auto& m : p.members()) {
    if (!m.key.starts_with("value")) continue;
    if (m.value.is_string()) return std::string(m.value.string_value());
    if (m.value.is_number()) return std::string(m.value.number_text());
    if (m.value.is_bool()) return m.value.bool_value() ? "true" : "false";
    if (m.value.is_object()) {  // valueReference
      return std::string(m.value.FindString("reference"));
    }
  }
  return "";
}

Status SetScalar(const std::string& name, const std::string& value, RunParams* p) {
  if (name == "_format") {
    p->format = value;
  } else if (name == "header") {
    if (value != "true" && value != "false") return Invalid("header: must be true or false");
    p->header = value == "true";
  } else if (name == "_limit") {
    char* end = nullptr;
    const long long n = std::strtoll(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || n < 0) {
      return Invalid("_limit: '" + value + "' is not a non-negative integer");
    }
    p->limit = n;
  } else if (name == "patient") {
    p->patient = value.starts_with("Patient/") ? value.substr(8) : value;
    if (!fhir::IsValidId(p->patient)) return Invalid("patient: '" + value + "' is not a patient");
  } else if (name == "_since") {
    p->since = value;
  } else if (name == "group") {
    p->group = value.starts_with("Group/") ? value.substr(6) : value;
    if (!fhir::IsValidId(p->group)) return Invalid("group: '" + value + "' is not a Group");
  } else if (name == "viewReference") {
    p->view_reference = value.starts_with("ViewDefinition/") ? value.substr(15) : value;
    if (!fhir::IsValidId(p->view_reference)) {
      return Invalid("viewReference: '" + value + "' is not a ViewDefinition reference");
    }
  }
  return Status::Ok();
}

Result<RunParams> ReadParams(const Request& request, const json::Value* body) {
  RunParams p;
  for (const auto& [name, value] : request.query) RETURN_IF_ERROR(SetScalar(name, value, &p));
  if (body == nullptr) return p;
  if (!body->is_object() || body->FindString("resourceType") != "Parameters") {
    return Invalid("the body must be a Parameters resource");
  }
  const json::Value* params = body->Find("parameter");
  if (params == nullptr || !params->is_array()) return p;
  size_t i = 0;
  for (const json::Value& entry : params->items()) {
    const std::string name(entry.FindString("name"));
    const std::string where = "Parameters.parameter[" + std::to_string(i++) + "]";
    if (name == "viewResource" || name == "resource") {
      const json::Value* r = entry.Find("resource");
      if (r == nullptr || !r->is_object()) return Invalid(where + " (" + name + "): no resource");
      if (name == "viewResource") {
        p.view = r;
      } else {
        p.resources.push_back(r);
      }
      continue;
    }
    Status st = SetScalar(name, PrimitiveValue(entry), &p);
    if (!st.ok()) return Status(st.code(), where + " (" + st.message() + ")");
  }
  return p;
}

const char* RowsMediaType(views::Format f) {
  switch (f) {
    case views::Format::kCsv:
      return "text/csv";
    case views::Format::kNdjson:
      return "application/x-ndjson";
    case views::Format::kJson:
      return "application/json";
  }
  return "application/json";
}

// Where a run's rows go: the response body while they are few; past kSpillBytes, a spool file
// in the temporary directory that the HTTP server streams and removes (Response::body_file), so
// that the server's memory stays bounded by one page of resources and one chunk of rows.
constexpr size_t kSpillBytes = size_t{1} << 20;

class RowSink {
 public:
  explicit RowSink(Response* r) : r_(r) {}
  ~RowSink() {
    if (file_ != nullptr) std::fclose(file_);
    if (!path_.empty() && !done_) ::unlink(path_.c_str());
  }
  std::string& buffer() { return buffer_; }
  // Moves the buffer to the spool file once it is large enough.
  Status Flush(bool force) {
    if (buffer_.size() < (file_ == nullptr ? kSpillBytes : kChunkBytes) && !force) {
      return Status::Ok();
    }
    if (file_ == nullptr) RETURN_IF_ERROR(Open());
    if (!buffer_.empty()) {
      if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
        return Internal("writing the rows to " + path_ + " failed");
      }
      buffer_.clear();
    }
    return Status::Ok();
  }
  // Puts the rows into the response: the buffer, or the spool file.
  Status Finish() {
    if (file_ == nullptr) {
      r_->body = std::move(buffer_);
      return Status::Ok();
    }
    RETURN_IF_ERROR(Flush(true));
    const bool closed = std::fclose(file_) == 0;
    file_ = nullptr;
    if (!closed) return Internal("writing the rows to " + path_ + " failed");
    r_->body_file = path_;
    r_->remove_body_file = true;
    done_ = true;
    return Status::Ok();
  }

 private:
  static constexpr size_t kChunkBytes = 64 * 1024;
  Status Open() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "vesta-view-run-XXXXXX").string();
    const int fd = ::mkstemp(pattern.data());
    if (fd < 0) return Internal("cannot make a spool file in the temporary directory");
    path_ = pattern;
    file_ = ::fdopen(fd, "wb");
    if (file_ == nullptr) {
      ::close(fd);
      return Internal("cannot open " + path_);
    }
    return Status::Ok();
  }

  Response* r_;
  std::string buffer_;
  std::FILE* file_ = nullptr;
  std::string path_;
  bool done_ = false;
};

// Runs a view into a RowSink, stopping at `limit` rows.
class LimitedRun {
 public:
  LimitedRun(const views::View& view, views::Format format, bool header, int64_t limit,
             RowSink* out)
      : runner_(view), writer_(view, format), limit_(limit), out_(out) {
    std::string begin;
    writer_.Begin(&begin);
    if (header || format != views::Format::kCsv) out_->buffer() += begin;
  }
  bool full() const { return limit_ >= 0 && rows_ >= limit_; }
  Status Add(const json::Value& resource) {
    if (full()) return Status::Ok();
    RETURN_IF_ERROR(runner_.Run(resource, [&](const views::Row& row) {
      if (full()) return;
      writer_.Write(row, &out_->buffer());
      ++rows_;
    }));
    return out_->Flush(false);
  }
  Status Finish() {
    writer_.End(&out_->buffer());
    return out_->Finish();
  }

 private:
  views::Runner runner_;
  views::RowWriter writer_;
  int64_t limit_;
  int64_t rows_ = 0;
  RowSink* out_;
};

// One patient's compartment (or, with `patient` empty, every resource of the type). With `seen`,
// a resource already run (in another member's compartment) is skipped.
Status RunOverPatient(const Context& ctx, const Request& request, const RunParams& p,
                      const views::View& view, const std::string& patient,
                      std::set<std::string>* seen, LimitedRun* run) {
  const std::string& type = view.resource_type();
  std::string cursor;
  while (!run->full()) {
    store::SearchQuery q;
    q.types = {type};
    q.params.emplace_back("_count", std::to_string(kPageSize));
    if (!p.since.empty()) q.params.emplace_back("_lastUpdated", "gt" + p.since);
    if (!patient.empty()) {
      if (type == "Patient") {
        q.params.emplace_back("_id", patient);
      } else {
        q.compartment_patient = patient;
      }
    }
    if (!cursor.empty()) q.params.emplace_back("_cursor", cursor);
    q.default_count = kPageSize;
    q.max_count = kPageSize;
    q.strict = true;
    RETURN_IF_ERROR(NarrowSearch(ctx, request, type, &q));
    ASSIGN_OR_RETURN(store::SearchPage page, ctx.store.Search(q));
    for (const store::SearchHit& hit : page.entries) {
      if (hit.mode != store::SearchMode::kMatch || hit.version.deleted) continue;
      if (seen != nullptr && !seen->insert(hit.version.id).second) continue;
      Result<json::Document> doc = json::Parse(hit.version.json);
      if (!doc.ok()) {
        return Internal(hit.version.type + "/" + hit.version.id +
                        ": stored JSON does not parse: " + doc.status().message());
      }
      RETURN_IF_ERROR(run->Add(doc->root()));
    }
    if (page.next_cursor.empty()) break;
    cursor = std::move(page.next_cursor);
  }
  return Status::Ok();
}

// Over the store: everything, a patient's compartment, or the compartments of a group's patients
// (bulk/group_members.h; a resource in several of them once). `patient` and `group` together: the
// patient, if the group has it.
Status RunOverStore(const Context& ctx, const Request& request, const RunParams& p,
                    const views::View& view, LimitedRun* run) {
  if (p.group.empty()) return RunOverPatient(ctx, request, p, view, p.patient, nullptr, run);
  ASSIGN_OR_RETURN(
      std::vector<std::string> patients,
      bulk::GroupPatients(
          ctx.store, p.group,
          [&](std::string_view severity, std::string_view, const std::string& message) -> Status {
            // The group itself must exist; members that give no
            // patient are skipped.
            if (severity == "error" && message == "Group/" + p.group + " is not known") {
              return Status(StatusCode::kNotFound, message);
            }
            return Status::Ok();
          }));
  std::set<std::string> seen;
  for (const std::string& patient : patients) {
    if (!p.patient.empty() && patient != p.patient) continue;
    RETURN_IF_ERROR(RunOverPatient(ctx, request, p, view, patient, &seen, run));
    if (run->full()) break;
  }
  return Status::Ok();
}

}  // namespace

Response ViewRunInteraction(const Context& ctx, const Request& request, const Target& target) {
  // The instance level runs a stored view and may be a GET (every parameter in the query); the
  // type level needs the view, inline in a POSTed Parameters or by viewReference.
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (request.method != "POST" && !(get && !target.id.empty())) {
    const std::string allow = target.id.empty() ? "POST" : "GET, HEAD, POST";
    Response r = ErrorResponse(Status(StatusCode::kMethodNotAllowed,
                                      request.method + " is not allowed here; allowed: " + allow));
    r.SetHeader("Allow", allow);
    return r;
  }
  std::optional<json::Document> body;
  if (!get && !(request.body.empty() && !target.id.empty())) {
    Result<json::Document> parsed = json::Parse(request.body);
    if (!parsed.ok()) {
      return ErrorResponse(Invalid("the body is not JSON: " + parsed.status().message()));
    }
    body = std::move(parsed).value();
  }
  Result<RunParams> params = ReadParams(request, body ? &body->root() : nullptr);
  if (!params.ok()) return ErrorResponse(params.status());
  RunParams& p = *params;
  std::string stored_id = target.id.empty() ? p.view_reference : target.id;
  std::optional<json::Document> stored;
  if (!stored_id.empty() && p.view != nullptr) {
    return ErrorResponse(Invalid(
        target.id.empty() ? "viewReference and viewResource: give one view, not both"
                          : "viewResource: the instance level runs the stored view; give the view "
                            "inline at [base]/ViewDefinition/$viewdefinition-run instead"));
  }
  if (!stored_id.empty()) {
    Result<store::StoredVersion> v = ReadStoredView(ctx, request, stored_id);
    if (!v.ok()) return ErrorResponse(v.status());
    Result<json::Document> doc = json::Parse(v->json);
    if (!doc.ok()) return ErrorResponse(doc.status());
    stored = std::move(doc).value();
    p.view = &stored->root();
  }
  if (p.view == nullptr) {
    return ErrorResponse(Invalid("viewResource: a ViewDefinition is required (or viewReference)"));
  }

  views::Format format = views::Format::kJson;
  std::string wanted = p.format;
  if (wanted.empty()) {
    const std::string_view accept = request.Header("Accept");
    const std::string first(accept.substr(0, accept.find_first_of(",;")));
    if (views::ParseFormat(first).ok()) wanted = first;
  }
  if (!wanted.empty()) {
    Result<views::Format> f = views::ParseFormat(wanted);
    if (!f.ok()) {
      return ErrorResponse(Invalid("_format: '" + wanted + "' is not one of csv, ndjson and json"));
    }
    format = *f;
  }

  Result<views::View> view = views::View::Parse(*p.view);
  if (!view.ok()) return ErrorResponse(Invalid("viewResource: " + view.status().message()));

  Response r;
  RowSink sink(&r);
  LimitedRun run(*view, format, p.header, p.limit, &sink);
  Status st = Status::Ok();
  if (!p.resources.empty()) {
    for (const json::Value* resource : p.resources) {
      st = run.Add(*resource);
      if (!st.ok() || run.full()) break;
    }
  } else {
    st = RunOverStore(ctx, request, p, *view, &run);
  }
  if (st.ok()) st = run.Finish();
  if (!st.ok()) return ErrorResponse(st);
  r.status = 200;
  r.SetHeader("Content-Type", RowsMediaType(format));
  return r;
}

}  // namespace vesta::rest
