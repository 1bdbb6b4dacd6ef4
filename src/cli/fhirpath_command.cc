// `vesta fhirpath`: evaluates a FHIRPath expression on a resource and prints the resulting
// collection as a JSON array.
//
//   vesta fhirpath "Patient.name.where(use = 'official').given" patient.json
//   cat patient.json | vesta fhirpath "birthDate" -
//   vesta fhirpath --strict "Observation.code" patient.json   (an error: the context is a Patient)
//   vesta fhirpath "Observation.code | Condition.code" obs1.json cond1.json   (a line per file)
//
// Non-strict by default (fhirpath.h, Mode): a type name that is not the resource's type and an
// element the model does not have select nothing. Any JSON can be evaluated: a document whose
// resourceType is not an R4 type (or that has none) is navigated as plain JSON, its strings,
// numbers and booleans as System values.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "fhir/fhirpath/fhirpath.h"
#include "json/parse.h"

namespace vesta::cli {
namespace {

struct FhirPathArgs {
  std::string expression;
  std::vector<std::string> files = {"-"};
  std::vector<std::string> variables;  // name=string
  bool strict = false;
};

[[noreturn]] void Fail(const std::string& what, int code) {
  std::fprintf(stderr, "vesta fhirpath: %s\n", what.c_str());
  throw CLI::RuntimeError(code);
}

bool Read(const std::string& file, std::string* text) {
  std::ostringstream ss;
  if (file == "-") {
    ss << std::cin.rdbuf();
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) return false;
    ss << in.rdbuf();
  }
  *text = ss.str();
  return true;
}

// Evaluates the expression on each file: one file prints the result; several print one line
// each, `file: result`. An error on one file is reported and the others still run (exit 1).
void Run(const FhirPathArgs& args) {
  fhirpath::Environment env;
  for (const std::string& v : args.variables) {
    size_t eq = v.find('=');
    if (eq == std::string::npos) Fail("--var needs name=value, got '" + v + "'", 2);
    env.variables[v.substr(0, eq)] = {fhirpath::Item::String(v.substr(eq + 1))};
  }
  env.trace = [](std::string_view name, const fhirpath::Collection& c) {
    std::fprintf(stderr, "trace %.*s: %s\n", static_cast<int>(name.size()), name.data(),
                 fhirpath::CollectionToJson(c).c_str());
  };
  // Compiled once per context type: the resourceType of the file (none for plain JSON).
  std::map<std::string, fhirpath::Expression> compiled;
  const bool several = args.files.size() > 1;
  bool failed = false;
  for (const std::string& file : args.files) {
    auto fail = [&](const std::string& what, int code) {
      if (!several || code == 2) Fail((several ? file + ": " : "") + what, code);
      std::fprintf(stderr, "vesta fhirpath: %s: %s\n", file.c_str(), what.c_str());
      failed = true;
    };
    std::string text;
    if (!Read(file, &text)) {
      fail("cannot read " + file, 1);
      continue;
    }
    Result<json::Document> doc = json::Parse(text);
    if (!doc.ok()) {
      fail(doc.status().message(), 1);
      continue;
    }
    const std::string type(doc->root().FindString("resourceType"));
    auto it = compiled.find(type);
    if (it == compiled.end()) {
      fhirpath::CompileOptions options;
      options.context_type = type;
      options.mode = args.strict ? fhirpath::Mode::kStrict : fhirpath::Mode::kNonStrict;
      Result<fhirpath::Expression> expr = fhirpath::Expression::Compile(args.expression, options);
      if (!expr.ok()) Fail((several ? file + ": " : "") + expr.status().message(), 2);
      it = compiled.emplace(type, std::move(*expr)).first;
    }
    Result<fhirpath::Collection> result = it->second.Evaluate(doc->root(), env);
    if (!result.ok()) {
      fail(result.status().message(), 1);
      continue;
    }
    const std::string json = fhirpath::CollectionToJson(*result);
    if (several) {
      std::printf("%s: %s\n", file.c_str(), json.c_str());
    } else {
      std::printf("%s\n", json.c_str());
    }
  }
  if (failed) throw CLI::RuntimeError(1);
}

void Add(CLI::App& app) {
  auto args = std::make_shared<FhirPathArgs>();
  CLI::App* cmd = app.add_subcommand(
      "fhirpath", "Evaluate a FHIRPath expression on a JSON resource; prints a JSON array");
  cmd->add_option("expression", args->expression, "The FHIRPath expression")->required();
  cmd->add_option("resource", args->files,
                  "The resource's JSON file, or - for stdin (the default); several files print "
                  "one line each, `file: result`");
  cmd->add_option("--var", args->variables, "A string variable for the expression: name=value");
  cmd->add_flag("--strict", args->strict,
                "Strict checks: a type name the resource is not, or an element the R4 model does "
                "not have, is an error (by default they select nothing)");
  cmd->callback([args] { Run(*args); });
}

}  // namespace
VESTA_COMMAND(Add);
}  // namespace vesta::cli
