// Helpers for the terminology tests: a fresh database per test and readers of operation output.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "json/parse.h"
#include "json/value.h"

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
