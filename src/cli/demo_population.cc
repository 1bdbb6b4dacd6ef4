#include "cli/demo_population.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "auth/caller.h"
#include "auth/scopes.h"
#include "base/log.h"
#include "generate/generator.h"
#include "generate/output.h"
#include "json/parse.h"
#include "json/writer.h"

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

namespace fs = std::filesystem;

// The files of `dir` whose names start with `prefix` and end in .json, in name order (so that of
// two versions of a resource with one id the later one is stored last, and stays).
std::vector<fs::path> JsonFiles(const fs::path& dir, std::string_view prefix) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file(ec) && name.starts_with(prefix) && name.ends_with(".json")) {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(StatusCode::kNotFound, "cannot read " + path.string());
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// One refused resource does not stop the others: a measure whose library or value set is missing
// is reported by $evaluate-measure when it is evaluated.
void Warn(const std::string& what, const rest::Response& out) {
  LogWarning("demo: " + what + " was refused (" + std::to_string(out.status) +
             "): " + out.body.substr(0, 300));
}

// Stores a Library or Measure file with PUT /[type]/[id] (its own id); true when stored.
bool PutResource(DemoClient& client, const fs::path& file, const std::string& type) {
  Result<std::string> body = ReadFile(file);
  if (!body.ok()) {
    LogWarning("demo: " + body.status().message());
    return false;
  }
  Result<json::Document> doc = json::Parse(*body);
  const std::string id = doc.ok() ? std::string(doc->root().FindString("id")) : "";
  if (id.empty()) {
    LogWarning("demo: " + file.filename().string() + " is not a resource with an id");
    return false;
  }
  rest::Response out = client.Send("PUT", "/" + type + "/" + id, {}, std::move(*body));
  if (out.status == 200 || out.status == 201) return true;
  Warn(file.filename().string(), out);
  return false;
}

// Stores the ValueSets of a value set bundle as one transaction of PUT /ValueSet/[id]. The
// request of each entry is written anew: the stewards' bundles carry URLs such as
// `ValueSet/[id]/_history/5`, which a transaction may not PUT to
// (https://hl7.org/fhir/R4/http.html#trules: a PUT's url is [type]/[id] or a conditional update).
int PutValueSets(DemoClient& client, const fs::path& file) {
  Result<std::string> body = ReadFile(file);
  Result<json::Document> doc =
      body.ok() ? json::Parse(*body) : Result<json::Document>(body.status());
  const json::Value* entries = doc.ok() ? doc->root().Find("entry") : nullptr;
  if (entries == nullptr || !entries->is_array()) {
    LogWarning("demo: " + file.filename().string() + " is not a Bundle with entries");
    return 0;
  }
  std::string bundle = R"({"resourceType":"Bundle","type":"transaction","entry":[)";
  int n = 0;
  for (const json::Value& entry : entries->items()) {
    const json::Value* resource = entry.Find("resource");
    if (resource == nullptr || resource->FindString("resourceType") != "ValueSet" ||
        resource->FindString("id").empty()) {
      continue;
    }
    if (n++ > 0) bundle += ",";
    bundle += R"({"resource":)";
    json::Write(*resource, json::Style::kCompact, &bundle);
    bundle += R"(,"request":{"method":"PUT","url":)";
    json::WriteString("ValueSet/" + std::string(resource->FindString("id")), &bundle);
    bundle += "}}";
  }
  bundle += "]}";
  if (n == 0) return 0;
  rest::Response out = client.Send("POST", "/", {}, std::move(bundle));
  if (out.status == 200) return n;
  Warn(file.filename().string(), out);
  return 0;
}

// The folder of measures for the demo: --demo-measures, else the environment's
// VESTA_DEMO_MEASURES, else "".
fs::path DemoMeasuresDir(const DemoOptions& options) {
  if (!options.measures_dir.empty()) return fs::path(options.measures_dir);
  const char* env = std::getenv("VESTA_DEMO_MEASURES");
  return env == nullptr ? fs::path() : fs::path(env);
}

// The measures of a folder laid out as the eCQM test data (libraries/, measures/,
// tests/<measure>/valuesets-*.json; docs/measures.md, "Loading a measure").
void LoadDemoMeasures(DemoClient& client, const fs::path& root) {
  std::error_code ec;
  if (!fs::is_directory(root / "measures", ec)) {
    LogWarning("demo: the measures folder " + root.string() +
               ", which has no measures/ folder: no measure loaded");
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  int libraries = 0, measures = 0, value_sets = 0;
  for (const fs::path& f : JsonFiles(root / "libraries", "Library-")) {
    libraries += PutResource(client, f, "Library") ? 1 : 0;
  }
  for (const fs::path& f : JsonFiles(root / "measures", "Measure-")) {
    measures += PutResource(client, f, "Measure") ? 1 : 0;
  }
  std::vector<fs::path> decks;
  for (const fs::directory_entry& e : fs::directory_iterator(root / "tests", ec)) {
    if (e.is_directory(ec)) decks.push_back(e.path());
  }
  std::sort(decks.begin(), decks.end());
  for (const fs::path& deck : decks) {
    for (const fs::path& f : JsonFiles(deck, "valuesets-")) value_sets += PutValueSets(client, f);
  }
  LogInfo("demo: " + std::to_string(measures) + " measures, " + std::to_string(libraries) +
          " libraries and " + std::to_string(value_sets) + " value sets loaded from " +
          root.string() + " in " +
          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - start)
                             .count()) +
          " ms");
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
  // With measures to show, the records they look for (billing codes on visits, screenings,
  // exclusions: docs/generate.md, "Quality measures"), so that their populations are not empty.
  const fs::path measures = DemoMeasuresDir(options);
  generate_options.measures = !measures.empty();
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
  if (!measures.empty()) LoadDemoMeasures(client, measures);
  return options.patients;
}

}  // namespace vesta::cli
