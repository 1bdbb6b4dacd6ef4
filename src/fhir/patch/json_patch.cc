// JSON Patch: https://www.rfc-editor.org/rfc/rfc6902, JSON Pointer:
// https://www.rfc-editor.org/rfc/rfc6901.
#include "fhir/patch/json_patch.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <span>

#include "json/parse.h"

namespace vesta::patch {
namespace {

using Tokens = std::span<const std::string>;

Status Unprocessable(std::string m) { return Status(StatusCode::kUnprocessable, std::move(m)); }

std::string PointerText(Tokens tokens) {
  std::string out;
  for (const std::string& t : tokens) {
    out += '/';
    for (char c : t) {
      if (c == '~') {
        out += "~0";
      } else if (c == '/') {
        out += "~1";
      } else {
        out += c;
      }
    }
  }
  return out;
}

// RFC 6901 §4: an array index is "0" or digits without a leading zero. `size` bounds it;
// `allow_end` admits "-" and size itself (the position after the last item, for add).
Result<size_t> ArrayIndex(const std::string& token, size_t size, bool allow_end) {
  if (token == "-") {
    if (allow_end) return size;
    return Unprocessable("'-' (past the end) names no existing array item");
  }
  bool digits = !token.empty() && token.size() <= 9 && (token == "0" || token[0] != '0');
  for (char c : token) digits = digits && c >= '0' && c <= '9';
  if (!digits) return Unprocessable("'" + token + "' is not an array index");
  size_t index = std::stoul(token);
  if (index > size || (index == size && !allow_end)) {
    return Unprocessable("index " + token + " is out of bounds (the array has " +
                         std::to_string(size) + " items)");
  }
  return index;
}

// What to do with the parent container and the last token of a path.
using Edit = std::function<Result<json::Value>(const json::Value& parent, const std::string&)>;

// Rebuilds `node` with `edit` applied at the parent of `tokens` (path copying: only the nodes
// on the path are new).
Result<json::Value> EditAt(json::Arena& arena, const json::Value& node, Tokens tokens, size_t depth,
                           const Edit& edit) {
  if (depth + 1 == tokens.size()) return edit(node, tokens[depth]);
  const std::string& token = tokens[depth];
  if (node.is_object()) {
    const json::Value* child = node.Find(token);
    if (child == nullptr) {
      return Unprocessable(PointerText(tokens.first(depth + 1)) + " does not exist");
    }
    ASSIGN_OR_RETURN(json::Value changed, EditAt(arena, *child, tokens, depth + 1, edit));
    return json::WithMember(arena, node, token, changed);
  }
  if (node.is_array()) {
    Result<size_t> index = ArrayIndex(token, node.size(), false);
    if (!index.ok()) {
      return Unprocessable(PointerText(tokens.first(depth + 1)) + ": " + index.status().message());
    }
    ASSIGN_OR_RETURN(json::Value changed,
                     EditAt(arena, node.items()[*index], tokens, depth + 1, edit));
    std::vector<json::Value> items(node.items().begin(), node.items().end());
    items[*index] = changed;
    return json::Value::Array(arena, items);
  }
  return Unprocessable(PointerText(tokens.first(depth)) +
                       " is not an object or array, so it has no member '" + token + "'");
}

Result<const json::Value*> Resolve(const json::Value& doc, Tokens tokens) {
  const json::Value* node = &doc;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (node->is_object()) {
      node = node->Find(tokens[i]);
      if (node == nullptr) {
        return Unprocessable(PointerText(tokens.first(i + 1)) + " does not exist");
      }
    } else if (node->is_array()) {
      Result<size_t> index = ArrayIndex(tokens[i], node->size(), false);
      if (!index.ok()) {
        return Unprocessable(PointerText(tokens.first(i + 1)) + ": " + index.status().message());
      }
      node = &node->items()[*index];
    } else {
      return Unprocessable(PointerText(tokens.first(i + 1)) + " does not exist (" +
                           PointerText(tokens.first(i)) + " is not an object or array)");
    }
  }
  return node;
}

Result<json::Value> Add(json::Arena& arena, const json::Value& doc, Tokens path,
                        const json::Value& value) {
  if (path.empty()) return value;  // §4.1: replaces the whole document
  return EditAt(arena, doc, path, 0,
                [&](const json::Value& parent, const std::string& key) -> Result<json::Value> {
                  if (parent.is_object()) return json::WithMember(arena, parent, key, value);
                  if (!parent.is_array()) {
                    return Unprocessable(PointerText(path.first(path.size() - 1)) +
                                         " is not an object or array");
                  }
                  ASSIGN_OR_RETURN(size_t index, ArrayIndex(key, parent.size(), true));
                  std::vector<json::Value> items(parent.items().begin(), parent.items().end());
                  items.insert(items.begin() + static_cast<std::ptrdiff_t>(index), value);
                  return json::Value::Array(arena, items);
                });
}

Result<json::Value> Remove(json::Arena& arena, const json::Value& doc, Tokens path) {
  if (path.empty()) return Unprocessable("the whole document cannot be removed");
  return EditAt(arena, doc, path, 0,
                [&](const json::Value& parent, const std::string& key) -> Result<json::Value> {
                  if (parent.is_object()) {
                    if (parent.Find(key) == nullptr) {
                      return Unprocessable(PointerText(path) + " does not exist");
                    }
                    return json::WithoutMember(arena, parent, key);
                  }
                  if (!parent.is_array()) {
                    return Unprocessable(PointerText(path) + " does not exist");
                  }
                  ASSIGN_OR_RETURN(size_t index, ArrayIndex(key, parent.size(), false));
                  std::vector<json::Value> items(parent.items().begin(), parent.items().end());
                  items.erase(items.begin() + static_cast<std::ptrdiff_t>(index));
                  return json::Value::Array(arena, items);
                });
}

Result<json::Value> Replace(json::Arena& arena, const json::Value& doc, Tokens path,
                            const json::Value& value) {
  if (path.empty()) return value;
  return EditAt(arena, doc, path, 0,
                [&](const json::Value& parent, const std::string& key) -> Result<json::Value> {
                  if (parent.is_object()) {
                    if (parent.Find(key) == nullptr) {
                      return Unprocessable(PointerText(path) + " does not exist");
                    }
                    return json::WithMember(arena, parent, key, value);
                  }
                  if (!parent.is_array()) {
                    return Unprocessable(PointerText(path) + " does not exist");
                  }
                  ASSIGN_OR_RETURN(size_t index, ArrayIndex(key, parent.size(), false));
                  std::vector<json::Value> items(parent.items().begin(), parent.items().end());
                  items[index] = value;
                  return json::Value::Array(arena, items);
                });
}

// One operation object → the new document.
Result<json::Value> ApplyOne(json::Arena& arena, const json::Value& doc, const json::Value& op) {
  if (!op.is_object()) return Invalid("an operation must be a JSON object");
  const json::Value* name = op.Find("op");
  if (name == nullptr || !name->is_string()) return Invalid("'op' is missing or not a string");
  const json::Value* path_text = op.Find("path");
  if (path_text == nullptr || !path_text->is_string()) {
    return Invalid("'path' is missing or not a string");
  }
  ASSIGN_OR_RETURN(std::vector<std::string> path, ParseJsonPointer(path_text->string_value()));
  std::string_view kind = name->string_value();
  const json::Value* value = op.Find("value");
  if ((kind == "add" || kind == "replace" || kind == "test") && value == nullptr) {
    return Invalid("'" + std::string(kind) + "' needs a 'value'");
  }
  if (kind == "add") return Add(arena, doc, path, *value);
  if (kind == "remove") return Remove(arena, doc, path);
  if (kind == "replace") return Replace(arena, doc, path, *value);
  if (kind == "test") {
    ASSIGN_OR_RETURN(const json::Value* actual, Resolve(doc, path));
    // §4.6: numbers are equal when their values are; json::Equal compares number text, so
    // compare numerically-equal texts too.
    bool equal = json::Equal(*actual, *value) ||
                 (actual->is_number() && value->is_number() &&
                  std::strtod(std::string(actual->number_text()).c_str(), nullptr) ==
                      std::strtod(std::string(value->number_text()).c_str(), nullptr));
    if (!equal) {
      return Unprocessable("test failed: " + PointerText(path) + " is not equal to the value");
    }
    return doc;
  }
  if (kind == "move" || kind == "copy") {
    const json::Value* from_text = op.Find("from");
    if (from_text == nullptr || !from_text->is_string()) {
      return Invalid("'" + std::string(kind) + "' needs 'from' (a JSON Pointer string)");
    }
    ASSIGN_OR_RETURN(std::vector<std::string> from, ParseJsonPointer(from_text->string_value()));
    ASSIGN_OR_RETURN(const json::Value* source, Resolve(doc, from));
    json::Value moved = *source;
    if (kind == "copy") return Add(arena, doc, path, moved);
    // §4.4: "from" must not be a proper prefix of "path".
    if (from.size() < path.size() && std::equal(from.begin(), from.end(), path.begin())) {
      return Unprocessable("cannot move " + PointerText(from) + " into its own child " +
                           PointerText(path));
    }
    if (from == path) return doc;
    ASSIGN_OR_RETURN(json::Value removed, Remove(arena, doc, from));
    return Add(arena, removed, path, moved);
  }
  return Invalid("unknown op '" + std::string(kind) +
                 "' (expected add, remove, replace, move, copy or test)");
}

// Counts the nodes of `v` as a serializer would visit them (shared subtrees count each time),
// stopping once `limit` is passed or the nesting exceeds `max_depth`. Returns limit + 1 then.
size_t CountNodes(const json::Value& v, size_t limit, int max_depth, size_t count = 0) {
  if (++count > limit || max_depth < 0) return limit + 1;
  if (v.is_array()) {
    for (const json::Value& item : v.items()) {
      count = CountNodes(item, limit, max_depth - 1, count);
      if (count > limit) return count;
    }
  } else if (v.is_object()) {
    for (const json::Member& m : v.members()) {
      count = CountNodes(m.value, limit, max_depth - 1, count);
      if (count > limit) return count;
    }
  }
  return count;
}

// How much larger than its inputs a document may grow by copy operations. A copy shares the
// copied subtree, so a few copies of a document into itself cost nothing here but would expand
// exponentially when serialized.
constexpr size_t kMaxCopiedNodes = 1'000'000;

}  // namespace

Result<std::vector<std::string>> ParseJsonPointer(std::string_view pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty()) return tokens;
  if (pointer[0] != '/') {
    return Invalid("JSON Pointer '" + std::string(pointer) + "' must be empty or start with '/'");
  }
  std::string token;
  for (size_t i = 1; i <= pointer.size(); ++i) {
    if (i == pointer.size() || pointer[i] == '/') {
      tokens.push_back(std::move(token));
      token.clear();
    } else if (pointer[i] == '~') {
      char next = i + 1 < pointer.size() ? pointer[i + 1] : '\0';
      if (next != '0' && next != '1') {
        return Invalid("JSON Pointer '" + std::string(pointer) +
                       "': '~' must be followed by 0 or 1");
      }
      token += next == '0' ? '~' : '/';
      ++i;
    } else {
      token += pointer[i];
    }
  }
  return tokens;
}

Result<const json::Value*> ResolveJsonPointer(const json::Value& doc, std::string_view pointer) {
  ASSIGN_OR_RETURN(std::vector<std::string> tokens, ParseJsonPointer(pointer));
  return Resolve(doc, tokens);
}

Result<json::Value> ApplyJsonPatch(json::Arena& arena, const json::Value& doc,
                                   const json::Value& patch) {
  if (!patch.is_array()) {
    return Invalid("a JSON Patch document must be a JSON array of operations");
  }
  json::Value current = doc;
  bool copied = false;
  for (size_t i = 0; i < patch.size(); ++i) {
    Result<json::Value> next = ApplyOne(arena, current, patch.items()[i]);
    if (!next.ok()) {
      std::string_view op = patch.items()[i].is_object() ? patch.items()[i].FindString("op") : "";
      std::string where = "operation " + std::to_string(i) +
                          (op.empty() ? std::string() : " (" + std::string(op) + ")");
      return Status(next.status().code(), where + ": " + next.status().message(),
                    {Issue{Severity::kError,
                           next.status().code() == StatusCode::kInvalid ? "invalid" : "processing",
                           where + ": " + next.status().message(), ""}});
    }
    current = next.value();
    copied = copied || patch.items()[i].FindString("op") == "copy";
  }
  if (copied) {
    const size_t unbounded = SIZE_MAX - 1;
    size_t limit = CountNodes(doc, unbounded, INT32_MAX) + CountNodes(patch, unbounded, INT32_MAX) +
                   kMaxCopiedNodes;
    if (CountNodes(current, limit, 2 * json::kMaxDepth) > limit) {
      return Status(StatusCode::kUnprocessable,
                    "the copy operations make the document too large or too deeply nested");
    }
  }
  return current;
}

}  // namespace vesta::patch
