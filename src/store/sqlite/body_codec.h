// Compressed resource bodies of the SQLite store (docs/storage.md, "Compressed bodies").
//
// `resource.json` holds either the JSON as served (a store written before migration 013, or a
// row written with compression off) or one zstd frame (RFC 8878) of it. The two cannot be
// confused: a frame starts with the bytes 28 B5 2F FD, a resource's JSON with `{`. The frame's
// header names the dictionary it was compressed with (RFC 8878, 3.1.1.1.3, Dictionary_ID; 0 for
// none), a row of `body_dictionary` (schema/013_body_dictionary.sql). Reading needs nothing else,
// so rows of any age and of any dictionary stay readable side by side.
//
// Dictionaries: one per resource type, trained by the writing process from the first
// kTrainSamples bodies of that type it writes (or kTrainBytes of them, whichever comes first)
// when the store has no dictionary for the type yet. Until then a body is compressed without a
// dictionary. A trained dictionary is stored in the same transaction as the first write that
// uses it and is used for every later write of the type; older rows keep theirs.
//
// Thread-safety: every function and method may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"

namespace vesta::sqlite {
class Connection;
}

namespace vesta::store::sqlite_internal {

// A trained dictionary as `body_dictionary` stores it.
struct BodyDictionary {
  int64_t id = 0;  // the Dictionary_ID in the dictionary's header and in every frame using it
  std::string type;
  int64_t samples = 0;  // how many bodies it was trained from
  int64_t created = 0;  // microseconds since the Unix epoch; the newest of a type is used
  std::string bytes;
  // True once a transaction that inserted the row has committed; until then each write that
  // uses the dictionary inserts it too (INSERT OR IGNORE), so that no row can commit without it.
  mutable std::atomic<bool> stored = false;
};

// Bodies per type that a dictionary is trained from, or the bytes of them, whichever comes first.
inline constexpr size_t kTrainSamples = 1000;
inline constexpr size_t kTrainBytes = size_t{2} << 20;

// The dictionary with that id: its bytes, or nullopt when there is no such row.
using DictionaryLoader = std::function<Result<std::optional<std::string>>(int64_t id)>;

// The JSON of a stored body: `stored` itself when it is not a zstd frame, else the frame
// decompressed (its dictionary from the process-wide cache, or from `load` the first time).
Result<std::string> DecodeBody(std::string stored, const DictionaryLoader& load);
// The same, loading dictionaries from `db`'s body_dictionary table.
Result<std::string> DecodeBody(std::string stored, sqlite::Connection& db);

// Inserts `dictionaries` (INSERT OR IGNORE) on the writer's connection, inside its transaction.
Status StoreDictionaries(sqlite::Connection& db,
                         std::span<const std::shared_ptr<const BodyDictionary>> dictionaries);

// Compresses bodies for writing and trains the dictionaries.
class BodyEncoder {
 public:
  // `enabled` false: Encode returns the JSON as it is (rows as before migration 013).
  explicit BodyEncoder(bool enabled);
  ~BodyEncoder();

  // The newest dictionary of each type already stored in `db`.
  Status Load(sqlite::Connection& db);

  struct Encoded {
    std::string bytes;  // what goes into resource.json
    // The dictionary the frame needs when its row may not be stored yet: the write inserts it.
    std::shared_ptr<const BodyDictionary> dictionary;
  };
  // On the caller's thread, before the write is queued: compression runs in parallel.
  Encoded Encode(const std::string& type, std::string_view json);

 private:
  struct TypeState;
  TypeState& StateOf(const std::string& type);  // REQUIRES: mu_ held
  // Trains a dictionary for `type` from `samples` and installs it.
  void Train(const std::string& type, std::vector<std::string> samples);

  const bool enabled_;
  std::mutex mu_;  // guards types_ (the map and each state's fields)
  std::unordered_map<std::string, std::unique_ptr<TypeState>> types_;
};

}  // namespace vesta::store::sqlite_internal
