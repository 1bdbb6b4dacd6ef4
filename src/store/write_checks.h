// The checks of a store::WriteOp that need no database, shared by every backend so that a bad
// call gets the same kInvalid message whichever store runs it, and never reaches the database.
#pragma once

#include <optional>
#include <string>

#include "base/status.h"
#include "store/store.h"

namespace vesta::store {

// kInvalid, naming the resource, for an op the Store contract (store.h) does not allow: no type
// or id, a negative expected version, a create that expects a version, a create or update
// without JSON, a delete with JSON or without the version it replaces.
inline Status CheckWriteOp(const WriteOp& op) {
  if (op.type.empty() || op.id.empty()) return Invalid("a write needs a resource type and id");
  const std::string name = op.type + "/" + op.id;
  if (op.expected_version < 0) return Invalid(name + ": negative expected version");
  switch (op.kind) {
    case WriteKind::kCreate:
      if (op.expected_version != kExpectNone) {
        return Invalid(name + ": a create cannot expect an existing version");
      }
      [[fallthrough]];
    case WriteKind::kUpdate:
      if (op.json.empty()) return Invalid(name + ": a create or update needs the resource JSON");
      break;
    case WriteKind::kDelete:
      if (!op.json.empty()) return Invalid(name + ": a delete carries no JSON");
      if (op.expected_version == kExpectNone) {
        return Invalid(name + ": a delete must name the version it replaces");
      }
      break;
  }
  return Status::Ok();
}

// The compare-and-set of the Store contract: kConflict, naming the resource, unless the current
// version (nullopt: the resource does not exist) is the one `op` expects to replace.
inline Status CheckExpectedVersion(const WriteOp& op, std::optional<int64_t> current) {
  const std::string name = op.type + "/" + op.id;
  if (op.expected_version == kExpectNone) {
    if (current.has_value()) {
      return Conflict(name + " already exists (version " + std::to_string(*current) + ")");
    }
  } else if (!current.has_value()) {
    return Conflict(name + " does not exist (expected version " +
                    std::to_string(op.expected_version) + ")");
  } else if (*current != op.expected_version) {
    return Conflict(name + " is at version " + std::to_string(*current) +
                    ", not the expected version " + std::to_string(op.expected_version));
  }
  return Status::Ok();
}

}  // namespace vesta::store
