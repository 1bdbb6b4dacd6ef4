#include "ingest/sources.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <set>
#include <string_view>
#include <utility>

#include "json/parse.h"

namespace vesta::ingest {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string_view BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

SourceFormat FormatOf(std::string_view path) {
  return EndsWith(path, ".json") || EndsWith(path, ".json.gz") ? SourceFormat::kJson
                                                               : SourceFormat::kNdjson;
}

bool Importable(std::string_view name) {
  return EndsWith(name, ".ndjson") || EndsWith(name, ".ndjson.gz") || EndsWith(name, ".json") ||
         EndsWith(name, ".json.gz");
}

// The files of a Bulk Data export's folder that are not resources to load
// (https://hl7.org/fhir/uv/bulkdata/STU2/export.html#response---complete-status): its manifest
// (`vesta export` writes manifest.json), the OperationOutcome files of its "error" array and the
// Bundles of its "deleted" array. Empty
// when `dir` has no manifest.json or it is not a manifest (a resource or a Bundle named so).
std::set<std::string> ExportBookkeeping(const std::string& dir) {
  std::set<std::string> skip;
  const std::string path = dir + "/manifest.json";
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return skip;
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0 && text.size() < (size_t{64} << 20)) {
    text.append(buf, n);
  }
  std::fclose(f);
  Result<json::Document> doc = json::Parse(text);
  if (!doc.ok() || !doc->root().is_object() || doc->root().Find("resourceType") != nullptr ||
      doc->root().Find("output") == nullptr || doc->root().Find("transactionTime") == nullptr) {
    return skip;
  }
  skip.insert("manifest.json");
  // The error files, and the "deleted" Bundles (DELETE entries for what was deleted since
  // _since: nothing to load into a store).
  for (const char* list : {"error", "deleted"}) {
    if (const json::Value* files = doc->root().Find(list); files && files->is_array()) {
      for (const json::Value& e : files->items()) {
        std::string_view url = e.FindString("url");
        skip.insert(std::string(BaseName(url)));
      }
    }
  }
  return skip;
}

// Collects the importable files under `dir`; `seen` holds the folders read (device, inode).
Status Walk(const std::string& dir, std::set<std::pair<dev_t, ino_t>>* seen,
            std::vector<Source>* out) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    return Status(StatusCode::kNotFound, "cannot read the folder " + dir + ": " + strerror(errno));
  }
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') names.emplace_back(e->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  const std::set<std::string> bookkeeping = ExportBookkeeping(dir);
  for (const std::string& name : names) {
    if (bookkeeping.count(name)) continue;
    std::string path = dir + "/" + name;
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) continue;  // a dangling link
    if (S_ISDIR(st.st_mode)) {
      if (!seen->insert({st.st_dev, st.st_ino}).second) continue;
      RETURN_IF_ERROR(Walk(path, seen, out));
    } else if (S_ISREG(st.st_mode) && Importable(name)) {
      out->push_back(Source{path, FormatOf(name), static_cast<int64_t>(st.st_size)});
    }
  }
  return Status::Ok();
}

}  // namespace

int ImportRank(const std::string& path) {
  std::string_view name = BaseName(path);
  // Synthea writes the resources its patients reference conditionally into these two.
  if (name.rfind("hospitalInformation", 0) == 0 || name.rfind("practitionerInformation", 0) == 0) {
    return 0;
  }
  // Bulk Data output names a file after its type: Patient.ndjson, Patient.000.ndjson, Patient_1...
  std::string_view type = name.substr(0, name.find_first_of("._-0123456789"));
  static constexpr std::array<std::string_view, 8> kFirst = {
      "Organization", "Location",      "Practitioner", "PractitionerRole",
      "Patient",      "RelatedPerson", "Group",        "Encounter"};
  for (size_t i = 0; i < kFirst.size(); ++i) {
    if (type == kFirst[i]) return static_cast<int>(i) + 1;
  }
  return static_cast<int>(kFirst.size()) + 1;
}

Result<std::vector<Source>> ExpandInputs(const std::vector<std::string>& inputs) {
  std::vector<Source> sources;
  for (const std::string& in : inputs) {
    if (in == "-") {
      sources.push_back(Source{"-", SourceFormat::kNdjson, -1});
      continue;
    }
    struct stat st {};
    if (stat(in.c_str(), &st) != 0) {
      return Status(StatusCode::kNotFound, "cannot open " + in + ": " + strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) {
      std::string dir = in;
      while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
      std::set<std::pair<dev_t, ino_t>> seen{{st.st_dev, st.st_ino}};
      std::vector<Source> found;
      RETURN_IF_ERROR(Walk(dir, &seen, &found));
      std::stable_sort(found.begin(), found.end(), [](const Source& a, const Source& b) {
        int ra = ImportRank(a.path), rb = ImportRank(b.path);
        return ra != rb ? ra < rb : a.path < b.path;
      });
      sources.insert(sources.end(), found.begin(), found.end());
      continue;
    }
    if (access(in.c_str(), R_OK) != 0) {
      return Status(StatusCode::kNotFound, "cannot read " + in + ": " + strerror(errno));
    }
    sources.push_back(Source{in, FormatOf(in), S_ISREG(st.st_mode) ? st.st_size : -1});
  }
  return sources;
}

}  // namespace vesta::ingest
