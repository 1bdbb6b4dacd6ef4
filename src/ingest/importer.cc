#include "ingest/importer.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "base/clock.h"
#include "ingest/batch_writer.h"
#include "ingest/line_reader.h"
#include "ingest/preparer.h"
#include "ingest/references.h"

namespace vesta::ingest {
namespace {

constexpr size_t kChunkLines = 1000;
constexpr size_t kChunkBytes = 256 << 10;
constexpr size_t kDeferredChunk = 64;  // deferred groups per work item
constexpr size_t kConditionalCache = 10000;
// The pass over the deferred resources finds those it can write (cycles included) when there are
// at most this many (about 20 bytes each); beyond, they are retried pass after pass while that
// progresses, and what is left (cycles too) is rejected.
constexpr size_t kMaxCycleSearch = 4000000;
constexpr int kMaxPasses = 50;

// Work for a worker: lines of one source, or one whole JSON file, or deferred groups.
struct Item {
  enum class Kind { kLines, kDocument, kDeferred };
  Kind kind = Kind::kLines;
  uint64_t seq = 0;
  std::string name;                                    // the source, for `where`
  std::vector<std::pair<int64_t, std::string>> lines;  // (line number, text)
  std::string text;                                    // kDocument
  size_t bytes = 0;                                    // charged to the memory budget
};

struct Output {
  std::vector<Group> groups;
  size_t bytes = 0;
};

uint64_t HashKey(const std::string& key) { return std::hash<std::string>{}(key); }

// An anonymous file in $TMPDIR (or /tmp), removed when closed; nullptr with errno on failure.
FILE* TemporaryFile() {
  const char* dir = std::getenv("TMPDIR");
  std::string path =
      std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/vesta-import-deferred-XXXXXX";
  int fd = mkstemp(path.data());
  if (fd < 0) return nullptr;
  unlink(path.c_str());
  FILE* f = fdopen(fd, "w+");
  if (f == nullptr) close(fd);
  return f;
}

bool Blank(const std::string& line) { return line.find_first_not_of(" \t\r") == std::string::npos; }

}  // namespace

class Importer::Impl {
 public:
  Impl(store::Store& store, const fhir::Model& model, ImportOptions options, RejectSink& rejects)
      : store_(store), model_(model), opt_(options), rejects_(rejects), writer_(store, clock_) {
    if (opt_.threads <= 0) opt_.threads = static_cast<int>(std::thread::hardware_concurrency());
    if (opt_.threads <= 0) opt_.threads = 1;
    if (opt_.writers <= 0) opt_.writers = 1;
    if (opt_.batch <= 0) opt_.batch = 1;
    // Enough text for every worker to have work while the sequencer catches up.
    opt_.memory_budget =
        std::max(opt_.memory_budget, static_cast<size_t>(opt_.threads) * 4 * kChunkBytes);
  }

  Status Run(const std::vector<Source>& sources);
  ImportProgress progress() const;

  std::map<std::string, TypeCounts> counts_by_type() const {
    std::lock_guard lock(counts_mu_);
    return by_type_;
  }
  int passes() const { return pass_.load(); }
  int64_t ever_deferred() const { return ever_deferred_.load(); }
  int64_t warned() const { return warned_.load(); }
  std::string first_warning() const {
    std::lock_guard lock(warn_mu_);
    return first_warning_;
  }

 private:
  // One pass: the reader (on this thread) feeds workers, sequencer and writers until all is
  // written. `read` pushes items with Push().
  void RunPass(const std::function<void()>& read);
  void ReadSources(const std::vector<Source>& sources);
  void ReadDeferred(FILE* spill);
  bool Push(Item item);  // false when the import is stopping
  void WorkerLoop();
  void SequencerLoop();
  void WriterLoop();
  void Sequence(Group& group, Preparer& preparer);
  // Resolves the conditional references the workers' searches did not: against the identifiers
  // of what is being written (a search cannot see it yet), then by searching again (it may have
  // been committed since).
  void ResolveConditional(Group& group, Preparer& preparer);
  void AddToBatch(Prepared p);
  void Dispatch();
  bool Exists(const std::string& ref);
  void Reject(const Prepared& p);
  void RejectRead(const std::string& where, const Status& status);
  void Count(const std::string& type, Outcome outcome, int64_t n = 1);
  void Fail(const Status& status);
  // The deferred resources of `spill` that can be written together: their unresolved references
  // all name one another (or resources now stored).
  std::vector<uint64_t> CycleKeys(FILE* spill);  // sorted hashes

  store::Store& store_;
  const fhir::Model& model_;
  ImportOptions opt_;
  RejectSink& rejects_;
  SystemClock clock_;
  UuidV7Generator ids_{clock_};
  KnownKeys existing_;
  BoundedCache conditional_{kConditionalCache};
  BatchWriter writer_;

  // Set once per pass, before its threads start.
  Pass pass_kind_ = Pass::kEarly;
  std::vector<uint64_t> cycle_keys_;  // the last pass: deferred ones written together (sorted)
  FILE* spill_out_ = nullptr;         // groups deferred in this pass
  int64_t spill_out_members_ = 0;     // sequencer thread only

  // Reader -> workers.
  std::mutex work_mu_;
  std::condition_variable work_cv_;
  std::deque<Item> work_;
  uint64_t next_item_ = 0;  // reader thread only
  std::atomic<bool> reader_done_{false};
  std::atomic<uint64_t> total_items_{0};
  // Text between the reader and the sequencer.
  std::mutex budget_mu_;
  std::condition_variable budget_cv_;
  size_t budget_used_ = 0;
  // Workers -> sequencer, reordered.
  std::mutex out_mu_;
  std::condition_variable out_cv_;
  std::unordered_map<uint64_t, Output> outputs_;
  // Sequencer -> writers.
  std::mutex batch_mu_;
  std::condition_variable batch_cv_, batch_space_cv_;
  std::deque<std::vector<Prepared>> batches_;
  bool batches_closed_ = false;
  std::vector<Prepared> current_;                 // sequencer thread only
  std::unordered_set<std::string> current_keys_;  // sequencer thread only
  // Keys in batches not yet committed (the current one included), with their number of batches.
  std::mutex keys_mu_;
  std::condition_variable keys_cv_;
  std::unordered_map<std::string, int> in_flight_;
  // The same batches' resources by identifier (IdentifierKeys): id ("" when two resources share
  // the identifier) and count.
  std::unordered_map<std::string, std::pair<std::string, int>> in_flight_ids_;

  std::atomic<bool> stop_{false};
  mutable std::mutex fatal_mu_;
  Status fatal_;

  mutable std::mutex counts_mu_;
  std::map<std::string, TypeCounts> by_type_;
  std::atomic<int64_t> created_{0}, updated_{0}, unchanged_{0}, rejected_{0};
  std::atomic<int64_t> bytes_read_{0}, bytes_total_{-1}, deferred_{0}, ever_deferred_{0};
  std::atomic<int64_t> warned_{0};
  mutable std::mutex warn_mu_;
  std::string first_warning_;
  std::atomic<int> pass_{0};
};

Status Importer::Impl::Run(const std::vector<Source>& sources) {
  int64_t total = 0;
  for (const Source& s : sources) {
    if (s.size < 0) {
      total = -1;
      break;
    }
    total += s.size;
  }
  bytes_total_ = total;
  spill_out_ = TemporaryFile();
  if (spill_out_ == nullptr) {
    return Status(
        StatusCode::kInternal,
        std::string("cannot create a temporary file for deferred resources: ") + strerror(errno));
  }
  RunPass([&] { ReadSources(sources); });
  ever_deferred_ = spill_out_members_;
  bool progressed = true;
  for (int pass = 1; !stop_ && spill_out_members_ > 0; ++pass) {
    FILE* in = spill_out_;
    deferred_ = spill_out_members_;
    const int64_t decided = created_ + updated_ + unchanged_ + rejected_;
    // Usually the first pass over the deferred resources is the last: it writes every one whose
    // references are all stored or deferred and writable (cycles included). Only more deferred
    // resources than the cycle search holds are retried pass after pass, while that progresses.
    if (spill_out_members_ <= static_cast<int64_t>(kMaxCycleSearch) || !progressed ||
        pass > kMaxPasses) {
      cycle_keys_ = CycleKeys(in);
      pass_kind_ = Pass::kLast;
    }
    spill_out_ = TemporaryFile();
    spill_out_members_ = 0;
    if (spill_out_ == nullptr) {
      fclose(in);
      return Status(
          StatusCode::kInternal,
          std::string("cannot create a temporary file for deferred resources: ") + strerror(errno));
    }
    pass_ = pass;
    RunPass([&] { ReadDeferred(in); });
    fclose(in);
    progressed = created_ + updated_ + unchanged_ + rejected_ > decided;
    if (pass_kind_ == Pass::kLast) break;
  }
  deferred_ = 0;
  fclose(spill_out_);
  spill_out_ = nullptr;
  std::lock_guard lock(fatal_mu_);
  return fatal_;
}

void Importer::Impl::RunPass(const std::function<void()>& read) {
  next_item_ = 0;
  reader_done_ = false;
  total_items_ = 0;
  batches_closed_ = false;
  std::vector<std::thread> threads;
  for (int i = 0; i < opt_.threads; ++i) threads.emplace_back([this] { WorkerLoop(); });
  std::thread sequencer([this] { SequencerLoop(); });
  for (int i = 0; i < opt_.writers; ++i) threads.emplace_back([this] { WriterLoop(); });
  read();
  total_items_ = next_item_;
  reader_done_ = true;
  {
    std::lock_guard lock(work_mu_);
    work_cv_.notify_all();
  }
  {
    std::lock_guard lock(out_mu_);
    out_cv_.notify_all();
  }
  sequencer.join();
  for (std::thread& t : threads) t.join();
  // After a failure, what was left in the queues is dropped.
  work_.clear();
  outputs_.clear();
  batches_.clear();
  current_.clear();
  current_keys_.clear();
  in_flight_.clear();
  in_flight_ids_.clear();
  budget_used_ = 0;
}

bool Importer::Impl::Push(Item item) {
  {
    std::unique_lock lock(budget_mu_);
    budget_cv_.wait(lock, [&] {
      return stop_ || budget_used_ == 0 || budget_used_ + item.bytes <= opt_.memory_budget;
    });
    if (stop_) return false;
    budget_used_ += item.bytes;
  }
  item.seq = next_item_++;
  std::lock_guard lock(work_mu_);
  work_.push_back(std::move(item));
  work_cv_.notify_one();
  return true;
}

void Importer::Impl::ReadSources(const std::vector<Source>& sources) {
  int64_t done_bytes = 0;
  for (const Source& source : sources) {
    if (stop_) return;
    Result<std::unique_ptr<LineReader>> opened = LineReader::Open(source.path);
    if (!opened.ok()) return Fail(opened.status());
    LineReader& in = **opened;
    if (source.format == SourceFormat::kJson) {
      Result<std::string> text = in.ReadAll(kMaxTextBytes);
      bytes_read_ = done_bytes + in.raw_bytes_read();
      if (!text.ok()) {
        RejectRead(source.path, text.status());
      } else if (!Blank(*text)) {
        Item item;
        item.kind = Item::Kind::kDocument;
        item.name = source.path;
        item.bytes = text->size();
        item.text = std::move(text).value();
        if (!Push(std::move(item))) return;
      }
    } else {
      Item chunk;
      chunk.name = source.path;
      std::string line;
      while (true) {
        Result<bool> more = in.ReadLine(&line);
        bytes_read_ = done_bytes + in.raw_bytes_read();
        if (!more.ok()) {
          if (more.status().code() == StatusCode::kTooLarge) {
            RejectRead(source.path + ":" + std::to_string(in.line_number()), more.status());
            continue;
          }
          // Corrupt or truncated gzip data, a read error: what came before is kept.
          RejectRead(source.path,
                     Status(more.status().code(), more.status().message() + " (after line " +
                                                      std::to_string(in.line_number()) + ")"));
          break;
        }
        if (!*more) break;
        if (Blank(line)) continue;
        chunk.bytes += line.size();
        chunk.lines.emplace_back(in.line_number(), std::move(line));
        line = std::string();
        if (chunk.lines.size() >= kChunkLines || chunk.bytes >= kChunkBytes) {
          if (!Push(std::move(chunk))) return;
          chunk = Item();
          chunk.name = source.path;
        }
      }
      if (!chunk.lines.empty() && !Push(std::move(chunk))) return;
    }
    done_bytes += source.size > 0 ? source.size : in.raw_bytes_read();
    bytes_read_ = done_bytes;
  }
}

void Importer::Impl::ReadDeferred(FILE* spill) {
  if (fflush(spill) != 0 || lseek(fileno(spill), 0, SEEK_SET) != 0) {
    return Fail(Status(StatusCode::kInternal,
                       std::string("reading the deferred resources back: ") + strerror(errno)));
  }
  std::unique_ptr<LineReader> in = LineReader::FromFd(fileno(spill), "(deferred resources)");
  Item chunk;
  chunk.kind = Item::Kind::kDeferred;
  std::string line;
  while (true) {
    Result<bool> more = in->ReadLine(&line);
    if (!more.ok()) return Fail(more.status());
    if (!*more) break;
    chunk.bytes += line.size();
    chunk.lines.emplace_back(0, std::move(line));
    line = std::string();
    if (chunk.lines.size() >= kDeferredChunk || chunk.bytes >= kChunkBytes) {
      if (!Push(std::move(chunk))) return;
      chunk = Item();
      chunk.kind = Item::Kind::kDeferred;
    }
  }
  if (!chunk.lines.empty()) Push(std::move(chunk));
}

void Importer::Impl::WorkerLoop() {
  Preparer preparer(PreparerShared{store_, model_, clock_, ids_, opt_.referential_integrity,
                                   existing_, conditional_, opt_.keep_last_updated,
                                   opt_.lenient_validation, &warned_, &warn_mu_, &first_warning_});
  while (true) {
    Item item;
    {
      std::unique_lock lock(work_mu_);
      work_cv_.wait(lock, [&] { return stop_ || !work_.empty() || reader_done_; });
      if (stop_ || work_.empty()) return;
      item = std::move(work_.front());
      work_.pop_front();
    }
    Output out;
    out.bytes = item.bytes;
    switch (item.kind) {
      case Item::Kind::kDocument:
        out.groups.push_back(preparer.PrepareText(item.text, item.name));
        break;
      case Item::Kind::kLines:
        out.groups.reserve(item.lines.size());
        for (const auto& [number, text] : item.lines) {
          out.groups.push_back(
              preparer.PrepareText(text, item.name + ":" + std::to_string(number)));
        }
        break;
      case Item::Kind::kDeferred:
        for (const auto& [number, text] : item.lines) {
          out.groups.push_back(preparer.PrepareDeferred(text));
        }
        break;
    }
    std::lock_guard lock(out_mu_);
    outputs_.emplace(item.seq, std::move(out));
    out_cv_.notify_all();
  }
}

void Importer::Impl::SequencerLoop() {
  Preparer preparer(PreparerShared{store_, model_, clock_, ids_, opt_.referential_integrity,
                                   existing_, conditional_, opt_.keep_last_updated,
                                   opt_.lenient_validation, &warned_, &warn_mu_, &first_warning_});
  for (uint64_t next = 0;; ++next) {
    Output out;
    {
      std::unique_lock lock(out_mu_);
      out_cv_.wait(lock, [&] {
        return stop_ || outputs_.count(next) > 0 || (reader_done_ && next >= total_items_);
      });
      if (stop_) break;
      auto it = outputs_.find(next);
      if (it == outputs_.end()) break;  // everything read was sequenced
      out = std::move(it->second);
      outputs_.erase(it);
    }
    {
      std::lock_guard lock(budget_mu_);
      budget_used_ -= out.bytes;
      budget_cv_.notify_all();
    }
    for (Group& group : out.groups) {
      if (stop_) break;
      Sequence(group, preparer);
    }
  }
  if (!stop_) Dispatch();
  std::lock_guard lock(batch_mu_);
  batches_closed_ = true;
  batch_cv_.notify_all();
}

bool Importer::Impl::Exists(const std::string& ref) {
  {
    std::lock_guard lock(keys_mu_);
    if (in_flight_.count(ref) > 0) return true;
  }
  if ((!cycle_keys_.empty() &&
       std::binary_search(cycle_keys_.begin(), cycle_keys_.end(), HashKey(ref))) ||
      existing_.Contains(ref)) {
    return true;
  }
  size_t slash = ref.find('/');
  Result<store::StoredVersion> v = store_.Read(ref.substr(0, slash), ref.substr(slash + 1));
  if (!v.ok() || v->deleted) return false;
  existing_.Add(ref);
  return true;
}

void Importer::Impl::ResolveConditional(Group& group, Preparer& preparer) {
  std::map<std::string, std::string, std::less<>> found;  // searched for this group: ref -> target
  for (Prepared& p : group) {
    if (!p.status.ok() || p.matched_existing || p.missing.empty()) continue;
    std::map<std::string, std::string, std::less<>> resolved;
    for (const std::string& ref : p.missing) {
      if (!IsConditionalReference(ref)) continue;
      if (auto it = found.find(ref); it != found.end()) {
        if (!it->second.empty()) resolved[ref] = it->second;
        continue;
      }
      std::string target;
      if (std::string key = IdentifierQueryKey(ref); !key.empty()) {
        std::lock_guard lock(keys_mu_);
        auto it = in_flight_ids_.find(key);
        if (it != in_flight_ids_.end() && !it->second.first.empty()) {
          target = ref.substr(0, ref.find('?')) + "/" + it->second.first;
        }
      }
      if (target.empty()) {
        size_t q = ref.find('?');
        Result<std::string> match = preparer.FindOne(ref.substr(0, q), ref.substr(q + 1));
        if (match.ok() && !match->empty()) {
          target = ref.substr(0, q) + "/" + *match;
          conditional_.Put(ref, target);
        }
      }
      found[ref] = target;
      if (!target.empty()) resolved[ref] = std::move(target);
    }
    if (!resolved.empty()) preparer.ApplyResolved(p, resolved);
  }
}

void Importer::Impl::Sequence(Group& group, Preparer& preparer) {
  ResolveConditional(group, preparer);
  std::vector<Fate> fates = ResolveGroup(
      group, [this](const std::string& ref) { return Exists(ref); }, pass_kind_);
  std::vector<size_t> deferred;
  for (size_t i = 0; i < group.size(); ++i) {
    if (fates[i] == Fate::kDefer) deferred.push_back(i);
  }
  if (!deferred.empty()) {
    std::string record = Preparer::DeferredRecord(group, deferred);
    record += '\n';
    if (fwrite(record.data(), 1, record.size(), spill_out_) != record.size()) {
      return Fail(Status(StatusCode::kInternal,
                         std::string("writing the deferred resources: ") + strerror(errno)));
    }
    spill_out_members_ += static_cast<int64_t>(deferred.size());
    if (pass_.load() == 0) deferred_ += static_cast<int64_t>(deferred.size());
  }
  for (size_t i = 0; i < group.size(); ++i) {
    if (fates[i] == Fate::kReject) {
      Reject(group[i]);
    } else if (fates[i] == Fate::kWrite) {
      if (group[i].matched_existing) {
        Count(group[i].type, Outcome::kUnchanged);
      } else {
        AddToBatch(std::move(group[i]));
      }
    }
  }
}

void Importer::Impl::AddToBatch(Prepared p) {
  std::string key = p.key();
  // The same resource twice: the later one must end current, so the earlier one is committed
  // first.
  if (current_keys_.count(key) > 0) Dispatch();
  {
    std::unique_lock lock(keys_mu_);
    keys_cv_.wait(lock, [&] { return stop_ || in_flight_.count(key) == 0; });
    if (stop_) return;
    ++in_flight_[key];
    for (std::string& ident : IdentifierKeys(p.type, p.doc.root())) {
      auto [it, added] = in_flight_ids_.try_emplace(std::move(ident), p.id, 0);
      if (!added && it->second.first != p.id) it->second.first.clear();  // ambiguous
      ++it->second.second;
    }
  }
  current_keys_.insert(std::move(key));
  // What was read is kept for the reject file until here; the store refusing a resource that
  // passed every check is rare, and then the reject file shows the resource as it was to be
  // stored.
  p.original = std::string();
  current_.push_back(std::move(p));
  if (current_.size() >= static_cast<size_t>(opt_.batch)) Dispatch();
}

void Importer::Impl::Dispatch() {
  if (current_.empty()) return;
  std::unique_lock lock(batch_mu_);
  // One batch waits while the writers write theirs: enough to keep them busy, and what is held
  // stays (writers + 2) batches.
  batch_space_cv_.wait(lock, [&] { return stop_ || batches_.empty(); });
  if (stop_) return;
  batches_.push_back(std::move(current_));
  current_.clear();
  current_keys_.clear();
  batch_cv_.notify_one();
}

void Importer::Impl::WriterLoop() {
  std::vector<Outcome> outcomes;
  while (true) {
    std::vector<Prepared> batch;
    {
      std::unique_lock lock(batch_mu_);
      batch_cv_.wait(lock, [&] { return stop_ || !batches_.empty() || batches_closed_; });
      if (stop_ || batches_.empty()) return;
      batch = std::move(batches_.front());
      batches_.pop_front();
      batch_space_cv_.notify_one();
    }
    if (Status s = writer_.Write(batch, &outcomes); !s.ok()) return Fail(s);
    for (size_t i = 0; i < batch.size(); ++i) {
      if (outcomes[i] == Outcome::kRejected) {
        Reject(batch[i]);
        continue;
      }
      Count(batch[i].type, outcomes[i]);
      existing_.Add(batch[i].key());
    }
    std::lock_guard lock(keys_mu_);
    for (const Prepared& p : batch) {
      auto it = in_flight_.find(p.key());
      if (it != in_flight_.end() && --it->second <= 0) in_flight_.erase(it);
      for (const std::string& ident : IdentifierKeys(p.type, p.doc.root())) {
        auto id_it = in_flight_ids_.find(ident);
        if (id_it != in_flight_ids_.end() && --id_it->second.second <= 0) {
          in_flight_ids_.erase(id_it);
        }
      }
    }
    keys_cv_.notify_all();
  }
}

void Importer::Impl::Reject(const Prepared& p) {
  rejects_.Report(p.where, OneLine(p.status), p.original.empty() ? p.json : p.original);
  Count(p.type.empty() ? "(unknown)" : p.type, Outcome::kRejected);
}

void Importer::Impl::RejectRead(const std::string& where, const Status& status) {
  rejects_.Report(where, OneLine(status), {});
  Count("(unknown)", Outcome::kRejected);
}

void Importer::Impl::Count(const std::string& type, Outcome outcome, int64_t n) {
  {
    std::lock_guard lock(counts_mu_);
    TypeCounts& c = by_type_[type];
    switch (outcome) {
      case Outcome::kCreated:
        c.created += n;
        break;
      case Outcome::kUpdated:
        c.updated += n;
        break;
      case Outcome::kUnchanged:
        c.unchanged += n;
        break;
      case Outcome::kRejected:
        c.rejected += n;
        break;
    }
  }
  switch (outcome) {
    case Outcome::kCreated:
      created_ += n;
      break;
    case Outcome::kUpdated:
      updated_ += n;
      break;
    case Outcome::kUnchanged:
      unchanged_ += n;
      break;
    case Outcome::kRejected:
      rejected_ += n;
      break;
  }
  if (pass_.load() > 0) deferred_ -= n;
}

void Importer::Impl::Fail(const Status& status) {
  {
    std::lock_guard lock(fatal_mu_);
    if (fatal_.ok()) fatal_ = status;
  }
  stop_ = true;
  for (auto [mu, cv] : {std::pair{&work_mu_, &work_cv_}, std::pair{&budget_mu_, &budget_cv_},
                        std::pair{&out_mu_, &out_cv_}, std::pair{&batch_mu_, &batch_cv_},
                        std::pair{&batch_mu_, &batch_space_cv_}, std::pair{&keys_mu_, &keys_cv_}}) {
    std::lock_guard lock(*mu);
    cv->notify_all();
  }
}

std::vector<uint64_t> Importer::Impl::CycleKeys(FILE* spill) {
  // Keys are held as 64-bit hashes, sorted, and each resource's references to other deferred
  // ones as indexes into them: about 20 bytes a deferred resource. A hash collision would let a
  // resource through with a dangling reference, at odds of about n / 2^64.
  Preparer preparer(PreparerShared{store_, model_, clock_, ids_, opt_.referential_integrity,
                                   existing_, conditional_, opt_.keep_last_updated,
                                   opt_.lenient_validation, &warned_, &warn_mu_, &first_warning_});
  auto for_each_member =
      [&](const std::function<bool(std::string&, std::vector<std::string>&)>& f) {
        if (fflush(spill) != 0 || lseek(fileno(spill), 0, SEEK_SET) != 0) return false;
        std::unique_ptr<LineReader> in = LineReader::FromFd(fileno(spill), "(deferred resources)");
        std::string line;
        while (true) {
          Result<bool> more = in->ReadLine(&line);
          if (!more.ok() || !*more) return more.ok();
          auto record = Preparer::DeferredKeys(line);
          if (!record.ok()) continue;
          for (auto& [key, missing] : *record) {
            if (!f(key, missing)) return false;
          }
        }
      };
  // The deferred resources...
  std::vector<uint64_t> keys;
  if (!for_each_member([&](std::string& key, std::vector<std::string>&) {
        keys.push_back(HashKey(key));
        return keys.size() <= kMaxCycleSearch;
      })) {
    return {};
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  auto index_of = [&](uint64_t h) -> int64_t {
    auto it = std::lower_bound(keys.begin(), keys.end(), h);
    return it != keys.end() && *it == h ? it - keys.begin() : -1;
  };
  // ...their references to one another, and which reference what is neither deferred nor stored
  // (nor, for a conditional reference, found by a search now).
  std::vector<uint8_t> alive(keys.size(), 1);
  std::vector<uint32_t> member_key, ref_begin, refs;
  for_each_member([&](std::string& key, std::vector<std::string>& missing) {
    const int64_t k = index_of(HashKey(key));
    if (k < 0) return true;
    member_key.push_back(static_cast<uint32_t>(k));
    ref_begin.push_back(static_cast<uint32_t>(refs.size()));
    for (const std::string& ref : missing) {
      if (int64_t r = index_of(HashKey(ref)); r >= 0) {
        refs.push_back(static_cast<uint32_t>(r));
        continue;
      }
      bool found = false;
      if (IsConditionalReference(ref)) {
        // Resolvable now (the pass resolves it the same way), or never.
        size_t q = ref.find('?');
        Result<std::string> match = preparer.FindOne(ref.substr(0, q), ref.substr(q + 1));
        found = match.ok() && !match->empty();
      } else {
        found = Exists(ref);
      }
      if (!found) alive[static_cast<size_t>(k)] = 0;
    }
    return true;
  });
  ref_begin.push_back(static_cast<uint32_t>(refs.size()));
  // What references a resource that cannot be written cannot be written either.
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t m = 0; m < member_key.size(); ++m) {
      if (!alive[member_key[m]]) continue;
      for (uint32_t i = ref_begin[m]; i < ref_begin[m + 1]; ++i) {
        if (!alive[refs[i]]) {
          alive[member_key[m]] = 0;
          changed = true;
          break;
        }
      }
    }
  }
  std::vector<uint64_t> writable;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (alive[i]) writable.push_back(keys[i]);
  }
  return writable;
}

ImportProgress Importer::Impl::progress() const {
  ImportProgress p;
  p.counts.created = created_;
  p.counts.updated = updated_;
  p.counts.unchanged = unchanged_;
  p.counts.rejected = rejected_;
  p.bytes_read = bytes_read_;
  p.bytes_total = bytes_total_;
  p.pass = pass_;
  p.deferred = deferred_;
  return p;
}

Importer::Importer(store::Store& store, const fhir::Model& model, ImportOptions options,
                   RejectSink& rejects)
    : impl_(std::make_unique<Impl>(store, model, options, rejects)) {}
Importer::~Importer() = default;
Status Importer::Run(const std::vector<Source>& sources) { return impl_->Run(sources); }
ImportProgress Importer::progress() const { return impl_->progress(); }
std::map<std::string, TypeCounts> Importer::counts_by_type() const {
  return impl_->counts_by_type();
}
int Importer::passes() const { return impl_->passes(); }
int64_t Importer::ever_deferred() const { return impl_->ever_deferred(); }
int64_t Importer::warned() const { return impl_->warned(); }
std::string Importer::first_warning() const { return impl_->first_warning(); }

}  // namespace vesta::ingest
