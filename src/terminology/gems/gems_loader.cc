// The CMS diagnosis GEMs loader.
//
// File layout, from the CMS "Diagnosis Code Set General Equivalence Mappings" guide (2018),
// Appendix A: the I9gem has the ICD-9-CM source in columns 1-5 and the ICD-10-CM target in 7-13;
// the I10gem has the ICD-10-CM source in 1-7 and the ICD-9-CM target in 9-13. Then column 15
// Approximate, 16 No Map, 17 Combination (1 = on), 18 Scenario (0-9), 19 Choice List (0-9).
// Codes have no decimal point; a No Map row has the target "NoDx".
#include <cctype>
#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/strings.h"
#include "terminology/code_system_writer.h"
#include "terminology/db.h"
#include "terminology/icd10cm/codes.h"
#include "terminology/line_reader.h"
#include "terminology/loaders.h"
#include "terminology/progress.h"
#include "terminology/schema.h"

namespace vesta::terminology {
namespace {

struct GemRow {
  std::string source;
  std::string target;  // '' for a No Map row
  int approximate = 0, no_map = 0, combination = 0, scenario = 0, choice_list = 0;
};

std::optional<GemDirection> DirectionFromName(const std::string& base) {
  std::string lower = Lower(base);
  if (lower.find("i9gem") != std::string::npos) return GemDirection::kForward;
  if (lower.find("i10gem") != std::string::npos) return GemDirection::kBackward;
  return std::nullopt;
}

// The forward GEM's target starts in column 7 right after a blank; the backward GEM's
// ICD-10-CM source is 3 to 7 characters, so column 6 is part of the code or column 7 is blank.
GemDirection DirectionFromLayout(std::string_view line) {
  return line.size() > 6 && line[5] == ' ' && line[6] != ' ' ? GemDirection::kForward
                                                             : GemDirection::kBackward;
}

std::string YearOf(const std::string& base) {
  for (size_t i = 0; i + 4 <= base.size(); ++i) {
    if (base.compare(i, 2, "20") == 0 && std::isdigit(static_cast<unsigned char>(base[i + 2])) &&
        std::isdigit(static_cast<unsigned char>(base[i + 3]))) {
      return base.substr(i, 4);
    }
  }
  return {};
}

Status ParseGemLine(std::string_view line, GemDirection dir, int64_t line_no,
                    const std::string& file, GemRow* row) {
  // Fields are blank-separated; split rather than trust exact columns (some copies of the
  // files are re-spaced), then check each field.
  std::vector<std::string_view> f = SplitWords(line, 8);
  auto bad = [&](const char* why) {
    return Invalid(file + ":" + std::to_string(line_no) + ": " + why);
  };
  if (f.size() != 3) return bad("expected source, target and flags");
  if (f[2].size() != 5) return bad("flags must be 5 digits");
  for (char c : f[2]) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return bad("flags must be 5 digits");
  }
  for (int i = 0; i < 2; ++i) {
    for (char c : f[i]) {
      if (!std::isalnum(static_cast<unsigned char>(c))) return bad("bad code");
    }
  }
  row->approximate = f[2][0] - '0';
  row->no_map = f[2][1] - '0';
  row->combination = f[2][2] - '0';
  row->scenario = f[2][3] - '0';
  row->choice_list = f[2][4] - '0';
  if (row->approximate > 1 || row->no_map > 1 || row->combination > 1) {
    return bad("flags Approximate, No Map and Combination must be 0 or 1");
  }
  bool forward = dir == GemDirection::kForward;
  row->source = forward ? Icd9CmDotted(f[0]) : Icd10CmDotted(f[0]);
  if (row->no_map == 1) {
    row->target.clear();
  } else {
    row->target = forward ? Icd10CmDotted(f[1]) : Icd9CmDotted(f[1]);
  }
  return Status::Ok();
}

// Rebuilds ICD-9-CM from the ICD-9-CM codes of the loaded GEM rows.
Status RebuildIcd9(internal::Db& db) {
  std::set<std::string> codes;
  {
    ASSIGN_OR_RETURN(internal::Rows q,
                     db.Query("SELECT source FROM gem WHERE direction = 0 UNION "
                              "SELECT target FROM gem WHERE direction = 1 AND target IS NOT NULL"));
    for (int i = 0; i < q.size(); ++i) codes.insert(q.Text(i, 0));
  }
  internal::CodeSystemContent content;
  content.url = internal::kIcd9CmUrl;
  content.version = "";
  content.name = "ICD9CM";
  content.title =
      "International Classification of Diseases, Ninth Revision, Clinical "
      "Modification (ICD-9-CM), codes from the CMS GEMs";
  content.source = "gems";
  {
    ASSIGN_OR_RETURN(internal::Rows q, db.Query("SELECT file FROM gem_file ORDER BY direction"));
    for (int i = 0; i < q.size(); ++i) {
      content.source_file += (i == 0 ? "" : " + ") + q.Text(i, 0);
    }
  }
  for (const std::string& c : codes) {
    internal::ConceptRow row;
    row.code = c;
    row.kind = internal::ConceptKind::kCode;
    row.billable = true;
    content.concepts.push_back(std::move(row));
  }
  return internal::ReplaceCodeSystemRows(db, content, nullptr);
}

}  // namespace

Result<LoadReport> LoadGem(const std::string& location, const std::string& file,
                           std::optional<GemDirection> direction) {
  auto start = std::chrono::steady_clock::now();
  std::string base = internal::BaseName(file);
  if (!direction) direction = DirectionFromName(base);
  std::vector<GemRow> rows;
  {
    Progress progress("reading " + base);
    ASSIGN_OR_RETURN(std::unique_ptr<InputFile> in, InputFile::Open(file));
    std::string line;
    int64_t line_no = 0;
    for (;;) {  // bounded by the file's lines
      ASSIGN_OR_RETURN(bool more, in->ReadLine(&line));
      if (!more) break;
      ++line_no;
      if (Trim(line).empty()) continue;
      if (!direction) direction = DirectionFromLayout(line);
      GemRow row;
      RETURN_IF_ERROR(ParseGemLine(line, *direction, line_no, file, &row));
      rows.push_back(std::move(row));
      progress.Update(static_cast<int64_t>(rows.size()));
    }
  }
  if (rows.empty() || !direction) return Invalid(file + ": no GEM rows");
  int64_t dir = static_cast<int64_t>(*direction);

  ASSIGN_OR_RETURN(std::unique_ptr<internal::Db> db,
                   internal::OpenDb(location, internal::Access::kWrite));
  RETURN_IF_ERROR(internal::WriteTransaction(*db, [&]() -> Status {
    RETURN_IF_ERROR(db->Exec("DELETE FROM gem WHERE direction = ?1", {dir}));
    {
      constexpr std::string_view kColumns[] = {"direction",   "source",      "target",
                                               "approximate", "no_map",      "combination",
                                               "scenario",    "choice_list", "line"};
      ASSIGN_OR_RETURN(std::unique_ptr<internal::BulkWriter> ins, db->BulkInsert("gem", kColumns));
      Progress progress("writing " + base);
      int64_t n = 0;
      for (const GemRow& r : rows) {
        RETURN_IF_ERROR(ins->Add({dir, r.source, internal::TextOrNull(r.target),
                                  int64_t{r.approximate}, int64_t{r.no_map}, int64_t{r.combination},
                                  int64_t{r.scenario}, int64_t{r.choice_list}, n}));
        progress.Update(++n);
      }
      RETURN_IF_ERROR(ins->Finish());
    }
    RETURN_IF_ERROR(db->Exec(
        "INSERT INTO gem_file (direction, file, year, rows) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (direction) DO UPDATE SET file = excluded.file, year = excluded.year, "
        "rows = excluded.rows",
        {dir, base, YearOf(base), static_cast<int64_t>(rows.size())}));
    return RebuildIcd9(*db);
  }));
  LoadReport report;
  report.system = *direction == GemDirection::kForward ? "GEM ICD-9-CM to ICD-10-CM"
                                                       : "GEM ICD-10-CM to ICD-9-CM";
  report.version = YearOf(base);
  report.rows = static_cast<int64_t>(rows.size());
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace vesta::terminology
