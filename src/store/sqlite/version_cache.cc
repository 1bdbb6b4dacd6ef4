#include "store/sqlite/version_cache.h"

#include <algorithm>

namespace vesta::store {

namespace {
// What an entry costs besides its strings: the list node, the index node and the version's
// fixed fields, roughly.
constexpr size_t kEntryOverhead = 160;

size_t EntryBytes(const std::string& key, const StoredVersion& v) {
  return kEntryOverhead + 2 * key.size() + v.type.size() + v.id.size() + v.json.size();
}
}  // namespace

VersionCache::VersionCache(size_t max_bytes)
    : max_bytes_(max_bytes), shard_bytes_(max_bytes / kShards) {}

// "type/id": neither a type name nor an id (R4 id syntax) holds a '/'.
void VersionCache::Key(std::string_view type, std::string_view id, std::string* out) {
  out->assign(type);
  out->push_back('/');
  out->append(id);
}

VersionCache::Shard& VersionCache::ShardFor(std::string_view key) {
  return shards_[KeyHash{}(key) % kShards];
}

std::optional<StoredVersion> VersionCache::Find(std::string_view type, std::string_view id) {
  if (!enabled()) return std::nullopt;
  thread_local std::string key;
  Key(type, id, &key);
  Shard& shard = ShardFor(key);
  std::shared_ptr<const StoredVersion> found;
  {
    std::lock_guard lock(shard.mu);
    auto it = shard.index.find(std::string_view(key));
    if (it == shard.index.end()) {
      ++shard.misses;
      return std::nullopt;
    }
    ++shard.hits;
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
    found = it->second->version;
  }
  return *found;  // copied outside the lock
}

void VersionCache::Fill(uint64_t ticket, const StoredVersion& v) {
  if (!enabled()) return;
  std::string key;
  Key(v.type, v.id, &key);
  size_t bytes = EntryBytes(key, v);
  if (bytes > shard_bytes_) return;
  auto version = std::make_shared<const StoredVersion>(v);  // built outside the lock
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mu);
  // Checked under the shard's lock: see the header for why this makes a stale fill impossible.
  if (writes_.load(std::memory_order_seq_cst) != ticket) return;
  if (shard.index.contains(std::string_view(key))) return;  // a concurrent reader filled it
  while (!shard.lru.empty() && shard.bytes + bytes > shard_bytes_) {
    EraseLocked(shard, shard.lru.back().key);
  }
  shard.lru.push_front(Entry{key, std::move(version), bytes});
  shard.index.emplace(std::move(key), shard.lru.begin());
  shard.bytes += bytes;
}

void VersionCache::EraseLocked(Shard& shard, std::string_view key) {
  auto it = shard.index.find(key);
  if (it == shard.index.end()) return;
  auto node = it->second;
  shard.index.erase(it);  // before the node whose key `key` may point into
  shard.bytes -= node->bytes;
  shard.lru.erase(node);
}

void VersionCache::Invalidate(
    std::span<const std::pair<std::string_view, std::string_view>> written) {
  if (!enabled()) return;
  writes_.fetch_add(1, std::memory_order_seq_cst);  // first: fills from older tickets now fail
  std::string key;
  for (const auto& [type, id] : written) {
    Key(type, id, &key);
    Shard& shard = ShardFor(key);
    std::lock_guard lock(shard.mu);
    EraseLocked(shard, key);
  }
}

void VersionCache::Clear() {
  if (!enabled()) return;
  writes_.fetch_add(1, std::memory_order_seq_cst);
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    shard.index.clear();
    shard.lru.clear();
    shard.bytes = 0;
  }
}

VersionCache::Stats VersionCache::stats() const {
  Stats s;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    s.hits += shard.hits;
    s.misses += shard.misses;
    s.entries += shard.index.size();
    s.bytes += shard.bytes;
  }
  return s;
}

}  // namespace vesta::store
