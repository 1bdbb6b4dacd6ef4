// The kick-off's parameters (https://hl7.org/fhir/uv/bulkdata/STU2/export.html#query-parameters).
#include "bulk/export_spec.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace vesta::bulk {
namespace {

Result<ExportSpec> Parse(ExportLevel level, const QueryList& params, bool lenient = false) {
  ParseOptions o;
  o.lenient = lenient;
  return ParseExportParams(level, level == ExportLevel::kGroup ? "g" : "", params,
                           fhir::Model::R4(), o);
}

TEST(ExportSpecTest, DefaultsToEveryTypeOrTheCompartment) {
  Result<ExportSpec> system = Parse(ExportLevel::kSystem, {});
  ASSERT_TRUE(system.ok());
  EXPECT_EQ(system->types.size(), fhir::Model::R4().resource_types().size());
  Result<ExportSpec> patient = Parse(ExportLevel::kPatient, {});
  ASSERT_TRUE(patient.ok());
  EXPECT_EQ(patient->types.front(), "Patient");
  auto has = [&](const std::string& t) {
    return std::find(patient->types.begin(), patient->types.end(), t) != patient->types.end();
  };
  EXPECT_TRUE(has("Observation"));
  EXPECT_TRUE(has("Condition"));
  EXPECT_FALSE(has("Practitioner")) << "not in the Patient compartment";
  EXPECT_FALSE(has("Medication"));
}

TEST(ExportSpecTest, TypesSinceFiltersAndElements) {
  Result<ExportSpec> s = Parse(ExportLevel::kSystem, {{"_type", "Patient, Observation"},
                                                      {"_type", "Condition,Patient"},
                                                      {"_since", "2024-03-01T10:00:00+02:00"},
                                                      {"_typeFilter",
                                                       "Observation?code=a,b&status=final,"
                                                       "Observation?category=laboratory"},
                                                      {"_typeFilter", "Patient?gender=female"},
                                                      {"_elements", "Patient.name,id"},
                                                      {"_outputFormat", "application/ndjson"}});
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->types, (std::vector<std::string>{"Patient", "Observation", "Condition"}));
  ASSERT_TRUE(s->since.has_value());
  EXPECT_EQ(FormatInstant(*s->since), "2024-03-01T08:00:00.000000Z");
  ASSERT_EQ(s->type_filters["Observation"].size(), 2u) << "a comma inside a query stays in it";
  EXPECT_EQ(s->type_filters["Observation"][0], (QueryList{{"code", "a,b"}, {"status", "final"}}));
  EXPECT_EQ(s->type_filters["Observation"][1], (QueryList{{"category", "laboratory"}}));
  EXPECT_EQ(s->type_filters["Patient"].size(), 1u);
  EXPECT_EQ(s->elements, (std::vector<std::string>{"name", "id"}));
}

TEST(ExportSpecTest, RefusesWhatItCannotDo) {
  struct Case {
    ExportLevel level;
    QueryList params;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {ExportLevel::kSystem, {{"_type", "Nope"}}, "Nope"},
           {ExportLevel::kSystem, {{"_outputFormat", "application/fhir+json"}}, "_outputFormat"},
           {ExportLevel::kSystem, {{"_since", "2024-03-01"}}, "instant"},
           {ExportLevel::kSystem, {{"_since", "2024-03-01T10:00:00"}}, "instant"},
           {ExportLevel::kSystem, {{"_since", "2024-13-01T10:00:00Z"}}, "_since"},
           {ExportLevel::kSystem, {{"_typeFilter", "Observation"}}, "_typeFilter"},
           {ExportLevel::kSystem, {{"_typeFilter", "Nope?x=1"}}, "_typeFilter"},
           {ExportLevel::kSystem, {{"_typeFilter", "Observation?_sort=date"}}, "_sort"},
           {ExportLevel::kSystem,
            {{"_type", "Patient"}, {"_typeFilter", "Observation?x=1"}},
            "not among"},
           {ExportLevel::kSystem, {{"patient", "Patient/1"}}, "patient"},
           {ExportLevel::kPatient, {{"patient", "Observation/1"}}, "Patient"},
           {ExportLevel::kPatient, {{"_type", "Practitioner"}}, "compartment"},
           {ExportLevel::kSystem, {{"includeAssociatedData", "x"}}, "includeAssociatedData"},
           {ExportLevel::kSystem, {{"somethingElse", "x"}}, "somethingElse"},
       }) {
    Result<ExportSpec> s = Parse(c.level, c.params);
    ASSERT_FALSE(s.ok()) << c.params[0].first << "=" << c.params[0].second;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalid);
    EXPECT_NE(s.status().message().find(c.says), std::string::npos) << s.status().message();
  }
  // Lenient: the unsupported ones are ignored and listed.
  Result<ExportSpec> lenient =
      Parse(ExportLevel::kSystem, {{"includeAssociatedData", "x"}, {"somethingElse", "y"}}, true);
  ASSERT_TRUE(lenient.ok());
  EXPECT_EQ(lenient->ignored, (std::vector<std::string>{"includeAssociatedData", "somethingElse"}));
}

TEST(ExportSpecTest, Instants) {
  EXPECT_TRUE(ParseInstant("2024-01-31T12:00:00Z").ok());
  EXPECT_TRUE(ParseInstant("2024-01-31T12:00:00.123456Z").ok());
  EXPECT_TRUE(ParseInstant("2024-01-31T12:00:00-05:00").ok());
  for (const char* bad :
       {"", "2024", "2024-01-31", "2024-01-31T12:00Z", "2024-01-31T12:00:00",
        "2024-01-31T12:00:00.Z", "2024-01-31 12:00:00Z", "2024-01-31T12:00:00+5"}) {
    EXPECT_FALSE(ParseInstant(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace vesta::bulk
