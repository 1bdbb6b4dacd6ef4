#include "audit/record.h"

#include <charconv>
#include <optional>
#include <span>

#include "base/strings.h"
#include "crypto/jwt_claims.h"
#include "json/parse.h"
#include "json/value.h"
#include "json/writer.h"

namespace vesta::audit {

namespace {

bool IsTypeName(std::string_view s) { return !s.empty() && s[0] >= 'A' && s[0] <= 'Z'; }

// The interaction a FHIR request is (https://hl7.org/fhir/R4/http.html), its action, and the
// resource it names.
struct Route {
  std::string interaction;
  Action action = Action::kExecute;
  std::string what;
  std::string path_patient;  // Patient/[id] and Patient/[id]/...: the id
};

// POST [base] with a Bundle: "transaction" or "batch", from the Bundle's type.
std::string BundleInteraction(std::string_view body) {
  Result<json::Document> doc = json::Parse(body);
  if (doc.ok() && doc->root().FindString("type") == "batch") return "batch";
  return "transaction";
}

Route RouteOf(std::string_view method, std::string_view path, std::string_view body) {
  Route r;
  const bool get = method == "GET" || method == "HEAD";
  std::vector<std::string_view> parts;
  for (std::string_view p : Split(Trim(path, "/"), '/')) {
    if (!p.empty()) parts.push_back(p);
  }
  auto set = [&](std::string_view interaction, Action action) {
    r.interaction = std::string(interaction);
    r.action = action;
  };
  if (parts.empty()) {
    if (method == "POST") {
      set(BundleInteraction(body), Action::kExecute);
    } else {
      set("search-system", Action::kExecute);
    }
    return r;
  }
  const std::string_view first = parts[0];
  if (!IsTypeName(first)) {
    if (first == "metadata") {
      set("capabilities", Action::kRead);
    } else if (first == "_history") {
      set("history-system", Action::kRead);
    } else if (first == "_search") {
      set("search-system", Action::kExecute);
    } else if (first.starts_with("$")) {
      set("operation", Action::kExecute);
    } else {
      r.action = get ? Action::kRead : Action::kExecute;  // the authorization server's paths
    }
    return r;
  }
  if (first == "Patient" && parts.size() >= 2 && !parts[1].starts_with("_") &&
      !parts[1].starts_with("$")) {
    r.path_patient = std::string(parts[1]);
  }
  if (parts.size() == 1) {
    if (method == "POST") {
      set("create", Action::kCreate);
    } else if (method == "PUT") {
      set("update", Action::kUpdate);
    } else if (method == "PATCH") {
      set("patch", Action::kUpdate);
    } else if (method == "DELETE") {
      set("delete", Action::kDelete);
    } else {
      set("search-type", Action::kExecute);
    }
    return r;
  }
  const std::string_view second = parts[1];
  if (second == "_search") {
    set("search-type", Action::kExecute);
    return r;
  }
  if (second == "_history") {
    set("history-type", Action::kRead);
    return r;
  }
  if (second.starts_with("$")) {
    set("operation", Action::kExecute);
    return r;
  }
  r.what = std::string(first) + "/" + std::string(second);
  if (parts.size() == 2) {
    if (method == "PUT") {
      set("update", Action::kUpdate);
    } else if (method == "PATCH") {
      set("patch", Action::kUpdate);
    } else if (method == "DELETE") {
      set("delete", Action::kDelete);
    } else {
      set("read", get ? Action::kRead : Action::kExecute);
    }
    return r;
  }
  const std::string_view third = parts[2];
  if (third == "_history") {
    if (parts.size() >= 4) {
      r.what += "/_history/" + std::string(parts[3]);
      set("vread", Action::kRead);
    } else {
      set("history-instance", Action::kRead);
    }
  } else if (third.starts_with("$")) {
    set("operation", Action::kExecute);
  } else {
    set("search-type", Action::kExecute);  // a compartment search: Patient/1/Observation
    r.what.clear();
  }
  return r;
}

// The resource a create made, from its Location ([base]/Type/id/_history/n).
std::string CreatedResource(
    const std::vector<std::pair<std::string, std::string>>& response_headers) {
  for (const auto& [name, value] : response_headers) {
    if (!EqualsIgnoreCase(name, "Location")) continue;
    std::string_view v = value;
    size_t history = v.rfind("/_history/");
    if (history != std::string_view::npos) v = v.substr(0, history);
    size_t slash = v.rfind('/');
    if (slash == std::string_view::npos || slash == 0) return "";
    size_t type_slash = v.rfind('/', slash - 1);
    return std::string(v.substr(type_slash == std::string_view::npos ? 0 : type_slash + 1));
  }
  return "";
}

// A patient named by the query: patient=123, patient=Patient/123, subject=Patient/123.
std::string QueryPatient(const std::vector<std::pair<std::string, std::string>>& query) {
  for (const auto& [name, value] : query) {
    if (name == "patient" || name == "patient:Patient") {
      return value.starts_with("Patient/") ? value.substr(8) : value;
    }
    if ((name == "subject" || name == "subject:Patient") && value.starts_with("Patient/")) {
      return value.substr(8);
    }
  }
  return "";
}

// The client a request to the token endpoint names: client_id, else the iss of its
// client_assertion (not verified here: the token endpoint does that, and the outcome says
// whether it passed).
std::string FormClient(std::string_view body) {
  auto form = ParseFormPairs(body);
  if (!form) return "";
  std::string assertion;
  for (auto& [name, value] : *form) {
    if (name == "client_id") return value;
    if (name == "client_assertion") assertion = std::move(value);
  }
  return crypto::UnverifiedIssuer(assertion);
}

// ---- Rendering -------------------------------------------------------------------------------

void Key(std::string_view name, std::string* out) {
  json::WriteString(name, out);
  out->push_back(':');
}

void StringMember(std::string_view name, std::string_view value, std::string* out) {
  Key(name, out);
  json::WriteString(value, out);
}

// {"system":...,"code":...,"display":...}
void CodingValue(std::string_view system, std::string_view code, std::string_view display,
                 std::string* out) {
  out->push_back('{');
  StringMember("system", system, out);
  out->push_back(',');
  StringMember("code", code, out);
  if (!display.empty()) {
    out->push_back(',');
    StringMember("display", display, out);
  }
  out->push_back('}');
}

void ConceptMember(std::string_view name, std::string_view system, std::string_view code,
                   std::string_view display, std::string* out) {
  Key(name, out);
  *out += "{\"coding\":[";
  CodingValue(system, code, display, out);
  *out += "]}";
}

constexpr std::string_view kDicom = "http://dicom.nema.org/resources/ontology/DCM";
constexpr std::string_view kEntityType = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
constexpr std::string_view kObjectRole = "http://terminology.hl7.org/CodeSystem/object-role";

struct Agent {
  std::string_view type_system;
  std::string_view type_code;
  std::string_view type_display;
  std::string_view reference;   // who.reference
  std::string_view identifier;  // who.identifier.value
  std::string_view display;     // who.display
  bool requestor = false;
  std::string_view policy;  // the token's jti
  std::string_view network;
};

Agent AgentOfType(std::string_view system, std::string_view code, std::string_view display) {
  Agent a;
  a.type_system = system;
  a.type_code = code;
  a.type_display = display;
  return a;
}

void AgentValue(const Agent& a, std::string* out) {
  out->push_back('{');
  ConceptMember("type", a.type_system, a.type_code, a.type_display, out);
  *out += ",\"who\":{";
  bool comma = false;
  if (!a.reference.empty()) {
    StringMember("reference", a.reference, out);
    comma = true;
  }
  if (!a.identifier.empty()) {
    if (comma) out->push_back(',');
    *out += "\"identifier\":{";
    StringMember("value", a.identifier, out);
    out->push_back('}');
    comma = true;
  }
  if (!a.display.empty()) {
    if (comma) out->push_back(',');
    StringMember("display", a.display, out);
  }
  *out += "},\"requestor\":";
  *out += a.requestor ? "true" : "false";
  if (!a.policy.empty()) {
    *out += ",\"policy\":[";
    json::WriteString("urn:ietf:params:oauth:jti:" + std::string(a.policy), out);
    out->push_back(']');
  }
  if (!a.network.empty()) {
    *out += ",\"network\":{";
    StringMember("address", a.network, out);
    *out += ",\"type\":\"2\"}";  // an IP address
  }
  out->push_back('}');
}

}  // namespace

bool IsAudited(std::string_view path) { return path != "/healthz" && path != "/readyz"; }

int Outcome(int status) { return status >= 500 ? 8 : status >= 400 ? 4 : 0; }

Record Describe(const http::Request& request, int status,
                const std::vector<std::pair<std::string, std::string>>& response_headers,
                const auth::Caller* caller, Micros now) {
  Record r;
  r.recorded = now;
  r.status = status;
  r.request = request.method + " " + request.path;
  const size_t q = request.target.find('?');
  if (q != std::string::npos) r.query = request.target.substr(q + 1);
  Route route = RouteOf(request.method, request.path, request.body);
  r.interaction = std::move(route.interaction);
  r.action = route.action;
  r.what = std::move(route.what);
  if (r.interaction == "create" && status < 300) r.what = CreatedResource(response_headers);
  if (caller != nullptr) {
    r.user = !caller->fhir_user.empty() ? caller->fhir_user : caller->subject;
    r.client_id = caller->client_id;
    r.token_id = caller->token_id;
    r.patient = caller->patient;
  }
  if (r.patient.empty()) r.patient = std::move(route.path_patient);
  if (r.patient.empty()) r.patient = QueryPatient(request.query);
  if (r.client_id.empty() && request.method == "POST" && request.path.starts_with("/auth/")) {
    r.client_id = FormClient(request.body);
  }
  r.remote_address = request.remote_address;
  r.remote_port = request.remote_port;
  return r;
}

std::string RenderAuditEvent(const Record& r, const Source& source) {
  std::string out;
  out.reserve(1024);
  out += "{\"resourceType\":\"AuditEvent\",\"type\":";
  CodingValue("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "Restful Operation",
              &out);
  if (!r.interaction.empty()) {
    out += ",\"subtype\":[";
    CodingValue("http://hl7.org/fhir/restful-interaction", r.interaction, "", &out);
    out.push_back(']');
  }
  out += ",\"action\":\"";
  out.push_back(static_cast<char>(r.action));
  out += "\",";
  StringMember("recorded", FormatInstant(r.recorded), &out);
  out += ",\"outcome\":\"" + std::to_string(Outcome(r.status)) + "\",";
  StringMember("outcomeDesc", "HTTP " + std::to_string(r.status), &out);

  out += ",\"agent\":[";
  bool user = !r.user.empty();
  if (user) {
    Agent a = AgentOfType("https://profiles.ihe.net/ITI/BALP/CodeSystem/UserAgentTypes",
                          "UserOauthAgent", "User OAuth Agent participant");
    if (r.user.find('/') != std::string::npos) {
      a.reference = r.user;
    } else {
      a.identifier = r.user;
    }
    a.requestor = true;
    a.policy = r.token_id;
    AgentValue(a, &out);
    out.push_back(',');
  }
  {
    // The client: the app the token was issued to, at the address the request came from.
    Agent a = AgentOfType(kDicom, "110153", "Source Role ID");
    a.identifier = r.client_id;
    if (r.client_id.empty()) a.display = "unidentified client";
    a.requestor = !user;
    if (!user) a.policy = r.token_id;
    a.network = r.remote_address;
    AgentValue(a, &out);
    out.push_back(',');
  }
  {
    Agent a = AgentOfType(kDicom, "110152", "Destination Role ID");
    a.display = source.site.empty() ? source.observer : source.site;
    AgentValue(a, &out);
  }
  out += "],\"source\":{";
  if (!source.site.empty()) {
    StringMember("site", source.site, &out);
    out.push_back(',');
  }
  out += "\"observer\":{";
  StringMember("display", source.observer, &out);
  out += "},\"type\":[";
  CodingValue("http://terminology.hl7.org/CodeSystem/security-source-type", "4",
              "Application Server", &out);
  out += "]}";

  // The entities: what the request was about, then the patient.
  out += ",\"entity\":[{";
  const bool search = r.interaction.starts_with("search");
  if (!r.what.empty()) {
    out += "\"what\":{";
    StringMember("reference", r.what, &out);
    out += "},";
  }
  // R4: entity.type and entity.role are Codings, agent.type a CodeableConcept.
  Key("type", &out);
  CodingValue(kEntityType, "2", "System Object", &out);
  out.push_back(',');
  if (search) {
    Key("role", &out);
    CodingValue(kObjectRole, "24", "Query", &out);
  } else {
    Key("role", &out);
    CodingValue(kObjectRole, "4", "Domain Resource", &out);
  }
  out.push_back(',');
  StringMember("name", r.request, &out);
  if (!r.query.empty()) {
    out.push_back(',');
    StringMember("query", Base64Encode(r.query), &out);
  }
  out.push_back('}');
  if (!r.patient.empty()) {
    out += ",{\"what\":{";
    StringMember("reference", "Patient/" + r.patient, &out);
    out += "},";
    Key("type", &out);
    CodingValue(kEntityType, "1", "Person", &out);
    out.push_back(',');
    Key("role", &out);
    CodingValue(kObjectRole, "1", "Patient", &out);
    out.push_back('}');
  }
  out += "]}";
  return out;
}

std::string WithId(std::string_view audit_event, std::string_view id) {
  constexpr std::string_view kHead = "{\"resourceType\":\"AuditEvent\",";
  if (!audit_event.starts_with(kHead)) return std::string(audit_event);
  std::string out(kHead);
  StringMember("id", id, &out);
  out.push_back(',');
  out.append(audit_event.substr(kHead.size()));
  return out;
}

namespace {

constexpr std::string_view kStoredTag = "vesta-audit/1";
constexpr size_t kStoredFields = 16;

void AppendNumber(int64_t v, std::string* out) {
  out->push_back(',');
  out->append(std::to_string(v));
}

void AppendText(std::string_view v, std::string* out) {
  out->push_back(',');
  json::WriteString(v, out);
}

}  // namespace

std::string EncodeStored(const Record& r, const Source& source) {
  std::string out;
  out.reserve(160 + r.request.size() + r.query.size() + r.what.size() + r.user.size());
  out.push_back('[');
  json::WriteString(kStoredTag, &out);
  AppendNumber(r.recorded, &out);
  AppendText(r.interaction, &out);
  AppendText(std::string_view(reinterpret_cast<const char*>(&r.action), 1), &out);
  AppendNumber(r.status, &out);
  AppendText(r.request, &out);
  AppendText(r.query, &out);
  AppendText(r.what, &out);
  AppendText(r.patient, &out);
  AppendText(r.user, &out);
  AppendText(r.client_id, &out);
  AppendText(r.token_id, &out);
  AppendText(r.remote_address, &out);
  AppendNumber(r.remote_port, &out);
  AppendText(source.observer, &out);
  AppendText(source.site, &out);
  out.push_back(']');
  return out;
}

Result<std::pair<Record, Source>> DecodeStored(std::string_view stored) {
  ASSIGN_OR_RETURN(json::Document doc, json::Parse(stored));
  const json::Value& root = doc.root();
  if (!root.is_array() || root.size() != kStoredFields || !root.items()[0].is_string() ||
      root.items()[0].string_value() != kStoredTag) {
    return Invalid("not a stored audit record: a JSON array of " + std::to_string(kStoredFields) +
                   " items beginning with \"" + std::string(kStoredTag) + "\" was expected");
  }
  std::span<const json::Value> f = root.items();
  Status bad = Status::Ok();
  auto text = [&](size_t i) -> std::string {
    if (!f[i].is_string()) {
      bad = Invalid("stored audit record: item " + std::to_string(i) + " is not a string");
      return "";
    }
    return std::string(f[i].string_value());
  };
  auto number = [&](size_t i) -> int64_t {
    int64_t v = 0;
    const std::string_view t = f[i].is_number() ? f[i].number_text() : std::string_view();
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (t.empty() || ec != std::errc() || p != t.data() + t.size()) {
      bad = Invalid("stored audit record: item " + std::to_string(i) + " is not an integer");
    }
    return v;
  };
  Record r;
  Source source;
  r.recorded = number(1);
  r.interaction = text(2);
  const std::string action = text(3);
  r.status = static_cast<int>(number(4));
  r.request = text(5);
  r.query = text(6);
  r.what = text(7);
  r.patient = text(8);
  r.user = text(9);
  r.client_id = text(10);
  r.token_id = text(11);
  r.remote_address = text(12);
  const int64_t port = number(13);
  source.observer = text(14);
  source.site = text(15);
  RETURN_IF_ERROR(bad);
  if (action.size() != 1 || std::string_view("CRUDE").find(action[0]) == std::string_view::npos) {
    return Invalid("stored audit record: action \"" + action + "\" is not C, R, U, D or E");
  }
  if (port < 0 || port > 65535) return Invalid("stored audit record: port out of range");
  r.action = static_cast<Action>(action[0]);
  r.remote_port = static_cast<uint16_t>(port);
  return std::make_pair(std::move(r), std::move(source));
}

std::string StoredAuditEvent(std::string_view stored, std::string_view id) {
  if (stored.starts_with('[')) {
    Result<std::pair<Record, Source>> decoded = DecodeStored(stored);
    if (!decoded.ok()) return std::string(stored);
    return WithId(RenderAuditEvent(decoded->first, decoded->second), id);
  }
  return WithId(stored, id);
}

}  // namespace vesta::audit
