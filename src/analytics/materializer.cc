// Materialized views: the catalog kept in step with the stored ViewDefinitions, and each table
// with the change feed (materializer.h).
#include "analytics/materializer.h"

#include <cerrno>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "base/log.h"
#include "base/strings.h"
#include "crypto/digest.h"
#include "fhir/fhirpath/fhirpath.h"
#include "json/parse.h"
#include "json/writer.h"
#include "views/output.h"
#include "views/runner.h"

namespace vesta::analytics {
namespace {

using fhirpath::Collection;
using fhirpath::Item;
using fhirpath::ItemKind;

SqlType TypeOf(const views::ColumnInfo& c) {
  if (c.collection) return SqlType::kJson;
  const std::string& t = c.type;
  if (t == "boolean") return SqlType::kBoolean;
  if (t == "integer" || t == "positiveInt" || t == "unsignedInt" || t == "integer64") {
    return SqlType::kInteger;
  }
  if (t == "decimal") return SqlType::kReal;
  return SqlType::kText;
}

void KeySlots(const views::CompiledSelect& s, std::vector<bool>* keys) {
  for (const views::CompiledColumn& c : s.columns) {
    const std::string& text = c.path.text();
    if (text.find("getResourceKey") != std::string::npos ||
        text.find("getReferenceKey") != std::string::npos) {
      (*keys)[c.slot] = true;
    }
  }
  for (const views::CompiledSelect& n : s.selects) KeySlots(n, keys);
  for (const views::CompiledSelect& n : s.union_all) KeySlots(n, keys);
}

bool ValidTableName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (!((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z'))) return false;
  for (char c : name) {
    const bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool ParseInteger(std::string_view text, int64_t* out) {
  if (text.empty()) return false;
  const std::string s(text);
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return false;
  *out = v;
  return true;
}

// A column's value as its table stores it. kInvalid when it does not fit the column's type.
Result<Cell> ToCell(const Collection& cell, const views::ColumnInfo& column, SqlType type) {
  if (type == SqlType::kJson) {
    std::string text;
    views::AppendCellJson(cell, true, &text);
    return Cell(std::move(text));
  }
  if (cell.empty()) return Cell();
  const Item& item = cell[0];
  const json::Value* node = item.is_node() ? item.node : nullptr;
  if (item.is_node() && node == nullptr) return Cell();  // a primitive with only extensions
  auto mismatch = [&] {
    std::string text;
    views::AppendCellJson(cell, false, &text);
    return Invalid("column '" + column.name + "' (" + column.type + "): " + text +
                   " is not of its type");
  };
  switch (type) {
    case SqlType::kBoolean:
      if (item.kind == ItemKind::kBoolean) return Cell(item.as_bool());
      if (node != nullptr && node->is_bool()) return Cell(node->bool_value());
      return mismatch();
    case SqlType::kInteger: {
      if (item.kind == ItemKind::kInteger || item.kind == ItemKind::kLong) {
        return Cell(item.as_int());
      }
      int64_t v = 0;
      if (node != nullptr && (node->is_number() || node->is_string())) {
        if (ParseInteger(node->is_number() ? node->number_text() : node->string_value(), &v)) {
          return Cell(v);
        }
      }
      return mismatch();
    }
    case SqlType::kReal: {
      // Kept as decimal text: exact in PostgreSQL's numeric, REAL in SQLite by affinity.
      if (item.kind == ItemKind::kDecimal) return Cell(item.as_decimal().ToString());
      if (item.kind == ItemKind::kInteger || item.kind == ItemKind::kLong) {
        return Cell(std::to_string(item.as_int()));
      }
      if (node != nullptr && node->is_number()) return Cell(std::string(node->number_text()));
      return mismatch();
    }
    case SqlType::kText:
    case SqlType::kJson:
      break;
  }
  if (node != nullptr && node->is_string()) return Cell(std::string(node->string_value()));
  if (item.kind == ItemKind::kString) return Cell(item.as_string());
  if (item.kind == ItemKind::kDate || item.kind == ItemKind::kDateTime ||
      item.kind == ItemKind::kTime) {
    return Cell(item.as_temporal().ToString());
  }
  std::string text;
  views::AppendCellJson(cell, false, &text);
  return Cell(std::move(text));
}

}  // namespace

bool MarkedForMaterialization(const json::Value& view) {
  const json::Value* meta = view.Find("meta");
  const json::Value* tags = meta == nullptr ? nullptr : meta->Find("tag");
  if (tags == nullptr || !tags->is_array()) return false;
  for (const json::Value& tag : tags->items()) {
    if (tag.FindString("system") == kMaterializeTagSystem &&
        tag.FindString("code") == kMaterializeTagCode) {
      return true;
    }
  }
  return false;
}

std::string Fingerprint(const json::Value& view) {
  std::string text;
  if (view.is_object()) {
    for (const json::Member& m : view.members()) {
      if (m.key == "id" || m.key == "meta" || m.key == "text") continue;
      json::WriteString(m.key, &text);
      text += ':';
      json::Write(m.value, json::Style::kCompact, &text);
      text += ',';
    }
  }
  return HexEncode(crypto::Sha256(text));
}

Result<TableSpec> TableFor(const views::View& view) {
  if (!ValidTableName(view.name())) {
    return Invalid(
        "a materialized view needs a name fit for a table (a letter, then letters, "
        "digits or '_', at most 63 characters); this one has " +
        (view.name().empty() ? std::string("none") : "'" + view.name() + "'"));
  }
  TableSpec table;
  table.name = view.name();
  std::vector<bool> keys(view.columns().size(), false);
  for (const views::CompiledSelect& s : view.selects()) KeySlots(s, &keys);
  for (size_t i = 0; i < view.columns().size(); ++i) {
    const views::ColumnInfo& c = view.columns()[i];
    table.columns.push_back(TableColumn{c.name, TypeOf(c), keys[i]});
  }
  return table;
}

struct Materializer::Compiled {
  std::string fingerprint;
  views::View view;
  TableSpec table;
  std::vector<SqlType> types;
  std::unique_ptr<views::Runner> runner;  // over `view`
};

Materializer::Materializer(store::Store& store, AnalyticsDb& db, MaterializerOptions options)
    : store_(store), db_(db), options_(options) {}

Materializer::~Materializer() { Stop(); }

Status Materializer::SyncCatalog() {
  ASSIGN_OR_RETURN(std::string position, db_.CatalogPosition());
  ASSIGN_OR_RETURN(std::vector<ViewEntry> catalog, db_.Catalog());
  std::map<std::string, std::string> fingerprints;
  for (const ViewEntry& e : catalog) fingerprints[e.id] = e.fingerprint;
  for (;;) {
    store::ChangeQuery q;
    q.after = position;
    q.types = {"ViewDefinition"};
    q.limit = 100;
    ASSIGN_OR_RETURN(store::ChangePage page, store_.Changes(q));
    for (const store::StoredVersion& v : page.versions) {
      const bool known = fingerprints.contains(v.id);
      Result<json::Document> doc =
          v.deleted ? Result<json::Document>(NotFound("")) : json::Parse(v.json);
      if (v.deleted || !doc.ok() || !MarkedForMaterialization(doc->root())) {
        if (known) {
          RETURN_IF_ERROR(db_.Drop(v.id));
          fingerprints.erase(v.id);
          compiled_.erase(v.id);
          LogInfo("analytics: ViewDefinition/" + v.id + " is no longer materialized");
        }
        continue;
      }
      const std::string fingerprint = Fingerprint(doc->root());
      if (known && fingerprints[v.id] == fingerprint) continue;
      Result<views::View> view = views::View::Parse(doc->root());
      Result<TableSpec> table = view.ok() ? TableFor(*view) : Result<TableSpec>(view.status());
      if (!table.ok()) {
        LogWarning("analytics: ViewDefinition/" + v.id +
                   " cannot be materialized: " + table.status().message());
        if (known) RETURN_IF_ERROR(db_.SetError(v.id, table.status().message()));
        continue;
      }
      ViewEntry entry;
      entry.id = v.id;
      entry.table = table->name;
      entry.fingerprint = fingerprint;
      entry.view_json = v.json;
      Status created = db_.Create(entry, *table);
      if (created.code() == StatusCode::kConflict) {
        LogWarning("analytics: ViewDefinition/" + v.id +
                   " is not materialized: " + created.message());
        continue;
      }
      RETURN_IF_ERROR(created);
      fingerprints[v.id] = fingerprint;
      compiled_.erase(v.id);
      LogInfo("analytics: ViewDefinition/" + v.id + " materialized as the table " + table->name +
              (known ? " (rebuilt: the view changed)" : ""));
    }
    if (page.next != position) RETURN_IF_ERROR(db_.SetCatalogPosition(page.next));
    position = page.next;
    if (!page.has_more) break;
  }
  return Status::Ok();
}

Result<Materializer::Compiled*> Materializer::Compile(const ViewEntry& entry) {
  auto it = compiled_.find(entry.id);
  if (it != compiled_.end() && it->second->fingerprint == entry.fingerprint) {
    return it->second.get();
  }
  ASSIGN_OR_RETURN(views::View view, views::View::ParseText(entry.view_json));
  ASSIGN_OR_RETURN(TableSpec table, TableFor(view));
  auto c = std::unique_ptr<Compiled>(
      new Compiled{entry.fingerprint, std::move(view), std::move(table), {}, nullptr});
  for (const views::ColumnInfo& col : c->view.columns()) c->types.push_back(TypeOf(col));
  c->runner = std::make_unique<views::Runner>(c->view);
  Compiled* out = c.get();
  compiled_[entry.id] = std::move(c);
  return out;
}

Result<PassStats> Materializer::CatchUp(const ViewEntry& entry, int max_pages) {
  PassStats stats;
  ASSIGN_OR_RETURN(Compiled * c, Compile(entry));
  std::string position = entry.position;
  const std::vector<views::ColumnInfo>& columns = c->view.columns();
  for (int pages = 0; max_pages <= 0 || pages < max_pages; ++pages) {
    store::ChangeQuery q;
    q.after = position;
    q.types = {c->view.resource_type()};
    q.limit = options_.page_size;
    ASSIGN_OR_RETURN(store::ChangePage page, store_.Changes(q));
    if (page.versions.empty() && page.next == position) break;
    Batch batch;
    batch.from_position = position;
    batch.to_position = page.next;
    for (const store::StoredVersion& v : page.versions) {
      std::string key = v.type + "/" + v.id;
      batch.cleared.push_back(key);
      if (v.deleted) continue;
      ++stats.versions;
      Result<json::Document> doc = json::Parse(v.json);
      Status failed = doc.ok() ? Status::Ok() : doc.status();
      const size_t first = batch.rows.size();
      if (failed.ok()) {
        failed = c->runner->Run(doc->root(), [&](const views::Row& row) {
          if (!failed.ok()) return;
          Batch::Row out;
          out.resource = key;
          out.cells.reserve(row.size());
          for (size_t i = 0; i < row.size(); ++i) {
            Result<Cell> cell = ToCell(row[i], columns[i], c->types[i]);
            if (!cell.ok()) {
              failed = Status(cell.status().code(), key + ": " + cell.status().message());
              return;
            }
            out.cells.push_back(std::move(*cell));
          }
          batch.rows.push_back(std::move(out));
        });
      }
      if (!failed.ok()) {
        batch.rows.resize(first);  // none of this resource's rows
        ++batch.skipped;
        batch.last_error = failed.message();
      }
    }
    ASSIGN_OR_RETURN(bool applied, db_.Apply(entry.id, c->table, batch));
    if (!applied) break;  // another writer moved the table on; the next pass reads its position
    stats.rows += static_cast<int64_t>(batch.rows.size());
    position = page.next;
    if (!page.has_more) break;
  }
  return stats;
}

Result<PassStats> Materializer::RunOnce(int max_pages) {
  RETURN_IF_ERROR(SyncCatalog());
  ASSIGN_OR_RETURN(std::vector<ViewEntry> catalog, db_.Catalog());
  PassStats total;
  for (const ViewEntry& entry : catalog) {
    ASSIGN_OR_RETURN(PassStats s, CatchUp(entry, max_pages));
    total.versions += s.versions;
    total.rows += s.rows;
    ++total.views;
  }
  return total;
}

void Materializer::Start() {
  worker_.Start([this] {
    Result<PassStats> pass = RunOnce(/*max_pages=*/20);
    if (!pass.ok() && pass.status().message() != last_error_) {
      last_error_ = pass.status().message();
      LogWarning("analytics: materialized views not refreshed: " + last_error_);
    } else if (pass.ok()) {
      last_error_.clear();
    }
    return std::chrono::duration_cast<std::chrono::microseconds>(options_.interval);
  });
}

void Materializer::Stop() { worker_.Stop(); }

}  // namespace vesta::analytics
