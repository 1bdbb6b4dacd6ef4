// The retention of raw HL7 v2 messages (docs/hl7v2.md, "Retention"): after a period, the record
// of an applied message (intake.h) keeps what it says about the message - its id, state, type,
// sender, control id, time of receipt and ACK, so that a resend is still answered as a duplicate
// and the listings still show it - but no longer the message's text, in any version.
//
//   RawPurge purge(store, clock);
//   ASSIGN_OR_RETURN(PurgeCount done, purge.Run(clock.Now() - 30 * kMicrosPerDay));
//
// One record at a time, in four steps, each a store call of its own:
//   1. a new version without the extension urn:vesta:hl7v2:raw, tagged urn:vesta:hl7v2:raw|removed
//      (compare-and-set on the version found; a conflict means another writer, or another node's
//      purge, got there first: the record is skipped);
//   2. Store::ExpungeHistory: the versions that held the text are gone;
//   3. a new version tagged urn:vesta:hl7v2:raw|purged;
//   4. Store::ExpungeHistory again: the record has one version left.
// A pass also finishes the records a stopped process left tagged `removed`, so that no version
// holding the text outlives a crash between steps 1 and 2. Dead letters, rejected messages and
// received ones keep their text (a replay needs it); a dead letter replayed and applied is
// purged a retention period after that.
//
// Thread-safety: Run may be called from several threads, processes and PostgreSQL nodes at once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/periodic_thread.h"
#include "base/status.h"
#include "store/store.h"

namespace vesta::mllp {

// A retention period as the command line spells it: a whole number and a unit, `s`, `m`, `h` or
// `d` ("30d", "12h", "90m", "45s"), or "0" (keep the text for ever; also "0s", "0d"...). kInvalid,
// saying so, for anything else.
Result<std::chrono::seconds> ParseRetention(std::string_view text);

struct PurgeCount {
  int64_t purged = 0;   // records whose text is now gone from every version
  int64_t skipped = 0;  // changed by another writer meanwhile: left to it, or to the next pass
};

class RawPurge {
 public:
  // Records are read `batch` at a time (a search page), so that a large backlog never holds
  // the store for long; `stop`, when given, ends a pass early once it is set.
  RawPurge(store::Store& store, Clock& clock, int batch = 100,
           const std::atomic<bool>* stop = nullptr);

  // Removes the text of the applied messages whose records were last written before `cutoff`
  // (a record applied when received: the time of receipt; a replayed dead letter: when it was
  // applied). Fails on the first store error other than a conflict (kNotSupported: a store that
  // cannot remove versions); what was purged until then stays purged, and a record left half
  // done is finished by the next pass.
  Result<PurgeCount> Run(Micros cutoff);

 private:
  enum class Outcome { kPurged, kSkipped };
  // Steps 1 to 4 (or 2 to 4 for a record already tagged `removed`) for the record `found`.
  Result<Outcome> PurgeOne(const store::StoredVersion& found);
  // One page of the search `params` (the Basic records), purged; false when it was the last.
  Result<bool> PurgePage(std::vector<std::pair<std::string, std::string>> params,
                         std::string* cursor, PurgeCount* count);
  bool Stopping() const { return stop_ != nullptr && stop_->load(); }

  store::Store& store_;
  Clock& clock_;
  const int batch_;
  const std::atomic<bool>* stop_;
};

// The purge of `vesta serve --hl7v2-retention`: a pass at Start(), then one every Interval(), on
// a thread of its own; each logs how many messages it purged. Stop() (or the destructor) ends
// the pass under way after its current record and joins the thread.
class RetentionThread {
 public:
  RetentionThread(store::Store& store, Clock& clock, std::chrono::seconds retention);
  ~RetentionThread() { Stop(); }

  // An hour, or a tenth of the retention period when that is less, but at least a minute.
  static std::chrono::seconds Interval(std::chrono::seconds retention);

  void Start();
  void Stop() { worker_.Stop(); }

 private:
  // One pass (on the thread); the wait before the next.
  std::chrono::microseconds Pass();

  store::Store& store_;
  Clock& clock_;
  const std::chrono::seconds retention_;
  PeriodicThread worker_;
};

}  // namespace vesta::mllp
