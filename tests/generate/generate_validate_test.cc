// Every generated resource, and a patient's transaction Bundle, passes the project's R4
// validator (src/fhir/validate): element names and cardinalities of R4, primitive formats, no
// empty values.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "fhir/model/model.h"
#include "fhir/validate/validator.h"
#include "generate/generator.h"
#include "generate/output.h"
#include "json/parse.h"

namespace vesta::generate {
namespace {

// Validates and returns the distinct problems ("location: diagnostics"), counted.
void Validate(std::string_view text, std::map<std::string, int>* problems) {
  Result<json::Document> doc = json::Parse(text);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString() << "\n" << text.substr(0, 300);
  const Status s = fhir::ValidateResource(doc->root(), fhir::Model::R4());
  if (s.ok()) return;
  if (s.issues().empty()) ++(*problems)[s.message()];
  for (const Issue& issue : s.issues()) ++(*problems)[issue.location + ": " + issue.diagnostics];
}

class GenerateValidateEveryTest : public ::testing::TestWithParam<bool> {};

// Without and with the records for quality measures (GenerateOptions::measures).
TEST_P(GenerateValidateEveryTest, ResourceIsValidR4) {
  GenerateOptions options;
  options.patients = 300;
  options.seed = 99;
  options.measures = GetParam();
  Generator generator(options);
  ResourceBatch batch;
  std::map<std::string, int> problems;
  int validated = 0;
  generator.GenerateShared(&batch);
  for (const auto& e : batch.entries()) {
    Validate(batch.json(e), &problems);
    ++validated;
  }
  for (int64_t i = 0; i < options.patients; ++i) {
    batch.Clear();
    generator.GeneratePatient(i, &batch);
    for (const auto& e : batch.entries()) {
      Validate(batch.json(e), &problems);
      ++validated;
    }
  }
  for (const auto& [p, n] : problems) ADD_FAILURE() << n << "x " << p;
  EXPECT_GT(validated, 300 * 20);
}
INSTANTIATE_TEST_SUITE_P(WithoutAndWithMeasures, GenerateValidateEveryTest, ::testing::Bool());

TEST(GenerateValidateTest, TransactionBundlesAreValidR4) {
  GenerateOptions options;
  options.patients = 20;
  Generator generator(options);
  ResourceBatch batch;
  std::map<std::string, int> problems;
  std::string text;
  generator.GenerateShared(&batch);
  AppendTransactionBundle(batch, &text);
  Validate(text, &problems);
  for (int64_t i = 0; i < options.patients; ++i) {
    batch.Clear();
    text.clear();
    generator.GeneratePatient(i, &batch);
    AppendTransactionBundle(batch, &text);
    Validate(text, &problems);
  }
  for (const auto& [p, n] : problems) ADD_FAILURE() << n << "x " << p;
}

TEST(GenerateValidateTest, TheValidatorWouldNoticeAMistake) {
  // Guards the tests above against a validator that accepts everything.
  GenerateOptions options;
  Generator generator(options);
  ResourceBatch batch;
  generator.GeneratePatient(0, &batch);
  std::string text(batch.json(batch.entries()[0]));
  text.insert(text.size() - 1, R"(,"colour":"red")");
  std::map<std::string, int> problems;
  Validate(text, &problems);
  EXPECT_EQ(problems.size(), 1u);
}

}  // namespace
}  // namespace vesta::generate
