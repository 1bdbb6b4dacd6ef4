// One audit record: what the server answered, to whom, about what (docs/security.md, "Audit
// trail"), and its rendering as an R4 AuditEvent following the IHE Basic Audit Log Patterns
// (https://profiles.ihe.net/ITI/BALP/): the RESTful interaction patterns, with the OAuth token's
// agent
// (https://profiles.ihe.net/ITI/BALP/StructureDefinition-IHE.BasicAudit.OAUTHaccessTokenUse.html).
//
//   audit::Record r = audit::Describe(request, status, response_headers, caller, clock.Now());
//   std::string json = audit::RenderAuditEvent(r, source);   // compact, R4 element order
//
// ONC §170.315(d)(2) and (d)(3): every request the server answers is recorded, refused and
// anonymous ones too (health checks are not: IsAudited).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/caller.h"
#include "base/clock.h"
#include "base/status.h"
#include "http/server.h"

namespace vesta::audit {

// AuditEvent.action (http://hl7.org/fhir/audit-event-action).
enum class Action : char {
  kCreate = 'C',
  kRead = 'R',
  kUpdate = 'U',
  kDelete = 'D',
  kExecute = 'E',
};

struct Record {
  Micros recorded = 0;
  // AuditEvent.subtype: a code of http://hl7.org/fhir/restful-interaction (read, vread,
  // search-type, create, ..., operation); empty for the authorization server's paths, which are
  // no FHIR interaction.
  std::string interaction;
  Action action = Action::kExecute;
  int status = 0;         // the HTTP status answered; the outcome follows from it
  std::string request;    // "GET /Patient/1": the method and the decoded path
  std::string query;      // the query string as sent (after '?'), for searches and operations
  std::string what;       // the resource: "Patient/1", "Patient/1/_history/2"; empty for none
  std::string patient;    // the patient id: the token's launch patient, else the path's or query's
  std::string user;       // the token's fhirUser ("Practitioner/7"), else its subject
  std::string client_id;  // the token's client, or the client named at the token endpoint
  std::string token_id;   // the token's jti
  std::string remote_address;  // the TCP peer (the client, or a proxy in front)
  uint16_t remote_port = 0;
};

// Where records come from (AuditEvent.source and the server's agent).
struct Source {
  std::string observer;  // this node: its host name
  std::string site;      // the server's public base URL, when configured
};

// Whether a request to `path` is recorded: every one but the health checks.
bool IsAudited(std::string_view path);

// The record of one answered request. `response_headers` gives the Location of a created
// resource; `caller` the verified token (null without one). For the authorization server's
// paths, the client named by the request's form (client_id, or the unverified iss of a
// client_assertion) is recorded as the client.
Record Describe(const http::Request& request, int status,
                const std::vector<std::pair<std::string, std::string>>& response_headers,
                const auth::Caller* caller, Micros now);

// AuditEvent.outcome: 0 success, 4 minor failure (4xx), 8 serious failure (5xx).
int Outcome(int status);

// The compact AuditEvent JSON of `record` (R4 element order; no id: the store's sequence number
// names a record, and `vesta audit export` adds it).
std::string RenderAuditEvent(const Record& record, const Source& source);

// `audit_event` (as RenderAuditEvent wrote it) with "id" set to `id`, for export.
std::string WithId(std::string_view audit_event, std::string_view id);

// What the audit trail stores of a record (store.h, AuditAppend::record; the bytes the hash chain
// covers): the record's facts and its source as one compact JSON array, about a fifth of the
// AuditEvent's size, tagged with its format:
//
//   ["vesta-audit/1",recorded,"interaction","action",status,"request","query","what",
//    "patient","user","client_id","token_id","remote_address",remote_port,"observer","site"]
//
// The AuditEvent is rendered from it when it is read (StoredAuditEvent), so the chain covers
// everything an AuditEvent shows: the rendering adds only constants. Appending a fifth of the
// bytes is what lets the trail keep up with a server's reads (docs/benchmarks.md,
// "Authorization").
std::string EncodeStored(const Record& record, const Source& source);
// The record and source `stored` holds; an error naming what is wrong when it is not an
// EncodeStored array.
Result<std::pair<Record, Source>> DecodeStored(std::string_view stored);
// The AuditEvent JSON (with "id" `id`) of a stored record: rendered from an EncodeStored array,
// or, for a record appended as AuditEvent JSON (before the compact form), that JSON with the id.
// A stored record that is neither is returned as it is.
std::string StoredAuditEvent(std::string_view stored, std::string_view id);

}  // namespace vesta::audit
