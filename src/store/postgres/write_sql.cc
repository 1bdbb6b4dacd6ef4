#include "store/postgres/write_sql.h"

#include <string_view>

#include "store/postgres/search_sql.h"

namespace vesta::store::pgwrite {
namespace {

// Parameters shared by both statements ($n): 1 type, 2 id, 3 the expected version (0 for a
// create), 4 last_updated, 5 deleted (0 or 1), 6 the JSON (bytea; NULL for a delete), then the
// index rows: 7 live, 8..54 one array per index column (IndexRowsParams::arrays, in the order
// below), 55 and 56 the tsvectors, 57 whether there is text, 58 the shard key a create takes
// (ShardKey; a replace keeps the one in resource_current).
constexpr int kFirstArray = 8;
constexpr int kArrays = 47;

// The index tables a replace clears for the replaced seq.
constexpr std::string_view kIndexTables[] = {
    "search_resource",  "search_token",       "search_string",    "search_date",
    "search_number",    "search_quantity",    "search_reference", "search_uri",
    "search_composite", "search_compartment", "search_text"};

struct Table {
  std::string_view name;
  std::string_view columns;                   // after (seq, type, ...
  std::vector<std::string_view> array_types;  // one unnest array per column
};

// The tables with one row per value, their columns in the order of IndexRowsParams::arrays.
const std::vector<Table>& ValueTables() {
  static const std::vector<Table> tables = {
      {"search_token", "param, system, code, text", {"text", "text", "text", "text"}},
      {"search_string", "param, norm, exact", {"text", "text", "text"}},
      {"search_date", "param, low, high", {"text", "int8", "int8"}},
      {"search_number", "param, value", {"text", "float8"}},
      {"search_quantity",
       "param, value, system, code, canonical_code, canonical_value",
       {"text", "float8", "text", "text", "text", "float8"}},
      {"search_reference", "param, target_type, target_id, url", {"text", "text", "text", "text"}},
      {"search_uri", "param, uri", {"text", "text"}},
      {"search_composite",
       "param, code1, system1, low1, high1, canonical_code1, canonical_low1, canonical_high1,"
       " code2, system2, low2, high2, canonical_code2, canonical_low2, canonical_high2,"
       " code3, system3, low3, high3, canonical_code3, canonical_low3, canonical_high3",
       {"text", "text",    "text",    "numeric", "numeric", "text",   "float8", "float8",
        "text", "text",    "numeric", "numeric", "text",    "float8", "float8", "text",
        "text", "numeric", "numeric", "text",    "float8",  "float8"}},
  };
  return tables;
}

std::string P(int n, std::string_view type) {
  return "$" + std::to_string(n) + "::" + std::string(type);
}

// The WITH clauses that insert the index rows of the new version, whose seq is `ins.seq` (no
// row in `ins`: nothing inserted). `after` is a condition that reads the clause deleting the
// replaced version's search_resource row, when there is one: that row holds the same (type, id)
// under the unique index search_resource_id, and PostgreSQL runs WITH clauses nobody reads in an
// order of its own, so the insert must read the delete's result to come after it.
std::string InsertClauses(std::string_view after) {
  std::string s;
  s += ", i0 AS (INSERT INTO search_resource (seq, shard_key, type, id, last_updated)"
       " SELECT ins.seq, ins.shard_key, $1::text, $2::text, $4::int8 FROM ins WHERE $7::bool" +
       std::string(after) + ")";
  int n = kFirstArray;
  int k = 1;
  for (const Table& t : ValueTables()) {
    s += ", i" + std::to_string(k++) + " AS (INSERT INTO " + std::string(t.name) +
         " (seq, shard_key, type, " + std::string(t.columns) +
         ") SELECT ins.seq, ins.shard_key, $1::text, u.* FROM ins, unnest(";
    for (size_t c = 0; c < t.array_types.size(); ++c) {
      if (c > 0) s += ", ";
      s += P(n++, std::string(t.array_types[c]) + "[]");
    }
    s += ") AS u)";
  }
  s += ", i" + std::to_string(k++) +
       " AS (INSERT INTO search_compartment (patient_id, seq, shard_key)"
       " SELECT u, ins.seq, ins.shard_key FROM ins, unnest(" +
       P(n++, "text[]") + ") AS u)";
  s += ", i" + std::to_string(k++) +
       " AS (INSERT INTO search_text (seq, shard_key, narrative, everything)"
       " SELECT ins.seq, ins.shard_key, " +
       P(n, "tsvector") + ", " + P(n + 1, "tsvector") + " FROM ins WHERE " + P(n + 2, "bool") + ")";
  return s;
}

// Every statement that takes a seq first gives its transaction an id, so that a transaction
// holding a seq is in the xip list of any snapshot taken while it runs: the change feed
// (postgres_store.cc, Changes) relies on it to find rows that commit after a larger seq was read.
// A qual without columns runs before the row's values (and the seq default) are computed; on its
// own, INSERT computes nextval before the transaction id is assigned.
constexpr std::string_view kXidFirst = "pg_current_xact_id() IS NOT NULL";

std::string BuildCreate() {
  return "WITH ins AS (INSERT INTO resource"
         " (type, id, version, last_updated, deleted, json, shard_key)"
         " SELECT $1::text, $2::text, $3::int8 + 1, $4::int8, $5::int2, $6::bytea, $58::text"
         " WHERE " +
         std::string(kXidFirst) +
         " RETURNING seq, shard_key),"
         " cur AS (INSERT INTO resource_current (type, id, version, seq, shard_key)"
         " SELECT $1::text, $2::text, $3::int8 + 1, seq, shard_key FROM ins)" +
         InsertClauses("") + " SELECT seq FROM ins";
}

std::string BuildReplace() {
  std::string s =
      "WITH old AS (SELECT seq FROM resource_current"
      " WHERE type = $1::text AND id = $2::text AND version = $3::int8),"
      " cur AS (UPDATE resource_current SET version = $3::int8 + 1,"
      " seq = nextval(pg_get_serial_sequence('resource', 'seq'))"
      " WHERE type = $1::text AND id = $2::text AND version = $3::int8 AND " +
      std::string(kXidFirst) +
      " RETURNING seq, shard_key),"
      // A resource keeps its shard key (schema/003_shard_key.sql).
      " ins AS (INSERT INTO resource"
      " (seq, type, id, version, last_updated, deleted, json, shard_key) OVERRIDING SYSTEM VALUE"
      " SELECT seq, $1::text, $2::text, $3::int8 + 1, $4::int8, $5::int2, $6::bytea,"
      " COALESCE(NULLIF(shard_key, ''), $58::text) FROM cur RETURNING seq, shard_key),"
      // The replaced version's seq, only when the compare-and-set matched.
      " gone AS (SELECT old.seq FROM old, cur),"
      " sup AS (UPDATE resource SET superseded_at = $4::int8"
      " WHERE seq = (SELECT seq FROM gone))";
  int k = 0;
  for (std::string_view table : kIndexTables) {
    s += ", d" + std::to_string(k++) + " AS (DELETE FROM " + std::string(table) +
         " WHERE seq = (SELECT seq FROM gone) RETURNING 1)";
  }
  static_assert(kIndexTables[0] == "search_resource", "d0 clears search_resource");
  return s + InsertClauses(" AND (SELECT count(*) FROM d0) >= 0") + " SELECT (SELECT seq FROM ins)";
}

// ---- Many creates in one statement --------------------------------------------------------------

// The number of elements of an array literal as ArrayText writes them (search_index.cc): quoted
// strings with backslash escapes, or numbers, separated by commas.
size_t ElementCount(std::string_view literal) {
  if (literal.size() <= 2) return 0;
  size_t n = 1;
  bool quoted = false;
  for (size_t i = 1; i + 1 < literal.size(); ++i) {
    const char c = literal[i];
    if (quoted && c == '\\') {
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      ++n;
    }
  }
  return n;
}

// Appends the elements of the literal `part` ("{...}") to `out` (an open "{..." literal).
void AppendElements(std::string_view part, std::string* out) {
  if (part.size() <= 2) return;
  if (out->size() > 1) out->push_back(',');
  out->append(part.substr(1, part.size() - 2));
}

// An array element in quotes, with `"` and `\` escaped.
void AppendQuoted(std::string_view text, std::string* out) {
  if (out->size() > 1) out->push_back(',');
  out->push_back('"');
  for (char c : text) {
    if (c == '"' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
}

// The WITH clauses i1.. that insert the index rows of many versions from arrays, parameters
// from $`n` on (BulkIndexArrays' layout): each table's rows carry the number of their version,
// which `m` maps to its seq, shard key and type.
void AppendBulkIndexClauses(int n, std::string* out) {
  std::string& s = *out;
  int k = 1;
  auto clause = [&](const std::string& insert, const std::string& select,
                    const std::vector<std::string_view>& types) {
    std::string columns = "n";
    std::string arrays = P(n++, "int8[]");
    for (size_t c = 0; c < types.size(); ++c) {
      columns += ", c" + std::to_string(c + 1);
      arrays += ", " + P(n++, std::string(types[c]) + "[]");
    }
    s += ", i" + std::to_string(k++) + " AS (" + insert + " SELECT " + select + " FROM unnest(" +
         arrays + ") AS u (" + columns + ") JOIN m ON m.n = u.n)";
  };
  for (const Table& t : ValueTables()) {
    std::string select = "m.seq, m.shard_key, m.type";
    for (size_t c = 0; c < t.array_types.size(); ++c) select += ", u.c" + std::to_string(c + 1);
    clause("INSERT INTO " + std::string(t.name) + " (seq, shard_key, type, " +
               std::string(t.columns) + ")",
           select, t.array_types);
  }
  clause("INSERT INTO search_compartment (patient_id, seq, shard_key)", "u.c1, m.seq, m.shard_key",
         {"text"});
  clause("INSERT INTO search_text (seq, shard_key, narrative, everything)",
         "m.seq, m.shard_key, u.c1, u.c2", {"tsvector", "tsvector"});
}

// The index arrays of many versions (AppendBulkIndexClauses' parameters), appended to `a`.
void BulkIndexArrays(std::span<const IndexRowsParams> index, std::vector<std::string>& a) {
  // Each index table: the version number of every row (1-based, as WITH ORDINALITY counts), then
  // the columns, each the versions' arrays joined.
  size_t column = 0;
  auto table = [&](size_t columns) {
    std::string numbers = "{";
    std::vector<std::string> joined(columns, "{");
    for (size_t i = 0; i < index.size(); ++i) {
      const size_t rows = ElementCount(index[i].arrays[column]);
      for (size_t r = 0; r < rows; ++r) {
        if (numbers.size() > 1) numbers.push_back(',');
        numbers += std::to_string(i + 1);
      }
      for (size_t c = 0; c < columns; ++c) AppendElements(index[i].arrays[column + c], &joined[c]);
    }
    numbers.push_back('}');
    a.push_back(std::move(numbers));
    for (std::string& j : joined) a.push_back(j + "}");
    column += columns;
  };
  for (const Table& t : ValueTables()) table(t.array_types.size());
  table(1);  // search_compartment
  std::string numbers = "{", narrative = "{", everything = "{";
  for (size_t i = 0; i < index.size(); ++i) {
    if (!index[i].has_text) continue;
    if (numbers.size() > 1) numbers.push_back(',');
    numbers += std::to_string(i + 1);
    AppendQuoted(index[i].narrative, &narrative);
    AppendQuoted(index[i].everything, &everything);
  }
  for (std::string* x : {&numbers, &narrative, &everything}) {
    x->push_back('}');
    a.push_back(std::move(*x));
  }
}

std::vector<postgres::Value> AsParams(const std::vector<std::string>& a) {
  std::vector<postgres::Value> params;
  params.reserve(a.size());
  for (const std::string& x : a) params.emplace_back(std::string_view(x));
  return params;
}

std::string BuildBulkIndex() {
  std::string s =
      "WITH m AS (SELECT o.n, o.seq, c.type, c.id, o.last_updated, c.shard_key"
      " FROM unnest($1::int8[], $2::int8[]) WITH ORDINALITY AS o (seq, last_updated, n)"
      " JOIN resource_current c ON c.seq = o.seq),"
      " i0 AS (INSERT INTO search_resource (seq, shard_key, type, id, last_updated)"
      " SELECT seq, shard_key, type, id, last_updated FROM m)";
  AppendBulkIndexClauses(3, &s);
  return s + " SELECT count(*) FROM m";
}

std::string BuildBulkCreate() {
  std::string s =
      "WITH o AS (SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::text[],"
      " $5::text[]) WITH ORDINALITY AS o (type, id, last_updated, json, shard_key, n)"
      " WHERE " +
      std::string(kXidFirst) +
      "),"
      " ins AS (INSERT INTO resource (type, id, version, last_updated, deleted, json, shard_key)"
      " SELECT type, id, 1, last_updated, 0, convert_to(json, 'UTF8'), shard_key FROM o"
      " ORDER BY n RETURNING seq, type, id),"
      " m AS (SELECT o.n, ins.seq, o.type, o.id, o.last_updated, o.shard_key FROM o"
      " JOIN ins ON ins.type = o.type AND ins.id = o.id),"
      " cur AS (INSERT INTO resource_current (type, id, version, seq, shard_key)"
      " SELECT type, id, 1, seq, shard_key FROM m),"
      " i0 AS (INSERT INTO search_resource (seq, shard_key, type, id, last_updated)"
      " SELECT seq, shard_key, type, id, last_updated FROM m)";
  AppendBulkIndexClauses(6, &s);
  return s + " SELECT count(*) FROM ins";
}

}  // namespace

const std::string& BulkCreateStatement() {
  static const std::string sql = BuildBulkCreate();
  return sql;
}

std::vector<postgres::Value> BulkParams(std::span<const WriteOp> ops,
                                        std::span<const IndexRowsParams> index,
                                        std::vector<std::string>* storage) {
  std::vector<std::string>& a = *storage;
  a.clear();
  // The ops' own columns.
  {
    std::string types = "{", ids = "{", updated = "{", json = "{", keys = "{";
    for (size_t i = 0; i < ops.size(); ++i) {
      const WriteOp& op = ops[i];
      AppendQuoted(op.type, &types);
      AppendQuoted(op.id, &ids);
      if (updated.size() > 1) updated.push_back(',');
      updated += std::to_string(op.last_updated);
      AppendQuoted(op.json, &json);
      AppendQuoted(ShardKey(op, index[i]), &keys);
    }
    for (std::string* x : {&types, &ids, &updated, &json, &keys}) {
      x->push_back('}');
      a.push_back(std::move(*x));
    }
  }
  BulkIndexArrays(index, a);
  return AsParams(a);
}

const std::string& BulkIndexStatement() {
  static const std::string sql = BuildBulkIndex();
  return sql;
}

std::vector<postgres::Value> BulkIndexParams(std::span<const int64_t> seqs,
                                             std::span<const IndexRowsParams> index,
                                             std::vector<std::string>* storage) {
  std::vector<std::string>& a = *storage;
  a.clear();
  std::string numbers = "{", updated = "{";
  for (size_t i = 0; i < seqs.size(); ++i) {
    if (i > 0) {
      numbers.push_back(',');
      updated.push_back(',');
    }
    numbers += std::to_string(seqs[i]);
    updated += std::to_string(index[i].last_updated);
  }
  a.push_back(numbers + "}");
  a.push_back(updated + "}");
  BulkIndexArrays(index, a);
  return AsParams(a);
}

const std::string& CreateStatement() {
  static const std::string sql = BuildCreate();
  return sql;
}

const std::string& ReplaceStatement() {
  static const std::string sql = BuildReplace();
  return sql;
}

std::string ShardKey(const WriteOp& op, const IndexRowsParams& index) {
  if (op.type == "Patient") return op.id;
  // The compartment's patient ids, sorted (search::ExtractIndexRows): the first is the smallest.
  const std::string_view patients =
      index.arrays.empty() ? std::string_view("{}") : std::string_view(index.arrays.back());
  if (patients.size() > 2 && patients[1] == '"') {
    std::string first;
    for (size_t i = 2; i < patients.size() && patients[i] != '"'; ++i) {
      if (patients[i] == '\\') ++i;
      if (i < patients.size()) first.push_back(patients[i]);
    }
    if (!first.empty()) return first;
  }
  return op.type + "/" + op.id;
}

std::vector<postgres::Value> Params(const WriteOp& op, const IndexRowsParams& index,
                                    std::string* shard_key) {
  *shard_key = ShardKey(op, index);
  std::vector<postgres::Value> p;
  p.reserve(kFirstArray - 1 + kArrays + 3);
  p.emplace_back(std::string_view(op.type));
  p.emplace_back(std::string_view(op.id));
  p.emplace_back(op.expected_version);
  p.emplace_back(op.last_updated);
  const bool deleted = op.kind == WriteKind::kDelete;
  p.emplace_back(int64_t{deleted ? 1 : 0});
  if (deleted) {
    p.emplace_back(nullptr);
  } else {
    p.emplace_back(postgres::Bytes{op.json});
  }
  p.emplace_back(std::string_view(index.live ? "true" : "false"));
  for (const std::string& a : index.arrays) p.emplace_back(std::string_view(a));
  p.emplace_back(std::string_view(index.narrative));
  p.emplace_back(std::string_view(index.everything));
  p.emplace_back(std::string_view(index.has_text ? "true" : "false"));
  p.emplace_back(std::string_view(*shard_key));
  return p;
}

}  // namespace vesta::store::pgwrite
