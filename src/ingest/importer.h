// The bulk loader behind `vesta import` (docs/import.md): sources in, resources in the store.
//
//   RejectSink rejects("import-rejects.ndjson", 50, print);
//   Importer importer(store, fhir::Model::R4(), options, rejects);
//   Status fatal = importer.Run(sources);  // progress() may be polled meanwhile
//
// The pipeline, with bounded memory whatever the input's size:
//
//   reader (the caller's thread): files and standard input, gunzipped, cut into chunks of lines
//     (or one whole JSON file); stops while `memory_budget` bytes of text are not yet sequenced
//   ──▶ `threads` workers (Preparer): parse, check as the REST API does, unpack Bundles, resolve
//     conditional references, look referenced resources up in the store
//   ──▶ sequencer (one thread), in input order: each group's references resolved against what is
//     being written (ResolveGroup), resources batched; a resource whose (type, id) is in a batch
//     not yet committed waits for it, so the later of two lines is the one that ends current;
//     what cannot be resolved yet is deferred to a temporary file
//   ──▶ `writers` threads, each writing its own batches (BatchWriter; the SQLite store groups
//     concurrent writes into one commit, PostgreSQL takes them on separate connections).
//
// When the inputs are read, the deferred resources are read back and retried, pass after pass,
// while a pass makes progress; then a last pass writes the ones that only reference each other
// (cycles) and rejects the rest (a reference to nothing in the store or the input).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "fhir/model/model.h"
#include "ingest/rejects.h"
#include "ingest/sources.h"
#include "store/store.h"

namespace vesta::ingest {

struct ImportOptions {
  int threads = 0;  // workers that parse and check; 0: the number of cores
  int writers = 4;  // batches written at once
  int batch = 500;  // resources per Store::Write
  // Relative references must name a resource in the store or the input (the REST API's
  // --referential-integrity); off, they are stored unchecked.
  bool referential_integrity = true;
  // A resource new to the store keeps the meta.lastUpdated it comes with (a valid instant, not in
  // the future), so that an export loaded into a fresh store exports again byte for byte; off,
  // every version written gets the time of the import (what `_since` exports expect).
  bool keep_last_updated = false;
  // Lenient validation (fhir::ValidationOptions::lenient; `vesta import --validation lenient`):
  // resources missing required elements or with a dateTime without a time zone are loaded, and
  // counted (warned()).
  bool lenient_validation = false;
  // Text read ahead of the sequencer (a single larger JSON file is still read, alone). Parsed,
  // checked and stamped, a resource takes about eight times its text; at least four chunks of
  // lines per worker are allowed.
  size_t memory_budget = size_t{4} << 20;
};

struct TypeCounts {
  int64_t created = 0;    // new resources
  int64_t updated = 0;    // a new version of an existing resource
  int64_t unchanged = 0;  // existing with the same content: nothing written
  int64_t rejected = 0;
  int64_t total() const { return created + updated + unchanged + rejected; }
};

struct ImportProgress {
  TypeCounts counts;
  int64_t bytes_read = 0;    // of the inputs (compressed bytes for gzip)
  int64_t bytes_total = -1;  // -1 when unknown (standard input)
  int pass = 0;              // 0 while the inputs are read; then 1, 2...: deferred ones retried
  int64_t deferred = 0;      // resources waiting for a later pass
};

class Importer {
 public:
  Importer(store::Store& store, const fhir::Model& model, ImportOptions options,
           RejectSink& rejects);
  ~Importer();
  Importer(const Importer&) = delete;
  Importer& operator=(const Importer&) = delete;

  // Imports `sources`, in order; returns when everything is written, rejected or unchanged. A
  // fatal error (the store failing, an input that cannot be opened) stops the import and is
  // returned; what was committed before stays.
  Status Run(const std::vector<Source>& sources);

  // Thread-safe: for a progress display while Run() works.
  ImportProgress progress() const;
  // After Run().
  std::map<std::string, TypeCounts> counts_by_type() const;
  int passes() const;             // passes over deferred resources (0: none was deferred)
  int64_t ever_deferred() const;  // resources deferred at least once
  // Lenient validation: resources that passed with warnings, and the first warning.
  int64_t warned() const;
  std::string first_warning() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vesta::ingest
