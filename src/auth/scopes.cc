#include "auth/scopes.h"

#include <algorithm>

#include "base/strings.h"

namespace vesta::auth {
namespace {

constexpr Permission kOrder[] = {Permission::kCreate, Permission::kRead, Permission::kUpdate,
                                 Permission::kDelete, Permission::kSearch};

std::string_view ContextName(ScopeContext c) {
  switch (c) {
    case ScopeContext::kPatient:
      return "patient";
    case ScopeContext::kUser:
      return "user";
    case ScopeContext::kSystem:
      return "system";
  }
  return "patient";
}

// "read", "write", "*" (v1) or letters of "cruds" in that order (v2).
Result<uint8_t> ParsePermissions(std::string_view text, std::string_view scope) {
  if (text == "read") return Bit(Permission::kRead) | Bit(Permission::kSearch);
  if (text == "write") {
    return Bit(Permission::kCreate) | Bit(Permission::kUpdate) | Bit(Permission::kDelete);
  }
  if (text == "*") return kAllPermissions;
  uint8_t bits = 0;
  size_t next = 0;  // index in kOrder of the next letter allowed
  for (char ch : text) {
    size_t i = next;
    while (i < std::size(kOrder) && Letter(kOrder[i]) != ch) ++i;
    if (i == std::size(kOrder)) {
      return Invalid("scope '" + std::string(scope) + "': permissions are 'read', 'write', '*' " +
                     "or the letters c, r, u, d, s in that order, not '" + std::string(text) + "'");
    }
    bits |= Bit(kOrder[i]);
    next = i + 1;
  }
  if (bits == 0) return Invalid("scope '" + std::string(scope) + "' names no permission");
  return bits;
}

Result<QueryList> ParseQuery(std::string_view text, std::string_view scope) {
  QueryList out;
  for (std::string_view pair : Split(text, '&')) {
    const size_t eq = pair.find('=');
    std::string name, value;
    if (eq == std::string_view::npos || eq == 0 ||
        !PercentDecode(pair.substr(0, eq), PlusIs::kPlus, &name) ||
        !PercentDecode(pair.substr(eq + 1), PlusIs::kPlus, &value) || value.empty()) {
      return Invalid("scope '" + std::string(scope) +
                     "': the constraint after '?' is name=value pairs joined by '&'");
    }
    out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

bool IsResourceScopeStart(std::string_view s) {
  return s.starts_with("patient/") || s.starts_with("user/") || s.starts_with("system/");
}

bool TypeCovers(std::string_view broad, std::string_view type) {
  return broad == "*" || broad == type;
}

}  // namespace

char Letter(Permission p) {
  switch (p) {
    case Permission::kCreate:
      return 'c';
    case Permission::kRead:
      return 'r';
    case Permission::kUpdate:
      return 'u';
    case Permission::kDelete:
      return 'd';
    case Permission::kSearch:
      return 's';
  }
  return '?';
}

std::string ResourceScope::ToString() const {
  std::string out(ContextName(context));
  out += '/';
  out += type;
  out += '.';
  for (Permission p : kOrder) {
    if (permissions & Bit(p)) out += Letter(p);
  }
  for (size_t i = 0; i < query.size(); ++i) {
    out += i == 0 ? '?' : '&';
    out += query[i].first;
    out += '=';
    out += query[i].second;
  }
  return out;
}

std::string ScopeSet::ToString() const {
  std::vector<std::string> words;
  if (openid) words.emplace_back("openid");
  if (fhir_user) words.emplace_back("fhirUser");
  if (launch) words.emplace_back("launch");
  if (launch_patient) words.emplace_back("launch/patient");
  if (launch_encounter) words.emplace_back("launch/encounter");
  if (offline_access) words.emplace_back("offline_access");
  if (online_access) words.emplace_back("online_access");
  for (const ResourceScope& r : resources) words.push_back(r.ToString());
  for (const std::string& o : other) words.push_back(o);
  std::string out;
  for (const std::string& w : words) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

Result<ResourceScope> ParseResourceScope(std::string_view text) {
  ResourceScope scope;
  const size_t slash = text.find('/');
  const std::string_view context = text.substr(0, slash);
  if (slash == std::string_view::npos) return Invalid("'" + std::string(text) + "' is no scope");
  if (context == "patient") {
    scope.context = ScopeContext::kPatient;
  } else if (context == "user") {
    scope.context = ScopeContext::kUser;
  } else if (context == "system") {
    scope.context = ScopeContext::kSystem;
  } else {
    return Invalid("scope '" + std::string(text) + "': the context is patient, user or system");
  }
  std::string_view rest = text.substr(slash + 1);
  std::string_view query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  const size_t dot = rest.rfind('.');
  if (dot == std::string_view::npos || dot == 0) {
    return Invalid("scope '" + std::string(text) + "' is not <context>/<type>.<permissions>");
  }
  const std::string_view type = rest.substr(0, dot);
  if (type != "*" && !std::all_of(type.begin(), type.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
      })) {
    return Invalid("scope '" + std::string(text) + "': '" + std::string(type) +
                   "' is not a resource type");
  }
  scope.type = std::string(type);
  ASSIGN_OR_RETURN(scope.permissions, ParsePermissions(rest.substr(dot + 1), text));
  if (!query.empty() || text.find('?') != std::string_view::npos) {
    if (rest.substr(dot + 1) == "read" || rest.substr(dot + 1) == "write" ||
        rest.substr(dot + 1) == "*") {
      return Invalid("scope '" + std::string(text) +
                     "': constraints after '?' need v2 permissions (cruds)");
    }
    ASSIGN_OR_RETURN(scope.query, ParseQuery(query, text));
  }
  return scope;
}

Result<ScopeSet> ParseScopes(std::string_view text) {
  ScopeSet set;
  for (std::string_view word : Split(text, ' ')) {
    if (word.empty()) continue;
    if (IsResourceScopeStart(word)) {
      ASSIGN_OR_RETURN(ResourceScope r, ParseResourceScope(word));
      set.resources.push_back(std::move(r));
    } else if (word == "openid") {
      set.openid = true;
    } else if (word == "fhirUser") {
      set.fhir_user = true;
    } else if (word == "offline_access") {
      set.offline_access = true;
    } else if (word == "online_access") {
      set.online_access = true;
    } else if (word == "launch") {
      set.launch = true;
    } else if (word == "launch/patient") {
      set.launch_patient = true;
    } else if (word == "launch/encounter") {
      set.launch_encounter = true;
    } else {
      set.other.emplace_back(word);
    }
  }
  return set;
}

Decision Decide(const ScopeSet& scopes, Permission permission, std::string_view type) {
  Decision d;
  bool patient_any = false, patient_unconstrained = false;
  bool broad_unconstrained = false;  // a user/ or system/ scope with no query
  std::vector<QueryList> patient_queries, broad_queries;
  for (const ResourceScope& s : scopes.resources) {
    if (!(s.permissions & Bit(permission)) || !TypeCovers(s.type, type)) continue;
    if (s.context == ScopeContext::kPatient) {
      patient_any = true;
      if (s.query.empty()) {
        patient_unconstrained = true;
      } else {
        patient_queries.push_back(s.query);
      }
    } else if (s.query.empty()) {
      broad_unconstrained = true;
    } else {
      broad_queries.push_back(s.query);
    }
  }
  if (broad_unconstrained) {
    d.allowed = true;
    return d;
  }
  if (patient_any && !broad_queries.empty()) {
    d.allowed = true;
    d.mixed = true;
    return d;
  }
  if (patient_any) {
    d.allowed = true;
    d.patient_only = true;
    if (!patient_unconstrained) d.constraints = std::move(patient_queries);
    return d;
  }
  if (!broad_queries.empty()) {
    d.allowed = true;
    d.constraints = std::move(broad_queries);
    return d;
  }
  // Name the scope in the context the token was given (its first resource scope's), so that the
  // message says what to ask for.
  ScopeContext context =
      scopes.resources.empty() ? ScopeContext::kPatient : scopes.resources.front().context;
  d.missing = std::string(ContextName(context)) + "/" + std::string(type) + "." +
              std::string(1, Letter(permission));
  return d;
}

std::vector<ResourceScope> Intersect(const std::vector<ResourceScope>& requested,
                                     const std::vector<ResourceScope>& allowed) {
  std::vector<ResourceScope> out;
  for (const ResourceScope& want : requested) {
    for (const ResourceScope& may : allowed) {
      if (may.context != want.context) continue;
      if (!TypeCovers(may.type, want.type) && !TypeCovers(want.type, may.type)) continue;
      if (!may.query.empty() && !want.query.empty() && may.query != want.query) continue;
      ResourceScope granted = want;
      granted.type = TypeCovers(may.type, want.type) ? want.type : may.type;
      granted.permissions = want.permissions & may.permissions;
      if (granted.query.empty()) granted.query = may.query;
      if (granted.permissions == 0) continue;
      if (std::find(out.begin(), out.end(), granted) == out.end()) out.push_back(granted);
    }
  }
  return out;
}

}  // namespace vesta::auth
