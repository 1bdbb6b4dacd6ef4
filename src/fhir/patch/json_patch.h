// JSON Patch (RFC 6902, https://www.rfc-editor.org/rfc/rfc6902) over json::Value trees, with JSON
// Pointer paths (RFC 6901, https://www.rfc-editor.org/rfc/rfc6901). FHIR accepts it as a PATCH
// body with Content-Type application/json-patch+json (https://hl7.org/fhir/R4/http.html#patch).
//
//   ASSIGN_OR_RETURN(json::Document patch, json::Parse(body));
//   ASSIGN_OR_RETURN(json::Value patched,
//                    patch::ApplyJsonPatch(doc.arena(), doc.root(), patch.root()));
//
// The input tree is never modified: the result is a new root built by path copying in `arena`.
// Lifetimes: the result shares unchanged subtrees with `doc` and values with `patch`, so both
// (and their Documents) must outlive it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "json/value.h"

namespace vesta::patch {

// Splits a JSON Pointer into its reference tokens, unescaping ~1 → '/' and ~0 → '~'.
// "" is the whole document (no tokens). kInvalid when it does not start with '/' or has a bad
// escape.
Result<std::vector<std::string>> ParseJsonPointer(std::string_view pointer);

// The value `pointer` refers to in `doc`, or kUnprocessable saying which part does not exist.
Result<const json::Value*> ResolveJsonPointer(const json::Value& doc, std::string_view pointer);

// Applies the operations of `patch` (a JSON array) in order; all or nothing. Errors name the
// operation (its index and op) and why: kInvalid for a malformed patch document (not an array,
// unknown op, missing or mistyped member), kUnprocessable when an operation cannot be applied
// (missing path, bad index, failed test).
Result<json::Value> ApplyJsonPatch(json::Arena& arena, const json::Value& doc,
                                   const json::Value& patch);

}  // namespace vesta::patch
