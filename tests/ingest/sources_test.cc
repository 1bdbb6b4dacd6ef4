// ExpandInputs and ImportRank: what a folder contributes, and in which order.
#include "ingest/sources.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "store/temp_dir.h"

namespace vesta::ingest {
namespace {

TEST(SourcesTest, FoldersAreSearchedRecursivelyAndReferencedTypesComeFirst) {
  store::TempDir dir;
  namespace fs = std::filesystem;
  fs::create_directories(dir.path() + "/a/b");
  fs::create_directories(dir.path() + "/.hidden");
  for (const char* name : {"a/Observation.ndjson", "a/b/Patient.000.ndjson.gz", "Encounter.ndjson",
                           "bundle.json", "a/b/x.json.gz", "notes.txt", ".hidden/Patient.ndjson",
                           "Organization.ndjson", "a/hospitalInformation1.json"}) {
    std::ofstream(dir.path() + "/" + name) << "{}\n";
  }
  Result<std::vector<Source>> sources = ExpandInputs({dir.path()});
  ASSERT_TRUE(sources.ok()) << sources.status().message();
  std::vector<std::string> names;
  for (const Source& s : *sources) names.push_back(s.path.substr(dir.path().size() + 1));
  EXPECT_EQ(names,
            (std::vector<std::string>{"a/hospitalInformation1.json", "Organization.ndjson",
                                      "a/b/Patient.000.ndjson.gz", "Encounter.ndjson",
                                      "a/Observation.ndjson", "a/b/x.json.gz", "bundle.json"}));
  EXPECT_EQ((*sources)[0].format, SourceFormat::kJson);
  EXPECT_EQ((*sources)[2].format, SourceFormat::kNdjson);
  EXPECT_EQ((*sources)[1].size, 3);
}

TEST(SourcesTest, NamedFilesAreTakenAsTheyAreAndStandardInputIsDash) {
  store::TempDir dir;
  std::string odd = dir.path() + "/data.txt";
  std::ofstream(odd) << "{}\n";
  Result<std::vector<Source>> sources = ExpandInputs({"-", odd});
  ASSERT_TRUE(sources.ok());
  ASSERT_EQ(sources->size(), 2u);
  EXPECT_EQ((*sources)[0].path, "-");
  EXPECT_EQ((*sources)[0].size, -1);
  EXPECT_EQ((*sources)[1].format, SourceFormat::kNdjson);

  Result<std::vector<Source>> missing = ExpandInputs({dir.path() + "/absent.ndjson"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("absent.ndjson"), std::string::npos);
}

TEST(SourcesTest, ImportRank) {
  EXPECT_LT(ImportRank("x/practitionerInformation123.json"), ImportRank("Organization.ndjson"));
  EXPECT_LT(ImportRank("Organization.ndjson"), ImportRank("Patient.ndjson"));
  EXPECT_LT(ImportRank("Patient_2.ndjson"), ImportRank("Encounter.ndjson"));
  EXPECT_LT(ImportRank("Encounter.ndjson"), ImportRank("Observation.ndjson"));
  EXPECT_EQ(ImportRank("Observation.ndjson"), ImportRank("Claim.ndjson"));
}

}  // namespace
}  // namespace vesta::ingest
