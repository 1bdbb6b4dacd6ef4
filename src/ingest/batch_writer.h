// Writing a batch of prepared resources to the store, so that importing the same input twice
// loads nothing twice.
//
// A batch is first written as creates, all in one Store::Write (one atomic commit). When some
// resource exists already (kConflict), each one is read: absent, it is created; present with the
// same content (SameContent: meta.versionId and meta.lastUpdated left out), it is `unchanged` and
// nothing is written; present and different (or deleted), the next version is written with
// compare-and-set on the version read. That batch is written again, and a conflict then (another
// writer got there in between) repeats the reading. A resource the store refuses is isolated by
// writing one at a time and reported; a failure of the store itself is returned as fatal.
//
// Once a batch has met existing resources, later batches are read before they are written (a
// rerun of the same input finds everything there); a batch that then finds nothing goes back to
// writing first.
//
// Thread-safe: several threads may each write their own batches at once.
#pragma once

#include <atomic>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "ingest/resource_group.h"
#include "store/store.h"

namespace vesta::ingest {

enum class Outcome { kCreated, kUpdated, kUnchanged, kRejected };

class BatchWriter {
 public:
  BatchWriter(store::Store& store, Clock& clock) : store_(store), clock_(clock) {}

  // Writes `batch` (whose members have distinct keys) and sets one outcome per member; a rejected
  // member's `status` says why. Returns a fatal error (the store failing rather than a resource:
  // unavailable, internal) after which nothing more should be written.
  Status Write(std::vector<Prepared>& batch, std::vector<Outcome>* outcomes);

 private:
  // Reads the current versions of `todo` and builds the writes: creates, updates (restamped for
  // the next version) and nothing for unchanged resources.
  Status Plan(std::vector<Prepared>& batch, const std::vector<size_t>& todo,
              std::vector<store::WriteOp>* ops, std::vector<size_t>* op_member,
              std::vector<Outcome>* outcomes, bool* any_existing);
  Status WriteOneByOne(std::vector<Prepared>& batch, const std::vector<size_t>& todo,
                       std::vector<Outcome>* outcomes);

  store::Store& store_;
  Clock& clock_;
  std::atomic<bool> read_first_{false};
};

// Whether a write error is about the resources written (reported, the import goes on) rather than
// the store (fatal).
bool IsResourceError(const Status& status);

}  // namespace vesta::ingest
