// The importer's per-thread work: text in, groups of checked resources out (resource_group.h).
//
// Every resource gets the checks of a REST create or update (rest/create.cc, rest/update.cc):
// fhir::CheckResource (well-formed, a known type, structurally valid against R4), AuditEvent
// refused (the audit trail is written by the server only: rest/access.cc), conditional references
// resolved by search (exactly one match), and, with referential integrity on, every relative
// reference checked against the store (rest/references.cc); what the store does not hold yet is
// left in Prepared::missing for the sequencer, which knows what is being written.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "fhir/model/model.h"
#include "ingest/resource_group.h"
#include "store/store.h"

namespace vesta::ingest {

// A thread-safe map of string keys with a fixed capacity, so that its memory does not grow with
// the input: two generations of at most `capacity` entries each; when the young one is full it
// becomes the old one (the old one is dropped), and a hit in the old one moves back to the young
// one. What is used often stays; what is not goes within two generations.
class BoundedCache {
 public:
  explicit BoundedCache(size_t capacity) : capacity_(capacity) {}
  std::optional<std::string> Get(const std::string& key);
  void Put(const std::string& key, std::string value);

 private:
  void PutLocked(const std::string& key, std::string value);

  size_t capacity_;
  std::mutex mu_;
  std::unordered_map<std::string, std::string> young_, old_;
};

// A thread-safe set of "Type/id" keys known to exist, held as 64-bit hashes in two generations
// of open-addressed tables of fixed size (8 bytes a slot): when the young one is half full it
// becomes the old one and the old one is dropped, and a key found in the old one moves back. The
// importer adds every resource it commits and every referenced resource it finds in the store,
// so that a reference to either is checked without reading the store. Memory is fixed
// (2 x 16 MiB by default); a hash collision would take an absent key for present, at odds of
// about (keys held) / 2^64 per lookup.
class KnownKeys {
 public:
  explicit KnownKeys(size_t slots_log2 = 21);
  bool Contains(const std::string& key);
  void Add(const std::string& key);

 private:
  static bool Find(const std::vector<uint64_t>& table, uint64_t h);
  void Insert(uint64_t h);  // REQUIRES: mu_ held

  std::mutex mu_;
  size_t mask_;
  size_t young_count_ = 0;
  std::vector<uint64_t> young_, old_;  // 0 marks an empty slot
};

struct PreparerShared {
  store::Store& store;
  const fhir::Model& model;
  Clock& clock;
  IdGenerator& ids;
  bool referential_integrity = true;
  KnownKeys& existing;        // "Type/id" known to exist in the store
  BoundedCache& conditional;  // conditional reference -> "Type/id" it resolved to
  // A new resource keeps the meta.lastUpdated it comes with (ImportOptions::keep_last_updated).
  bool keep_last_updated = false;
  // Lenient validation (ImportOptions::lenient_validation): resources that pass with warnings
  // are counted in `warned` and the first warning kept in `first_warning` (under `warn_mu`).
  bool lenient_validation = false;
  std::atomic<int64_t>* warned = nullptr;
  std::mutex* warn_mu = nullptr;
  std::string* first_warning = nullptr;
};

class Preparer {
 public:
  explicit Preparer(const PreparerShared& shared) : s_(shared) {}

  // A JSON text: an NDJSON line or a whole .json file, which `where` names ("file:line" or
  // "file"). A resource is a group of one; a Bundle to unpack is a group of its entries, each
  // named `where`:entry N (fullUrl).
  Group PrepareText(std::string_view text, const std::string& where);
  // A deferred group read back (DeferredRecord's line).
  Group PrepareDeferred(std::string_view record);
  // The members `which` of `group` as one line of the file of deferred groups.
  static std::string DeferredRecord(const Group& group, const std::vector<size_t>& which);
  // The key ("Type/id") and the missing references of each member of a DeferredRecord line.
  static Result<std::vector<std::pair<std::string, std::vector<std::string>>>> DeferredKeys(
      std::string_view record);

  // Rewrites the conditional references of `p` (prepared, OK) that `resolved` maps to "Type/id",
  // drops them from `p.missing` and stamps version 1 again.
  void ApplyResolved(Prepared& p, const std::map<std::string, std::string, std::less<>>& resolved);
  // The id of the one `type` matching `query` (form-encoded), "" for none, an error for several.
  Result<std::string> FindOne(const std::string& type, std::string_view query);

 private:
  // Checks `doc` as a resource and prepares it into `p` (where and original already set).
  void PrepareResource(json::Document doc, Prepared* p);
  // Drops from each member's `missing` the references that the store already holds.
  void CheckStored(Group& group);
  // When a new version of `doc` is stored: now, or with keep_last_updated the meta.lastUpdated
  // it comes with when that is a valid instant and not in the future.
  Micros StampFor(const json::Document& doc);

  PreparerShared s_;
};

}  // namespace vesta::ingest
