#include "terminology/code_system_writer.h"

#include <algorithm>
#include <unordered_map>

#include "terminology/progress.h"

namespace vesta::terminology::internal {
namespace {

// ICD-10-CM is at most 8 levels deep (chapter, block, category, 4 subcategory levels, 7th
// character), HL7's code systems fewer than 20; anything deeper is bad input.
constexpr int kMaxDepth = 32;

}  // namespace

ConceptRow ReadConceptRow(const Rows& rows, int row) {
  ConceptRow c;
  c.code = rows.Text(row, 0);
  c.display = rows.Text(row, 1);
  c.kind = static_cast<ConceptKind>(rows.Int(row, 2));
  c.billable = rows.Int(row, 3) != 0;
  c.parent = rows.Text(row, 4);
  c.short_name = rows.Text(row, 5);
  c.long_name = rows.Text(row, 6);
  return c;
}

LoadReport ReportOf(const CodeSystemContent& content) {
  LoadReport report;
  report.system = content.url;
  report.version = content.version;
  report.concepts = static_cast<int64_t>(content.concepts.size());
  for (const ConceptRow& c : content.concepts) {
    report.codes += IsCodeKind(c.kind) ? 1 : 0;
    report.valid_codes += c.billable ? 1 : 0;
  }
  report.notes = static_cast<int64_t>(content.notes.size());
  return report;
}

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Status WriteCodeSystem(Db& db, const CodeSystemContent& content, Progress* progress) {
  return WriteTransaction(db, [&] { return ReplaceCodeSystemRows(db, content, progress); });
}

Status ReplaceCodeSystemRows(Db& db, const CodeSystemContent& content, Progress* progress) {
  std::unordered_map<std::string_view, size_t> index;
  index.reserve(content.concepts.size());
  for (size_t i = 0; i < content.concepts.size(); ++i) {
    if (!index.emplace(content.concepts[i].code, i).second) {
      return Invalid("duplicate code " + content.concepts[i].code + " in " + content.source_file);
    }
  }
  int64_t code_count = 0;
  for (const ConceptRow& c : content.concepts) code_count += IsCodeKind(c.kind) ? 1 : 0;

  ASSIGN_OR_RETURN(Rows existing,
                   db.Query("SELECT id FROM code_system_version WHERE url = ?1 AND version = ?2",
                            {content.url, content.version}));
  RETURN_IF_ERROR(db.Exec(
      "INSERT INTO code_system_version (url, version, name, title, source, source_file, "
      "concept_count, code_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
      "ON CONFLICT (url, version) DO UPDATE SET name = excluded.name, title = excluded.title, "
      "source = excluded.source, source_file = excluded.source_file, "
      "concept_count = excluded.concept_count, code_count = excluded.code_count",
      {content.url, content.version, content.name, content.title, content.source,
       content.source_file, static_cast<int64_t>(content.concepts.size()), code_count}));
  int64_t csv_id = 0;
  {
    ASSIGN_OR_RETURN(Rows q,
                     db.Query("SELECT id FROM code_system_version WHERE url = ?1 AND version = ?2",
                              {content.url, content.version}));
    if (q.empty()) return Internal("code_system_version row missing after upsert");
    csv_id = q.Int(0, 0);
  }
  // A new version has no rows yet (and SQLite's concept_fts, whose csv_id is not indexed, would
  // be scanned in full for nothing).
  if (!existing.empty()) {
    for (std::string_view table :
         {"concept", "concept_note", "concept_property", "closure", "concept_fts"}) {
      RETURN_IF_ERROR(
          db.Exec("DELETE FROM " + std::string(table) + " WHERE csv_id = ?1", {csv_id}));
    }
  }
  // Every concept's parents as indexes: ConceptRow::parent, then the extra links.
  std::vector<std::vector<size_t>> parents(content.concepts.size());
  for (size_t i = 0; i < content.concepts.size(); ++i) {
    auto it = index.find(content.concepts[i].parent);
    if (!content.concepts[i].parent.empty() && it != index.end()) parents[i].push_back(it->second);
  }
  for (const auto& [parent, child] : content.extra_links) {
    auto p = index.find(parent);
    auto c = index.find(child);
    if (p == index.end() || c == index.end() || p->second == c->second) continue;
    std::vector<size_t>& list = parents[c->second];
    if (std::find(list.begin(), list.end(), p->second) == list.end()) list.push_back(p->second);
  }
  // One table at a time: a bulk insert (COPY on PostgreSQL) lets nothing else run meanwhile.
  {
    constexpr std::string_view kColumns[] = {"csv_id", "code", "display",    "kind",     "billable",
                                             "parent", "ord",  "short_name", "long_name"};
    ASSIGN_OR_RETURN(std::unique_ptr<BulkWriter> ins, db.BulkInsert("concept", kColumns));
    int64_t n = 0;
    for (const ConceptRow& c : content.concepts) {
      const bool has_parent = !c.parent.empty() && index.count(c.parent) > 0;
      RETURN_IF_ERROR(ins->Add({csv_id, c.code, TextOrNull(c.display), static_cast<int64_t>(c.kind),
                                int64_t{c.billable ? 1 : 0},
                                has_parent ? Value(std::string_view(c.parent)) : Value(nullptr), n,
                                TextOrNull(c.short_name), TextOrNull(c.long_name)}));
      ++n;
    }
    RETURN_IF_ERROR(ins->Finish());
  }
  {
    // The text $expand's filter searches: the display, and the inclusion terms.
    std::unordered_map<std::string_view, std::string> search_text;
    for (const NoteRow& r : content.notes) {
      if (r.kind == "inclusionTerm") search_text[r.code] += " " + r.text;
    }
    constexpr std::string_view kColumns[] = {"text", "csv_id", "code"};
    ASSIGN_OR_RETURN(std::unique_ptr<BulkWriter> fts, db.BulkInsert("concept_fts", kColumns));
    for (const ConceptRow& c : content.concepts) {
      if (c.display.empty()) continue;
      auto extra = search_text.find(c.code);
      if (extra == search_text.end()) {
        RETURN_IF_ERROR(fts->Add({c.display, csv_id, c.code}));
      } else {
        const std::string text = c.display + extra->second;
        RETURN_IF_ERROR(fts->Add({text, csv_id, c.code}));
      }
    }
    RETURN_IF_ERROR(fts->Finish());
  }
  {
    constexpr std::string_view kColumns[] = {"csv_id", "ancestor", "descendant", "depth"};
    ASSIGN_OR_RETURN(std::unique_ptr<BulkWriter> clo, db.BulkInsert("closure", kColumns));
    int64_t n = 0;  // concepts done, for the progress line
    for (const ConceptRow& c : content.concepts) {
      // Every ancestor-or-self with its shortest distance, breadth first over the parent links
      // (several parents make a DAG; a cycle in bad input ends at a code seen).
      std::vector<std::pair<size_t, int64_t>> walk = {{index.at(c.code), 0}};
      for (size_t k = 0; k < walk.size(); ++k) {  // bounded: each concept enters once
        const auto [at, depth] = walk[k];
        if (depth > kMaxDepth) return Invalid("the hierarchy above " + c.code + " is too deep");
        RETURN_IF_ERROR(clo->Add({csv_id, content.concepts[at].code, c.code, depth}));
        for (size_t p : parents[at]) {
          bool seen =
              std::any_of(walk.begin(), walk.end(), [&](const auto& w) { return w.first == p; });
          if (!seen) walk.emplace_back(p, depth + 1);
        }
      }
      if (progress != nullptr) progress->Update(++n);
    }
    RETURN_IF_ERROR(clo->Finish());
  }
  {
    constexpr std::string_view kColumns[] = {"csv_id", "code", "kind", "ord", "text"};
    ASSIGN_OR_RETURN(std::unique_ptr<BulkWriter> note, db.BulkInsert("concept_note", kColumns));
    int64_t ord = 0;
    for (const NoteRow& r : content.notes) {
      RETURN_IF_ERROR(note->Add({csv_id, r.code, r.kind, ord++, r.text}));
    }
    RETURN_IF_ERROR(note->Finish());
  }
  {
    constexpr std::string_view kColumns[] = {"csv_id",     "code",  "property",
                                             "value_type", "value", "ord"};
    ASSIGN_OR_RETURN(std::unique_ptr<BulkWriter> prop, db.BulkInsert("concept_property", kColumns));
    int64_t ord = 0;
    for (const PropertyRow& r : content.properties) {
      RETURN_IF_ERROR(prop->Add({csv_id, r.code, r.property, r.value_type, r.value, ord++}));
    }
    RETURN_IF_ERROR(prop->Finish());
  }
  return Status::Ok();
}

Result<CodeSystemContent> ReadCodeSystem(Db& db, std::string_view url, std::string_view version) {
  CodeSystemContent out;
  ASSIGN_OR_RETURN(Rows v, db.Query("SELECT id, name, title, source, source_file FROM "
                                    "code_system_version WHERE url = ?1 AND version = ?2",
                                    {url, version}));
  if (v.empty()) return NotFound(std::string(url) + " version " + std::string(version));
  const int64_t csv_id = v.Int(0, 0);
  out.url = url;
  out.version = version;
  out.name = v.Text(0, 1);
  out.title = v.Text(0, 2);
  out.source = v.Text(0, 3);
  out.source_file = v.Text(0, 4);
  {
    ASSIGN_OR_RETURN(Rows q, db.Query("SELECT " + std::string(kConceptColumns) +
                                          " FROM concept WHERE csv_id = ?1 ORDER BY ord",
                                      {csv_id}));
    out.concepts.reserve(static_cast<size_t>(q.size()));
    for (int i = 0; i < q.size(); ++i) out.concepts.push_back(ReadConceptRow(q, i));
  }
  {
    ASSIGN_OR_RETURN(
        Rows q, db.Query("SELECT code, kind, text FROM concept_note WHERE csv_id = ?1 ORDER BY ord",
                         {csv_id}));
    for (int i = 0; i < q.size(); ++i)
      out.notes.push_back({q.Text(i, 0), q.Text(i, 1), q.Text(i, 2)});
  }
  return out;
}

}  // namespace vesta::terminology::internal
