// Helpers for the terminology tests: a fresh database per test and readers of operation output.
//
// The database is on the backend named by $VESTA_TERMINOLOGY_TEST_DB: `sqlite` (the default: a
// file in the test's folder) or `postgres` (a fresh schema of a throw-away cluster,
// tests/postgres/test_cluster.h, started once per process). ctest runs each binary once per
// backend (tests/terminology/CMakeLists.txt: entries `<name>.sqlite` and `<name>.postgres`).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "json/parse.h"
#include "json/value.h"
#include "terminology/loaders.h"

#ifdef VESTA_TERMINOLOGY_TEST_POSTGRES
#include "postgres/test_cluster.h"
#endif

namespace vesta::terminology::testing {

// A folder under the test temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("vesta_term_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" +
             std::to_string(getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

inline bool OnPostgres() {
  const char* db = std::getenv("VESTA_TERMINOLOGY_TEST_DB");
  return db != nullptr && std::string_view(db) == "postgres";
}

// The start of the skip message when PostgreSQL is not there (ctest's SKIP_REGULAR_EXPRESSION).
inline constexpr char kNoPostgres[] = "PostgreSQL not available: ";

// A fresh terminology location for a test whose folder is `dir`: dir/terminology.db, or the URI
// of a new schema. kNotFound, starting with kNoPostgres, when the postgres backend is asked for
// and cannot be had.
inline Result<std::string> FreshLocation(const std::string& dir) {
  if (!OnPostgres()) return TerminologyDbPath(dir);
#ifdef VESTA_TERMINOLOGY_TEST_POSTGRES
  static Result<std::unique_ptr<postgres::TestCluster>> cluster = postgres::TestCluster::Start();
  if (!cluster.ok()) return NotFound(kNoPostgres + cluster.status().message());
  static int schemas = 0;
  const std::string name = "term_" + std::to_string(++schemas);
  RETURN_IF_ERROR((*cluster)->CreateSchema(name));
  return (*cluster)->Uri("postgres", name);
#else
  return NotFound(std::string(kNoPostgres) + "this build has no PostgreSQL adapter (libpq)");
#endif
}

// In SetUp() or a test body: `location` = FreshLocation(dir), or the test skips (PostgreSQL not
// available) or fails.
#define VESTA_FRESH_LOCATION(location, dir)                                       \
  do {                                                                            \
    auto fresh_ = ::vesta::terminology::testing::FreshLocation(dir);              \
    if (!fresh_.ok() && fresh_.status().code() == ::vesta::StatusCode::kNotFound) \
      GTEST_SKIP() << fresh_.status().message();                                  \
    ASSERT_TRUE(fresh_.ok()) << fresh_.status().ToString();                       \
    location = *fresh_;                                                           \
  } while (0)

// A parsed operation output.
class Output {
 public:
  explicit Output(const std::string& text) {
    auto doc = json::Parse(text);
    EXPECT_TRUE(doc.ok()) << doc.status().ToString() << "\n" << text;
    if (doc.ok()) doc_ = std::move(doc).value();
    text_ = text;
  }
  const json::Value& root() const { return doc_.root(); }
  const std::string& text() const { return text_; }

  // Parameters.parameter entries named `name`.
  std::vector<const json::Value*> Params(std::string_view name) const {
    std::vector<const json::Value*> out;
    const json::Value* list = root().Find("parameter");
    if (list == nullptr) return out;
    for (const json::Value& p : list->items()) {
      if (p.FindString("name") == name) out.push_back(&p);
    }
    return out;
  }
  const json::Value* Param(std::string_view name) const {
    auto all = Params(name);
    return all.empty() ? nullptr : all.front();
  }
  bool Bool(std::string_view name) const {
    const json::Value* p = Param(name);
    const json::Value* v = p ? p->Find("valueBoolean") : nullptr;
    return v != nullptr && v->bool_value();
  }
  std::string String(std::string_view name) const {
    const json::Value* p = Param(name);
    if (p == nullptr) return "";
    for (const json::Member& m : p->members()) {
      if (m.key.starts_with("value") && m.value.is_string()) {
        return std::string(m.value.string_value());
      }
    }
    return "";
  }
  // Values of the `property` parts whose code is `code`, as text.
  std::vector<std::string> Property(std::string_view code) const {
    std::vector<std::string> out;
    for (const json::Value* p : Params("property")) {
      const json::Value* parts = p->Find("part");
      if (parts == nullptr) continue;
      bool match = false;
      std::string value;
      for (const json::Value& part : parts->items()) {
        if (part.FindString("name") == "code") match = part.FindString("valueCode") == code;
        if (part.FindString("name") == "value") {
          for (const json::Member& m : part.members()) {
            if (m.key == "valueBoolean")
              value = m.value.bool_value() ? "true" : "false";
            else if (m.key.starts_with("value"))
              value = std::string(m.value.string_value());
          }
        }
      }
      if (match) out.push_back(value);
    }
    return out;
  }

 private:
  json::Document doc_;
  std::string text_;
};

}  // namespace vesta::terminology::testing
