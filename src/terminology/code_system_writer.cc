#include "terminology/code_system_writer.h"

#include <algorithm>
#include <unordered_map>

#include "terminology/progress.h"
#include "terminology/sqlite_db.h"

namespace vesta::terminology::internal {
namespace {

// ICD-10-CM is at most 8 levels deep (chapter, block, category, 4 subcategory levels, 7th
// character), HL7's code systems fewer than 20; anything deeper is bad input.
constexpr int kMaxDepth = 32;

}  // namespace

ConceptRow ReadConceptRow(const sqlite::Statement& q) {
  ConceptRow c;
  c.code = q.Text(0);
  c.display = q.Text(1);
  c.kind = static_cast<ConceptKind>(q.Int(2));
  c.billable = q.Int(3) != 0;
  c.parent = q.Text(4);
  c.short_name = q.Text(5);
  c.long_name = q.Text(6);
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

Status WriteCodeSystem(sqlite::Connection& db, const CodeSystemContent& content,
                       Progress* progress) {
  return sqlite::InTransaction(db, [&] { return ReplaceCodeSystemRows(db, content, progress); });
}

Status ReplaceCodeSystemRows(sqlite::Connection& db, const CodeSystemContent& content,
                             Progress* progress) {
  std::unordered_map<std::string_view, size_t> index;
  index.reserve(content.concepts.size());
  for (size_t i = 0; i < content.concepts.size(); ++i) {
    if (!index.emplace(content.concepts[i].code, i).second) {
      return Invalid("duplicate code " + content.concepts[i].code + " in " + content.source_file);
    }
  }
  int64_t code_count = 0;
  for (const ConceptRow& c : content.concepts) code_count += IsCodeKind(c.kind) ? 1 : 0;

  {
    bool existed = false;
    {
      ASSIGN_OR_RETURN(
          sqlite::Statement q,
          db.Prepare("SELECT 1 FROM code_system_version WHERE url = ?1 AND version = ?2"));
      q.Bind(1, content.url).Bind(2, content.version);
      ASSIGN_OR_RETURN(existed, q.Step());
    }
    {
      ASSIGN_OR_RETURN(
          sqlite::Statement up,
          db.Prepare(
              "INSERT INTO code_system_version (url, version, name, title, source, source_file, "
              "concept_count, code_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
              "ON CONFLICT (url, version) DO UPDATE SET name = ?3, title = ?4, source = ?5, "
              "source_file = ?6, concept_count = ?7, code_count = ?8"));
      up.Bind(1, content.url).Bind(2, content.version).Bind(3, content.name);
      up.Bind(4, content.title).Bind(5, content.source).Bind(6, content.source_file);
      up.Bind(7, static_cast<int64_t>(content.concepts.size())).Bind(8, code_count);
      RETURN_IF_ERROR(up.Run());
    }
    int64_t csv_id = 0;
    {
      ASSIGN_OR_RETURN(
          sqlite::Statement q,
          db.Prepare("SELECT id FROM code_system_version WHERE url = ?1 AND version = ?2"));
      q.Bind(1, content.url).Bind(2, content.version);
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return Internal("code_system_version row missing after upsert");
      csv_id = q.Int(0);
    }
    // A new version has no rows yet (and concept_fts, whose csv_id is not indexed, would be
    // scanned in full for nothing).
    const std::vector<std::string_view> tables =
        existed ? std::vector<std::string_view>{"concept", "concept_note", "concept_property",
                                                "closure", "concept_fts"}
                : std::vector<std::string_view>{};
    for (std::string_view table : tables) {
      ASSIGN_OR_RETURN(sqlite::Statement del,
                       db.Prepare("DELETE FROM " + std::string(table) + " WHERE csv_id = ?1"));
      del.Bind(1, csv_id);
      RETURN_IF_ERROR(del.Run());
    }
    ASSIGN_OR_RETURN(
        sqlite::Statement ins,
        db.Prepare(
            "INSERT INTO concept (csv_id, code, display, kind, billable, parent, ord, short_name, "
            "long_name) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    // The text $expand's filter searches: the display, and the inclusion terms.
    std::unordered_map<std::string_view, std::string> search_text;
    for (const NoteRow& r : content.notes) {
      if (r.kind == "inclusionTerm") search_text[r.code] += " " + r.text;
    }
    ASSIGN_OR_RETURN(
        sqlite::Statement fts,
        db.Prepare("INSERT INTO concept_fts (text, csv_id, code) VALUES (?1, ?2, ?3)"));
    ASSIGN_OR_RETURN(
        sqlite::Statement clo,
        db.Prepare(
            "INSERT INTO closure (csv_id, ancestor, descendant, depth) VALUES (?1, ?2, ?3, ?4)"));
    // Every concept's parents as indexes: ConceptRow::parent, then the extra links.
    std::vector<std::vector<size_t>> parents(content.concepts.size());
    for (size_t i = 0; i < content.concepts.size(); ++i) {
      auto it = index.find(content.concepts[i].parent);
      if (!content.concepts[i].parent.empty() && it != index.end())
        parents[i].push_back(it->second);
    }
    for (const auto& [parent, child] : content.extra_links) {
      auto p = index.find(parent);
      auto c = index.find(child);
      if (p == index.end() || c == index.end() || p->second == c->second) continue;
      std::vector<size_t>& list = parents[c->second];
      if (std::find(list.begin(), list.end(), p->second) == list.end()) list.push_back(p->second);
    }
    int64_t n = 0;
    for (const ConceptRow& c : content.concepts) {
      bool has_parent = !c.parent.empty() && index.count(c.parent) > 0;
      ins.Bind(1, csv_id).Bind(2, c.code).BindTextOrNull(3, c.display);
      ins.Bind(4, static_cast<int64_t>(c.kind)).Bind(5, int64_t{c.billable ? 1 : 0});
      if (has_parent) {
        ins.Bind(6, c.parent);
      } else {
        ins.BindNull(6);
      }
      ins.Bind(7, n).BindTextOrNull(8, c.short_name).BindTextOrNull(9, c.long_name);
      RETURN_IF_ERROR(ins.Run());
      if (!c.display.empty()) {
        auto extra = search_text.find(c.code);
        fts.Bind(1, extra == search_text.end() ? c.display : c.display + extra->second);
        fts.Bind(2, csv_id).Bind(3, c.code);
        RETURN_IF_ERROR(fts.Run());
      }
      // The closure: every ancestor-or-self with its shortest distance, breadth first over the
      // parent links (several parents make a DAG; a cycle in bad input ends at a code seen).
      std::vector<std::pair<size_t, int64_t>> walk = {{index.at(c.code), 0}};
      for (size_t k = 0; k < walk.size(); ++k) {  // bounded: each concept enters once
        const auto [at, depth] = walk[k];
        if (depth > kMaxDepth) return Invalid("the hierarchy above " + c.code + " is too deep");
        clo.Bind(1, csv_id).Bind(2, content.concepts[at].code).Bind(3, c.code).Bind(4, depth);
        RETURN_IF_ERROR(clo.Run());
        for (size_t p : parents[at]) {
          bool seen =
              std::any_of(walk.begin(), walk.end(), [&](const auto& w) { return w.first == p; });
          if (!seen) walk.emplace_back(p, depth + 1);
        }
      }
      if (progress != nullptr)
        progress->Update(++n);
      else
        ++n;
    }
    ASSIGN_OR_RETURN(sqlite::Statement note,
                     db.Prepare("INSERT INTO concept_note (csv_id, code, kind, ord, "
                                "text) VALUES (?1, ?2, ?3, ?4, ?5)"));
    int64_t ord = 0;
    for (const NoteRow& r : content.notes) {
      note.Bind(1, csv_id).Bind(2, r.code).Bind(3, r.kind).Bind(4, ord++).Bind(5, r.text);
      RETURN_IF_ERROR(note.Run());
    }
    ASSIGN_OR_RETURN(sqlite::Statement prop,
                     db.Prepare("INSERT INTO concept_property (csv_id, code, "
                                "property, value_type, value, ord) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    ord = 0;
    for (const PropertyRow& r : content.properties) {
      prop.Bind(1, csv_id).Bind(2, r.code).Bind(3, r.property).Bind(4, r.value_type);
      prop.Bind(5, r.value).Bind(6, ord++);
      RETURN_IF_ERROR(prop.Run());
    }
    return Status::Ok();
  }
}

Result<CodeSystemContent> ReadCodeSystem(sqlite::Connection& db, std::string_view url,
                                         std::string_view version) {
  CodeSystemContent out;
  int64_t csv_id = 0;
  {
    ASSIGN_OR_RETURN(
        sqlite::Statement q,
        db.Prepare("SELECT id, name, title, source, source_file FROM code_system_version "
                   "WHERE url = ?1 AND version = ?2"));
    q.Bind(1, url).Bind(2, version);
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFound(std::string(url) + " version " + std::string(version));
    csv_id = q.Int(0);
    out.url = url;
    out.version = version;
    out.name = q.Text(1);
    out.title = q.Text(2);
    out.source = q.Text(3);
    out.source_file = q.Text(4);
  }
  {
    ASSIGN_OR_RETURN(
        sqlite::Statement q,
        db.Prepare(
            "SELECT code, display, kind, billable, parent, short_name, long_name FROM concept "
            "WHERE csv_id = ?1 ORDER BY ord"));
    q.Bind(1, csv_id);
    for (;;) {  // bounded by the table's rows
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.concepts.push_back(ReadConceptRow(q));
    }
  }
  {
    ASSIGN_OR_RETURN(
        sqlite::Statement q,
        db.Prepare("SELECT code, kind, text FROM concept_note WHERE csv_id = ?1 ORDER BY ord"));
    q.Bind(1, csv_id);
    for (;;) {  // bounded by the table's rows
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.notes.push_back({q.Text(0), q.Text(1), q.Text(2)});
    }
  }
  return out;
}

}  // namespace vesta::terminology::internal
