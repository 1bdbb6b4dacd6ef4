// The ICD-10-CM order file loader.
//
// CMS/CDC layout (icd10cm_order_YYYY.txt, "ICD-10-CM Order File Format" in the release's
// documentation): columns 1-5 order number, 7-13 code (no decimal point), 15 a flag that is 1
// for codes valid for HIPAA-covered transactions (billable) and 0 for headers, 17-76 the short
// description, 78 to the end the long description. A tab-separated derivative with a header
// line (order_number, icd10cm_code, valid_billing_code, short, long...) is read as well.
#include <cctype>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
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

using internal::CodeSystemContent;
using internal::ConceptKind;
using internal::ConceptRow;

struct OrderRow {
  std::string code;  // dotted
  bool billable = false;
  std::string short_name;
  std::string long_name;
};

std::string_view Column(std::string_view line, size_t begin, size_t end) {
  if (begin >= line.size()) return {};
  return Trim(line.substr(begin, end - begin));
}

Status ParseLine(std::string_view line, bool tsv, int64_t line_no, const std::string& file,
                 OrderRow* row) {
  std::string_view code;
  std::string_view flag;
  if (tsv) {
    std::vector<std::string_view> cols = Split(line, '\t');
    if (cols.size() < 5) {
      return Invalid(file + ":" + std::to_string(line_no) + ": expected at least 5 columns");
    }
    code = Trim(cols[1]);
    flag = Trim(cols[2]);
    row->short_name = Trim(cols[3]);
    row->long_name = Trim(cols[4]);
  } else {
    if (line.size() < 16 || line[5] != ' ' || line[13] != ' ') {
      return Invalid(file + ":" + std::to_string(line_no) +
                     ": not in the order file layout (number, code, flag, short, long)");
    }
    code = Column(line, 6, 13);
    flag = Column(line, 14, 15);
    row->short_name = Column(line, 16, 76);
    row->long_name = Column(line, 77, std::string_view::npos);
  }
  if (code.empty() || (flag != "0" && flag != "1")) {
    return Invalid(file + ":" + std::to_string(line_no) + ": bad code or billable flag");
  }
  for (char c : code) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      return Invalid(file + ":" + std::to_string(line_no) + ": bad code '" + std::string(code) +
                     "'");
    }
  }
  row->code = Icd10CmDotted(code);
  row->billable = flag == "1";
  return Status::Ok();
}

std::optional<std::string> YearIn(const std::string& name) {
  for (size_t i = 0; i + 4 <= name.size(); ++i) {
    if (name[i] == '2' && name[i + 1] == '0' &&
        std::isdigit(static_cast<unsigned char>(name[i + 2])) &&
        std::isdigit(static_cast<unsigned char>(name[i + 3])) &&
        (i + 4 == name.size() || !std::isdigit(static_cast<unsigned char>(name[i + 4])))) {
      return name.substr(i, 4);
    }
  }
  return std::nullopt;
}

// The longest proper prefix of `code` (undotted) that is a concept, or ''.
std::string PrefixParent(const std::string& code,
                         const std::unordered_map<std::string, size_t>& undotted_index,
                         const std::vector<ConceptRow>& concepts) {
  std::string base = Undotted(code);
  for (size_t n = base.size(); n-- > 1;) {
    auto it = undotted_index.find(base.substr(0, n));
    if (it != undotted_index.end()) return concepts[it->second].code;
  }
  return {};
}

}  // namespace

Result<LoadReport> LoadIcd10CmOrder(const std::string& location, const std::string& file,
                                    std::optional<std::string> version) {
  auto start = std::chrono::steady_clock::now();
  std::string base = internal::BaseName(file);
  if (!version) version = YearIn(base);
  if (!version || version->empty()) {
    return Invalid("cannot tell the ICD-10-CM version from the file name " + base +
                   "; give it with --version");
  }
  std::vector<OrderRow> rows;
  {
    Progress progress("reading " + base);
    ASSIGN_OR_RETURN(std::unique_ptr<InputFile> in, InputFile::Open(file));
    std::string line;
    int64_t line_no = 0;
    bool tsv = false;
    for (;;) {  // bounded by the file's lines
      ASSIGN_OR_RETURN(bool more, in->ReadLine(&line));
      if (!more) break;
      ++line_no;
      if (line_no == 1) {
        tsv = line.find('\t') != std::string::npos;
        if (tsv && line.find("code") != std::string::npos) continue;  // the header line
      }
      if (Trim(line).empty()) continue;
      OrderRow row;
      RETURN_IF_ERROR(ParseLine(line, tsv, line_no, file, &row));
      rows.push_back(std::move(row));
      progress.Update(static_cast<int64_t>(rows.size()));
    }
  }
  if (rows.empty()) return Invalid(file + ": no codes");

  ASSIGN_OR_RETURN(std::unique_ptr<internal::Db> db,
                   internal::OpenDb(location, internal::Access::kWrite));

  CodeSystemContent content;
  Result<CodeSystemContent> existing =
      internal::ReadCodeSystem(*db, internal::kIcd10CmUrl, *version);
  bool merge = existing.ok() && existing->source.find("tabular") != std::string::npos;
  if (merge) {
    content = std::move(existing).value();
    content.source = "tabular+order";
    content.source_file =
        content.source_file.substr(0, content.source_file.find(" + ")) + " + " + base;
  } else {
    content.url = internal::kIcd10CmUrl;
    content.version = *version;
    content.name = "ICD10CM";
    content.title =
        "International Classification of Diseases, Tenth Revision, Clinical "
        "Modification (ICD-10-CM)";
    content.source = "order";
    content.source_file = base;
  }
  std::unordered_map<std::string, size_t> index;  // undotted code -> row
  for (size_t i = 0; i < content.concepts.size(); ++i) {
    index.emplace(Undotted(content.concepts[i].code), i);
  }
  for (OrderRow& r : rows) {
    std::string key = Undotted(r.code);
    auto it = index.find(key);
    if (it == index.end()) {
      ConceptRow c;
      c.code = r.code;
      c.display = r.long_name;
      c.parent = PrefixParent(r.code, index, content.concepts);
      it = index.emplace(key, content.concepts.size()).first;
      content.concepts.push_back(std::move(c));
    }
    ConceptRow& c = content.concepts[it->second];
    c.kind = r.billable ? ConceptKind::kCode : ConceptKind::kHeader;
    c.billable = r.billable;
    c.short_name = std::move(r.short_name);
    c.long_name = std::move(r.long_name);
    if (c.display.empty()) c.display = c.long_name;
  }
  {
    Progress progress("writing ICD-10-CM " + *version);
    RETURN_IF_ERROR(internal::WriteCodeSystem(*db, content, &progress));
  }
  LoadReport report = internal::ReportOf(content);
  report.rows = static_cast<int64_t>(rows.size());
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace vesta::terminology
