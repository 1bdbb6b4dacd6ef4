// The Bundles the HL7 v2 mapping makes (hl7v2/map.h) load into the real server through
// `POST /`: every sample message of a mapped type (VESTA_SHARED_DATA/hl7v2/messages), and an
// A08 after an A01 updates the same Patient and Encounter, and results reach that Patient.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "hl7v2/map.h"
#include "hl7v2/parse.h"
#include "integration/test_server.h"
#include "json/parse.h"
#include "json/value.h"

namespace vesta::testing {
namespace {

namespace fs = std::filesystem;

const std::vector<std::pair<std::string, std::string>> kJson = {
    {"Content-Type", "application/fhir+json"}};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Bundle(const std::string& message) {
  Result<hl7v2::Message> m = hl7v2::Parse(message);
  EXPECT_TRUE(m.ok()) << m.status().message();
  if (!m.ok()) return "";
  hl7v2::MapOptions options;
  options.received_at = "2024-01-02T03:04:05Z";
  Result<hl7v2::MappedMessage> mapped = hl7v2::MapToFhir(*m, options);
  EXPECT_TRUE(mapped.ok()) << mapped.status().message();
  if (!mapped.ok()) return "";
  return mapped->bundle_json;
}

// POSTs a transaction and checks that it and every entry succeeded; the response's body.
std::string Post(int port, const std::string& bundle, const std::string& what) {
  HttpResult r = HttpRequest(port, "POST", "/", bundle, kJson);
  EXPECT_EQ(r.status, 200) << what << ": " << r.body.substr(0, 2000);
  Result<json::Document> doc = json::Parse(r.body);
  if (r.status != 200 || !doc.ok()) return r.body;
  const json::Value* entries = doc->root().Find("entry");
  EXPECT_NE(entries, nullptr) << what;
  if (entries == nullptr) return r.body;
  for (const json::Value& e : entries->items()) {
    std::string status(e.Find("response")->FindString("status"));
    EXPECT_TRUE(status.rfind("200", 0) == 0 || status.rfind("201", 0) == 0)
        << what << ": entry status " << status;
  }
  return r.body;
}

// The resources of a search, parsed.
json::Document Search(int port, const std::string& query) {
  HttpResult r = HttpRequest(port, "GET", query);
  EXPECT_EQ(r.status, 200) << query << ": " << r.body;
  Result<json::Document> doc = json::Parse(r.body);
  EXPECT_TRUE(doc.ok());
  return doc.ok() ? std::move(doc).value() : json::Document();
}

size_t Total(const json::Document& bundle) {
  const json::Value* entries = bundle.root().Find("entry");
  return entries == nullptr ? 0 : entries->size();
}

const json::Value& FirstResource(const json::Document& bundle) {
  return *bundle.root().Find("entry")->items()[0].Find("resource");
}

TEST(Hl7v2LoadTest, EveryMappedSampleLoads) {
  const char* shared = std::getenv("VESTA_SHARED_DATA");
  fs::path dir = shared == nullptr ? fs::path() : fs::path(shared) / "hl7v2" / "messages";
  if (dir.empty() || !fs::is_directory(dir)) {
    GTEST_SKIP() << "VESTA_SHARED_DATA/hl7v2/messages is absent: no sample messages";
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".hl7") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  TempDir data;
  ServerProcess server(data.path());
  ASSERT_TRUE(server.ok());
  int loaded = 0;
  for (const fs::path& file : files) {
    std::string text = ReadFile(file);
    Result<hl7v2::Message> m = hl7v2::Parse(text);
    ASSERT_TRUE(m.ok()) << file;
    if (!hl7v2::IsMappedType(m->header().message_code, m->header().trigger_event)) continue;
    std::string bundle = Bundle(text);
    ASSERT_FALSE(bundle.empty()) << file;
    Post(server.port(), bundle, file.filename().string());
    ++loaded;
  }
  EXPECT_GE(loaded, 43);
  // The merge (ADT-A40-01) left the prior record inactive, linked to the survivor.
  json::Document old = Search(server.port(), "/Patient?active=false");
  EXPECT_GE(Total(old), 1u);
}

TEST(Hl7v2LoadTest, UpdatesReachTheSameRecords) {
  TempDir data;
  ServerProcess server(data.path());
  ASSERT_TRUE(server.ok());
  const std::string msh = "MSH|^~\\&|ADT|HOSP|VESTA|HOSP|20240301101500+0100||";
  const std::string pid =
      "PID|1||MRN-77^^^HOSP&2.16.840.1.113883.19.5&ISO^MR||DOE^JANE||19800102|F\r";
  const std::string a01 =
      msh + "ADT^A01^ADT_A01|M1|P|2.5.1\rEVN|A01|20240301101500+0100\r" + pid +
      "PV1|1|I|W1^101^A^HOSP||||1234^HOUSE^GREG^^^DR|||MED|||||||||V-900^^^HOSP&2.16.840.1.113883."
      "19.6&ISO^VN|||||||||||||||||||||||||20240301100000+0100\r";
  const std::string a08 =
      msh + "ADT^A08^ADT_A08|M2|P|2.5.1\rEVN|A08|20240302090000+0100\r" +
      "PID|1||MRN-77^^^HOSP&2.16.840.1.113883.19.5&ISO^MR||DOE^JANE^Q||19800102|F|||1 MAIN "
      "ST^^BOSTON^MA^02110\r" +
      "PV1|1|I|W2^202^B^HOSP||||1234^HOUSE^GREG^^^DR|||MED|||||||||V-900^^^HOSP&2.16.840.1.113883."
      "19.6&ISO^VN|||||||||||||||||||||||||20240301100000+0100\r";
  const std::string oru =
      "MSH|^~\\&|LAB|HOSP|VESTA|HOSP|20240302120000+0100||ORU^R01^ORU_R01|M3|P|2.5.1\r" + pid +
      "OBR|1|P-1^ORDERS|F-1^LAB|2345-7^Glucose^LN|||20240302110000+0100|||||||||||||||"
      "20240302115500+0100|||F\r"
      "OBX|1|NM|2345-7^Glucose^LN||105|mg/dL^^UCUM|70-99|H|||F\r";
  Post(server.port(), Bundle(a01), "A01");
  Post(server.port(), Bundle(a08), "A08");
  json::Document patients =
      Search(server.port(), "/Patient?identifier=urn:oid:2.16.840.1.113883.19.5%7CMRN-77");
  ASSERT_EQ(Total(patients), 1u);
  const json::Value& patient = FirstResource(patients);
  EXPECT_EQ(patient.Find("meta")->FindString("versionId"), "2");
  const std::string patient_id(patient.FindString("id"));
  EXPECT_EQ(Total(Search(server.port(), "/Patient")), 1u);
  json::Document encounters =
      Search(server.port(), "/Encounter?identifier=urn:oid:2.16.840.1.113883.19.6%7CV-900");
  ASSERT_EQ(Total(encounters), 1u);
  const json::Value& encounter = FirstResource(encounters);
  EXPECT_EQ(encounter.Find("meta")->FindString("versionId"), "2");
  EXPECT_EQ(encounter.Find("subject")->FindString("reference"), "Patient/" + patient_id);
  EXPECT_EQ(Total(Search(server.port(), "/Encounter")), 1u);
  // The same practitioner in both messages is one record.
  EXPECT_EQ(Total(Search(server.port(), "/Practitioner")), 1u);

  Post(server.port(), Bundle(oru), "ORU");
  EXPECT_EQ(Total(Search(server.port(), "/Patient")), 1u);
  json::Document reports = Search(server.port(), "/DiagnosticReport");
  ASSERT_EQ(Total(reports), 1u);
  EXPECT_EQ(FirstResource(reports).Find("subject")->FindString("reference"),
            "Patient/" + patient_id);
  json::Document results = Search(server.port(), "/Observation?subject=Patient/" + patient_id);
  EXPECT_EQ(Total(results), 1u);
  // Sending the same result again updates it rather than adding a second one.
  Post(server.port(), Bundle(oru), "ORU again");
  EXPECT_EQ(Total(Search(server.port(), "/Observation")), 1u);
  EXPECT_EQ(Total(Search(server.port(), "/DiagnosticReport")), 1u);
  // Each message is linked to what it wrote.
  EXPECT_EQ(Total(Search(server.port(), "/Provenance?target=Patient/" + patient_id)), 4u);
}

}  // namespace
}  // namespace vesta::testing
