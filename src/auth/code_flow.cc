// The authorization code flow of SMART App Launch
// (https://hl7.org/fhir/smart-app-launch/app-launch.html): the authorization endpoint, the
// login and consent pages, the EHR launch contexts, and the token endpoint's
// authorization_code and refresh_token grants.
#include <strings.h>

#include <algorithm>

#include "auth/auth_server.h"
#include "auth/passwords.h"
#include "auth/server_internal.h"
#include "base/strings.h"
#include "crypto/base64url.h"
#include "crypto/digest.h"
#include "crypto/jws.h"
#include "crypto/jwt_claims.h"
#include "crypto/key_set.h"
#include "crypto/pkce.h"
#include "crypto/random.h"
#include "json/parse.h"
#include "json/writer.h"

namespace vesta::auth {
namespace {

using internal::FormValue;
using internal::OAuthError;
using internal::ParseForm;

constexpr int64_t kPendingSeconds = 600;             // to log in and consent
constexpr int64_t kCodeSeconds = 60;                 // an authorization code's life
constexpr int64_t kLaunchSeconds = 600;              // an EHR launch context's
constexpr int64_t kRefreshSeconds = 90 * 24 * 3600;  // offline_access
constexpr int64_t kOnlineRefreshSeconds = 8 * 3600;  // online_access
constexpr int kMaxFailedLogins = 5;
constexpr int64_t kLockoutSeconds = 15 * 60;
constexpr std::string_view kCookie = "vesta_auth";
using internal::kJwtBearer;

// An HTML page of the flow (plain, server-rendered; no script).
AuthAnswer Page(int status, const std::string& title, const std::string& body) {
  AuthAnswer a;
  a.status = status;
  a.content_type = "text/html; charset=utf-8";
  a.no_store = true;
  a.headers.emplace_back("X-Frame-Options", "DENY");
  a.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
  a.body = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
           HtmlEscape(title) +
           "</title><style>body{font-family:sans-serif;max-width:32em;margin:3em auto;"
           "line-height:1.4}label{display:block;margin:.6em 0}.error{color:#a00}</style></head>"
           "<body><h1>" +
           HtmlEscape(title) + "</h1>" + body + "</body></html>";
  return a;
}

// https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1: an error sent back to the client's
// redirect URI (once that URI is known to be the client's).
AuthAnswer RedirectError(const std::string& redirect_uri, const std::string& state,
                         std::string_view error, std::string_view description) {
  AuthAnswer a;
  a.status = 302;
  a.no_store = true;
  std::string location = redirect_uri + (redirect_uri.find('?') == std::string::npos ? "?" : "&") +
                         "error=" + std::string(error) +
                         "&error_description=" + PercentEncode(description);
  if (!state.empty()) location += "&state=" + PercentEncode(state);
  a.headers.emplace_back("Location", location);
  return a;
}

std::string Hidden(std::string_view name, std::string_view value) {
  return "<input type=\"hidden\" name=\"" + HtmlEscape(name) + "\" value=\"" + HtmlEscape(value) +
         "\">";
}

std::string LoginForm(const std::string& request_id, const std::string& csrf,
                      const std::string& client_id, const std::string& error) {
  std::string b = "<p>The app <b>" + HtmlEscape(client_id) + "</b> asks to sign you in.</p>";
  if (!error.empty()) b += "<p class=\"error\">" + HtmlEscape(error) + "</p>";
  b += "<form method=\"post\" action=\"login\">" + Hidden("request", request_id) +
       Hidden("csrf", csrf) +
       "<label>Username <input name=\"username\" autocomplete=\"username\" required></label>"
       "<label>Password <input name=\"password\" type=\"password\" "
       "autocomplete=\"current-password\" required></label>"
       "<button type=\"submit\">Sign in</button></form>";
  return b;
}

std::string Describe(const ResourceScope& s) {
  std::string what;
  const uint8_t p = s.permissions;
  if (p & Bit(Permission::kRead) || p & Bit(Permission::kSearch)) what += "read";
  if (p & (Bit(Permission::kCreate) | Bit(Permission::kUpdate) | Bit(Permission::kDelete))) {
    what += what.empty() ? "change" : " and change";
  }
  const std::string type = s.type == "*" ? "all records" : s.type + " records";
  const std::string whose = s.context == ScopeContext::kPatient ? " of the patient" : "";
  return what + " " + type + whose;
}

std::string ConsentForm(const std::string& request_id, const std::string& csrf,
                        const std::string& client_id, const ScopeSet& scopes,
                        const std::string& fhir_user, const std::string& patient, bool ask_patient,
                        const std::string& error) {
  std::string b = "<p>Signed in as " + HtmlEscape(fhir_user) + ". The app <b>" +
                  HtmlEscape(client_id) + "</b> asks to:</p>";
  if (!error.empty()) b += "<p class=\"error\">" + HtmlEscape(error) + "</p>";
  b += "<form method=\"post\" action=\"consent\">" + Hidden("request", request_id) +
       Hidden("csrf", csrf);
  for (const ResourceScope& s : scopes.resources) {
    const std::string text = s.ToString();
    b += "<label><input type=\"checkbox\" name=\"scope:" + HtmlEscape(text) + "\" checked> " +
         HtmlEscape(Describe(s)) + " <code>" + HtmlEscape(text) + "</code></label>";
  }
  if (scopes.offline_access) b += "<p>and keep access when you are not using it.</p>";
  if (ask_patient) {
    b += "<label>Patient id <input name=\"patient\" required value=\"" + HtmlEscape(patient) +
         "\"></label>";
  } else if (!patient.empty()) {
    b += "<p>Patient: " + HtmlEscape(patient) + "</p>";
  }
  b += "<button type=\"submit\" name=\"decision\" value=\"approve\">Allow</button> "
       "<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>";
  return b;
}

std::string SetCookie(std::string_view value, bool secure) {
  return std::string(kCookie) + "=" + std::string(value) +
         "; Path=/auth; HttpOnly; SameSite=Lax; Max-Age=600" + (secure ? "; Secure" : "");
}

// The scopes granted: those asked for within the registration; identity and launch scopes only
// when the client is registered for them.
ScopeSet Grantable(const ScopeSet& asked, const ScopeSet& registered) {
  ScopeSet g;
  g.resources = Intersect(asked.resources, registered.resources);
  g.openid = asked.openid && registered.openid;
  g.fhir_user = asked.fhir_user && registered.fhir_user;
  g.launch = asked.launch && registered.launch;
  g.launch_patient = asked.launch_patient && registered.launch_patient;
  g.launch_encounter = asked.launch_encounter && registered.launch_encounter;
  g.offline_access = asked.offline_access && registered.offline_access;
  g.online_access = asked.online_access && registered.online_access;
  return g;
}

std::string PatientId(std::string_view fhir_user) {
  return fhir_user.starts_with("Patient/") ? std::string(fhir_user.substr(8)) : "";
}

}  // namespace

AuthAnswer AuthServer::Authorize(const AuthRequest& request) const {
  std::optional<std::map<std::string, std::string>> q = ParseForm(request.query);
  if (!q) return Page(400, "Bad request", "<p>The request's query string is malformed.</p>");
  auto get = [&](const char* n) { return FormValue(*q, n); };
  const std::string client_id = get("client_id");
  Result<RegisteredClient> client = directory_.FindClient(client_id);
  if (!client.ok() || client->kind == ClientKind::kBackend) {
    return Page(400, "Unknown app",
                "<p>No app '" + HtmlEscape(client_id) + "' is registered here.</p>");
  }
  // The redirect URI must be one the client registered (compared exactly), or there is no
  // safe place to send an error to.
  std::string redirect = get("redirect_uri");
  if (redirect.empty() && client->redirect_uris.size() == 1) redirect = client->redirect_uris[0];
  if (std::find(client->redirect_uris.begin(), client->redirect_uris.end(), redirect) ==
      client->redirect_uris.end()) {
    return Page(400, "Unknown redirect",
                "<p>The redirect URI is not one registered for this app.</p>");
  }
  const std::string state = get("state");
  if (get("response_type") != "code") {
    return RedirectError(redirect, state, "unsupported_response_type",
                         "response_type must be code");
  }
  // https://hl7.org/fhir/smart-app-launch/app-launch.html#obtain-authorization-code: aud is
  // the FHIR server's base URL, so that a code is not made for another server's app.
  std::string aud = get("aud");
  while (!aud.empty() && aud.back() == '/') aud.pop_back();
  if (aud != tokens_.options().issuer) {
    return RedirectError(redirect, state, "invalid_request",
                         "aud must be this FHIR server's base URL, " + tokens_.options().issuer);
  }
  // PKCE S256 for every client (SMART 2: "code_challenge_method ... S256").
  if (get("code_challenge").empty() || get("code_challenge_method") != "S256") {
    return RedirectError(redirect, state, "invalid_request",
                         "PKCE is required: code_challenge with code_challenge_method=S256");
  }
  Result<ScopeSet> asked = ParseScopes(get("scope"));
  if (!asked.ok()) return RedirectError(redirect, state, "invalid_scope", asked.status().message());
  Pending p;
  p.client_id = client_id;
  p.redirect_uri = redirect;
  p.state = state;
  p.code_challenge = get("code_challenge");
  p.scopes = Grantable(*asked, client->scopes);
  if (p.scopes.resources.empty()) {
    return RedirectError(redirect, state, "invalid_scope",
                         "none of the scopes asked for is registered for this app");
  }
  if (asked->launch) {
    std::lock_guard lock(mu_);
    auto it = launches_.find(get("launch"));
    if (it == launches_.end() || it->second.expires_at <= Now()) {
      return RedirectError(redirect, state, "invalid_request",
                           "the launch parameter names no current EHR launch");
    }
    p.patient = it->second.patient;
    p.encounter = it->second.encounter;
  }
  Result<std::string> id = crypto::RandomToken(24);
  Result<std::string> csrf = crypto::RandomToken(24);
  if (!id.ok() || !csrf.ok()) return Page(500, "Error", "<p>No randomness available.</p>");
  p.csrf = *csrf;
  p.expires_at = Now() + kPendingSeconds;
  {
    std::lock_guard lock(mu_);
    std::erase_if(pending_, [now = Now()](const auto& e) { return e.second.expires_at <= now; });
    pending_[*id] = p;
  }
  AuthAnswer a = Page(200, "Sign in", LoginForm(*id, *csrf, client_id, ""));
  a.headers.emplace_back("Set-Cookie", SetCookie(*csrf, request.secure));
  return a;
}

AuthAnswer AuthServer::Login(const AuthRequest& request) const {
  std::optional<std::map<std::string, std::string>> form = ParseForm(request.body);
  if (!form) return Page(400, "Bad request", "<p>The form is malformed.</p>");
  const std::string id = FormValue(*form, "request");
  const std::string csrf = FormValue(*form, "csrf");
  Pending p;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(id);
    if (it == pending_.end() || it->second.expires_at <= Now()) {
      return Page(400, "Expired", "<p>This sign-in has expired. Start again from the app.</p>");
    }
    p = it->second;
  }
  // Double-submit: the form's token, the cookie's and the pending request's agree (a page of
  // another site cannot read the cookie to put it in its form).
  const std::string cookie = internal::CookieValue(request.Header("Cookie"), kCookie);
  if (csrf.empty() || !crypto::ConstantTimeEqual(csrf, p.csrf) ||
      !crypto::ConstantTimeEqual(cookie, p.csrf)) {
    return Page(403, "Refused", "<p>The form did not come from this sign-in.</p>");
  }
  const std::string username = FormValue(*form, "username");
  Result<User> user = directory_.FindUser(username);
  const int64_t now = Now();
  if (user.ok() && user->locked_until > now) {
    return Page(403, "Sign in",
                LoginForm(id, p.csrf, p.client_id,
                          "Too many failed attempts: this account is locked for a while."));
  }
  if (!user.ok() || !VerifyPassword(user->password_hash, FormValue(*form, "password"))) {
    if (user.ok()) {
      user->failed_logins += 1;
      if (user->failed_logins >= kMaxFailedLogins) {
        user->locked_until = now + kLockoutSeconds;
        user->failed_logins = 0;
      }
      (void)directory_.SaveUser(*user);
    }
    return Page(401, "Sign in",
                LoginForm(id, p.csrf, p.client_id, "The username or password is not right."));
  }
  if (user->failed_logins != 0 || user->locked_until != 0) {
    user->failed_logins = 0;
    user->locked_until = 0;
    (void)directory_.SaveUser(*user);
  }
  p.username = user->username;
  p.fhir_user = user->fhir_user;
  // A patient signs in for themself: their own record is the context.
  if (p.patient.empty() && p.scopes.launch_patient) p.patient = PatientId(p.fhir_user);
  {
    std::lock_guard lock(mu_);
    pending_[id] = p;
  }
  const bool ask = p.scopes.launch_patient && p.patient.empty();
  return Page(200, "Allow access?",
              ConsentForm(id, p.csrf, p.client_id, p.scopes, p.fhir_user, p.patient, ask, ""));
}

AuthAnswer AuthServer::Consent(const AuthRequest& request) const {
  std::optional<std::map<std::string, std::string>> form = ParseForm(request.body);
  if (!form) return Page(400, "Bad request", "<p>The form is malformed.</p>");
  const std::string id = FormValue(*form, "request");
  Pending p;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(id);
    if (it == pending_.end() || it->second.expires_at <= Now() || it->second.username.empty()) {
      return Page(400, "Expired", "<p>This sign-in has expired. Start again from the app.</p>");
    }
    p = it->second;
  }
  const std::string cookie = internal::CookieValue(request.Header("Cookie"), kCookie);
  if (!crypto::ConstantTimeEqual(FormValue(*form, "csrf"), p.csrf) ||
      !crypto::ConstantTimeEqual(cookie, p.csrf)) {
    return Page(403, "Refused", "<p>The form did not come from this sign-in.</p>");
  }
  {
    std::lock_guard lock(mu_);
    pending_.erase(id);  // one decision per request
  }
  if (FormValue(*form, "decision") != "approve") {
    return RedirectError(p.redirect_uri, p.state, "access_denied", "the user denied access");
  }
  // What the user left checked, of what was asked.
  std::vector<ResourceScope> approved;
  for (const ResourceScope& s : p.scopes.resources) {
    if (form->contains("scope:" + s.ToString())) approved.push_back(s);
  }
  if (approved.empty()) {
    return RedirectError(p.redirect_uri, p.state, "access_denied", "the user allowed no scope");
  }
  p.scopes.resources = std::move(approved);
  const bool patient_scopes =
      std::any_of(p.scopes.resources.begin(), p.scopes.resources.end(),
                  [](const ResourceScope& s) { return s.context == ScopeContext::kPatient; });
  if (p.patient.empty() && (p.scopes.launch_patient || patient_scopes)) {
    const std::string chosen = std::string(Trim(FormValue(*form, "patient")));
    if (chosen.empty() || (patient_exists_ && !patient_exists_(chosen))) {
      Pending again = p;
      {
        std::lock_guard lock(mu_);
        pending_[id] = again;
      }
      return Page(400, "Allow access?",
                  ConsentForm(id, p.csrf, p.client_id, p.scopes, p.fhir_user, chosen, true,
                              "Choose a patient that exists on this server."));
    }
    p.patient = chosen;
  }
  Result<std::string> code = crypto::RandomToken(32);
  if (!code.ok()) return Page(500, "Error", "<p>No randomness available.</p>");
  {
    std::lock_guard lock(mu_);
    std::erase_if(codes_,
                  [now = Now()](const auto& e) { return e.second.expires_at <= now - 600; });
    codes_[*code] = Code{p, Now() + kCodeSeconds, false, {}};
  }
  AuthAnswer a;
  a.status = 302;
  a.no_store = true;
  std::string location = p.redirect_uri +
                         (p.redirect_uri.find('?') == std::string::npos ? "?" : "&") +
                         "code=" + *code;
  if (!p.state.empty()) location += "&state=" + PercentEncode(p.state);
  a.headers.emplace_back("Location", location);
  return a;
}

// An EHR's launch context
// (https://hl7.org/fhir/smart-app-launch/app-launch.html#launch-app-ehr-launch): the EHR, with a
// token of user/ or system/ scopes, makes a launch id bound to a patient (and an encounter) and
// opens the app with it.
AuthAnswer AuthServer::NewLaunch(const AuthRequest& request) const {
  std::string_view header = request.Header("Authorization");
  if (header.size() < 7 || strncasecmp(header.data(), "Bearer ", 7) != 0) {
    return OAuthError(401, "invalid_token", "a launch is made with the EHR's bearer token");
  }
  Result<std::shared_ptr<const Caller>> caller = tokens_.Verify(Trim(header.substr(7)));
  if (!caller.ok()) return OAuthError(401, "invalid_token", caller.status().message());
  const ScopeSet& scopes = (*caller)->scopes;
  const bool broad =
      std::any_of(scopes.resources.begin(), scopes.resources.end(),
                  [](const ResourceScope& s) { return s.context != ScopeContext::kPatient; });
  if (!broad)
    return OAuthError(403, "insufficient_scope", "a launch needs user/ or system/ scopes");
  std::optional<std::map<std::string, std::string>> form = ParseForm(request.body);
  if (!form) return OAuthError(400, "invalid_request", "the body is not a valid form");
  Launch l{FormValue(*form, "patient"), FormValue(*form, "encounter"), Now() + kLaunchSeconds};
  if (l.patient.empty() || (patient_exists_ && !patient_exists_(l.patient))) {
    return OAuthError(400, "invalid_request", "patient names no Patient of this server");
  }
  Result<std::string> id = crypto::RandomToken(24);
  if (!id.ok()) return OAuthError(500, "server_error", id.status().message());
  {
    std::lock_guard lock(mu_);
    std::erase_if(launches_, [now = Now()](const auto& e) { return e.second.expires_at <= now; });
    launches_[*id] = l;
  }
  AuthAnswer a;
  a.no_store = true;
  a.body = "{\"launch\":";
  json::WriteString(*id, &a.body);
  a.body += "}";
  return a;
}

std::optional<RegisteredClient> AuthServer::AuthenticateClient(
    const AuthRequest& request, const std::map<std::string, std::string>& form, AuthAnswer* error,
    bool allow_backend) const {
  std::string client_id = FormValue(form, "client_id");
  std::string secret;
  std::string_view basic = request.Header("Authorization");
  if (basic.size() > 6 && strncasecmp(basic.data(), "Basic ", 6) == 0) {
    // RFC 6749 §2.3.1: client_id:secret, each form-urlencoded, in base64.
    std::optional<std::string> decoded = Base64Decode(Trim(basic.substr(6)));
    const size_t colon = decoded ? decoded->find(':') : std::string::npos;
    std::string id, pass;
    if (colon == std::string::npos ||
        !PercentDecode(std::string_view(*decoded).substr(0, colon), PlusIs::kSpace, &id) ||
        !PercentDecode(std::string_view(*decoded).substr(colon + 1), PlusIs::kSpace, &pass)) {
      *error = OAuthError(401, "invalid_client", "the Basic credentials are malformed");
      return std::nullopt;
    }
    client_id = id;
    secret = pass;
  }
  const std::string assertion = FormValue(form, "client_assertion");
  // A client authenticating by assertion alone names itself in it (verified below).
  if (!assertion.empty() && client_id.empty()) client_id = crypto::UnverifiedIssuer(assertion);
  Result<RegisteredClient> client = directory_.FindClient(client_id);
  if (!client.ok() || (client->kind == ClientKind::kBackend && !allow_backend)) {
    *error = OAuthError(401, "invalid_client", "no app '" + client_id + "' is registered");
    return std::nullopt;
  }
  if (client->kind == ClientKind::kPublic) return *client;
  if (!secret.empty() && !client->secret_sha256.empty()) {
    if (crypto::ConstantTimeEqual(crypto::Base64UrlEncode(crypto::Sha256(secret)),
                                  client->secret_sha256)) {
      return *client;
    }
    *error = OAuthError(401, "invalid_client", "the client secret is not right");
    return std::nullopt;
  }
  if (!assertion.empty() && !client->jwks.empty() &&
      FormValue(form, "client_assertion_type") == kJwtBearer) {
    if (Status s = CheckClientAssertion(*client, assertion); !s.ok()) {
      *error = OAuthError(401, "invalid_client", s.message());
      return std::nullopt;
    }
    return *client;
  }
  *error = OAuthError(401, "invalid_client", "a confidential client authenticates itself");
  return std::nullopt;
}

AuthAnswer AuthServer::IssueForUser(const Pending& g,
                                    std::vector<std::pair<std::string, int64_t>>* issued) const {
  Caller caller;
  caller.client_id = g.client_id;
  caller.subject = g.username;
  caller.fhir_user = g.fhir_user;
  caller.patient = g.patient;
  caller.encounter = g.encounter;
  caller.scopes = g.scopes;
  Result<IssuedToken> token = tokens_.Issue(caller);
  if (!token.ok()) return OAuthError(500, "server_error", token.status().message());
  if (issued != nullptr) issued->emplace_back(token->jti, Now() + token->expires_in);
  AuthAnswer a;
  a.no_store = true;
  std::string& b = a.body;
  b = "{\"access_token\":";
  json::WriteString(token->access_token, &b);
  b += ",\"token_type\":\"bearer\",\"expires_in\":" + std::to_string(token->expires_in) +
       ",\"scope\":";
  json::WriteString(g.scopes.ToString(), &b);
  if (!g.patient.empty()) {
    b += ",\"patient\":";
    json::WriteString(g.patient, &b);
  }
  if (!g.encounter.empty()) {
    b += ",\"encounter\":";
    json::WriteString(g.encounter, &b);
  }
  if (g.scopes.launch || g.scopes.launch_patient) b += ",\"need_patient_banner\":true";
  // https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html#scopes-for-requesting-identity-data
  if (g.scopes.openid && g.scopes.fhir_user) {
    std::string claims = "{\"iss\":";
    json::WriteString(tokens_.options().issuer, &claims);
    claims += ",\"sub\":";
    json::WriteString(g.username, &claims);
    claims += ",\"aud\":";
    json::WriteString(g.client_id, &claims);
    claims += ",\"fhirUser\":";
    json::WriteString(tokens_.options().issuer + "/" + g.fhir_user, &claims);
    claims += ",\"iat\":" + std::to_string(Now()) +
              ",\"exp\":" + std::to_string(Now() + token->expires_in) + "}";
    Result<std::string> id_token = tokens_.SignClaims(claims);
    if (!id_token.ok()) return OAuthError(500, "server_error", id_token.status().message());
    b += ",\"id_token\":";
    json::WriteString(*id_token, &b);
  }
  if (g.scopes.offline_access || g.scopes.online_access) {
    Result<std::string> refresh = crypto::RandomToken(32);
    if (!refresh.ok()) return OAuthError(500, "server_error", refresh.status().message());
    RefreshGrant r{g.client_id,
                   g.scopes.ToString(),
                   g.username,
                   g.fhir_user,
                   g.patient,
                   g.encounter,
                   Now() + (g.scopes.offline_access ? kRefreshSeconds : kOnlineRefreshSeconds)};
    if (Status s = directory_.SaveRefresh(crypto::Base64UrlEncode(crypto::Sha256(*refresh)), r);
        !s.ok()) {
      return OAuthError(500, "server_error", s.message());
    }
    b += ",\"refresh_token\":";
    json::WriteString(*refresh, &b);
  }
  b += "}";
  return a;
}

// https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3 with PKCE (RFC 7636 §4.6).
AuthAnswer AuthServer::AuthorizationCode(const AuthRequest& request,
                                         const std::map<std::string, std::string>& form) const {
  AuthAnswer error;
  std::optional<RegisteredClient> client = AuthenticateClient(request, form, &error);
  if (!client) return error;
  const std::string code = FormValue(form, "code");
  Code c;
  {
    std::lock_guard lock(mu_);
    auto it = codes_.find(code);
    if (it == codes_.end()) return OAuthError(400, "invalid_grant", "the code is not known");
    if (it->second.used) {
      // RFC 6749 §4.1.2: a code used twice revokes what it gave.
      for (const auto& [jti, exp] : it->second.issued) tokens_.Revoke(jti, exp);
      return OAuthError(400, "invalid_grant", "the code was used before");
    }
    it->second.used = true;
    c = it->second;
  }
  if (c.expires_at <= Now()) return OAuthError(400, "invalid_grant", "the code has expired");
  if (c.grant.client_id != client->client_id) {
    return OAuthError(400, "invalid_grant", "the code was issued to another client");
  }
  if (FormValue(form, "redirect_uri") != c.grant.redirect_uri) {
    return OAuthError(400, "invalid_grant", "redirect_uri is not the authorization request's");
  }
  if (Status s = crypto::CheckPkceS256(FormValue(form, "code_verifier"), c.grant.code_challenge);
      !s.ok()) {
    return OAuthError(400, "invalid_grant", "PKCE: " + s.message());
  }
  std::vector<std::pair<std::string, int64_t>> issued;
  AuthAnswer a = IssueForUser(c.grant, &issued);
  std::lock_guard lock(mu_);
  if (auto it = codes_.find(code); it != codes_.end()) it->second.issued = issued;
  return a;
}

// https://www.rfc-editor.org/rfc/rfc6749#section-6: a refresh token, used once and replaced.
AuthAnswer AuthServer::RefreshToken(const AuthRequest& request,
                                    const std::map<std::string, std::string>& form) const {
  const std::string token_hash =
      crypto::Base64UrlEncode(crypto::Sha256(FormValue(form, "refresh_token")));
  // A public client may send no client_id with a refresh (RFC 6749 §6 asks authentication of
  // confidential clients only): the token names its client.
  const bool credentials = !FormValue(form, "client_id").empty() ||
                           !request.Header("Authorization").empty() ||
                           !FormValue(form, "client_assertion").empty();
  std::optional<RegisteredClient> client;
  if (credentials) {
    AuthAnswer error;
    client = AuthenticateClient(request, form, &error);
    if (!client) return error;
  }
  Result<RefreshGrant> r = directory_.TakeRefresh(token_hash, Now());
  if (!r.ok()) return OAuthError(400, "invalid_grant", r.status().message());
  if (!client) {
    Result<RegisteredClient> named = directory_.FindClient(r->client_id);
    if (!named.ok() || named->kind != ClientKind::kPublic) {
      (void)directory_.SaveRefresh(token_hash, *r);  // not used: keep it for an authenticated try
      return OAuthError(401, "invalid_client", "a confidential client authenticates itself");
    }
    client = *named;
  }
  if (r->client_id != client->client_id) {
    return OAuthError(400, "invalid_grant", "the refresh token was issued to another client");
  }
  Result<ScopeSet> scopes = ParseScopes(r->scope);
  if (!scopes.ok()) return OAuthError(500, "server_error", scopes.status().message());
  Pending g;
  g.client_id = r->client_id;
  g.username = r->subject;
  g.fhir_user = r->fhir_user;
  g.patient = r->patient;
  g.encounter = r->encounter;
  g.scopes = std::move(scopes).value();
  // A narrower scope may be asked for (RFC 6749 §6), never a wider one.
  if (const std::string asked = FormValue(form, "scope"); !asked.empty()) {
    Result<ScopeSet> narrower = ParseScopes(asked);
    if (!narrower.ok()) return OAuthError(400, "invalid_scope", narrower.status().message());
    g.scopes.resources = Intersect(narrower->resources, g.scopes.resources);
    if (g.scopes.resources.empty())
      return OAuthError(400, "invalid_scope", "nothing left to grant");
  }
  return IssueForUser(g, nullptr);
}

// https://www.rfc-editor.org/rfc/rfc7662: whether a token is active, and what it grants, for a
// registered confidential or backend client (a public client may not ask).
AuthAnswer AuthServer::Introspect(const AuthRequest& request) const {
  std::optional<std::map<std::string, std::string>> form = ParseForm(request.body);
  if (!form) return OAuthError(400, "invalid_request", "the body is not a valid form");
  AuthAnswer error;
  std::optional<RegisteredClient> client = AuthenticateClient(request, *form, &error, true);
  if (!client) return error;
  if (client->kind == ClientKind::kPublic) {
    return OAuthError(401, "invalid_client", "a public client may not introspect tokens");
  }
  AuthAnswer a;
  a.no_store = true;
  Result<std::shared_ptr<const Caller>> c = tokens_.Verify(FormValue(*form, "token"));
  if (!c.ok()) {
    a.body = "{\"active\":false}";
    return a;
  }
  const Caller& caller = **c;
  std::string& b = a.body;
  b = "{\"active\":true,\"token_type\":\"bearer\",\"scope\":";
  json::WriteString(caller.scopes.ToString(), &b);
  b += ",\"client_id\":";
  json::WriteString(caller.client_id, &b);
  b += ",\"sub\":";
  json::WriteString(caller.subject, &b);
  b += ",\"exp\":" + std::to_string(caller.expires_at);
  if (!caller.patient.empty()) {
    b += ",\"patient\":";
    json::WriteString(caller.patient, &b);
  }
  if (!caller.fhir_user.empty()) {
    b += ",\"fhirUser\":";
    json::WriteString(caller.fhir_user, &b);
  }
  b += "}";
  return a;
}

// https://www.rfc-editor.org/rfc/rfc7009: a client revokes one of its own tokens, an access
// token (refused from then on, by this node: docs/security.md) or a refresh token (spent). The
// answer is 200 whether or not the token was known (§2.2).
AuthAnswer AuthServer::Revoke(const AuthRequest& request) const {
  std::optional<std::map<std::string, std::string>> form = ParseForm(request.body);
  if (!form) return OAuthError(400, "invalid_request", "the body is not a valid form");
  AuthAnswer error;
  std::optional<RegisteredClient> client = AuthenticateClient(request, *form, &error, true);
  if (!client) return error;
  const std::string token = FormValue(*form, "token");
  AuthAnswer a;
  a.no_store = true;
  a.body = "{}";
  if (Result<std::shared_ptr<const Caller>> c = tokens_.Verify(token); c.ok()) {
    if ((*c)->client_id == client->client_id) tokens_.Revoke((*c)->token_id, (*c)->expires_at);
    return a;
  }
  const std::string hash = crypto::Base64UrlEncode(crypto::Sha256(token));
  if (Result<RefreshGrant> r = directory_.TakeRefresh(hash, Now()); r.ok()) {
    if (r->client_id != client->client_id) (void)directory_.SaveRefresh(hash, *r);  // not its own
  }
  return a;
}

}  // namespace vesta::auth
