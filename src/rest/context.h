// Internal to rest/: what every interaction needs, and the interactions themselves (one .cc
// file each).
#pragma once

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "base/clock.h"
#include "bulk/export_spec.h"
#include "fhir/model/model.h"
#include "fhir/validate/validator.h"
#include "json/parse.h"
#include "rest/api.h"
#include "rest/format.h"
#include "rest/request.h"
#include "search/spec.h"
#include "store/store.h"

namespace vesta::rest {

// Conditional creates and updates that match nothing create: two at once with the same criteria
// would both create, and the next one would find two (412). Each holds the lock of its criteria
// (the type and the query) from its search to its write, so the second finds the first's
// resource. The locks are this process's: nodes of a PostgreSQL deployment do not share them
// (docs/deployment.md).
class ConditionalLocks {
 public:
  // The locks of `keys` (ConditionalKey), taken in one fixed order so that two callers never
  // wait for each other; held until the returned locks are destroyed.
  std::vector<std::unique_lock<std::mutex>> Lock(const std::vector<std::string>& keys);

 private:
  std::array<std::mutex, 256> stripes_;
};

// The key of a conditional request's criteria: the type and the query, in order.
std::string ConditionalKey(const std::string& type, const QueryList& query);

struct Context {
  RestOptions options;
  store::Store& store;
  Clock& clock;
  IdGenerator& ids;
  const fhir::Model& model;
  // Routes a request as if it came over HTTP: batch entries and the reads of a transaction.
  std::function<Response(const Request&)> dispatch;
  std::shared_ptr<ConditionalLocks> conditional_locks = std::make_shared<ConditionalLocks>();
};

// What routing found in the path.
struct Target {
  std::string type;                // "" for system level
  std::string id;                  // "" for type level
  std::optional<int64_t> version;  // /_history/N
};

// The base URL for links in this request's responses, without a trailing slash.
std::string BaseUrl(const Context& ctx, const Request& request);
// W/"N"
std::string ETagFor(int64_t version);
// Parses If-Match / If-None-Match: W/"N" or "N". nullopt when malformed.
std::optional<int64_t> ParseETag(std::string_view value);
// Sets ETag, Last-Modified and Content-Type for a response carrying a stored version.
void SetVersionHeaders(const store::StoredVersion& v, Response* r);
// The current version of `type`/`id`, which may be a deletion (deleted = true); kNotFound
// "Type/id is not known" when the resource never existed.
Result<store::StoredVersion> ReadCurrent(const Context& ctx, const std::string& type,
                                         const std::string& id);
// 410 Gone for a version that is a deletion, with its ETag and Last-Modified
// (https://hl7.org/fhir/R4/http.html#read: "a GET for a deleted resource returns a 410 status
// code").
Response GoneResponse(const store::StoredVersion& deletion, const std::string& message);
// 200 with a stored version as the client asked for it (`view`, `format`) and its ETag and
// Last-Modified: the answer of read and vread.
Response ResourceResponse(const Context& ctx, const store::StoredVersion& v,
                          const ResourceView& view, const OutputFormat& format);
// How resources are validated on write here: strict or lenient (RestOptions), with a lenient
// validation's warnings put in `warnings` (may be null).
fhir::ValidationOptions ValidationFor(const Context& ctx, std::vector<Issue>* warnings);

// The body and headers asked for by Prefer (https://hl7.org/fhir/R4/http.html#ops):
// return=minimal → no body; return=OperationOutcome → an outcome with `message` as information
// and lenient validation's `warnings`; otherwise (representation, the default) the resource.
// With warnings, r->warnings_outcome holds them (a batch entry's response.outcome).
void ApplyPrefer(const Request& request, const OutputFormat& format,
                 const std::string& resource_json, const std::string& message, Response* r,
                 const std::vector<Issue>& warnings = {});

Response ReadInteraction(const Context& ctx, const Request& request, const OutputFormat& format,
                         const Target& target);
Response VReadInteraction(const Context& ctx, const Request& request, const OutputFormat& format,
                          const Target& target);
Response CreateInteraction(const Context& ctx, const Request& request, const OutputFormat& format,
                           const Target& target);
Response UpdateInteraction(const Context& ctx, const Request& request, const OutputFormat& format,
                           const Target& target);
Response DeleteInteraction(const Context& ctx, const Request& request, const OutputFormat& format,
                           const Target& target);
Response PatchInteraction(const Context& ctx, const Request& request, const OutputFormat& format,
                          const Target& target);
Response HistoryInteraction(const Context& ctx, const Request& request, const OutputFormat& format,
                            const Target& target);
// [type]/$op and [type]/[id]/$op; `operation` includes the '$'.
Response OperationInteraction(const Context& ctx, const Request& request,
                              const OutputFormat& format, const Target& target,
                              std::string_view operation);
// The ids of the current resources of `type` matching `query` (a search, strict about unknown
// parameters), at most `limit` of them; when there are more, a final "" stands for them.
Result<std::vector<std::string>> FindMatches(const Context& ctx, const std::string& type,
                                             const QueryList& query, int limit);
// PUT [type]?query and DELETE [type]?query.
Response ConditionalUpdateInteraction(const Context& ctx, const Request& request,
                                      const OutputFormat& format, const Target& target);
Response ConditionalDeleteInteraction(const Context& ctx, const Request& request,
                                      const OutputFormat& format, const Target& target);
// Referential integrity (when RestOptions::referential_integrity): every relative reference in
// `resource` names a current resource, or one of `pending` ("Type/id") being written with it.
Status CheckReferences(const Context& ctx, const Request& request, const json::Value& resource,
                       const std::string& type, const std::set<std::string>& pending = {});
// Referential integrity on delete: kConflict naming the resources that still reference
// `type`/`id` (ignoring those in `also_deleted`, "Type/id", deleted with it).
Status CheckNotReferenced(const Context& ctx, const std::string& type, const std::string& id,
                          const std::set<std::string>& also_deleted = {});
// The codes that token :below / :above / :in / :not-in stand for, from the terminology's code
// systems and value sets (src/rest/terminology_search.cc), by the index of their pair in
// `params`; the planner matches them as sets (search/spec.h, CodeSet). `types` are the searched
// types (empty for a system search). kInvalid naming the parameter for an unknown code, code
// system or value set.
Result<std::map<size_t, search::CodeSet>> ExpandTerminologyModifiers(
    const Context& ctx, const Request& request, const std::vector<std::string>& types,
    const QueryList& params);
// `current_json` with a JSON Patch (`json_patch`) or FHIRPath Patch (a Parameters) applied and
// checked like an update of `target` (src/rest/patch.cc). kUnprocessable when the result is not
// a valid resource; kInvalid when the patch would change resourceType or id.
Result<json::Document> ApplyPatchToResource(const Context& ctx, const Target& target,
                                            const std::string& current_json, bool json_patch,
                                            const json::Value& patch);
// Patient/[id]/$everything.
Response EverythingInteraction(const Context& ctx, const Request& request,
                               const OutputFormat& format, const Target& target);
// POST [base]/ViewDefinition/$viewdefinition-run (view_run.cc): a SQL on FHIR view run over
// inline resources or the store; the answer is CSV, NDJSON or JSON rows, not a FHIR resource.
Response ViewRunInteraction(const Context& ctx, const Request& request, const Target& target);
// Measure/[id]/$evaluate-measure (evaluate_measure.cc): a MeasureReport.
Response EvaluateMeasureInteraction(const Context& ctx, const Request& request,
                                    const OutputFormat& format, const Target& target);
// Stored ViewDefinitions (view_store.cc): [base]/ViewDefinition (GET lists, POST creates) and
// [base]/ViewDefinition/[id] (GET, PUT, DELETE); `parts` is the path split at '/'.
Response ViewDefinitionInteraction(const Context& ctx, const Request& request,
                                   const std::vector<std::string_view>& parts);
// The current version of stored view `id` for the caller (kNotFound, kGone, kForbidden).
Result<store::StoredVersion> ReadStoredView(const Context& ctx, const Request& request,
                                            const std::string& id);
// POST [base] with a batch or transaction Bundle.
Response BundleInteraction(const Context& ctx, const Request& request, const OutputFormat& format);
// Bulk Data export (bulk_export.cc): the kick-off at each level, the status URL (GET, DELETE) and
// the files.
Response BulkExportKickOff(const Context& ctx, const Request& request, bulk::ExportLevel level,
                           const std::string& group_id);
Response BulkExportStatus(const Context& ctx, const Request& request, const std::string& id);
Response BulkExportFile(const Context& ctx, const Request& request, const std::string& id,
                        const std::string& name);
Response CapabilitiesInteraction(const Context& ctx, const Request& request,
                                 const OutputFormat& format);
// GET [base]/AuditEvent?... and GET [base]/AuditEvent/[seq]: the audit trail (audit_search.cc).
Response AuditSearchInteraction(const Context& ctx, const Request& request,
                                const OutputFormat& format);
Response AuditReadInteraction(const Context& ctx, const Request& request,
                              const OutputFormat& format, const std::string& id);

}  // namespace vesta::rest
