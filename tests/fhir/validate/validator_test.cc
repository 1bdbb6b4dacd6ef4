#include "fhir/validate/validator.h"

#include <dirent.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "json/parse.h"

namespace vesta::fhir {
namespace {

Status Check(const std::string& text) {
  auto doc = json::Parse(text);
  if (!doc.ok()) return doc.status();
  return ValidateResource(doc->root(), Model::R4());
}

// The locations of the issues, joined by ';'.
std::string Locations(const Status& s) {
  std::string out;
  for (const Issue& i : s.issues()) out += (out.empty() ? "" : ";") + i.location;
  return out;
}

TEST(ValidatorTest, AcceptsAValidPatient) {
  Status s = Check(R"({"resourceType":"Patient","id":"p1","active":true,
    "name":[{"family":"Chalmers","given":["Peter","James"]}],
    "birthDate":"1974-12-25","_birthDate":{"extension":[{"url":"http://example.org/t","valueDateTime":"1974-12-25T14:35:45-05:00"}]},
    "deceasedBoolean":false,"multipleBirthInteger":2,
    "contact":[{"relationship":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0131","code":"N"}]}]}],
    "contained":[{"resourceType":"Organization","id":"o1","name":"Acme"}]})");
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(ValidatorTest, RejectsUnknownResourceTypeAndNonObjects) {
  EXPECT_EQ(Check(R"({"resourceType":"Patientx"})").code(), StatusCode::kInvalid);
  EXPECT_EQ(Check(R"({"id":"x"})").code(), StatusCode::kInvalid);
  EXPECT_EQ(Check(R"([1])").code(), StatusCode::kInvalid);
  EXPECT_EQ(Check(R"({"resourceType":"DomainResource"})").code(), StatusCode::kInvalid);
}

TEST(ValidatorTest, NamesEachUnknownElementWithItsLocation) {
  Status s = Check(R"({"resourceType":"Patient","foo":1,"name":[{"family":"x","bar":"y"}],
                      "deceasedString":"no"})");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(Locations(s), "Patient.foo;Patient.name[0].bar;Patient.deceasedString");
}

TEST(ValidatorTest, ChecksArraysAndSingletons) {
  EXPECT_EQ(Locations(Check(R"({"resourceType":"Patient","name":{"family":"x"}})")),
            "Patient.name");
  EXPECT_EQ(Locations(Check(R"({"resourceType":"Patient","gender":["male"]})")), "Patient.gender");
  EXPECT_EQ(Locations(Check(R"({"resourceType":"Patient","name":[]})")), "Patient.name");
  EXPECT_EQ(Locations(Check(R"({"resourceType":"Patient","name":[{}]})")), "Patient.name[0]");
  EXPECT_EQ(Locations(Check(R"({"resourceType":"Patient","gender":""})")), "Patient.gender");
}

TEST(ValidatorTest, ChecksPrimitiveFormats) {
  struct Case {
    const char* json;
    bool ok;
  } cases[] = {
      {R"({"resourceType":"Patient","birthDate":"1974-12-25"})", true},
      {R"({"resourceType":"Patient","birthDate":"1974-12"})", true},
      {R"({"resourceType":"Patient","birthDate":"1974-02-30"})", false},
      {R"({"resourceType":"Patient","birthDate":"1974-12-25T10:00:00Z"})", false},
      {R"({"resourceType":"Patient","birthDate":"74-12-25"})", false},
      {R"({"resourceType":"Patient","deceasedDateTime":"2015-02-07T13:28:17-05:00"})", true},
      {R"({"resourceType":"Patient","deceasedDateTime":"2015-02-07T13:28:17"})", false},
      {R"({"resourceType":"Patient","deceasedDateTime":"2015-02-07T25:28:17Z"})", false},
      {R"({"resourceType":"Patient","active":"true"})", false},
      {R"({"resourceType":"Patient","multipleBirthInteger":1.5})", false},
      {R"({"resourceType":"Patient","multipleBirthInteger":"2"})", false},
      {R"({"resourceType":"Patient","gender":"ma le"})", true},
      {R"({"resourceType":"Patient","gender":" male"})", false},
      {R"({"resourceType":"Patient","id":"a b"})", false},
      {R"({"resourceType":"Patient","id":"abc-123.x"})", true},
      {R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.50}})",
       true},
      {R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":"1.5"}})",
       false},
      {R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"issued":"2015-02-07T13:28:17.239+02:00"})",
       true},
      {R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"issued":"2015-02-07"})",
       false},
      {R"({"resourceType":"Patient","photo":[{"data":"aGVsbG8="}]})", true},
      {R"({"resourceType":"Patient","photo":[{"data":"aGVsbG8"}]})", false},
      {R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.36.146"}]})", true},
      {R"({"resourceType":"Patient","identifier":[{"system":"has space"}]})", false},
      {R"({"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"}})",
       true},
      {R"({"resourceType":"Patient","text":{"status":"generated","div":"plain"}})", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Check(c.json).ok(), c.ok) << c.json << "\n" << Check(c.json).ToString();
  }
}

TEST(ValidatorTest, PrimitiveArraysWithNullsAndExtensions) {
  EXPECT_TRUE(Check(R"({"resourceType":"Patient","name":[{"given":["A",null],
      "_given":[null,{"extension":[{"url":"http://x","valueString":"b"}]}]}]})")
                  .ok());
  EXPECT_FALSE(Check(R"({"resourceType":"Patient","name":[{"given":["A",null]}]})").ok());
  EXPECT_FALSE(
      Check(R"({"resourceType":"Patient","name":[{"given":["A"],"_given":[null,null]}]})").ok());
  EXPECT_FALSE(Check(R"({"resourceType":"Patient","_name":{"id":"x"}})").ok());
}

TEST(ValidatorTest, RequiredElementsAndChoiceDuplicates) {
  Status s = Check(R"({"resourceType":"Observation","code":{"text":"x"}})");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.issues()[0].type, "required");
  EXPECT_EQ(Locations(s), "Observation");
  EXPECT_FALSE(Check(R"({"resourceType":"Patient","extension":[{"valueString":"x"}]})").ok());
  EXPECT_FALSE(Check(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
                        "valueString":"a","valueBoolean":true})")
                   .ok());
}

// Lenient validation: missing required elements and dateTimes without a time zone become
// warnings; everything else is still an error.
TEST(ValidatorTest, LenientTurnsCardinalityAndZonesIntoWarnings) {
  auto lenient = [](const std::string& text, std::vector<Issue>* warnings) {
    auto doc = json::Parse(text);
    EXPECT_TRUE(doc.ok());
    ValidationOptions options;
    options.lenient = true;
    options.warnings = warnings;
    return ValidateResource(doc->root(), Model::R4(), options);
  };
  // An Encounter without class and status, a period without a zone, a narrative without div.
  const std::string encounter =
      R"({"resourceType":"Encounter","period":{"start":"2020-01-02T10:00:00"},)"
      R"("text":{"status":"generated"}})";
  EXPECT_FALSE(Check(encounter).ok());
  std::vector<Issue> warnings;
  Status s = lenient(encounter, &warnings);
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::string found;
  for (const Issue& w : warnings) {
    EXPECT_EQ(w.severity, Severity::kWarning);
    found += w.location + "=" + w.type + ";";
  }
  EXPECT_EQ(found,
            "Encounter.period.start=value;Encounter.text=required;Encounter=required;"
            "Encounter=required;");
  EXPECT_NE(warnings[0].diagnostics.find("no time zone"), std::string::npos);
  // Still errors: an unknown element, a wrong JSON type, a malformed date, a bad instant.
  warnings.clear();
  EXPECT_FALSE(lenient(R"({"resourceType":"Patient","nickname":"x"})", &warnings).ok());
  EXPECT_FALSE(lenient(R"({"resourceType":"Patient","active":"yes"})", &warnings).ok());
  EXPECT_FALSE(lenient(R"({"resourceType":"Patient","birthDate":"1970-13-01"})", &warnings).ok());
  EXPECT_FALSE(lenient(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},)"
                       R"("issued":"2020-01-02"})",
                       &warnings)
                   .ok());
  // Warnings without a place to go are dropped; the resource still passes.
  EXPECT_TRUE(lenient(encounter, nullptr).ok());
}

TEST(ValidatorTest, ContainedAndNestedResources) {
  Status s = Check(R"({"resourceType":"Bundle","type":"collection","entry":[
      {"resource":{"resourceType":"Patient","bogus":1}}]})");
  EXPECT_EQ(Locations(s), "Bundle.entry[0].resource.bogus");
  s = Check(R"({"resourceType":"Patient","contained":[{"resourceType":"Nope"}]})");
  EXPECT_EQ(Locations(s), "Patient.contained[0]");
}

TEST(ValidatorTest, RecursiveBackbones) {
  EXPECT_TRUE(Check(R"({"resourceType":"Questionnaire","status":"draft","item":[
      {"linkId":"1","type":"group","item":[{"linkId":"1.1","type":"string","item":[
      {"linkId":"1.1.1","type":"display","text":"x"}]}]}]})")
                  .ok());
  EXPECT_FALSE(Check(R"({"resourceType":"Questionnaire","status":"draft","item":[
      {"linkId":"1","type":"group","item":[{"type":"string"}]}]})")
                   .ok());
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The official package's resources that break R4's own rules, and why. Everything else in the
// package must pass the structural checks.
const std::map<std::string, std::string>& KnownInvalidExamples() {
  static const auto* known = new std::map<std::string, std::string>{
      {"ImplementationGuide-fhir.json", "ImplementationGuide.name and .status (1..1) missing"},
      {"Questionnaire-qs1.json", "nested Questionnaire.item without linkId (1..1)"},
      {"SearchParameter-questionnaireresponse-extensions-QuestionnaireResponse-item-subject.json",
       "id longer than 64 characters"},
      {"SearchParameter-codesystem-extensions-CodeSystem-author.json", "no base (1..*)"},
      {"SearchParameter-codesystem-extensions-CodeSystem-effective.json", "no base (1..*)"},
      {"SearchParameter-codesystem-extensions-CodeSystem-end.json", "no base (1..*)"},
      {"SearchParameter-codesystem-extensions-CodeSystem-keyword.json", "no base (1..*)"},
      {"SearchParameter-codesystem-extensions-CodeSystem-workflow.json", "no base (1..*)"},
      {"SearchParameter-valueset-extensions-ValueSet-author.json", "no base (1..*)"},
      {"SearchParameter-valueset-extensions-ValueSet-effective.json", "no base (1..*)"},
      {"SearchParameter-valueset-extensions-ValueSet-end.json", "no base (1..*)"},
      {"SearchParameter-valueset-extensions-ValueSet-keyword.json", "no base (1..*)"},
      {"SearchParameter-valueset-extensions-ValueSet-workflow.json", "no base (1..*)"},
  };
  return *known;
}

TEST(ValidatorTest, OfficialExamplesAreValid) {
  std::string dir = VESTA_FHIR_PACKAGE_DIR;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) GTEST_SKIP() << "the R4 package is not installed at " << dir;
  int checked = 0, failed = 0;
  std::string failures;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.size() < 6 || name.substr(name.size() - 5) != ".json" || name == "package.json" ||
        name.rfind("ig-", 0) == 0) {
      continue;
    }
    auto doc = json::Parse(ReadFile(dir + "/" + name));
    ASSERT_TRUE(doc.ok()) << name;
    Status s = ValidateResource(doc->root(), Model::R4());
    ++checked;
    bool expected_invalid = KnownInvalidExamples().count(name) > 0;
    if (s.ok() == expected_invalid) {
      ++failed;
      if (failed <= 40) {
        failures += name + (expected_invalid ? ": accepted, but it is known to be invalid\n"
                                             : ": " + s.ToString() + "\n");
      }
    }
  }
  closedir(d);
  EXPECT_GT(checked, 5000);
  EXPECT_EQ(failed, 0) << failures;
}

}  // namespace
}  // namespace vesta::fhir
