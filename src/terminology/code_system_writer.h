// The content of one code system version as the loaders produce it, and the one function that
// replaces a version's rows in the database with it (concepts, notes and the closure table, in
// one transaction). Internal to src/terminology/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "terminology/db.h"
#include "terminology/loaders.h"

namespace vesta::terminology {
class Progress;
}  // namespace vesta::terminology

namespace vesta::terminology::internal {

// What a concept is. Only kHeader and kCode are codes of the code system proper; chapters and
// blocks are kept for the hierarchy and marked notSelectable, as are the concepts a package
// CodeSystem marks notSelectable or abstract (kAbstract). (2 is reserved: an earlier grouping
// kind, not written any more.)
enum class ConceptKind : int { kChapter = 0, kBlock = 1, kHeader = 3, kCode = 4, kAbstract = 5 };

inline bool IsCodeKind(ConceptKind k) {
  return k == ConceptKind::kHeader || k == ConceptKind::kCode;
}

struct ConceptRow {
  std::string code;
  std::string display;
  ConceptKind kind = ConceptKind::kCode;
  bool billable = false;
  std::string parent;  // empty for a root
  std::string short_name;
  std::string long_name;
};

// The columns of `concept` that ReadConceptRow reads, in its order.
inline constexpr std::string_view kConceptColumns =
    "code, display, kind, billable, parent, short_name, long_name";

// The ConceptRow in row `row` of `rows`, whose first columns are kConceptColumns.
ConceptRow ReadConceptRow(const Rows& rows, int row);

// An instructional note or inclusion term attached to a concept. kind is the Tabular List
// element name: inclusionTerm, includes, excludes1, excludes2, codeFirst, useAdditionalCode,
// codeAlso, notes, sevenChrNote, seventhCharacter.
struct NoteRow {
  std::string code;
  std::string kind;
  std::string text;
};

// A concept property of a simple type (https://hl7.org/fhir/R4/codesystem-definitions.html#
// CodeSystem.concept.property): value_type is the FHIR type of value[x] ("code", "boolean",
// "string", "dateTime", "integer", "decimal"), value its JSON text without quotes.
struct PropertyRow {
  std::string code;
  std::string property;
  std::string value_type;
  std::string value;
};

struct CodeSystemContent {
  std::string url;
  std::string version;  // '' when unversioned
  std::string name;
  std::string title;
  std::string source;                // 'tabular', 'order', 'tabular+order', 'gems'
  std::string source_file;           // base name of the file loaded
  std::vector<ConceptRow> concepts;  // in the release's order; parents before children
  std::vector<NoteRow> notes;
  std::vector<PropertyRow> properties;
  // Further (parent, child) links beyond ConceptRow::parent, for code systems where a concept
  // has several parents (HL7 v3 lists them with the `child` property); they count for the
  // closure table and $lookup's parent / child.
  std::vector<std::pair<std::string, std::string>> extra_links;
};

// Replaces the (url, version) content with `content` in one write transaction
// (WriteTransaction). Concepts whose parent is not in `content` become roots. REQUIRES: codes are
// unique.
Status WriteCodeSystem(Db& db, const CodeSystemContent& content, Progress* progress);
// The same without its own transaction, for a loader that writes more in the same one.
// REQUIRES: a transaction is open on `db`.
Status ReplaceCodeSystemRows(Db& db, const CodeSystemContent& content, Progress* progress);

// Reads back a version's concepts and notes (for a loader that merges into it). NotFound when
// the version is not loaded.
Result<CodeSystemContent> ReadCodeSystem(Db& db, std::string_view url, std::string_view version);

// A load's report of `content`: its url and version, and how many concepts, codes, valid codes
// and notes it holds (the loader adds its input rows and time).
LoadReport ReportOf(const CodeSystemContent& content);

// The base name of a path, for code_system_version.source_file.
std::string BaseName(const std::string& path);

}  // namespace vesta::terminology::internal
