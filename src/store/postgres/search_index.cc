#include "store/postgres/search_index.h"

#include <charconv>
#include <memory>
#include <string_view>
#include <variant>

#include "json/parse.h"
#include "postgres/connection.h"
#include "search/extract.h"
#include "search/registry.h"
#include "search/text.h"
#include "store/postgres/text_search.h"
#include "store/postgres/write_sql.h"

namespace vesta::store {
namespace {

constexpr size_t kArrays = 47;  // IndexRowsParams::arrays

// One array parameter, its elements appended as they come.
class ArrayText {
 public:
  ArrayText() : text_("{") {}
  // A text element; NUL bytes, which PostgreSQL's text cannot hold, are left out.
  void Add(std::string_view s) {
    Separate();
    text_ += '"';
    for (char c : s) {
      if (c == '\0') continue;
      if (c == '"' || c == '\\') text_ += '\\';
      text_ += c;
    }
    text_ += '"';
  }
  void Add(int64_t v) {
    Separate();
    text_ += std::to_string(v);
  }
  // The shortest text that reads back as the same double.
  void Add(double v) {
    Separate();
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
    text_.append(buffer, ec == std::errc() ? end : buffer);
  }
  std::string Take() {
    text_ += '}';
    return std::move(text_);
  }

 private:
  void Separate() {
    if (text_.size() > 1) text_ += ',';
  }
  std::string text_;
};

const json::Value* ResourceOf(const std::string& type, const json::Document& doc) {
  return doc.root().FindString("resourceType") == type ? &doc.root() : nullptr;
}

search::IndexRows ExtractRows(const WriteOp& op) {
  std::optional<json::Document> parsed;
  const json::Document* doc = op.document;
  if (doc == nullptr) {
    Result<json::Document> p = json::Parse(op.json);
    if (!p.ok()) return search::IndexRows();
    parsed.emplace(std::move(*p));
    doc = &*parsed;
  }
  const json::Value* resource = ResourceOf(op.type, *doc);
  if (resource == nullptr) return search::IndexRows();
  return search::ExtractIndexRows(search::Registry::Active(), *resource);
}

template <typename Row, typename... Fields>
void Columns(const std::vector<Row>& rows, std::vector<std::string>* out, Fields... fields) {
  auto column = [&](auto field) {
    ArrayText a;
    for (const Row& r : rows) a.Add(field(r));
    out->push_back(a.Take());
  };
  (column(fields), ...);
}

}  // namespace

IndexRowsParams PrepareIndexRows(const WriteOp& op) {
  IndexRowsParams p;
  p.type = op.type;
  p.id = op.id;
  p.last_updated = op.last_updated;
  p.live = op.kind != WriteKind::kDelete;
  search::IndexRows rows;
  if (p.live) rows = ExtractRows(op);
  using S = std::string_view;
  auto& a = p.arrays;
  a.reserve(kArrays);
  Columns(
      rows.tokens, &a, [](const search::TokenRow& r) { return S(r.param); },
      [](const search::TokenRow& r) { return S(r.system); },
      [](const search::TokenRow& r) { return S(r.code); },
      [](const search::TokenRow& r) { return S(r.text); });
  Columns(
      rows.strings, &a, [](const search::StringRow& r) { return S(r.param); },
      [](const search::StringRow& r) { return S(r.norm); },
      [](const search::StringRow& r) { return S(r.exact); });
  Columns(
      rows.dates, &a, [](const search::DateRow& r) { return S(r.param); },
      [](const search::DateRow& r) { return r.low; },
      [](const search::DateRow& r) { return r.high; });
  Columns(
      rows.numbers, &a, [](const search::NumberRow& r) { return S(r.param); },
      [](const search::NumberRow& r) { return r.value; });
  Columns(
      rows.quantities, &a, [](const search::QuantityRow& r) { return S(r.param); },
      [](const search::QuantityRow& r) { return r.value; },
      [](const search::QuantityRow& r) { return S(r.system); },
      [](const search::QuantityRow& r) { return S(r.code); },
      [](const search::QuantityRow& r) { return S(r.canonical_code); },
      [](const search::QuantityRow& r) { return r.canonical_value; });
  Columns(
      rows.references, &a, [](const search::ReferenceRow& r) { return S(r.param); },
      [](const search::ReferenceRow& r) { return S(r.target_type); },
      [](const search::ReferenceRow& r) { return S(r.target_id); },
      [](const search::ReferenceRow& r) { return S(r.url); });
  Columns(
      rows.uris, &a, [](const search::UriRow& r) { return S(r.param); },
      [](const search::UriRow& r) { return S(r.uri); });
  {
    static_assert(search::kMaxComponents == 3, "the statement names 3 components");
    static const search::CompositePart kNone;
    ArrayText param;
    ArrayText parts[search::kMaxComponents][7];
    for (const search::CompositeRow& r : rows.composites) {
      param.Add(S(r.param));
      for (size_t i = 0; i < search::kMaxComponents; ++i) {
        const search::CompositePart& part = i < r.parts.size() ? r.parts[i] : kNone;
        ArrayText* c = parts[i];
        c[0].Add(S(part.code));
        c[1].Add(S(part.system));
        std::visit([&](auto v) { c[2].Add(v); }, part.low);
        std::visit([&](auto v) { c[3].Add(v); }, part.high);
        c[4].Add(S(part.canonical_code));
        c[5].Add(part.canonical_low);
        c[6].Add(part.canonical_high);
      }
    }
    a.push_back(param.Take());
    for (auto& component : parts) {
      for (ArrayText& column : component) a.push_back(column.Take());
    }
  }
  {
    ArrayText patients;
    for (const std::string& id : rows.patients) patients.Add(S(id));
    a.push_back(patients.Take());
  }
  if (!rows.text.empty()) {
    p.has_text = true;
    p.narrative = pgtext::TsVector({rows.text.narrative});
    p.everything = pgtext::TsVector({rows.text.narrative, rows.text.content});
  }
  return p;
}

Result<int64_t> ReindexPostgres(postgres::Connection& db) {
  int64_t indexed = 0;
  RETURN_IF_ERROR(postgres::InTransaction(db, postgres::Isolation::kReadCommitted, [&]() -> Status {
    RETURN_IF_ERROR(db.Exec(
        "TRUNCATE search_resource, search_token, search_string, search_date, search_number,"
        " search_quantity, search_reference, search_uri, search_composite, search_compartment,"
        " search_text"));
    // A thousand current versions at a time, their index rows written by one statement.
    int64_t after = 0;
    std::vector<int64_t> seqs;
    std::vector<IndexRowsParams> index;
    std::vector<std::string> storage;
    for (;;) {
      ASSIGN_OR_RETURN(postgres::Rows rows,
                       db.Query("SELECT c.seq, c.type, c.id, r.last_updated, r.json"
                                " FROM resource_current c JOIN resource r ON r.seq = c.seq"
                                " WHERE c.seq > $1 AND r.deleted = 0 ORDER BY c.seq LIMIT 1000",
                                {after}));
      if (rows.size() == 0) break;
      seqs.clear();
      index.clear();
      for (int i = 0; i < rows.size(); ++i) {
        WriteOp op;
        op.kind = WriteKind::kUpdate;
        op.type = std::string(rows.Text(i, 1));
        op.id = std::string(rows.Text(i, 2));
        op.last_updated = rows.Int(i, 3);
        op.json = rows.Bytes(i, 4);
        after = rows.Int(i, 0);
        seqs.push_back(after);
        index.push_back(PrepareIndexRows(op));
      }
      ASSIGN_OR_RETURN(
          postgres::Rows written,
          db.Query(pgwrite::BulkIndexStatement(), pgwrite::BulkIndexParams(seqs, index, &storage)));
      if (written.size() != 1 || written.Int(0, 0) != rows.size()) {
        return Internal(
            "reindex: " + std::to_string(rows.size()) + " versions read, " +
            (written.size() == 1 ? std::string(written.Text(0, 0)) : std::string("none")) +
            " indexed");
      }
      indexed += rows.size();
    }
    return Status::Ok();
  }));
  return indexed;
}

Result<int> ActivatePostgresSearchParameters(postgres::Connection& db,
                                             std::vector<std::string>* skipped) {
  ASSIGN_OR_RETURN(postgres::Rows rows,
                   db.QueryUncached("SELECT r.json FROM resource_current c JOIN resource r"
                                    " ON r.seq = c.seq"
                                    " WHERE c.type = 'SearchParameter' AND r.deleted = 0"));
  std::vector<std::string> stored;
  for (int i = 0; i < rows.size(); ++i) stored.push_back(rows.Bytes(i, 0));
  if (stored.empty()) return 0;
  ASSIGN_OR_RETURN(std::unique_ptr<search::Registry> registry,
                   search::Registry::R4WithSearchParameters(stored, skipped));
  search::Registry::SetActive(std::move(registry));
  return static_cast<int>(stored.size());
}

}  // namespace vesta::store
