// The current versions of recently read resources, kept in memory so that reading one again
// skips SQLite. Bounded in bytes; the least recently used entries go first.
//
//   uint64_t ticket = cache.Ticket();          // before the store is read
//   if (auto hit = cache.Find(type, id)) return *hit;
//   StoredVersion v = ...read from the store...;
//   cache.Fill(ticket, v);                      // kept only if no write committed meanwhile
//
//   // the writer, after each commit and before it answers the writers:
//   cache.Invalidate(written_keys);
//
// Why the ticket: a reader may take its snapshot before a commit and fill the cache after the
// writer invalidated the resource; the old version would then stay. Invalidate() moves the
// write counter before it erases, and Fill() keeps nothing when the counter moved since its
// ticket, so a reader that read before a commit cannot store what it read after that commit's
// invalidation, and a reader whose ticket is newer than the commit read the new version.
//
// Thread-safety: every member may be called from any thread. Entries are spread over shards,
// each with its own lock, so concurrent reads of different resources rarely wait for each other.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "store/store.h"

namespace vesta::store {

class VersionCache {
 public:
  // `max_bytes`: what the cached versions may take, JSON and keys counted; 0 turns the cache off.
  explicit VersionCache(size_t max_bytes);

  bool enabled() const { return max_bytes_ > 0; }

  // The write counter, to be taken before reading the store.
  uint64_t Ticket() const { return writes_.load(std::memory_order_seq_cst); }

  // The cached current version of type/id (it may be a deleted version).
  std::optional<StoredVersion> Find(std::string_view type, std::string_view id);

  // Keeps `v` unless a write committed since `ticket` was taken, or it is larger than a shard.
  void Fill(uint64_t ticket, const StoredVersion& v);

  // Forgets the given resources (type, id) after their writes committed.
  void Invalidate(std::span<const std::pair<std::string_view, std::string_view>> written);

  // Forgets everything: another process wrote to the database.
  void Clear();

  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    size_t entries = 0;
    size_t bytes = 0;
  };
  Stats stats() const;

 private:
  static constexpr size_t kShards = 16;

  struct Entry {
    std::string key;
    std::shared_ptr<const StoredVersion> version;
    size_t bytes = 0;
  };
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct KeyEqual {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  };
  struct Shard {
    mutable std::mutex mu;
    std::list<Entry> lru;  // most recently used first
    std::unordered_map<std::string, std::list<Entry>::iterator, KeyHash, KeyEqual> index;
    size_t bytes = 0;
    uint64_t hits = 0;  // counted per shard, under its lock, not on one shared cache line
    uint64_t misses = 0;
  };

  static void Key(std::string_view type, std::string_view id, std::string* out);
  Shard& ShardFor(std::string_view key);
  static void EraseLocked(Shard& shard, std::string_view key);

  const size_t max_bytes_;
  const size_t shard_bytes_;
  std::atomic<uint64_t> writes_{0};
  Shard shards_[kShards];
};

}  // namespace vesta::store
