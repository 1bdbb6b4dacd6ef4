#include "terminology/expansion_cache.h"

namespace vesta::terminology::internal {

std::shared_ptr<const CodeList> ExpansionCache::Find(const std::string& key) {
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void ExpansionCache::Put(const std::string& key, std::shared_ptr<const CodeList> codes) {
  if (auto it = index_.find(key); it != index_.end()) {
    codes_ -= it->second->second->size();
    lru_.erase(it->second);
    index_.erase(it);
  }
  if (codes == nullptr || codes->size() > max_codes_ || max_entries_ == 0) return;
  codes_ += codes->size();
  lru_.emplace_front(key, std::move(codes));
  index_[key] = lru_.begin();
  while (index_.size() > max_entries_ || codes_ > max_codes_) {  // bounded by the entries
    const Entry& last = lru_.back();
    codes_ -= last.second->size();
    index_.erase(last.first);
    lru_.pop_back();
  }
}

void ExpansionCache::Clear() {
  lru_.clear();
  index_.clear();
  codes_ = 0;
}

}  // namespace vesta::terminology::internal
