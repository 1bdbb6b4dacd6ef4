// `vesta fhirpath`: evaluates a FHIRPath expression on a resource and prints the resulting
// collection as a JSON array.
//
//   vesta fhirpath "Patient.name.where(use = 'official').given" patient.json
//   cat patient.json | vesta fhirpath "birthDate" -
//   vesta fhirpath --strict "Observation.code" patient.json   (an error: the context is a Patient)
//
// Non-strict by default (fhirpath.h, Mode): a type name that is not the resource's type and an
// element the model does not have select nothing. Any JSON can be evaluated: a document whose
// resourceType is not an R4 type (or that has none) is navigated as plain JSON, its strings,
// numbers and booleans as System values.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "cli/command.h"
#include "fhir/fhirpath/fhirpath.h"
#include "json/parse.h"

namespace vesta::cli {
namespace {

struct FhirPathArgs {
  std::string expression;
  std::string file = "-";
  std::vector<std::string> variables;  // name=string
  bool strict = false;
};

[[noreturn]] void Fail(const std::string& what, int code) {
  std::fprintf(stderr, "vesta fhirpath: %s\n", what.c_str());
  throw CLI::RuntimeError(code);
}

void Run(const FhirPathArgs& args) {
  std::string text;
  if (args.file == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    text = ss.str();
  } else {
    std::ifstream in(args.file, std::ios::binary);
    if (!in) Fail("cannot read " + args.file, 1);
    std::ostringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  Result<json::Document> doc = json::Parse(text);
  if (!doc.ok()) Fail(args.file + ": " + doc.status().message(), 1);
  fhirpath::CompileOptions options;
  options.context_type = std::string(doc->root().FindString("resourceType"));
  options.mode = args.strict ? fhirpath::Mode::kStrict : fhirpath::Mode::kNonStrict;
  Result<fhirpath::Expression> expr = fhirpath::Expression::Compile(args.expression, options);
  if (!expr.ok()) Fail(expr.status().message(), 2);
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
  Result<fhirpath::Collection> result = expr->Evaluate(doc->root(), env);
  if (!result.ok()) Fail(result.status().message(), 1);
  std::printf("%s\n", fhirpath::CollectionToJson(*result).c_str());
}

void Add(CLI::App& app) {
  auto args = std::make_shared<FhirPathArgs>();
  CLI::App* cmd = app.add_subcommand(
      "fhirpath", "Evaluate a FHIRPath expression on a JSON resource; prints a JSON array");
  cmd->add_option("expression", args->expression, "The FHIRPath expression")->required();
  cmd->add_option("resource", args->file, "The resource's JSON file, or - for stdin");
  cmd->add_option("--var", args->variables, "A string variable for the expression: name=value");
  cmd->add_flag("--strict", args->strict,
                "Strict checks: a type name the resource is not, or an element the R4 model does "
                "not have, is an error (by default they select nothing)");
  cmd->callback([args] { Run(*args); });
}

}  // namespace
VESTA_COMMAND(Add);
}  // namespace vesta::cli
