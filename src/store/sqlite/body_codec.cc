#include "store/sqlite/body_codec.h"

#include <zdict.h>
#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <shared_mutex>
#include <utility>

#include "base/log.h"
#include "sqlite/connection.h"

namespace vesta::store::sqlite_internal {
namespace {

// zstd's default level: about 5 µs per kilobyte of JSON with a dictionary on this project's
// machines, on the caller's thread.
constexpr int kLevel = 3;
// The largest dictionary trained; 16 KiB compressed a generated population's bodies as well as
// 64 KiB (docs/benchmarks.md, "Import and store size"), and a small one is quick to load.
constexpr size_t kMaxDictionaryBytes = 16 << 10;

// RFC 8878, 3.1.1: Magic_Number 0xFD2FB528, little-endian.
bool IsFrame(std::string_view bytes) {
  return bytes.size() >= 4 && static_cast<unsigned char>(bytes[0]) == 0x28 &&
         static_cast<unsigned char>(bytes[1]) == 0xB5 &&
         static_cast<unsigned char>(bytes[2]) == 0x2F &&
         static_cast<unsigned char>(bytes[3]) == 0xFD;
}

struct DCtxFree {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};
struct CCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DDictFree {
  void operator()(ZSTD_DDict* d) const { ZSTD_freeDDict(d); }
};
struct CDictFree {
  void operator()(ZSTD_CDict* d) const { ZSTD_freeCDict(d); }
};

ZSTD_DCtx* ThreadDCtx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxFree> ctx(ZSTD_createDCtx());
  return ctx.get();
}

ZSTD_CCtx* ThreadCCtx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxFree> ctx(ZSTD_createCCtx());
  return ctx.get();
}

// Digested dictionaries for decompression, by id, for the whole process. An id is a hash of the
// dictionary's content (ZDICT), so stores that share an id share the dictionary.
class DecodeDictionaries {
 public:
  static DecodeDictionaries& Get() {
    static DecodeDictionaries* instance = new DecodeDictionaries();
    return *instance;
  }

  std::shared_ptr<ZSTD_DDict> Find(int64_t id) {
    std::shared_lock lock(mu_);
    auto it = dicts_.find(id);
    return it == dicts_.end() ? nullptr : it->second;
  }

  std::shared_ptr<ZSTD_DDict> Add(int64_t id, std::string_view bytes) {
    std::shared_ptr<ZSTD_DDict> dict(ZSTD_createDDict(bytes.data(), bytes.size()), DDictFree());
    if (dict == nullptr) return nullptr;
    std::unique_lock lock(mu_);
    return dicts_.try_emplace(id, std::move(dict)).first->second;
  }

 private:
  std::shared_mutex mu_;
  std::unordered_map<int64_t, std::shared_ptr<ZSTD_DDict>> dicts_;
};

Status Corrupt(const std::string& why) {
  return Status(StatusCode::kInternal, "a stored resource body is damaged: " + why);
}

}  // namespace

Result<std::string> DecodeBody(std::string stored, const DictionaryLoader& load) {
  if (!IsFrame(stored)) return stored;
  const unsigned long long size = ZSTD_getFrameContentSize(stored.data(), stored.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
    return Corrupt("no content size in its zstd frame");
  }
  const int64_t id = ZSTD_getDictID_fromFrame(stored.data(), stored.size());
  std::shared_ptr<ZSTD_DDict> dict;
  if (id != 0) {
    dict = DecodeDictionaries::Get().Find(id);
    if (dict == nullptr) {
      ASSIGN_OR_RETURN(std::optional<std::string> bytes, load(id));
      if (!bytes.has_value()) return Corrupt("dictionary " + std::to_string(id) + " is missing");
      dict = DecodeDictionaries::Get().Add(id, *bytes);
      if (dict == nullptr) return Corrupt("dictionary " + std::to_string(id) + " is unreadable");
    }
  }
  std::string out(size, '\0');
  const size_t n =
      dict != nullptr
          ? ZSTD_decompress_usingDDict(ThreadDCtx(), out.data(), out.size(), stored.data(),
                                       stored.size(), dict.get())
          : ZSTD_decompressDCtx(ThreadDCtx(), out.data(), out.size(), stored.data(), stored.size());
  if (ZSTD_isError(n) || n != size) return Corrupt(ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size");
  return out;
}

Result<std::string> DecodeBody(std::string stored, sqlite::Connection& db) {
  return DecodeBody(std::move(stored), [&db](int64_t id) -> Result<std::optional<std::string>> {
    ASSIGN_OR_RETURN(sqlite::Statement stmt,
                     db.Prepare("SELECT dict FROM body_dictionary WHERE id = ?1"));
    stmt.Bind(1, id);
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    std::optional<std::string> bytes;
    if (row) bytes = stmt.Text(0);
    return bytes;
  });
}

Status StoreDictionaries(sqlite::Connection& db,
                         std::span<const std::shared_ptr<const BodyDictionary>> dictionaries) {
  ASSIGN_OR_RETURN(sqlite::Statement insert,
                   db.Prepare("INSERT OR IGNORE INTO body_dictionary"
                              " (id, type, created, samples, dict) VALUES (?1, ?2, ?3, ?4, ?5)"));
  for (const auto& dict : dictionaries) {
    insert.Bind(1, dict->id).Bind(2, dict->type).Bind(3, dict->created);
    insert.Bind(4, dict->samples).BindBlob(5, dict->bytes);
    RETURN_IF_ERROR(insert.Run());
  }
  return Status::Ok();
}

struct BodyEncoder::TypeState {
  std::shared_ptr<const BodyDictionary> dictionary;  // the newest, or null
  std::shared_ptr<ZSTD_CDict> cdict;                 // digested `dictionary`
  std::vector<std::string> samples;                  // while there is no dictionary
  size_t sample_bytes = 0;
  bool training = false;
};

BodyEncoder::BodyEncoder(bool enabled) : enabled_(enabled) {}
BodyEncoder::~BodyEncoder() = default;

BodyEncoder::TypeState& BodyEncoder::StateOf(const std::string& type) {
  auto& state = types_[type];
  if (state == nullptr) state = std::make_unique<TypeState>();
  return *state;
}

Status BodyEncoder::Load(sqlite::Connection& db) {
  if (!enabled_) return Status::Ok();
  ASSIGN_OR_RETURN(sqlite::Statement stmt,
                   db.Prepare("SELECT id, type, samples, dict FROM body_dictionary"
                              " ORDER BY created, id"));
  std::lock_guard lock(mu_);
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    auto dict = std::make_shared<BodyDictionary>();
    dict->id = stmt.Int(0);
    dict->type = stmt.Text(1);
    dict->samples = stmt.Int(2);
    dict->bytes = stmt.Text(3);
    dict->stored = true;
    std::shared_ptr<ZSTD_CDict> cdict(
        ZSTD_createCDict(dict->bytes.data(), dict->bytes.size(), kLevel), CDictFree());
    if (cdict == nullptr) continue;  // unusable for writing; reads still try it
    TypeState& state = StateOf(dict->type);
    state.dictionary = std::move(dict);  // ordered by creation: the newest wins
    state.cdict = std::move(cdict);
    state.samples.clear();
  }
  return Status::Ok();
}

BodyEncoder::Encoded BodyEncoder::Encode(const std::string& type, std::string_view json) {
  Encoded out;
  if (!enabled_) {
    out.bytes = json;
    return out;
  }
  std::shared_ptr<ZSTD_CDict> cdict;
  std::vector<std::string> to_train;
  {
    std::lock_guard lock(mu_);
    TypeState& state = StateOf(type);
    if (state.cdict != nullptr) {
      cdict = state.cdict;
      if (!state.dictionary->stored.load(std::memory_order_acquire))
        out.dictionary = state.dictionary;
    } else if (!state.training) {
      state.samples.emplace_back(json);
      state.sample_bytes += json.size();
      if (state.samples.size() >= kTrainSamples || state.sample_bytes >= kTrainBytes) {
        state.training = true;
        to_train = std::move(state.samples);
        state.samples.clear();
        state.sample_bytes = 0;
      }
    }
  }
  if (!to_train.empty()) Train(type, std::move(to_train));

  std::string frame(ZSTD_compressBound(json.size()), '\0');
  const size_t n = cdict != nullptr
                       ? ZSTD_compress_usingCDict(ThreadCCtx(), frame.data(), frame.size(),
                                                  json.data(), json.size(), cdict.get())
                       : ZSTD_compressCCtx(ThreadCCtx(), frame.data(), frame.size(), json.data(),
                                           json.size(), kLevel);
  if (ZSTD_isError(n) || n >= json.size()) {
    out.bytes = json;  // stored as it is: still readable
    out.dictionary = nullptr;
    return out;
  }
  frame.resize(n);
  out.bytes = std::move(frame);
  return out;
}

void BodyEncoder::Train(const std::string& type, std::vector<std::string> samples) {
  std::string joined;
  std::vector<size_t> sizes;
  sizes.reserve(samples.size());
  for (const std::string& s : samples) {
    joined += s;
    sizes.push_back(s.size());
  }
  // zstd's guidance: samples of about 100 times the dictionary's size; at least 10 times.
  const size_t capacity = std::min(kMaxDictionaryBytes, joined.size() / 10);
  std::string bytes(capacity, '\0');
  const size_t n = capacity < 256
                       ? 0
                       : ZDICT_trainFromBuffer(bytes.data(), bytes.size(), joined.data(),
                                               sizes.data(), static_cast<unsigned>(sizes.size()));
  std::lock_guard lock(mu_);
  TypeState& state = StateOf(type);
  state.training = false;
  if (capacity < 256 || ZDICT_isError(n)) {
    // Too little or too uniform to learn from: compressed without a dictionary, as so far.
    // The next kTrainSamples bodies try again.
    return;
  }
  bytes.resize(n);
  auto dict = std::make_shared<BodyDictionary>();
  dict->id = ZDICT_getDictID(bytes.data(), bytes.size());
  dict->type = type;
  dict->samples = static_cast<int64_t>(samples.size());
  dict->created = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  dict->bytes = std::move(bytes);
  std::shared_ptr<ZSTD_CDict> cdict(
      ZSTD_createCDict(dict->bytes.data(), dict->bytes.size(), kLevel), CDictFree());
  if (dict->id == 0 || cdict == nullptr) return;
  // Its own reads must not wait for the row: the frames name the id, the content is here.
  DecodeDictionaries::Get().Add(dict->id, dict->bytes);
  state.dictionary = std::move(dict);
  state.cdict = std::move(cdict);
}

}  // namespace vesta::store::sqlite_internal
