#include "cli/demo_population.h"

#include <memory>
#include <string>
#include <utility>

#include "auth/caller.h"
#include "auth/scopes.h"
#include "base/log.h"
#include "generate/generator.h"
#include "generate/output.h"
#include "json/parse.h"

namespace vesta::cli {
namespace {

class DemoClient {
 public:
  DemoClient(rest::RestApi& api, bool authorization) : api_(api) {
    if (!authorization) return;
    caller_ = std::make_shared<auth::Caller>();
    if (Result<auth::ScopeSet> scopes = auth::ParseScopes("system/*.cruds"); scopes.ok()) {
      caller_->scopes = *scopes;
    }
    caller_->client_id = "vesta-demo";
    caller_->subject = "vesta-demo";
  }

  rest::Response Send(std::string method, std::string path,
                      std::vector<std::pair<std::string, std::string>> query, std::string body) {
    rest::Request r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.query = std::move(query);
    r.headers = {{"Content-Type", "application/fhir+json"}, {"Accept", "application/fhir+json"}};
    r.body = std::move(body);
    r.caller = caller_;
    return api_.Handle(std::move(r));
  }

 private:
  rest::RestApi& api_;
  std::shared_ptr<auth::Caller> caller_;
};

Status Post(DemoClient& client, const std::string& bundle, const std::string& what) {
  rest::Response out = client.Send("POST", "/", {}, bundle);
  if (out.status == 200) return Status::Ok();
  return Status(StatusCode::kUnprocessable, what + ": the transaction was refused (" +
                                                std::to_string(out.status) +
                                                "): " + out.body.substr(0, 1000));
}

}  // namespace

Result<int64_t> LoadDemoPopulation(rest::RestApi& api, bool authorization,
                                   const DemoOptions& options) {
  DemoClient client(api, authorization);
  // https://hl7.org/fhir/R4/search.html#summary: _summary=count gives the total alone.
  rest::Response count = client.Send("GET", "/Patient", {{"_summary", "count"}}, "");
  if (count.status != 200) {
    return Status(StatusCode::kInternal, "counting patients: status " +
                                             std::to_string(count.status) + ": " +
                                             count.body.substr(0, 500));
  }
  ASSIGN_OR_RETURN(json::Document doc, json::Parse(count.body));
  const json::Value* total = doc.root().Find("total");
  if (total == nullptr || !total->is_number() || total->number_text() != "0") return 0;

  generate::GenerateOptions generate_options;
  generate_options.patients = options.patients;
  generate_options.seed = options.seed;
  generate_options.legacy_icd9 = true;
  RETURN_IF_ERROR(generate::Validate(generate_options));
  generate::Generator generator(generate_options);
  generate::ResourceBatch batch;
  std::string bundle;
  generator.GenerateShared(&batch);
  generate::AppendTransactionBundle(batch, &bundle);
  RETURN_IF_ERROR(Post(client, bundle, "the shared organizations and practitioners"));
  LogInfo("demo: loading " + std::to_string(options.patients) + " generated patients");
  for (int64_t i = 0; i < options.patients; ++i) {
    batch.Clear();
    bundle.clear();
    generator.GeneratePatient(i, &batch);
    generate::AppendTransactionBundle(batch, &bundle);
    RETURN_IF_ERROR(Post(client, bundle, "patient " + std::to_string(i + 1)));
  }
  return options.patients;
}

}  // namespace vesta::cli
