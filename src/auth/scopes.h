// SMART on FHIR scopes: what an access token allows, and the intersection that grants them.
// https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html (SMART App Launch 2.x;
// the v1 spelling is accepted too).
//
//   ScopeSet scopes = ParseScopes("launch/patient patient/Observation.rs?category=laboratory");
//   Decision d = Decide(scopes, Permission::kSearch, "Observation");
//   // d.allowed, d.patient_only (the patient's compartment only), d.constraints (granular)
//
// A resource scope is `<context>/<type>.<permissions>[?<query>]`:
//   * context: `patient` (the launch patient's compartment), `user` (what the user may see: every
//     resource, since Vesta has no per-user access rules beyond the scopes) or `system` (a
//     backend service: every resource);
//   * type: a resource type or `*`;
//   * permissions: v2 `c r u d s` in that order (create, read, update, delete, search), or v1
//     `read` (= `rs`), `write` (= `cud`) and `*` (= `cruds`), as SMART 2.0 maps them
//     ("Scope equivalence", scopes-and-launch-context.html#scopes-for-requesting-fhir-resources);
//   * query (v2 only, "finer-grained resource constraints using search parameters"): the
//     resources the scope covers are those the search `<type>?<query>` finds.
// Scopes are additive: a request is allowed when one scope allows it.
//
// Thread-safety: values; pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace vesta::auth {

enum class ScopeContext { kPatient, kUser, kSystem };

// One of the v2 permissions, as bits of ResourceScope::permissions.
enum class Permission : uint8_t {
  kCreate = 1,
  kRead = 2,
  kUpdate = 4,
  kDelete = 8,
  kSearch = 16,
};
inline constexpr uint8_t kAllPermissions = 31;
inline constexpr uint8_t Bit(Permission p) { return static_cast<uint8_t>(p); }
// The v2 letter of one permission ('c', 'r', 'u', 'd' or 's').
char Letter(Permission p);

using QueryList = std::vector<std::pair<std::string, std::string>>;

struct ResourceScope {
  ScopeContext context = ScopeContext::kPatient;
  std::string type;  // a resource type, or "*"
  uint8_t permissions = 0;
  QueryList query;  // decoded, in order; empty when the scope is not granular

  // The scope in v2 spelling: "patient/Observation.rs?category=laboratory".
  std::string ToString() const;
  bool operator==(const ResourceScope&) const = default;
};

// The scopes of a request or a token. Scopes that are neither resource scopes nor the ones named
// here (a client's own) are kept in `other`, in order.
struct ScopeSet {
  std::vector<ResourceScope> resources;
  bool openid = false;
  bool fhir_user = false;       // `fhirUser` (the id_token names the user's FHIR resource)
  bool offline_access = false;  // a refresh token that outlives the session
  bool online_access = false;
  bool launch = false;          // EHR launch: the `launch` parameter gives the context
  bool launch_patient = false;  // standalone launch: ask for a patient context
  bool launch_encounter = false;
  std::vector<std::string> other;

  // Space-separated, resource scopes in v2 spelling; as a token's `scope` claim.
  std::string ToString() const;
};

// One resource scope. kInvalid saying what is wrong for a string that starts like one
// (`patient/`, `user/`, `system/`) but is not well formed (unknown permissions, letters out of
// order, an empty type, a query that is not `name=value` pairs).
Result<ResourceScope> ParseResourceScope(std::string_view text);

// A space-separated scope string (RFC 6749 §3.3). kInvalid for a malformed resource scope.
Result<ScopeSet> ParseScopes(std::string_view text);

// What a token's scopes allow for one permission on one resource type.
struct Decision {
  bool allowed = false;
  // Allowed only by patient/ scopes: only resources in the patient's compartment.
  bool patient_only = false;
  // Allowed only by granular scopes: a resource must match one of these queries (each a search
  // of the type). Empty: no such constraint.
  std::vector<QueryList> constraints;
  // Allowed both by patient/ scopes and by granular user/ or system/ scopes, a union this server
  // does not evaluate as one search (the request is refused, saying so).
  bool mixed = false;
  // When not allowed: the scope that would allow it, e.g. "patient/Observation.s".
  std::string missing;
};

// `scopes` on `type` for `permission`.
Decision Decide(const ScopeSet& scopes, Permission permission, std::string_view type);

// The resource scopes to grant (https://hl7.org/fhir/smart-app-launch/app-launch.html#obtain-
// authorization-code: a server may grant fewer than asked): each requested scope narrowed to
// what `allowed` (the client's registration, or what the user approved) covers: the same context,
// a type it names or `*`, the permissions both have, and its query unless it has none (then the
// requested one's). A requested scope with nothing left is dropped.
std::vector<ResourceScope> Intersect(const std::vector<ResourceScope>& requested,
                                     const std::vector<ResourceScope>& allowed);

}  // namespace vesta::auth
