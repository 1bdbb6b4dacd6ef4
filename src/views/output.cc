// Output formats and the streamed run of a view (output.h).
#include "views/output.h"

#include "json/writer.h"

namespace vesta::views {
namespace {

using fhirpath::Collection;
using fhirpath::Item;
using fhirpath::ItemKind;

constexpr size_t kChunk = 64 * 1024;

// Appends one item as JSON: a node as its JSON (a primitive without a value, null), a System
// value as a JSON string, number or boolean.
void ItemJson(const Item& item, std::string* out) {
  switch (item.kind) {
    case ItemKind::kNode:
      if (item.node == nullptr) {
        *out += "null";
      } else {
        json::Write(*item.node, json::Style::kCompact, out);
      }
      return;
    case ItemKind::kBoolean:
      *out += item.as_bool() ? "true" : "false";
      return;
    case ItemKind::kInteger:
    case ItemKind::kLong:
      *out += std::to_string(item.as_int());
      return;
    case ItemKind::kDecimal:
      *out += item.as_decimal().ToString();
      return;
    case ItemKind::kString:
      json::WriteString(item.as_string(), out);
      return;
    case ItemKind::kDate:
    case ItemKind::kDateTime:
    case ItemKind::kTime:
      json::WriteString(item.as_temporal().ToString(), out);
      return;
    case ItemKind::kQuantity: {
      std::string array = fhirpath::CollectionToJson(Collection{item});
      out->append(array, 1, array.size() - 2);  // without the brackets
      return;
    }
  }
}

void CellJson(const Collection& cell, bool collection, std::string* out) {
  if (collection) {
    *out += '[';
    for (size_t i = 0; i < cell.size(); ++i) {
      if (i > 0) *out += ',';
      ItemJson(cell[i], out);
    }
    *out += ']';
  } else if (cell.empty()) {
    *out += "null";
  } else {
    ItemJson(cell[0], out);
  }
}

// RFC 4180, 2.6 and 2.7: a field with a comma, a double quote, CR or LF is enclosed in double
// quotes, and a double quote inside it is doubled.
bool NeedsQuotes(std::string_view text) {
  for (char c : text) {
    if (c == ',' || c == '"' || c == '\r' || c == '\n') return true;
  }
  return false;
}

void QuotedCsvField(std::string_view text, std::string* out) {
  *out += '"';
  for (char c : text) {
    if (c == '"') *out += '"';
    *out += c;
  }
  *out += '"';
}

void CsvField(std::string_view text, std::string* out) {
  if (NeedsQuotes(text)) {
    QuotedCsvField(text, out);
  } else {
    out->append(text);
  }
}

void CellCsv(const Collection& cell, bool collection, std::string* out) {
  if (cell.empty() && !collection) return;  // null: an empty field
  if (!collection) {
    const Item& item = cell[0];
    if (item.is_node() && item.node != nullptr && item.node->is_string()) {
      CsvField(item.node->string_value(), out);
      return;
    }
    if (item.kind == ItemKind::kString) {
      CsvField(item.as_string(), out);
      return;
    }
    if (item.kind == ItemKind::kDate || item.kind == ItemKind::kDateTime ||
        item.kind == ItemKind::kTime) {
      CsvField(item.as_temporal().ToString(), out);
      return;
    }
  }
  // The JSON is written in place and quoted afterwards only when it must be.
  const size_t start = out->size();
  CellJson(cell, collection, out);
  const std::string_view text = std::string_view(*out).substr(start);
  if (text == "null") {
    out->resize(start);
  } else if (NeedsQuotes(text)) {
    const std::string json(text);
    out->resize(start);
    QuotedCsvField(json, out);
  }
}

}  // namespace

void AppendCellJson(const Collection& cell, bool collection, std::string* out) {
  CellJson(cell, collection, out);
}

Result<Format> ParseFormat(std::string_view text) {
  if (text == "csv" || text == "text/csv") return Format::kCsv;
  if (text == "ndjson" || text == "application/x-ndjson" || text == "application/ndjson" ||
      text == "application/fhir+ndjson") {
    return Format::kNdjson;
  }
  if (text == "json" || text == "application/json") return Format::kJson;
  return Invalid("unknown output format '" + std::string(text) + "' (csv, ndjson or json)");
}

void RowWriter::Begin(std::string* out) {
  if (format_ == Format::kCsv) {
    const auto& cols = view_.columns();
    for (size_t i = 0; i < cols.size(); ++i) {
      if (i > 0) *out += ',';
      CsvField(cols[i].name, out);
    }
    *out += "\r\n";
  } else if (format_ == Format::kJson) {
    *out += '[';
  }
}

void RowWriter::Write(const Row& row, std::string* out) {
  const auto& cols = view_.columns();
  if (format_ == Format::kCsv) {
    for (size_t i = 0; i < cols.size(); ++i) {
      if (i > 0) *out += ',';
      CellCsv(row[i], cols[i].collection, out);
    }
    *out += "\r\n";
  } else {
    if (format_ == Format::kJson && rows_ > 0) *out += ",\n";
    *out += '{';
    for (size_t i = 0; i < cols.size(); ++i) {
      if (i > 0) *out += ',';
      json::WriteString(cols[i].name, out);
      *out += ':';
      CellJson(row[i], cols[i].collection, out);
    }
    *out += '}';
    if (format_ == Format::kNdjson) *out += '\n';
  }
  ++rows_;
}

void RowWriter::End(std::string* out) {
  if (format_ == Format::kJson) *out += "]\n";
}

ViewOutput::ViewOutput(const View& view, Format format, Sink sink)
    : view_(view), runner_(view), writer_(view, format), sink_(std::move(sink)) {}

Status ViewOutput::Begin() {
  writer_.Begin(&buffer_);
  return MaybeFlush(false);
}

Status ViewOutput::Add(const json::Value& resource) {
  ++counts_.resources;
  if (resource.FindString("resourceType") != view_.resource_type()) return Status::Ok();
  ++counts_.matched;
  RETURN_IF_ERROR(runner_.Run(resource, [&](const Row& row) {
    writer_.Write(row, &buffer_);
    ++counts_.rows;
  }));
  return MaybeFlush(false);
}

Status ViewOutput::Finish() {
  writer_.End(&buffer_);
  return MaybeFlush(true);
}

Status ViewOutput::MaybeFlush(bool force) {
  if (buffer_.empty() || (!force && buffer_.size() < kChunk)) return Status::Ok();
  Status st = sink_(buffer_);
  buffer_.clear();
  return st;
}

}  // namespace vesta::views
