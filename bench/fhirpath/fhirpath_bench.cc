// The Vesta side of the FHIRPath benchmark (bench/fhirpath/run.sh): evaluates the workload
// written by fhirpath_bench.js (search parameter expressions and heavy expressions over the
// R4 examples) and prints nanoseconds per evaluation.
//
//   fhirpath_bench <manifest.json> [seconds]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "fhir/fhirpath/fhirpath.h"
#include "json/parse.h"

namespace {

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

struct Case {
  std::string name;
  vesta::fhirpath::Expression expr;
  std::vector<size_t> resources;
};

}  // namespace

int main(int argc, char** argv) {
  using namespace vesta;
  if (argc < 2) {
    std::fprintf(stderr, "usage: fhirpath_bench <manifest.json> [seconds]\n");
    return 2;
  }
  const double seconds = argc > 2 ? std::atof(argv[2]) : 2.0;
  std::string text;
  if (!ReadFile(argv[1], &text)) {
    std::fprintf(stderr, "cannot read %s\n", argv[1]);
    return 1;
  }
  Result<json::Document> manifest = json::Parse(text);
  if (!manifest.ok()) {
    std::fprintf(stderr, "%s\n", manifest.status().ToString().c_str());
    return 1;
  }
  const json::Value& m = manifest->root();
  std::string dir(m.FindString("dir"));
  std::vector<std::unique_ptr<json::Document>> docs;
  for (const json::Value& f : m.Find("resources")->items()) {
    std::string body;
    if (!ReadFile(dir + "/" + std::string(f.string_value()), &body)) return 1;
    Result<json::Document> d = json::Parse(body);
    if (!d.ok()) return 1;
    docs.push_back(std::make_unique<json::Document>(std::move(d).value()));
  }
  std::vector<Case> cases;
  size_t dropped = 0;
  for (const json::Value& c : m.Find("cases")->items()) {
    Result<fhirpath::Expression> e = fhirpath::Expression::Compile(c.FindString("expression"));
    std::vector<size_t> targets;
    for (const json::Value& i : c.Find("resources")->items()) {
      targets.push_back(static_cast<size_t>(std::atoll(std::string(i.number_text()).c_str())));
    }
    if (!e.ok()) {
      std::fprintf(stderr, "compile error: %s: %s\n", std::string(c.FindString("name")).c_str(),
                   e.status().message().c_str());
      dropped += targets.size();
      continue;
    }
    std::vector<size_t> ok;
    for (size_t t : targets) {
      if (e->Evaluate(docs[t]->root()).ok()) {
        ok.push_back(t);
      } else {
        ++dropped;
      }
    }
    cases.push_back(Case{std::string(c.FindString("name")), std::move(e).value(), std::move(ok)});
  }
  size_t pairs = 0;
  for (const Case& c : cases) pairs += c.resources.size();
  auto pass = [&] {
    size_t n = 0;
    for (const Case& c : cases) {
      for (size_t t : c.resources) {
        Result<fhirpath::Collection> r = c.expr.Evaluate(docs[t]->root());
        if (r.ok()) n += r->size();
      }
    }
    return n;
  };
  const size_t items = pass();  // warm-up, untimed
  if (std::getenv("FHIRPATH_BENCH_PROFILE") != nullptr) {
    // Where the time goes: the slowest expressions over 10 passes.
    std::vector<std::pair<double, std::string>> costs;
    for (const Case& c : cases) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int k = 0; k < 10; ++k) {
        for (size_t t : c.resources) (void)c.expr.Evaluate(docs[t]->root());
      }
      costs.emplace_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() /
              10,
          c.name + " (" + std::to_string(c.resources.size()) + ") " + c.expr.text());
    }
    std::sort(costs.rbegin(), costs.rend());
    for (size_t i = 0; i < costs.size() && i < 25; ++i) {
      std::fprintf(stderr, "%10.1f us  %s\n", costs[i].first, costs[i].second.c_str());
    }
  }
  const auto start = std::chrono::steady_clock::now();
  int passes = 0;
  while (passes < 100000) {
    pass();
    ++passes;
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >=
        seconds) {
      break;
    }
  }
  const double ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "{\"engine\":\"vesta\",\"pairs\":%zu,\"passes\":%d,\"items\":%zu,\"dropped\":%zu,"
      "\"ns_per_eval\":%.1f}\n",
      pairs, passes, items, dropped, ns / (static_cast<double>(passes) * pairs));
  return 0;
}
