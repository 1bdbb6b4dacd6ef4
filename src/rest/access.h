// Internal to rest/: the one place where SMART scopes are enforced (docs/security.md). Every
// function answers Ok when the request has no caller (authorization off).
//
// What a token's scopes allow (auth/scopes.h, Decide) becomes, per interaction:
//   * not allowed: 403 naming the scope that is missing;
//   * allowed by patient/ scopes only: only resources in the launch patient's compartment
//     (https://hl7.org/fhir/R4/compartmentdefinition-patient.html): searches are run as
//     compartment searches (the Patient type as `_id`), an existing resource is looked up in the
//     compartment, new content must lie in it; types outside the Patient compartment (e.g.
//     Medication, Organization) hold no patient's data and are not narrowed;
//   * allowed by granular scopes only (`?category=...`): the search gets the scope's parameters,
//     an existing resource must be found by them, and writes are refused (their new content
//     cannot be tested against a search before it is stored).
// A resource that is not found where the token may look is refused with 403 whether or not it
// exists, so that nothing is learnt about other patients' resources.
#pragma once

#include <string>
#include <vector>

#include "auth/scopes.h"
#include "json/value.h"
#include "rest/context.h"
#include "store/store.h"

namespace vesta::rest {

// How a caller's access to one type is narrowed.
struct Restriction {
  std::string patient;                       // the compartment's patient id; "" for none
  std::vector<auth::QueryList> constraints;  // one must match; empty for none
  bool any() const { return !patient.empty() || !constraints.empty(); }
};

// The caller's restriction for `permission` on `type`; kForbidden when the scopes do not allow
// it at all (or allow it by a union of patient and granular user scopes, which is not served).
Result<Restriction> RestrictionFor(const Request& request, auth::Permission permission,
                                   const std::string& type);

// The search `q` (of `type`, "" for a system search) narrowed to what the caller may search:
// the compartment and constraints added. kForbidden when it may not search there at all.
Status NarrowSearch(const Context& ctx, const Request& request, const std::string& type,
                    store::SearchQuery* q);

// Drops the _include/_revinclude hits the caller may not read.
Status FilterIncluded(const Context& ctx, const Request& request,
                      std::vector<store::SearchHit>* hits);

// Whether the caller may do `permission` on the existing resource `type`/`id`.
Status CheckExisting(const Context& ctx, const Request& request, auth::Permission permission,
                     const std::string& type, const std::string& id);

// Whether the caller may write `resource` (the new content of `type`, create or update).
Status CheckNewContent(const Context& ctx, const Request& request, auth::Permission permission,
                       const std::string& type, const json::Value& resource);

// Whether clients may write resources of `type` at all, whatever their scopes and with
// authorization off: not AuditEvent, whose records the server writes itself into its append-only
// audit trail (docs/security.md, "Audit trail"). kForbidden, saying so, for AuditEvent.
Status CheckClientWritable(const std::string& type);

// The checks of one routed request before its interaction runs: the interaction's permission
// on the target and, for an existing resource, its compartment. `method` and the target as
// routed; conditional interactions and history are narrowed or refused here too.
Status AuthorizeRoute(const Context& ctx, const Request& request, const Target& target,
                      std::string_view interaction);

// An operation ([type]/$op, [type]/[id]/$op): the terminology operations are open to every
// caller with a valid token (they hold no patient's data); Patient/[id]/$everything needs read
// access to that patient; others read their target.
Status AuthorizeOperation(const Context& ctx, const Request& request, const Target& target,
                          std::string_view operation);

}  // namespace vesta::rest
