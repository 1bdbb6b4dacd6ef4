#include "terminology/value_set_compose.h"

#include <optional>
#include <regex>
#include <unordered_map>
#include <unordered_set>

#include "terminology/service_internal.h"

namespace vesta::terminology::internal {
namespace {

std::string Key(std::string_view system, std::string_view code) {
  std::string k(system);
  k += '\x1f';
  k += code;
  return k;
}

// The members of one include or exclude, or nullopt with `why` set when it cannot be evaluated.
using Part = std::optional<std::vector<Member>>;

class Evaluator {
 public:
  Evaluator(Db& db, const ValueSetResolver& resolve, size_t limit)
      : db_(db), resolve_(resolve), limit_(limit) {}

  // https://hl7.org/fhir/R4/valueset.html#compositions: "The value set is the union of the
  // included concepts, minus any excluded ones." Each include is "the intersection of the
  // system/concept/filter and the value sets" it names.
  Result<Members> Compose(const json::Value& compose) {
    Members out;
    std::unordered_map<std::string, size_t> at;  // Key -> index in out.codes
    if (const json::Value* includes = compose.Find("include")) {
      for (const json::Value& inc : includes->items()) {
        std::string why;
        ASSIGN_OR_RETURN(Part part, Include(inc, &why));
        if (!part) {
          Incomplete(&out, why);
          continue;
        }
        for (Member& m : *part) {
          std::string k = Key(m.system, m.code);
          if (at.count(k) > 0) continue;
          at.emplace(std::move(k), out.codes.size());
          out.codes.push_back(std::move(m));
          if (out.codes.size() > limit_) return TooCostly();
        }
      }
    }
    if (const json::Value* excludes = compose.Find("exclude")) {
      std::unordered_set<std::string> drop;
      for (const json::Value& exc : excludes->items()) {
        std::string why;
        ASSIGN_OR_RETURN(Part part, Include(exc, &why));
        if (!part) {
          // An exclusion that cannot be evaluated leaves no member certain.
          out.codes.clear();
          Incomplete(&out, "exclude: " + why);
          return out;
        }
        for (const Member& m : *part) drop.insert(Key(m.system, m.code));
      }
      if (!drop.empty()) {
        std::erase_if(out.codes,
                      [&](const Member& m) { return drop.count(Key(m.system, m.code)) > 0; });
      }
    }
    return out;
  }

 private:
  static void Incomplete(Members* out, const std::string& why) {
    out->complete = false;
    if (out->note.find(why) != std::string::npos) return;
    if (!out->note.empty()) out->note += "; ";
    out->note += why;
  }

  Status TooCostly() const {
    return Status(StatusCode::kUnprocessable,
                  "the value set has more than " + std::to_string(limit_) + " codes",
                  {Issue{Severity::kError, "too-costly",
                         "value set larger than " + std::to_string(limit_) + " codes", ""}});
  }

  // One ValueSet.compose.include (or exclude).
  Result<Part> Include(const json::Value& inc, std::string* why) {
    std::string system(inc.FindString("system"));
    std::string version(inc.FindString("version"));
    const json::Value* concepts = inc.Find("concept");
    const json::Value* filters = inc.Find("filter");
    const json::Value* value_sets = inc.Find("valueSet");
    if (system.empty() && (value_sets == nullptr || value_sets->size() == 0)) {
      *why = "an include names neither a system nor a value set";
      return Part();
    }
    Part from_system;
    if (!system.empty()) {
      if (concepts != nullptr && concepts->size() > 0) {
        ASSIGN_OR_RETURN(from_system, Enumerated(system, version, *concepts));
      } else {
        ASSIGN_OR_RETURN(from_system, FromSystem(system, version, filters, why));
        if (!from_system) return Part();
      }
    }
    if (value_sets == nullptr || value_sets->size() == 0) return from_system;
    // "If there are multiple value sets, the codes must be in all of them"; with a system too,
    // the codes must also be in what the system part selects.
    std::optional<std::unordered_set<std::string>> keep;
    if (from_system) {
      keep.emplace();
      for (const Member& m : *from_system) keep->insert(Key(m.system, m.code));
    }
    std::vector<Member> result;
    bool first = true;
    for (const json::Value& ref : value_sets->items()) {
      std::string url(ref.string_value());
      Result<Members> members = resolve_(url);
      if (!members.ok()) {
        if (members.status().code() != StatusCode::kNotFound) return members.status();
        *why = "value set " + url + " is not known";
        return Part();
      }
      if (!members->complete) {
        *why = "value set " + url + " is not complete (" + members->note + ")";
        return Part();
      }
      if (first && !keep) {
        result = std::move(members->codes);
      } else {
        std::unordered_set<std::string> these;
        for (const Member& m : members->codes) these.insert(Key(m.system, m.code));
        std::vector<Member>& base = first ? *from_system : result;
        std::vector<Member> next;
        for (Member& m : base) {
          if (these.count(Key(m.system, m.code)) > 0) next.push_back(std::move(m));
        }
        result = std::move(next);
      }
      first = false;
    }
    return Part(std::move(result));
  }

  // include.system + include.concept: the codes listed, with the display given there or else
  // the code system's (when loaded).
  Result<Part> Enumerated(const std::string& system, const std::string& version,
                          const json::Value& concepts) {
    Result<VersionRow> csv = ResolveVersion(db_, system, version);
    if (!csv.ok() && !version.empty()) csv = ResolveVersion(db_, system, "");
    std::vector<Member> out;
    for (const json::Value& c : concepts.items()) {
      Member m;
      m.system = system;
      m.code = c.FindString("code");
      m.display = c.FindString("display");
      if (m.code.empty()) continue;
      if (csv.ok()) {
        m.version = csv->version;
        ASSIGN_OR_RETURN(std::optional<ConceptInfo> found, FindConcept(db_, *csv, m.code));
        if (found) {
          if (m.display.empty()) m.display = found->display;
          m.abstract = !IsCodeKind(found->kind);
        }
      } else {
        m.version = version;
      }
      out.push_back(std::move(m));
    }
    return Part(std::move(out));
  }

  // include.system alone (every concept) or with filters (the concepts passing all of them).
  Result<Part> FromSystem(const std::string& system, const std::string& version,
                          const json::Value* filters, std::string* why) {
    Result<VersionRow> csv = ResolveVersion(db_, system, version);
    if (!csv.ok() && !version.empty()) csv = ResolveVersion(db_, system, "");
    if (!csv.ok()) {
      if (csv.status().code() != StatusCode::kNotFound) return csv.status();
      *why = "code system " + system + " is not loaded";
      return Part();
    }
    const bool whole = filters == nullptr || filters->size() == 0;
    if (whole) {
      ASSIGN_OR_RETURN(std::string content, Content(*csv));
      if (content != "complete" && !content.empty()) {
        *why = "code system " + system + " is loaded with content '" + content + "' only";
        return Part();
      }
    }
    std::optional<std::unordered_set<std::string>> pass;  // codes passing the filters so far
    if (!whole) {
      for (const json::Value& f : filters->items()) {
        std::optional<std::unordered_set<std::string>> codes;
        ASSIGN_OR_RETURN(codes, Filter(*csv, f, why));
        if (!codes) return Part();
        if (pass) {
          std::erase_if(*pass, [&](const std::string& c) { return codes->count(c) == 0; });
        } else {
          pass = std::move(codes);
        }
      }
    }
    std::vector<Member> out;
    ASSIGN_OR_RETURN(Rows q, db_.Query("SELECT code, display, kind FROM concept WHERE "
                                       "csv_id = ?1 ORDER BY ord",
                                       {csv->id}));
    for (int i = 0; i < q.size(); ++i) {
      const std::string& code = q.Text(i, 0);
      if (pass && pass->count(code) == 0) continue;
      Member m;
      m.system = system;
      m.version = csv->version;
      m.code = code;
      m.display = q.Text(i, 1);
      m.abstract = !IsCodeKind(static_cast<ConceptKind>(q.Int(i, 2)));
      out.push_back(std::move(m));
      if (out.size() > limit_) return TooCostly();
    }
    return Part(std::move(out));
  }

  // CodeSystem.content of a package code system; '' for the release-file systems (complete).
  Result<std::string> Content(const VersionRow& csv) {
    ASSIGN_OR_RETURN(Rows q, db_.Query("SELECT content FROM package_resource WHERE type = "
                                       "'CodeSystem' AND url = ?1 AND version = ?2",
                                       {csv.url, csv.version}));
    return q.empty() ? std::string() : q.Text(0, 0);
  }

  Result<std::unordered_set<std::string>> Codes(std::string_view sql, int64_t csv_id,
                                                std::string_view value) {
    std::unordered_set<std::string> out;
    const Value params[] = {csv_id, value};
    ASSIGN_OR_RETURN(Rows q,
                     db_.Query(sql, std::span<const Value>(
                                        params, sql.find("?2") != std::string_view::npos ? 2 : 1)));
    for (int i = 0; i < q.size(); ++i) out.insert(q.Text(i, 0));
    return out;
  }

  // The codes of `csv` passing one filter
  // (https://hl7.org/fhir/R4/valueset-definitions.html#ValueSet.compose.include.filter), or
  // nullopt with `why` when the filter is not supported.
  Result<std::optional<std::unordered_set<std::string>>> Filter(const VersionRow& csv,
                                                                const json::Value& f,
                                                                std::string* why) {
    using Set = std::optional<std::unordered_set<std::string>>;
    auto codes = [&](std::string_view sql, std::string_view value) -> Result<Set> {
      ASSIGN_OR_RETURN(std::unordered_set<std::string> found, Codes(sql, csv.id, value));
      return Set(std::move(found));
    };
    std::string property(f.FindString("property"));
    std::string op(f.FindString("op"));
    std::string value(f.FindString("value"));
    const bool on_concept = property == "concept" || property == "code";
    constexpr std::string_view kBelow =
        "SELECT descendant FROM closure WHERE csv_id = ?1 AND ancestor = ?2";
    constexpr std::string_view kAll = "SELECT code FROM concept WHERE csv_id = ?1";
    if (on_concept && (op == "is-a" || op == "descendent-of" || op == "is-not-a")) {
      // is-a: the concept and everything below it; descendent-of: below it only.
      ASSIGN_OR_RETURN(std::unordered_set<std::string> below, Codes(kBelow, csv.id, value));
      if (op == "descendent-of") below.erase(value);
      if (op != "is-not-a") return Set(std::move(below));
      ASSIGN_OR_RETURN(std::unordered_set<std::string> all, Codes(kAll, csv.id, ""));
      std::erase_if(all, [&](const std::string& c) { return below.count(c) > 0; });
      return Set(std::move(all));
    }
    if (on_concept && op == "generalizes") {
      return codes("SELECT ancestor FROM closure WHERE csv_id = ?1 AND descendant = ?2", value);
    }
    if (on_concept && (op == "in" || op == "not-in" || op == "=")) {
      std::unordered_set<std::string> listed;
      size_t start = 0;
      for (size_t guard = 0; guard <= value.size(); ++guard) {
        size_t comma = value.find(',', start);
        listed.insert(value.substr(start, comma == std::string::npos ? comma : comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      ASSIGN_OR_RETURN(std::unordered_set<std::string> all, Codes(kAll, csv.id, ""));
      const bool keep_listed = op != "not-in";
      std::erase_if(all,
                    [&](const std::string& c) { return (listed.count(c) > 0) != keep_listed; });
      return Set(std::move(all));
    }
    if (on_concept && op == "regex") {
      std::regex re;
      try {
        re = std::regex(value, std::regex::ECMAScript);
      } catch (const std::regex_error&) {
        *why = "the filter regex '" + value + "' is not a valid regular expression";
        return Set();
      }
      ASSIGN_OR_RETURN(std::unordered_set<std::string> all, Codes(kAll, csv.id, ""));
      std::erase_if(all, [&](const std::string& c) { return !std::regex_match(c, re); });
      return Set(std::move(all));
    }
    if (op == "=" && property == "parent") {
      return codes(
          "SELECT descendant FROM closure WHERE csv_id = ?1 AND ancestor = ?2 AND "
          "depth = 1",
          value);
    }
    if (op == "=" && property == "child") {
      return codes(
          "SELECT ancestor FROM closure WHERE csv_id = ?1 AND descendant = ?2 AND "
          "depth = 1",
          value);
    }
    if (op == "=") {
      ASSIGN_OR_RETURN(Rows has, db_.Query("SELECT 1 FROM concept_property WHERE csv_id = ?1 "
                                           "AND property = ?2 LIMIT 1",
                                           {csv.id, property}));
      if (!has.empty()) {
        ASSIGN_OR_RETURN(Rows q, db_.Query("SELECT code FROM concept_property WHERE csv_id = ?1 "
                                           "AND property = ?2 AND value = ?3",
                                           {csv.id, property, value}));
        std::unordered_set<std::string> out;
        for (int i = 0; i < q.size(); ++i) out.insert(q.Text(i, 0));
        return Set(std::move(out));
      }
    }
    *why = "the filter '" + property + " " + op + " " + value + "' on " + csv.url +
           " is not supported";
    return Set();
  }

  Db& db_;
  const ValueSetResolver& resolve_;
  size_t limit_;
};

// ValueSet.expansion.contains, flattened (nested contains are a display hierarchy).
void FromExpansion(const json::Value& contains, Members* out, int depth) {
  if (depth > 16) return;  // bounded nesting
  for (const json::Value& c : contains.items()) {
    if (!c.FindString("code").empty()) {
      Member m;
      m.system = c.FindString("system");
      m.version = c.FindString("version");
      m.code = c.FindString("code");
      m.display = c.FindString("display");
      const json::Value* abstract = c.Find("abstract");
      m.abstract = abstract != nullptr && abstract->is_bool() && abstract->bool_value();
      out->codes.push_back(std::move(m));
    }
    if (const json::Value* nested = c.Find("contains")) FromExpansion(*nested, out, depth + 1);
  }
}

}  // namespace

Result<Members> EvaluateValueSet(Db& db, const json::Value& value_set,
                                 const ValueSetResolver& resolve, size_t limit) {
  Members out;
  const json::Value* compose = value_set.Find("compose");
  if (compose != nullptr) {
    Evaluator evaluator(db, resolve, limit);
    ASSIGN_OR_RETURN(out, evaluator.Compose(*compose));
    if (out.complete) return out;
  } else {
    out.complete = false;
    out.note = "the value set has no compose";
  }
  // A ValueSet's expansion is "the list of codes that are in the value set"
  // (https://hl7.org/fhir/R4/valueset-definitions.html#ValueSet.expansion); one that is a page
  // of a larger one (offset, or fewer contains than total) is not complete either.
  const json::Value* expansion = value_set.Find("expansion");
  if (expansion == nullptr) return out;
  Members from;
  from.method = "expansion";
  if (const json::Value* contains = expansion->Find("contains")) FromExpansion(*contains, &from, 0);
  const json::Value* total = expansion->Find("total");
  const json::Value* offset = expansion->Find("offset");
  bool paged = (offset != nullptr && offset->number_text() != "0") ||
               (total != nullptr && total->number_text() != std::to_string(from.codes.size()));
  if (paged) {
    if (!out.codes.empty()) return out;  // keep the certain part of the compose
    from.complete = false;
    from.note = out.note + (out.note.empty() ? "" : "; ") +
                "the expansion in the resource is one page of the value set";
  }
  if (from.codes.size() > limit) {
    return Status(StatusCode::kUnprocessable,
                  "the value set has more than " + std::to_string(limit) + " codes",
                  {Issue{Severity::kError, "too-costly",
                         "value set larger than " + std::to_string(limit) + " codes", ""}});
  }
  return from;
}

}  // namespace vesta::terminology::internal
