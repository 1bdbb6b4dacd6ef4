#include "ingest/batch_writer.h"

#include "fhir/resource/resource_json.h"
#include "ingest/content.h"
#include "json/parse.h"

namespace vesta::ingest {
namespace {

constexpr int kBatchAttempts = 3;  // a whole batch planned again after a conflict
constexpr int kOneAttempts = 20;   // one resource, as rest/versioned_write.cc

store::WriteOp OpFor(Prepared& p, int64_t expected_version) {
  store::WriteOp op;
  op.kind = expected_version == store::kExpectNone ? store::WriteKind::kCreate
                                                   : store::WriteKind::kUpdate;
  op.type = p.type;
  op.id = p.id;
  op.expected_version = expected_version;
  op.last_updated = p.last_updated;
  op.json = p.json;
  op.document = &p.doc;  // indexed as parsed, not parsed again
  return op;
}

}  // namespace

bool IsResourceError(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalid:
    case StatusCode::kUnprocessable:
    case StatusCode::kTooLarge:
    case StatusCode::kConflict:
    case StatusCode::kPreconditionFailed:
    case StatusCode::kForbidden:
      return true;
    default:
      return false;
  }
}

Status BatchWriter::Plan(std::vector<Prepared>& batch, const std::vector<size_t>& todo,
                         std::vector<store::WriteOp>* ops, std::vector<size_t>* op_member,
                         std::vector<Outcome>* outcomes, bool* any_existing) {
  ops->clear();
  op_member->clear();
  for (size_t i : todo) {
    Prepared& p = batch[i];
    Result<store::StoredVersion> current = store_.Read(p.type, p.id);
    int64_t expected = store::kExpectNone;
    if (current.ok()) {
      *any_existing = true;
      if (!current->deleted) {
        Result<json::Document> stored = json::Parse(current->json);
        if (stored.ok() && SameContent(stored->root(), p.doc.root())) {
          (*outcomes)[i] = Outcome::kUnchanged;
          continue;
        }
      }
      expected = current->version;
    } else if (current.status().code() != StatusCode::kNotFound) {
      return current.status();
    }
    // The version this write makes, stamped now (the preparer stamped version 1).
    int64_t version = expected + 1;
    if (p.version != version) {
      p.last_updated = clock_.Now();
      p.json = fhir::StoredJson(p.doc, p.id, version, p.last_updated);
      p.version = version;
    }
    (*outcomes)[i] = expected == store::kExpectNone ? Outcome::kCreated : Outcome::kUpdated;
    ops->push_back(OpFor(p, expected));
    op_member->push_back(i);
  }
  return Status::Ok();
}

Status BatchWriter::Write(std::vector<Prepared>& batch, std::vector<Outcome>* outcomes) {
  outcomes->assign(batch.size(), Outcome::kCreated);
  std::vector<size_t> all(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) all[i] = i;
  std::vector<store::WriteOp> ops;
  std::vector<size_t> op_member;
  if (!read_first_.load(std::memory_order_relaxed)) {
    // Optimistically: everything is new (a first import).
    for (Prepared& p : batch) ops.push_back(OpFor(p, store::kExpectNone));
    Result<std::vector<store::WriteResult>> written = store_.Write(ops);
    if (written.ok()) return Status::Ok();
    if (written.status().code() != StatusCode::kConflict) {
      if (!IsResourceError(written.status())) return written.status();
      return WriteOneByOne(batch, all, outcomes);
    }
    read_first_.store(true, std::memory_order_relaxed);
  }
  for (int attempt = 0; attempt < kBatchAttempts; ++attempt) {
    bool any_existing = false;
    RETURN_IF_ERROR(Plan(batch, all, &ops, &op_member, outcomes, &any_existing));
    if (!any_existing) read_first_.store(false, std::memory_order_relaxed);
    if (ops.empty()) return Status::Ok();
    Result<std::vector<store::WriteResult>> written = store_.Write(ops);
    if (written.ok()) return Status::Ok();
    if (written.status().code() == StatusCode::kConflict) continue;
    if (!IsResourceError(written.status())) return written.status();
    break;
  }
  return WriteOneByOne(batch, all, outcomes);
}

Status BatchWriter::WriteOneByOne(std::vector<Prepared>& batch, const std::vector<size_t>& todo,
                                  std::vector<Outcome>* outcomes) {
  std::vector<store::WriteOp> ops;
  std::vector<size_t> op_member;
  for (size_t i : todo) {
    Status last;
    bool done = false;
    for (int attempt = 0; attempt < kOneAttempts && !done; ++attempt) {
      bool any_existing = false;
      RETURN_IF_ERROR(Plan(batch, {i}, &ops, &op_member, outcomes, &any_existing));
      if (ops.empty()) {
        done = true;  // unchanged
        break;
      }
      Result<std::vector<store::WriteResult>> written = store_.Write(ops);
      if (written.ok()) {
        done = true;
        break;
      }
      last = written.status();
      if (last.code() != StatusCode::kConflict) break;
    }
    if (done) continue;
    if (!last.ok() && !IsResourceError(last)) return last;
    (*outcomes)[i] = Outcome::kRejected;
    batch[i].status =
        last.code() == StatusCode::kConflict
            ? Status(StatusCode::kConflict, batch[i].key() + " kept changing while being imported")
            : last;
  }
  return Status::Ok();
}

}  // namespace vesta::ingest
