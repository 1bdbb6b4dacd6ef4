// The FHIR REST API (https://hl7.org/fhir/R4/http.html): routes a Request to its interaction
// and turns every failure into an OperationOutcome (rest/outcome.h).
//
//   rest::RestApi api(options, *store, clock, ids);
//   rest::Response r = api.Handle(request);   // thread-safe
//
// The RestApi borrows the store, clock and id generator: they must outlive it.
#pragma once

#include <memory>
#include <string>

#include "auth/caller.h"
#include "base/clock.h"
#include "fhir/model/model.h"
#include "rest/request.h"
#include "store/store.h"

namespace vesta::terminology {
class TerminologyService;
}

namespace vesta::bulk {
class ExportJobs;
}

namespace vesta::rest {

struct RestOptions {
  // The server's base URL used in Location, fullUrl and paging links. Empty: derived from the
  // request's Host header as http://HOST.
  std::string base_url;
  int default_page_size = 50;
  int max_page_size = 1000;
  std::string software_version = "0.1.0";
  // Serves the terminology operations and the CodeSystem, ValueSet and ConceptMap resources it
  // describes. Borrowed; optional (nullptr: those operations answer 404).
  terminology::TerminologyService* terminology = nullptr;
  // Conditional delete (https://hl7.org/fhir/R4/http.html#3.1.0.7.1): how many matches one
  // request may delete. 1: several matches are refused with 412.
  int conditional_delete_limit = 1;
  // Refuse writes whose relative references name resources that do not exist (400).
  bool referential_integrity = true;
  // SMART on FHIR authorization (docs/security.md): every request but /metadata, /healthz,
  // /readyz and /.well-known/* needs a bearer token this verifies, and is held to its scopes
  // (rest/access.h). Borrowed; nullptr: authorization off (every request allowed).
  const auth::TokenVerifier* token_verifier = nullptr;
  // FHIR Bulk Data export (rest/bulk_export.cc): the server's background exports. Borrowed;
  // nullptr: $export answers 501.
  bulk::ExportJobs* exports = nullptr;
  // Lenient validation (`vesta serve --validation lenient`, fhir::ValidationOptions::lenient): a
  // resource missing required elements or with a dateTime without a time zone is stored, and the
  // problems are answered as warnings. Strict (false) refuses it, as R4 says a server may.
  bool lenient_validation = false;
};

class RestApi {
 public:
  RestApi(RestOptions options, store::Store& store, Clock& clock, IdGenerator& ids);
  ~RestApi();

  // Answers one request. With a token verifier, a request without a caller is authenticated
  // first (401 with WWW-Authenticate when its token is missing or not valid).
  Response Handle(Request request);

 private:
  Response Route(const Request& request);

  struct Context;
  std::unique_ptr<Context> ctx_;
};

}  // namespace vesta::rest
