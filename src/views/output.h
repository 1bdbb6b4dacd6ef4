// A view's rows as CSV, NDJSON or a JSON array, written incrementally into a buffer the caller
// drains (a file, standard output, or later an HTTP response body), and the run of a view over a
// stream of resources with that output.
//
//   views::ViewOutput out(view, views::Format::kCsv, [&](std::string_view chunk) { ... });
//   RETURN_IF_ERROR(out.Begin());
//   for (each resource) RETURN_IF_ERROR(out.Add(resource));
//   RETURN_IF_ERROR(out.Finish());
//
// Formats (https://sql-on-fhir.org/ig/latest/OperationDefinition-ViewDefinitionRun.html, _format):
//   csv     a header line of the column names, then a line per row (RFC 4180: fields with a
//           comma, a double quote, CR or LF are quoted, quotes doubled; lines end with CRLF).
//           Null is an empty field; a collection or complex value is its JSON.
//   ndjson  one JSON object per row and line, members in column order, null for null.
//   json    a JSON array of the same objects.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "views/runner.h"
#include "views/view.h"

namespace vesta::views {

enum class Format : uint8_t { kCsv, kNdjson, kJson };

// Appends a cell as the JSON the ndjson and json formats write for it: an array for a collection
// column, else its one value or null.
void AppendCellJson(const fhirpath::Collection& cell, bool collection, std::string* out);

// "csv", "ndjson", "json", or their media types (text/csv, application/x-ndjson,
// application/ndjson, application/fhir+ndjson, application/json); kInvalid otherwise.
Result<Format> ParseFormat(std::string_view text);

// Formats rows; appends to a string.
class RowWriter {
 public:
  RowWriter(const View& view, Format format) : view_(view), format_(format) {}
  void Begin(std::string* out);  // the CSV header; the JSON array's opening
  void Write(const Row& row, std::string* out);
  void End(std::string* out);  // the JSON array's closing

 private:
  const View& view_;
  Format format_;
  int64_t rows_ = 0;
};

struct RunCounts {
  int64_t resources = 0;  // resources offered to Add()
  int64_t matched = 0;    // of the view's type
  int64_t rows = 0;
};

// A view run whose rows go to `sink` in chunks of about 64 KiB: memory stays bounded by one
// resource's rows and one chunk. `sink` returns an error to stop the run (e.g. a write failed).
class ViewOutput {
 public:
  using Sink = std::function<Status(std::string_view chunk)>;
  ViewOutput(const View& view, Format format, Sink sink);

  Status Begin();
  // Runs the view over one resource (another type is skipped) and writes its rows.
  Status Add(const json::Value& resource);
  // Writes the end of the output and flushes.
  Status Finish();
  const RunCounts& counts() const { return counts_; }
  const View& view() const { return view_; }

 private:
  Status MaybeFlush(bool force);

  const View& view_;
  Runner runner_;
  RowWriter writer_;
  Sink sink_;
  std::string buffer_;
  RunCounts counts_;
};

}  // namespace vesta::views
