// A bounded least-recently-used cache of code lists (the expansions behind search modifiers such
// as `code:below=...|E11`), so that a repeated search does not walk the hierarchy again. Internal
// to src/terminology/; TerminologyService owns one and empties it when the database changes.
//
// Bounded both in lists and in codes held: a list larger than the whole code budget is not kept.
// Thread-safety: none; the service calls it under its mutex. Returned lists are immutable and
// stay valid while a caller holds them, even after eviction.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "terminology/terminology_service.h"

namespace vesta::terminology::internal {

class ExpansionCache {
 public:
  ExpansionCache(size_t max_entries, size_t max_codes)
      : max_entries_(max_entries), max_codes_(max_codes) {}

  // The list under `key`, now the most recently used; nullptr when absent.
  std::shared_ptr<const CodeList> Find(const std::string& key);
  // Adds or replaces `key`, evicting the least recently used lists beyond the bounds.
  void Put(const std::string& key, std::shared_ptr<const CodeList> codes);
  void Clear();

  size_t entries() const { return index_.size(); }
  size_t codes() const { return codes_; }

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const CodeList>>;
  size_t max_entries_;
  size_t max_codes_;
  size_t codes_ = 0;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace vesta::terminology::internal
