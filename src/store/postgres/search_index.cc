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

namespace vesta::store {
namespace {

// The index statement. $1 the replaced version's seq (0: none), $2 the new seq, $3 type, $4 id,
// $5 last_updated, $6 whether the new version is live (not a delete), then one array per column
// of each table, in the order PrepareIndexRows fills IndexRowsParams::arrays, then the text row.
// The DELETEs and INSERTs run on one snapshot and touch different seqs; every WITH clause runs
// whether or not the final SELECT reads it, in an order PostgreSQL does not promise. So the
// resource row, whose (type, id) is unique, is not deleted and inserted again (the insert may
// run first and collide with the row it replaces): an update moves it to the new seq, a delete
// removes it, and the insert runs only when there was no row to move (a create, a version after
// a delete, a reindex).
constexpr std::string_view kIndexStatement =
    "WITH d1 AS (DELETE FROM search_resource WHERE seq = $1::int8 AND NOT $6::bool),"
    " u1 AS (UPDATE search_resource SET seq = $2::int8, last_updated = $5::int8"
    "  WHERE seq = $1::int8 AND $6::bool RETURNING 1),"
    " d2 AS (DELETE FROM search_token WHERE seq = $1::int8),"
    " d3 AS (DELETE FROM search_string WHERE seq = $1::int8),"
    " d4 AS (DELETE FROM search_date WHERE seq = $1::int8),"
    " d5 AS (DELETE FROM search_number WHERE seq = $1::int8),"
    " d6 AS (DELETE FROM search_quantity WHERE seq = $1::int8),"
    " d7 AS (DELETE FROM search_reference WHERE seq = $1::int8),"
    " d8 AS (DELETE FROM search_uri WHERE seq = $1::int8),"
    " d9 AS (DELETE FROM search_composite WHERE seq = $1::int8),"
    " d10 AS (DELETE FROM search_compartment WHERE seq = $1::int8),"
    " d11 AS (DELETE FROM search_text WHERE seq = $1::int8),"
    " i1 AS (INSERT INTO search_resource (seq, type, id, last_updated)"
    "  SELECT $2::int8, $3::text, $4::text, $5::int8 WHERE $6::bool"
    "  AND NOT EXISTS (SELECT 1 FROM u1)),"
    " i2 AS (INSERT INTO search_token (seq, type, param, system, code, text)"
    "  SELECT $2::int8, $3::text, u.* FROM unnest($7::text[], $8::text[], $9::text[],"
    "  $10::text[]) AS u),"
    " i3 AS (INSERT INTO search_string (seq, type, param, norm, exact)"
    "  SELECT $2::int8, $3::text, u.* FROM unnest($11::text[], $12::text[], $13::text[]) AS u),"
    " i4 AS (INSERT INTO search_date (seq, type, param, low, high)"
    "  SELECT $2::int8, $3::text, u.* FROM unnest($14::text[], $15::int8[], $16::int8[]) AS u),"
    " i5 AS (INSERT INTO search_number (seq, type, param, value)"
    "  SELECT $2::int8, $3::text, u.* FROM unnest($17::text[], $18::float8[]) AS u),"
    " i6 AS (INSERT INTO search_quantity (seq, type, param, value, system, code, canonical_code,"
    "  canonical_value) SELECT $2::int8, $3::text, u.* FROM unnest($19::text[], $20::float8[],"
    "  $21::text[], $22::text[], $23::text[], $24::float8[]) AS u),"
    " i7 AS (INSERT INTO search_reference (seq, type, param, target_type, target_id, url)"
    "  SELECT $2::int8, $3::text, u.* FROM unnest($25::text[], $26::text[], $27::text[],"
    "  $28::text[]) AS u),"
    " i8 AS (INSERT INTO search_uri (seq, type, param, uri)"
    "  SELECT $2::int8, $3::text, u.* FROM unnest($29::text[], $30::text[]) AS u),"
    " i9 AS (INSERT INTO search_composite (seq, type, param,"
    "  code1, system1, low1, high1, canonical_code1, canonical_low1, canonical_high1,"
    "  code2, system2, low2, high2, canonical_code2, canonical_low2, canonical_high2,"
    "  code3, system3, low3, high3, canonical_code3, canonical_low3, canonical_high3)"
    "  SELECT $2::int8, $3::text, u.* FROM unnest($31::text[],"
    "  $32::text[], $33::text[], $34::numeric[], $35::numeric[], $36::text[], $37::float8[],"
    "  $38::float8[],"
    "  $39::text[], $40::text[], $41::numeric[], $42::numeric[], $43::text[], $44::float8[],"
    "  $45::float8[],"
    "  $46::text[], $47::text[], $48::numeric[], $49::numeric[], $50::text[], $51::float8[],"
    "  $52::float8[]) AS u),"
    " i10 AS (INSERT INTO search_compartment (patient_id, seq)"
    "  SELECT u, $2::int8 FROM unnest($53::text[]) AS u),"
    " i11 AS (INSERT INTO search_text (seq, narrative, everything)"
    "  SELECT $2::int8, $54::tsvector, $55::tsvector WHERE $56::bool)"
    " SELECT 1";

constexpr size_t kArrays = 47;  // $7 .. $53

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
  Columns(rows.tokens, &a, [](const search::TokenRow& r) { return S(r.param); },
          [](const search::TokenRow& r) { return S(r.system); },
          [](const search::TokenRow& r) { return S(r.code); },
          [](const search::TokenRow& r) { return S(r.text); });
  Columns(rows.strings, &a, [](const search::StringRow& r) { return S(r.param); },
          [](const search::StringRow& r) { return S(r.norm); },
          [](const search::StringRow& r) { return S(r.exact); });
  Columns(rows.dates, &a, [](const search::DateRow& r) { return S(r.param); },
          [](const search::DateRow& r) { return r.low; },
          [](const search::DateRow& r) { return r.high; });
  Columns(rows.numbers, &a, [](const search::NumberRow& r) { return S(r.param); },
          [](const search::NumberRow& r) { return r.value; });
  Columns(rows.quantities, &a, [](const search::QuantityRow& r) { return S(r.param); },
          [](const search::QuantityRow& r) { return r.value; },
          [](const search::QuantityRow& r) { return S(r.system); },
          [](const search::QuantityRow& r) { return S(r.code); },
          [](const search::QuantityRow& r) { return S(r.canonical_code); },
          [](const search::QuantityRow& r) { return r.canonical_value; });
  Columns(rows.references, &a, [](const search::ReferenceRow& r) { return S(r.param); },
          [](const search::ReferenceRow& r) { return S(r.target_type); },
          [](const search::ReferenceRow& r) { return S(r.target_id); },
          [](const search::ReferenceRow& r) { return S(r.url); });
  Columns(rows.uris, &a, [](const search::UriRow& r) { return S(r.param); },
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

Status WriteIndexRows(postgres::Connection& db, const IndexRowsParams& rows, int64_t previous_seq,
                      int64_t seq) {
  if (rows.arrays.size() != kArrays) return Internal("index rows were not prepared");
  std::vector<postgres::Value> params;
  params.reserve(6 + kArrays + 3);
  params.emplace_back(previous_seq);
  params.emplace_back(seq);
  params.emplace_back(std::string_view(rows.type));
  params.emplace_back(std::string_view(rows.id));
  params.emplace_back(rows.last_updated);
  params.emplace_back(std::string_view(rows.live ? "true" : "false"));
  for (const std::string& a : rows.arrays) params.emplace_back(std::string_view(a));
  params.emplace_back(std::string_view(rows.narrative));
  params.emplace_back(std::string_view(rows.everything));
  params.emplace_back(std::string_view(rows.has_text ? "true" : "false"));
  return db.Query(kIndexStatement, params).status();
}

Result<int64_t> ReindexPostgres(postgres::Connection& db) {
  int64_t indexed = 0;
  RETURN_IF_ERROR(postgres::InTransaction(db, postgres::Isolation::kReadCommitted, [&]() -> Status {
    RETURN_IF_ERROR(db.Exec(
        "TRUNCATE search_resource, search_token, search_string, search_date, search_number,"
        " search_quantity, search_reference, search_uri, search_composite, search_compartment,"
        " search_text"));
    int64_t after = 0;
    for (;;) {
      ASSIGN_OR_RETURN(postgres::Rows rows,
                       db.Query("SELECT c.seq, c.type, c.id, r.last_updated, r.json"
                                " FROM resource_current c JOIN resource r ON r.seq = c.seq"
                                " WHERE c.seq > $1 AND r.deleted = 0 ORDER BY c.seq LIMIT 1000",
                                {after}));
      if (rows.size() == 0) break;
      for (int i = 0; i < rows.size(); ++i) {
        WriteOp op;
        op.kind = WriteKind::kUpdate;
        op.type = std::string(rows.Text(i, 1));
        op.id = std::string(rows.Text(i, 2));
        op.last_updated = rows.Int(i, 3);
        op.json = rows.Bytes(i, 4);
        after = rows.Int(i, 0);
        RETURN_IF_ERROR(WriteIndexRows(db, PrepareIndexRows(op), 0, after));
        ++indexed;
      }
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
