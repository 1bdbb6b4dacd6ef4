#include "cli/hl7v2_feed.h"

#include "auth/scopes.h"
#include "hl7v2/map.h"

namespace vesta::cli {

mllp::MapFunction FeedMapper() {
  return [](const hl7v2::Message& message,
            const std::string& record_reference) -> Result<std::string> {
    hl7v2::MapOptions options;
    options.record_reference = record_reference;
    ASSIGN_OR_RETURN(hl7v2::MappedMessage mapped, hl7v2::MapToFhir(message, options));
    if (mapped.outcome == hl7v2::MapOutcome::kUnsupported) {
      return Status(StatusCode::kNotSupported, mapped.reason);
    }
    return std::move(mapped.bundle_json);
  };
}

mllp::ApplyFunction FeedApplier(rest::RestApi& api, bool authorization) {
  auto caller = std::make_shared<auth::Caller>();
  if (Result<auth::ScopeSet> scopes = auth::ParseScopes("system/*.cruds"); scopes.ok()) {
    caller->scopes = *scopes;
  }
  caller->client_id = "hl7v2-feed";
  caller->subject = "hl7v2-feed";
  return [&api, caller, authorization](const std::string& bundle) -> Status {
    rest::Request r;
    r.method = "POST";
    r.path = "/";
    // The feed reads the status only: no resource is written back into the response
    // (https://hl7.org/fhir/R4/http.html#ops, Prefer: return=minimal).
    r.headers = {{"Content-Type", "application/fhir+json"}, {"Prefer", "return=minimal"}};
    r.body = bundle;
    if (authorization) r.caller = caller;
    rest::Response out = api.Handle(std::move(r));
    if (out.status == 200) return Status::Ok();
    return Status(StatusCode::kUnprocessable, "the transaction was refused (" +
                                                  std::to_string(out.status) +
                                                  "): " + out.body.substr(0, 2000));
  };
}

}  // namespace vesta::cli
