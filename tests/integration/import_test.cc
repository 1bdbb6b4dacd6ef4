// `vesta import` (docs/import.md), the real binary on the real store, then read back through
// `vesta serve`: NDJSON, gzip, transaction and collection Bundles, standard input and a folder
// tree in one run; bad lines reported with file:line and kept in the reject file; a rerun that
// loads nothing twice; a changed line that makes version 2; references between files resolved
// whatever their order; Synthea's Bundles with their conditional references.
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "integration/test_server.h"

namespace vesta::testing {
namespace {

struct ImportRun {
  int exit_code = -1;
  std::string out;  // stdout: the summary
  std::string err;  // stderr: rejects and errors
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

void WriteGzip(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, text.data(), static_cast<unsigned>(text.size())),
            static_cast<int>(text.size()));
  gzclose(f);
}

// `vesta import` on `data`'s store with `args`; `stdin_text` is its standard input.
ImportRun Import(const TempDir& dir, const std::string& data, const std::string& args,
                 const std::string& stdin_text = "") {
  const std::string in = dir.path() + "/stdin", out = dir.path() + "/stdout",
                    err = dir.path() + "/stderr";
  WriteFile(in, stdin_text);
  std::string cmd = VestaBinary() + " import" + StoreFlags(data) + " " + args + " <'" + in +
                    "' >'" + out + "' 2>'" + err + "'";
  ImportRun run;
  int status = std::system(cmd.c_str());
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = ReadFile(out);
  run.err = ReadFile(err);
  return run;
}

// `s` as one shell word.
std::string Quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

constexpr char kTx1[] = "urn:uuid:5a0e1c1e-0000-4000-8000-000000000001";
constexpr char kTx2[] = "urn:uuid:5a0e1c1e-0000-4000-8000-000000000002";
constexpr char kTx3[] = "urn:uuid:5a0e1c1e-0000-4000-8000-000000000003";
constexpr char kTx4[] = "urn:uuid:5a0e1c1e-0000-4000-8000-000000000004";

// A folder tree with every kind of input and a bad line or entry in most files.
void WriteTree(const std::string& tree) {
  WriteFile(tree + "/Patient.ndjson",
            std::string(R"({"resourceType":"Patient","id":"p1","birthDate":"1970-01-01"})") + "\n" +
                R"({"resourceType":"Patient","id":"p2","gender":"female"})" + "\n" +
                R"({"resourceType":"Patient","id":"bad","birthDate":"yesterday"})" + "\n\n" +
                "{not json\n");
  WriteGzip(
      tree + "/a/Observation.ndjson.gz",
      std::string(
          R"({"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"},"valueQuantity":{"value":7.10}})") +
          "\n" + R"({"resourceType":"Observation","id":"o2","colour":"red"})" + "\n");
  WriteFile(
      tree + "/b/tx.json",
      std::string(R"({"resourceType":"Bundle","type":"transaction","entry":[)") +
          R"({"fullUrl":")" + kTx1 +
          R"(","resource":{"resourceType":"Patient","name":[{"family":"Tx"}]},"request":{"method":"POST","url":"Patient"}},)" +
          R"({"fullUrl":")" + kTx2 +
          R"(","resource":{"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},"subject":{"reference":")" +
          kTx1 + R"("}},"request":{"method":"POST","url":"Encounter"}},)" + R"({"fullUrl":")" +
          kTx3 +
          R"(","resource":{"resourceType":"Observation","status":"final","code":{"text":"y"},"subject":{"reference":")" +
          kTx1 + R"("},"encounter":{"reference":")" + kTx2 +
          R"("}},"request":{"method":"POST","url":"Observation"}},)" + R"({"fullUrl":")" + kTx4 +
          R"(","resource":{"resourceType":"Patient","birthDate":"soon"},"request":{"method":"POST","url":"Patient"}}]})");
  WriteFile(
      tree + "/b/c/collection.json",
      R"({"resourceType":"Bundle","type":"collection","entry":[)"
      R"({"fullUrl":"http://example.org/fhir/Organization/org1","resource":{"resourceType":"Organization","id":"org1","name":"Clinic"}},)"
      R"({"resource":{"resourceType":"Location","id":"loc1","managingOrganization":{"reference":"http://example.org/fhir/Organization/org1"}}}]})");
  WriteFile(tree + "/notes.txt", "not an input\n");
}

constexpr char kStdin[] =
    "{\"resourceType\":\"Practitioner\",\"id\":\"pr1\"}\n{\"resourceType\":\"Practitioner\",\"id\":"
    "\"pr2\",\"name\":\"not an array\"}\n";

TEST(ImportTest, EveryKindOfInputBadLinesReportedRerunUnchangedChangedLineVersioned) {
  TempDir dir;
  const std::string tree = dir.path() + "/tree", data = dir.path() + "/data";
  const std::string rejects = dir.path() + "/rejects.ndjson";
  WriteTree(tree);
  const std::string args = "--rejects '" + rejects + "' '" + tree + "' -";

  ImportRun first = Import(dir, data, args, kStdin);
  EXPECT_EQ(first.exit_code, 3) << first.out << first.err;
  // Each bad line or entry: file:line (or entry) and the reason, on stderr and in the file.
  const std::vector<std::string> expected_where = {
      tree + "/Patient.ndjson:3", tree + "/Patient.ndjson:5", tree + "/a/Observation.ndjson.gz:2",
      tree + "/b/tx.json:entry 3 (" + kTx4 + ")", "-:2"};
  for (const std::string& where : expected_where) {
    EXPECT_TRUE(Contains(first.err, where + ": ")) << where << "\n" << first.err;
  }
  EXPECT_TRUE(Contains(first.err, "Patient.birthDate")) << first.err;
  std::vector<std::string> reject_lines = Lines(ReadFile(rejects));
  ASSERT_EQ(reject_lines.size(), expected_where.size()) << ReadFile(rejects);
  for (const std::string& where : expected_where) {
    bool found = std::any_of(reject_lines.begin(), reject_lines.end(), [&](const std::string& l) {
      return Contains(l, "{\"where\":\"" + where + "\",\"reason\":\"");
    });
    EXPECT_TRUE(found) << where;
  }
  EXPECT_TRUE(Contains(ReadFile(rejects),
                       R"("line":{"resourceType":"Patient","id":"bad","birthDate":"yesterday"})"));
  EXPECT_TRUE(Contains(ReadFile(rejects), R"("line":"{not json")"));
  EXPECT_TRUE(Contains(first.out, "imported 9 resources (9 new, 0 updated, 0 unchanged)"))
      << first.out;
  EXPECT_TRUE(Contains(first.out, " 5 rejected")) << first.out;

  {
    ServerProcess server(data);
    ASSERT_TRUE(server.ok());
    for (const char* path : {"/Patient/p1", "/Patient/p2", "/Observation/o1", "/Organization/org1",
                             "/Location/loc1", "/Practitioner/pr1"}) {
      HttpResult r = HttpRequest(server.port(), "GET", path);
      EXPECT_EQ(r.status, 200) << path;
      EXPECT_EQ(r.Header("ETag"), "W/\"1\"") << path;
    }
    EXPECT_TRUE(Contains(HttpRequest(server.port(), "GET", "/Observation/o1").body, "7.10"));
    EXPECT_EQ(HttpRequest(server.port(), "GET", "/Patient/bad").status, 404);
    EXPECT_EQ(HttpRequest(server.port(), "GET", "/Practitioner/pr2").status, 404);
    // The transaction's urn:uuid fullUrls became the ids, and its references point at them.
    const std::string tx1 = std::string(kTx1).substr(9), tx2 = std::string(kTx2).substr(9);
    HttpResult encounter = HttpRequest(server.port(), "GET", "/Encounter/" + tx2);
    ASSERT_EQ(encounter.status, 200);
    EXPECT_TRUE(Contains(encounter.body, "\"subject\":{\"reference\":\"Patient/" + tx1 + "\"}"))
        << encounter.body;
    HttpResult observation =
        HttpRequest(server.port(), "GET", "/Observation/" + std::string(kTx3).substr(9));
    EXPECT_TRUE(Contains(observation.body, "\"reference\":\"Encounter/" + tx2 + "\""))
        << observation.body;
    EXPECT_TRUE(Contains(HttpRequest(server.port(), "GET", "/Location/loc1").body,
                         "\"reference\":\"Organization/org1\""));
    EXPECT_EQ(server.Stop(), 0);
  }

  // The same input again: nothing new, nothing written.
  ImportRun second = Import(dir, data, args, kStdin);
  EXPECT_EQ(second.exit_code, 3);
  EXPECT_TRUE(Contains(second.out, "imported 9 resources (0 new, 0 updated, 9 unchanged)"))
      << second.out;

  // One line changed: a second version of that resource only.
  const std::string changed = dir.path() + "/changed.ndjson";
  WriteFile(changed,
            std::string(R"({"resourceType":"Patient","id":"p1","birthDate":"1971-01-01"})") + "\n" +
                R"({"resourceType":"Patient","id":"p2","gender":"female"})" + "\n");
  ImportRun third = Import(dir, data, "--rejects '" + rejects + "' '" + changed + "'");
  EXPECT_EQ(third.exit_code, 0) << third.out << third.err;
  EXPECT_TRUE(Contains(third.out, "(0 new, 1 updated, 1 unchanged)")) << third.out;
  EXPECT_TRUE(Contains(third.out, " 0 rejected")) << third.out;

  ServerProcess server(data);
  ASSERT_TRUE(server.ok());
  HttpResult p1 = HttpRequest(server.port(), "GET", "/Patient/p1");
  EXPECT_EQ(p1.Header("ETag"), "W/\"2\"");
  EXPECT_TRUE(Contains(p1.body, "1971-01-01"));
  EXPECT_EQ(HttpRequest(server.port(), "GET", "/Patient/p2").Header("ETag"), "W/\"1\"");
  EXPECT_EQ(HttpRequest(server.port(), "GET", "/Observation/o1").Header("ETag"), "W/\"1\"");
  HttpResult history = HttpRequest(server.port(), "GET", "/Patient/_history");
  // p1 twice, p2, the transaction's patient.
  EXPECT_TRUE(Contains(history.body, "\"total\":4")) << history.body.substr(0, 300);
  EXPECT_EQ(server.Stop(), 0);
}

TEST(ImportTest, ReferencesBetweenFilesResolveWhateverTheOrder) {
  TempDir dir;
  const std::string data = dir.path() + "/data", rejects = dir.path() + "/rejects.ndjson";
  // The referrers first; an Encounter and a Condition that reference each other (a cycle across
  // the files); one Observation whose patient is nowhere.
  const std::string first = dir.path() + "/first.ndjson", second = dir.path() + "/second.ndjson";
  WriteFile(
      first,
      std::string(
          R"({"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"},"encounter":{"reference":"Encounter/e1"}})") +
          "\n" +
          R"({"resourceType":"Encounter","id":"e1","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/p1"},"reasonReference":[{"reference":"Condition/c1"}]})" +
          "\n" +
          R"({"resourceType":"Observation","id":"o9","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/nobody"}})" +
          "\n");
  WriteFile(
      second,
      std::string(
          R"({"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},"encounter":{"reference":"Encounter/e1"}})") +
          "\n" + R"({"resourceType":"Patient","id":"p1"})" + "\n");
  ImportRun run = Import(dir, data, "--rejects '" + rejects + "' '" + first + "' '" + second + "'");
  EXPECT_EQ(run.exit_code, 3) << run.out << run.err;
  EXPECT_TRUE(Contains(run.out, "imported 4 resources (4 new")) << run.out;
  EXPECT_TRUE(Contains(run.err, first + ":3: the reference to Patient/nobody names no resource"))
      << run.err;
  std::vector<std::string> reject_lines = Lines(ReadFile(rejects));
  ASSERT_EQ(reject_lines.size(), 1u);
  {
    ServerProcess server(data);
    ASSERT_TRUE(server.ok());
    for (const char* path : {"/Observation/o1", "/Encounter/e1", "/Condition/c1", "/Patient/p1"}) {
      EXPECT_EQ(HttpRequest(server.port(), "GET", path).status, 200) << path;
    }
    EXPECT_EQ(HttpRequest(server.port(), "GET", "/Observation/o9").status, 404);
    EXPECT_EQ(server.Stop(), 0);
  }
  // Unchecked, the dangling reference is stored as it is.
  ImportRun unchecked = Import(
      dir, dir.path() + "/data2",
      "--referential-integrity off --rejects '" + rejects + "' '" + first + "' '" + second + "'");
  EXPECT_EQ(unchecked.exit_code, 0) << unchecked.out << unchecked.err;
  EXPECT_TRUE(Contains(unchecked.out, "imported 5 resources (5 new")) << unchecked.out;
}

// gzip on standard input, told by its magic bytes; the same resource on two lines, with other
// resources and small batches between them: the later line ends current, as version 2.
TEST(ImportTest, GzipOnStandardInputAndTheLaterOfTwoLinesEndsCurrent) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  std::string text = R"({"resourceType":"Patient","id":"twice","gender":"male"})"
                     "\n";
  for (int i = 0; i < 40; ++i) {
    text += R"({"resourceType":"Patient","id":"filler)" + std::to_string(i) +
            R"("})"
            "\n";
  }
  text += R"({"resourceType":"Patient","id":"twice","gender":"female"})"
          "\n";
  const std::string gz = dir.path() + "/in.gz";
  WriteGzip(gz, text);
  ImportRun run = Import(
      dir, data, "--batch 3 --threads 4 --rejects '" + dir.path() + "/r.ndjson' -", ReadFile(gz));
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_TRUE(Contains(run.out, "imported 42 resources (41 new, 1 updated, 0 unchanged)"))
      << run.out;
  ServerProcess server(data);
  ASSERT_TRUE(server.ok());
  HttpResult twice = HttpRequest(server.port(), "GET", "/Patient/twice");
  EXPECT_EQ(twice.Header("ETag"), "W/\"2\"");
  EXPECT_TRUE(Contains(twice.body, "\"gender\":\"female\"")) << twice.body;
  EXPECT_EQ(server.Stop(), 0);
}

TEST(ImportTest, FatalErrorsExitOne) {
  TempDir dir;
  ImportRun missing = Import(dir, dir.path() + "/data", "'" + dir.path() + "/absent.ndjson'");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(Contains(missing.err, "absent.ndjson")) << missing.err;
  // The reject file must not be an input (it is rewritten at the first reject).
  const std::string input = dir.path() + "/in.ndjson";
  WriteFile(input, "{\"resourceType\":\"Patient\",\"id\":\"p\"}\n");
  ImportRun clash = Import(dir, dir.path() + "/data", "--rejects '" + input + "' '" + input + "'");
  EXPECT_EQ(clash.exit_code, 1);
  EXPECT_TRUE(Contains(clash.err, "is also an input")) << clash.err;
}

// Synthea's transaction Bundles: the patients before the shared hospital and practitioner
// Bundles that they reference conditionally (Practitioner?identifier=...), which therefore wait
// for them; every conditional reference ends as a literal one.
TEST(ImportTest, SyntheaBundlesWithConditionalReferencesInEitherOrder) {
  const char* env = std::getenv("VESTA_SHARED_DATA");
  const std::string dir = std::string(env ? env : "../shared/data") + "/synthea";
  std::vector<std::string> patients;
  if (DIR* d = opendir((dir + "/patients").c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 5 && n.substr(n.size() - 5) == ".json") patients.push_back(n);
    }
    closedir(d);
  }
  if (patients.empty() || !std::filesystem::exists(dir + "/shared")) {
    GTEST_SKIP() << "the Synthea bundles are not at " << dir;
  }
  std::sort(patients.begin(), patients.end());
  patients.resize(std::min<size_t>(patients.size(), 3));
  TempDir tmp;
  const std::string data = tmp.path() + "/data";
  std::string args = "--rejects '" + tmp.path() + "/rejects.ndjson'";
  for (const std::string& p : patients) args += " " + Quoted(dir + "/patients/" + p);
  args += " " + Quoted(dir + "/shared");
  ImportRun run = Import(tmp, data, args);
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err.substr(0, 2000);
  EXPECT_TRUE(Contains(run.out, " 0 rejected")) << run.out;
  EXPECT_TRUE(Contains(run.out, "deferred until the inputs were read")) << run.out;

  ImportRun again = Import(tmp, data, args);
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_TRUE(Contains(again.out, "(0 new, 0 updated, ")) << again.out;

  ServerProcess server(data);
  ASSERT_TRUE(server.ok());
  // The first patient's Encounters name their practitioner, organization and location by id.
  const std::string patient_id = patients[0].substr(patients[0].size() - 41, 36);
  HttpResult encounters =
      HttpRequest(server.port(), "GET", "/Encounter?patient=" + patient_id + "&_count=5");
  ASSERT_EQ(encounters.status, 200);
  EXPECT_TRUE(Contains(encounters.body, "\"reference\":\"Practitioner/"))
      << encounters.body.substr(0, 500);
  EXPECT_TRUE(Contains(encounters.body, "\"reference\":\"Organization/"));
  EXPECT_FALSE(Contains(encounters.body, "?identifier=")) << "conditional references resolved";
  HttpResult count = HttpRequest(server.port(), "GET", "/Practitioner?_summary=count");
  EXPECT_TRUE(Contains(count.body, "\"total\":1191")) << count.body;
  EXPECT_EQ(server.Stop(), 0);
}

}  // namespace
}  // namespace vesta::testing
