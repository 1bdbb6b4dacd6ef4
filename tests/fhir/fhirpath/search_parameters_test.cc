// `vesta fhirpath` on every R4 search parameter expression (the 1,400 SearchParameter-*.json of
// the npm package hl7.fhir.r4.examples, the same definitions as its search-parameters.json) and
// every official R4 example of the parameter's base types: no evaluation may fail. Expressions
// are unions of paths for many resource types (`AllergyIntolerance.code | Condition.code | ...`),
// which the default, non-strict mode evaluates on any one resource.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "json/parse.h"

namespace vesta {
namespace {

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `vesta fhirpath expr files...` in `dir`; returns the exit status and stderr.
int RunVesta(const std::string& dir, const std::string& expr, const std::vector<std::string>& files,
             std::string* err) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(pipe_fds[1], 2);
    FILE* devnull = std::fopen("/dev/null", "w");
    if (devnull != nullptr) dup2(fileno(devnull), 1);
    close(pipe_fds[0]);
    if (chdir(dir.c_str()) != 0) _exit(127);
    std::vector<char*> argv;
    std::string bin = VESTA_BINARY, cmd = "fhirpath";
    argv.push_back(bin.data());
    argv.push_back(cmd.data());
    std::string e = expr;
    argv.push_back(e.data());
    std::vector<std::string> copies(files);
    for (std::string& f : copies) argv.push_back(f.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  char buf[4096];
  ssize_t n;
  while ((n = read(pipe_fds[0], buf, sizeof buf)) > 0) err->append(buf, static_cast<size_t>(n));
  close(pipe_fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The one R4 expression that is not FHIRPath: it calls hasExtension(), which neither FHIRPath nor
// FHIR R4 defines (an extension's own search parameter; fhirpath.js refuses it too).
constexpr std::string_view kNotFhirPath =
    "SearchParameter-questionnaireresponse-extensions-QuestionnaireResponse-item-subject.json";

TEST(FhirPathSearchParameters, EveryExpressionOnEveryExampleOfItsBase) {
  const std::string dir = VESTA_FHIR_PACKAGE_DIR;
  std::map<std::string, std::vector<std::string>> by_type;  // resourceType → example files
  std::vector<std::string> all, params;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() != ".json" || name == "package.json" || name[0] == '.') continue;
    if (name.rfind("SearchParameter-", 0) == 0) params.push_back(name);
    Result<json::Document> doc = json::Parse(ReadFile(e.path()));
    if (!doc.ok()) continue;
    const std::string type(doc->root().FindString("resourceType"));
    if (type.empty()) continue;
    by_type[type].push_back(name);
    all.push_back(name);
  }
  if (params.empty()) GTEST_SKIP() << "no SearchParameter-*.json in " << dir;
  std::sort(params.begin(), params.end());
  std::sort(all.begin(), all.end());
  int expressions = 0, failures = 0;
  size_t pairs = 0;
  for (const std::string& p : params) {
    Result<json::Document> sp = json::Parse(ReadFile(std::filesystem::path(dir) / p));
    ASSERT_TRUE(sp.ok()) << p;
    const std::string expr(sp->root().FindString("expression"));
    const json::Value* bases = sp->root().Find("base");
    if (expr.empty() || bases == nullptr || p == kNotFhirPath) continue;
    std::vector<std::string> files;
    for (const json::Value& b : bases->items()) {
      const std::string base(b.string_value());
      if (base == "Resource" || base == "DomainResource") {
        files = all;
        break;
      }
      auto it = by_type.find(base);
      if (it != by_type.end()) files.insert(files.end(), it->second.begin(), it->second.end());
    }
    if (files.empty()) continue;
    ++expressions;
    pairs += files.size();
    for (size_t start = 0; start < files.size(); start += 1000) {  // bounded command lines
      std::vector<std::string> chunk(
          files.begin() + static_cast<std::ptrdiff_t>(start),
          files.begin() + static_cast<std::ptrdiff_t>(std::min(files.size(), start + 1000)));
      std::string err;
      const int rc = RunVesta(dir, expr, chunk, &err);
      if (rc != 0 || !err.empty()) {
        ++failures;
        ADD_FAILURE() << p << ": " << expr << "\n  exit " << rc << "\n" << err.substr(0, 2000);
      }
    }
  }
  std::printf("%d search parameter expressions, %zu (expression, example) pairs, %d failures\n",
              expressions, pairs, failures);
  EXPECT_GT(expressions, 1000);
}

}  // namespace
}  // namespace vesta
