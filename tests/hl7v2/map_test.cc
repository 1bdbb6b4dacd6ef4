// The v2 to FHIR mapping (hl7v2/map.h): golden files (tests/hl7v2/golden: a message and the
// Bundle expected for it, written by hand from the HL7 v2-to-FHIR IG's mapping tables), every
// sample message of a mapped type (VESTA_SHARED_DATA/hl7v2/messages) mapped and each entry
// checked against the R4 model, and the rules one by one.
#include "hl7v2/map.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "fhir/model/model.h"
#include "fhir/validate/validator.h"
#include "hl7v2/parse.h"
#include "json/parse.h"
#include "json/value.h"
#include "json/writer.h"

namespace vesta::hl7v2 {
namespace {

namespace fs = std::filesystem;

fs::path MessagesDir() {
  const char* shared = std::getenv("VESTA_SHARED_DATA");
  if (shared == nullptr || *shared == '\0') return {};
  return fs::path(shared) / "hl7v2" / "messages";
}

fs::path GoldenDir() { return fs::path(VESTA_HL7V2_GOLDEN_DIR); }

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

MapOptions TestOptions() {
  MapOptions o;
  o.received_at = "2024-01-02T03:04:05Z";
  return o;
}

Result<MappedMessage> MapText(std::string_view text, const MapOptions& options = TestOptions()) {
  Result<Message> m = Parse(text);
  if (!m.ok()) return m.status();
  return MapToFhir(*m, options);
}

// `v` with every "urn:uuid:..." string replaced by "urn:uuid:#N", N its order of first
// appearance, so that two Bundles compare equal when their references have the same shape.
json::Value NormaliseUuids(json::Arena& arena, const json::Value& v,
                           std::map<std::string, std::string>* seen) {
  if (v.is_string()) {
    std::string s(v.string_value());
    // The derived keys (MapOptions::system_base + "key") are hashes: written "KEY" in the files.
    auto is_hash = [](std::string_view h) {
      return h.size() == 32 && h.find_first_not_of("0123456789abcdef") == std::string_view::npos;
    };
    if (is_hash(s)) return json::Value::String(arena, "KEY");
    if (size_t k = s.find("%2Fkey|"); k != std::string::npos && is_hash(s.substr(k + 7))) {
      return json::Value::String(arena, s.substr(0, k + 7) + "KEY");
    }
    if (s.rfind("urn:uuid:", 0) != 0) return v;
    auto [it, added] = seen->emplace(s, "urn:uuid:#" + std::to_string(seen->size() + 1));
    return json::Value::String(arena, it->second);
  }
  if (v.is_array()) {
    std::vector<json::Value> items;
    for (const json::Value& i : v.items()) items.push_back(NormaliseUuids(arena, i, seen));
    return json::Value::Array(arena, items);
  }
  if (v.is_object()) {
    std::vector<json::Member> members;
    for (const json::Member& m : v.members()) {
      members.push_back({m.key, NormaliseUuids(arena, m.value, seen)});
    }
    return json::Value::Object(arena, members);
  }
  return v;
}

// The entries of a Bundle, one line each, for readable failure messages.
std::string Describe(const json::Value& bundle) {
  std::string out;
  if (const json::Value* entries = bundle.Find("entry")) {
    for (const json::Value& e : entries->items()) {
      out += json::ToString(e, json::Style::kPretty) + "\n";
    }
  }
  return out;
}

// Golden files: golden/NAME.hl7 and golden/NAME.json.
class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, MapsToTheExpectedBundle) {
  const std::string name = GetParam();
  std::string message = ReadFile(GoldenDir() / (name + ".hl7"));
  ASSERT_FALSE(message.empty()) << name;
  Result<MappedMessage> mapped = MapText(message);
  ASSERT_TRUE(mapped.ok()) << mapped.status().message();
  ASSERT_EQ(mapped->outcome, MapOutcome::kMapped);
  Result<json::Document> got = json::Parse(mapped->bundle_json);
  ASSERT_TRUE(got.ok()) << got.status().message();
  Result<json::Document> want = json::Parse(ReadFile(GoldenDir() / (name + ".json")));
  ASSERT_TRUE(want.ok()) << name << ".json: " << want.status().message();
  json::Arena arena;
  std::map<std::string, std::string> seen_got, seen_want;
  json::Value a = NormaliseUuids(arena, got->root(), &seen_got);
  json::Value b = NormaliseUuids(arena, want->root(), &seen_want);
  const json::Value* ea = a.Find("entry");
  const json::Value* eb = b.Find("entry");
  ASSERT_NE(ea, nullptr);
  ASSERT_NE(eb, nullptr);
  for (size_t i = 0; i < std::min(ea->size(), eb->size()); ++i) {
    EXPECT_TRUE(json::Equal(ea->items()[i], eb->items()[i]))
        << name << " entry " << i
        << "\n got: " << json::ToString(ea->items()[i], json::Style::kPretty)
        << "\nwant: " << json::ToString(eb->items()[i], json::Style::kPretty);
  }
  EXPECT_EQ(ea->size(), eb->size()) << Describe(a);
  EXPECT_TRUE(json::Equal(a, b));
}

std::vector<std::string> GoldenNames() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(GoldenDir(), ec)) {
    if (e.path().extension() == ".hl7") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

INSTANTIATE_TEST_SUITE_P(Golden, GoldenTest, ::testing::ValuesIn(GoldenNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(Hl7v2MapGolden, EveryMappedFamilyHasAGoldenFile) {
  std::vector<std::string> names = GoldenNames();
  for (const char* family :
       {"adt-a01", "adt-a40", "oru-r01", "orm-o01", "vxu-v04", "siu-s12", "mdm-t02", "rde-o11"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), family), names.end()) << family;
  }
}

// Every sample message of a mapped type maps, and every entry passes the R4 structural checks.
TEST(Hl7v2MapSamples, EveryMappedSampleMapsToValidResources) {
  if (MessagesDir().empty() || !fs::is_directory(MessagesDir())) {
    GTEST_SKIP() << "VESTA_SHARED_DATA/hl7v2/messages is absent: no sample messages";
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(MessagesDir())) {
    if (entry.path().extension() == ".hl7") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  int mapped = 0, unsupported = 0;
  for (const fs::path& file : files) {
    SCOPED_TRACE(file.filename().string());
    Result<Message> msg = Parse(ReadFile(file));
    ASSERT_TRUE(msg.ok()) << msg.status().message();
    Result<MappedMessage> out = MapToFhir(*msg, TestOptions());
    EXPECT_TRUE(out.ok()) << out.status().message();
    if (!out.ok()) continue;
    if (out->outcome == MapOutcome::kUnsupported) {
      EXPECT_FALSE(IsMappedType(msg->header().message_code, msg->header().trigger_event));
      ++unsupported;
      continue;
    }
    ++mapped;
    // VESTA_HL7V2_DUMP=DIR keeps each Bundle, pretty-printed, for reading.
    if (const char* dump = std::getenv("VESTA_HL7V2_DUMP"); dump != nullptr && *dump != '\0') {
      Result<json::Document> d = json::Parse(out->bundle_json);
      if (d.ok()) {
        std::ofstream(fs::path(dump) / (file.stem().string() + ".json"))
            << json::ToString(d->root(), json::Style::kPretty);
      }
    }
    Result<json::Document> doc = json::Parse(out->bundle_json);
    ASSERT_TRUE(doc.ok()) << doc.status().message();
    EXPECT_EQ(doc->root().FindString("type"), "transaction");
    const json::Value* entries = doc->root().Find("entry");
    ASSERT_NE(entries, nullptr);
    EXPECT_EQ(static_cast<int>(entries->size()), out->entry_count);
    for (const json::Value& e : entries->items()) {
      const json::Value* resource = e.Find("resource");
      ASSERT_NE(resource, nullptr);
      Status s = fhir::ValidateResource(*resource, fhir::Model::R4());
      std::string issues;
      for (const Issue& i : s.issues()) issues += "\n  " + i.location + ": " + i.diagnostics;
      EXPECT_TRUE(s.ok()) << resource->FindString("resourceType") << issues << "\n"
                          << json::ToString(*resource, json::Style::kPretty);
    }
  }
  EXPECT_GE(mapped, 43);
  EXPECT_GE(unsupported, 1);
  std::cout << "mapped " << mapped << " sample messages, " << unsupported
            << " not of a mapped type\n";
}

std::string Msg(std::string_view type, std::string_view body) {
  return "MSH|^~\\&|APP|FAC|RCV|RFAC|20240101120000+0100||" + std::string(type) +
         "|CTRL1|P|2.5.1\r" + std::string(body);
}

TEST(Hl7v2Map, UnsupportedTypeIsNotAnError) {
  Result<MappedMessage> out = MapText(Msg("ADT^A09", "PID|1||123^^^HOSP^MR\r"));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->outcome, MapOutcome::kUnsupported);
  EXPECT_EQ(out->reason, "ADT^A09 is not a mapped message type");
  EXPECT_TRUE(out->bundle_json.empty());
}

TEST(Hl7v2Map, FailureNamesSegmentAndField) {
  Result<MappedMessage> out = MapText(Msg("ADT^A01", "PID|1||^^^HOSP^MR\r"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalid);
  EXPECT_NE(out.status().message().find("PID-3"), std::string::npos) << out.status().message();
  out = MapText(Msg("VXU^V04", "PID|1||1^^^H^MR\rORC|RE||9^H\rRXA|0|1||\r"));
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("RXA-5"), std::string::npos) << out.status().message();
}

TEST(Hl7v2Map, FullUrlsAreDeterministic) {
  std::string text = Msg("ADT^A04", "PID|1||123^^^HOSP^MR||DOE^JO\rPV1|1|O|||||||||||||||||V1\r");
  Result<MappedMessage> a = MapText(text);
  Result<MappedMessage> b = MapText(text);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->bundle_json, b->bundle_json);
}

// The Provenance's entity is the message's record: by its identifier always (the Basic record
// carries it), and by a literal reference when the caller names the record (the feed does).
// The message itself is not copied into the Bundle.
TEST(Hl7v2Map, ProvenanceNamesTheMessageRecord) {
  const std::string text = Msg("ADT^A04", "PID|1||123^^^HOSP^MR||DOE^JO\r");
  const std::string identifier =
      R"("identifier":{"system":"urn:vesta:hl7v2:message","value":"APP|FAC|CTRL1"})";
  Result<MappedMessage> out = MapText(text);
  ASSERT_TRUE(out.ok());
  EXPECT_NE(out->bundle_json.find(R"("role":"source","what":{)" + identifier + "}"),
            std::string::npos)
      << out->bundle_json;
  EXPECT_EQ(out->bundle_json.find("\"Binary\""), std::string::npos);
  EXPECT_EQ(out->entry_count, 2);  // the Patient and the Provenance
  MapOptions o = TestOptions();
  o.record_reference = "Basic/v2-0123";
  out = MapText(text, o);
  ASSERT_TRUE(out.ok());
  EXPECT_NE(out->bundle_json.find(R"("what":{"reference":"Basic/v2-0123",)" + identifier + "}"),
            std::string::npos)
      << out->bundle_json;
}

TEST(Hl7v2Map, TimesWithoutZoneAreCutToTheDateUnlessAZoneIsConfigured) {
  std::string text =
      Msg("ADT^A04",
          "PID|1||1^^^H^MR\rPV1|1|O|||||||||||||||||V1|||||||||||||||||||||||||200301021530\r");
  Result<MappedMessage> out = MapText(text);
  ASSERT_TRUE(out.ok());
  EXPECT_NE(out->bundle_json.find("\"start\":\"2003-01-02\""), std::string::npos);
  MapOptions o = TestOptions();
  o.default_zone = "-05:00";
  out = MapText(text, o);
  ASSERT_TRUE(out.ok());
  EXPECT_NE(out->bundle_json.find("\"start\":\"2003-01-02T15:30:00-05:00\""), std::string::npos);
}

}  // namespace
}  // namespace vesta::hl7v2
