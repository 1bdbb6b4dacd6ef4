#include "bulk/export_runner.h"

#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <unordered_set>

#include "base/strings.h"
#include "bulk/group_members.h"
#include "json/parse.h"
#include "json/writer.h"
#include "search/extract.h"
#include "search/registry.h"

namespace vesta::bulk {
namespace {

// One type's NDJSON files, opened when the first resource arrives and split every
// max_per_file lines.
class TypeFiles {
 public:
  // Files named [stem].ndjson, [stem].2.ndjson, ... holding resources of `type`.
  TypeFiles(std::string dir, std::string type, int64_t max_per_file, std::string stem = "")
      : dir_(std::move(dir)),
        type_(std::move(type)),
        stem_(stem.empty() ? type_ : std::move(stem)),
        max_(max_per_file) {}
  ~TypeFiles() { (void)Close(); }

  Status Add(std::string_view line) {
    if (file_ == nullptr || files_.back().count >= max_) {
      RETURN_IF_ERROR(Close());
      ExportFile f;
      f.type = type_;
      f.name = files_.empty() ? stem_ + ".ndjson"
                              : stem_ + "." + std::to_string(files_.size() + 1) + ".ndjson";
      const std::string path = dir_ + "/" + f.name;
      file_ = std::fopen(path.c_str(), "wbx");
      if (file_ == nullptr) return Internal("cannot create " + path);
      files_.push_back(std::move(f));
    }
    if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() ||
        std::fputc('\n', file_) == EOF) {
      return Internal("writing " + dir_ + "/" + files_.back().name + " failed (disk full?)");
    }
    ++files_.back().count;
    return Status::Ok();
  }

  Status Close() {
    if (file_ == nullptr) return Status::Ok();
    const bool ok = std::fflush(file_) == 0 && std::fclose(file_) == 0;
    file_ = nullptr;
    if (!ok) return Internal("closing " + dir_ + "/" + files_.back().name + " failed");
    return Status::Ok();
  }

  const std::vector<ExportFile>& files() const { return files_; }

 private:
  std::string dir_;
  std::string type_;
  std::string stem_;
  int64_t max_;
  std::FILE* file_ = nullptr;
  std::vector<ExportFile> files_;
};

std::string OutcomeLine(std::string_view severity, std::string_view code,
                        std::string_view diagnostics, std::string_view expression) {
  std::string out = R"({"resourceType":"OperationOutcome","issue":[{"severity":")";
  out += severity;
  out += R"(","code":")";
  out += code;
  out += R"(","diagnostics":)";
  json::WriteString(diagnostics, &out);
  if (!expression.empty()) {
    out += R"(,"expression":[)";
    json::WriteString(expression, &out);
    out += "]";
  }
  out += "}]}";
  return out;
}

class Exporter {
 public:
  Exporter(store::Store& store, const ExportSpec& spec, const RunOptions& options)
      : store_(store), spec_(spec), options_(options) {}

  Result<ExportResult> Run() {
    for (const std::string& name : spec_.ignored) {
      RETURN_IF_ERROR(Error("warning", "not-supported",
                            "the parameter '" + name +
                                "' is not supported and was ignored (Prefer: handling=lenient)",
                            name));
    }
    if (spec_.level == ExportLevel::kSystem) {
      for (const std::string& type : spec_.types) {
        RETURN_IF_ERROR(ExportType(type));
        RETURN_IF_ERROR(ExportDeleted(type));
      }
    } else {
      RETURN_IF_ERROR(ExportPatients());
    }
    ExportResult result;
    for (const std::string& type : spec_.types) {
      auto it = files_.find(type);
      if (it == files_.end()) continue;
      RETURN_IF_ERROR(it->second->Close());
      for (const ExportFile& f : it->second->files()) result.output.push_back(f);
    }
    for (const std::string& type : spec_.types) {
      auto it = deleted_.find(type);
      if (it == deleted_.end()) continue;
      RETURN_IF_ERROR(it->second->Close());
      for (const ExportFile& f : it->second->files()) result.deleted.push_back(f);
    }
    if (errors_) {
      RETURN_IF_ERROR(errors_->Close());
      result.errors = errors_->files();
    }
    return result;
  }

 private:
  Status Cancelled() const {
    if (options_.cancel != nullptr && options_.cancel->load()) {
      return Status(StatusCode::kUnavailable, "the export was cancelled");
    }
    return Status::Ok();
  }

  Status Error(std::string_view severity, std::string_view code, const std::string& message,
               std::string_view expression = {}) {
    if (!errors_) {
      errors_ =
          std::make_unique<TypeFiles>(options_.out_dir, "OperationOutcome", options_.max_per_file);
    }
    return errors_->Add(OutcomeLine(severity, code, message, expression));
  }

  Status Write(const store::StoredVersion& v) {
    auto it = files_.find(v.type);
    if (it == files_.end()) {
      it = files_
               .emplace(v.type, std::make_unique<TypeFiles>(options_.out_dir, v.type,
                                                            options_.max_per_file))
               .first;
    }
    if (options_.reduce) {
      Result<std::string> reduced = options_.reduce(v.json);
      if (!reduced.ok()) {
        return Error("error", "exception",
                     v.type + "/" + v.id +
                         " could not be reduced to _elements: " + reduced.status().message());
      }
      RETURN_IF_ERROR(it->second->Add(*reduced));
    } else {
      RETURN_IF_ERROR(it->second->Add(v.json));
    }
    if (options_.progress != nullptr) options_.progress->fetch_add(1);
    return Status::Ok();
  }

  // The searches of `type` as the spec narrows them: one per _typeFilter (their union), or one.
  std::vector<QueryList> Searches(const std::string& type) const {
    std::vector<QueryList> searches;
    auto f = spec_.type_filters.find(type);
    if (f == spec_.type_filters.end()) {
      searches.emplace_back();
    } else {
      searches = f->second;
    }
    auto a = spec_.access.find(type);
    for (QueryList& q : searches) {
      if (a != spec_.access.end())
        q.insert(q.end(), a->second.params.begin(), a->second.params.end());
      // _since: "resources will be included in the response if their state has changed after the
      // supplied time" (export.html#query-parameters).
      if (spec_.since) q.emplace_back("_lastUpdated", "gt" + FormatInstant(*spec_.since));
      // Resources changed after transactionTime are skipped as they are read (ForEachMatch):
      // as a search condition every page would collect the type's rows again.
    }
    return searches;
  }

  // Every match of `params` on `type` (in `compartment`, "" for none), page by page.
  template <typename Fn>
  Status ForEachMatch(const std::string& type, const QueryList& params,
                      const std::string& compartment, Fn&& fn) {
    std::string cursor;
    for (;;) {
      RETURN_IF_ERROR(Cancelled());
      store::SearchQuery q;
      q.types = {type};
      q.params = params;
      q.params.emplace_back("_count", std::to_string(options_.page_size));
      if (!cursor.empty()) q.params.emplace_back("_cursor", cursor);
      q.compartment_patient = compartment;
      q.strict = true;
      q.max_count = options_.page_size;
      q.now = options_.transaction_time;
      Result<store::SearchPage> page = store_.Search(q);
      if (!page.ok()) return page.status();
      for (const store::SearchHit& hit : page->entries) {
        if (hit.mode != store::SearchMode::kMatch) continue;
        if (hit.version.last_updated > options_.transaction_time) continue;
        RETURN_IF_ERROR(fn(hit.version));
      }
      if (page->next_cursor.empty()) return Status::Ok();
      cursor = std::move(page->next_cursor);
    }
  }

  // A system-level export of one type.
  Status ExportType(const std::string& type) {
    const std::vector<QueryList> searches = Searches(type);
    auto a = spec_.access.find(type);
    const std::string compartment = a == spec_.access.end() ? "" : a->second.compartment_patient;
    // Several _typeFilter searches may match the same resource; it is written once.
    std::unordered_set<std::string> seen;
    for (const QueryList& params : searches) {
      Status s = ForEachMatch(type, params, compartment, [&](const store::StoredVersion& v) {
        if (searches.size() > 1 && !seen.insert(v.id).second) return Status::Ok();
        return Write(v);
      });
      if (s.code() == StatusCode::kInvalid) {
        RETURN_IF_ERROR(Error("error", "invalid", type + ": " + s.message(), "_typeFilter"));
        continue;
      }
      RETURN_IF_ERROR(s);
    }
    return Status::Ok();
  }

  // export.html#response---complete-status, "deleted": with _since, the resources of `type`
  // deleted after it (and not created again), each as a transaction Bundle with one DELETE
  // entry, in [type].deleted.ndjson. Not for a type the token or a _typeFilter narrows: a deleted
  // resource cannot be tested against them any more.
  Status ExportDeleted(const std::string& type) {
    if (!spec_.since || spec_.access.count(type) || spec_.type_filters.count(type)) {
      return Status::Ok();
    }
    store::HistoryQuery q;
    q.type = type;
    q.since = *spec_.since + 1;  // changed after _since
    q.count = options_.page_size;
    std::unordered_set<std::string> done;
    for (;;) {
      RETURN_IF_ERROR(Cancelled());
      Result<store::HistoryPage> page = store_.History(q);
      if (!page.ok()) return page.status();
      for (const store::HistoryEntry& e : page->entries) {
        const store::StoredVersion& v = e.version;
        if (!v.deleted || v.last_updated > options_.transaction_time) continue;
        if (!done.insert(v.id).second) continue;
        Result<store::StoredVersion> current = store_.Read(type, v.id);
        if (!current.ok() || !current->deleted) continue;  // created again since
        auto it = deleted_.find(type);
        if (it == deleted_.end()) {
          it = deleted_
                   .emplace(type,
                            std::make_unique<TypeFiles>(options_.out_dir, "Bundle",
                                                        options_.max_per_file, type + ".deleted"))
                   .first;
        }
        std::string line =
            R"({"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"DELETE","url":)";
        json::WriteString(type + "/" + v.id, &line);
        line += "}}]}";
        RETURN_IF_ERROR(it->second->Add(line));
      }
      if (!page->has_more || page->entries.empty()) return Status::Ok();
      q.after = page->entries.back().cursor;
    }
  }

  // Patient- and group-level exports: the compartment of each patient in turn.
  Status ExportPatients() {
    RETURN_IF_ERROR(ResolvePatients());
    // A type the store holds none of (changed since _since) is not searched once per patient.
    std::vector<std::string> held;
    for (const std::string& type : spec_.types) {
      store::SearchQuery q;
      q.types = {type};
      if (spec_.since) q.params.emplace_back("_lastUpdated", "gt" + FormatInstant(*spec_.since));
      q.params.emplace_back("_count", "1");
      q.strict = true;
      q.now = options_.transaction_time;
      Result<store::SearchPage> page = store_.Search(q);
      if (!page.ok()) return page.status();
      if (!page->entries.empty() || type == "Patient") held.push_back(type);
    }
    types_ = std::move(held);
    if (spec_.level == ExportLevel::kPatient && !restricted_) {
      // Every patient: the Patient search (narrowed by the token, `patient` not given) pages
      // through them.
      auto a = spec_.access.find("Patient");
      QueryList params;
      if (a != spec_.access.end()) params = a->second.params;
      return ForEachMatch("Patient", params, "",
                          [&](const store::StoredVersion& p) { return ExportPatient(p.id); });
    }
    for (const std::string& id : members_order_) RETURN_IF_ERROR(ExportPatient(id));
    return Status::Ok();
  }

  // The patients of a group, or the `patient` parameter's, or the token's one patient.
  Status ResolvePatients() {
    std::set<std::string> allowed(spec_.patients.begin(), spec_.patients.end());
    bool limited = !spec_.patients.empty();
    auto a = spec_.access.find("Patient");
    if (a != spec_.access.end()) {
      for (const auto& [k, v] : a->second.params) {
        if (k != "_id") continue;
        // A patient/ token: its own patient only.
        if (limited && !allowed.count(v)) {
          allowed.clear();
        } else {
          allowed = {v};
        }
        limited = true;
      }
    }
    if (spec_.level == ExportLevel::kGroup) {
      ASSIGN_OR_RETURN(members_order_,
                       GroupPatients(store_, spec_.group_id,
                                     [this](std::string_view severity, std::string_view code,
                                            const std::string& message) {
                                       return Error(severity, code, message);
                                     }));
      if (limited) {
        std::vector<std::string> kept;
        for (const std::string& id : members_order_) {
          if (allowed.count(id)) kept.push_back(id);
        }
        members_order_ = std::move(kept);
      }
      restricted_ = true;
    } else if (limited) {
      for (const std::string& id : allowed) {
        Result<store::StoredVersion> p = store_.Read("Patient", id);
        if (!p.ok() || p->deleted) {
          RETURN_IF_ERROR(
              Error("error", "not-found", "Patient/" + id + " is not known", "patient"));
          continue;
        }
        members_order_.push_back(id);
      }
      restricted_ = true;
    }
    members_.insert(members_order_.begin(), members_order_.end());
    return Status::Ok();
  }

  // Whether a patient is one this export covers (for resources in several compartments).
  bool Covered(const std::string& id) {
    if (restricted_) return members_.count(id) > 0;
    auto [it, inserted] = covered_cache_.emplace(id, false);
    if (inserted) {
      Result<store::StoredVersion> p = store_.Read("Patient", id);
      it->second = p.ok() && !p->deleted;
      if (covered_cache_.size() > 100000) covered_cache_.clear();
    }
    return it->second;
  }

  // A resource in several patients' compartments (an Observation whose subject is one patient
  // and performer another) is written once: with the first of its covered patients in id order.
  Result<bool> WrittenWith(const store::StoredVersion& v, const std::string& patient) {
    const std::string_view body = v.json;
    size_t first = body.find("Patient/");
    if (first == std::string_view::npos ||
        body.find("Patient/", first + 1) == std::string_view::npos) {
      return true;  // at most one patient reference: only this compartment holds it
    }
    Result<json::Document> doc = json::Parse(body);
    if (!doc.ok()) return doc.status();
    const search::IndexRows rows =
        search::ExtractIndexRows(search::Registry::Active(), doc->root());
    for (const std::string& other : rows.patients) {
      if (other < patient && Covered(other)) return false;
    }
    return true;
  }

  Status ExportPatient(const std::string& patient) {
    for (const std::string& type : types_) {
      const std::vector<QueryList> searches = Searches(type);
      std::unordered_set<std::string> seen;
      for (QueryList params : searches) {
        std::string compartment = patient;
        if (type == "Patient") {
          params.emplace_back("_id", patient);
          compartment.clear();
        }
        Status s = ForEachMatch(type, params, compartment, [&](const store::StoredVersion& v) {
          if (searches.size() > 1 && !seen.insert(v.id).second) return Status::Ok();
          if (type != "Patient") {
            ASSIGN_OR_RETURN(bool mine, WrittenWith(v, patient));
            if (!mine) return Status::Ok();
          }
          return Write(v);
        });
        if (s.code() == StatusCode::kInvalid) {
          if (reported_invalid_.insert(type).second) {
            RETURN_IF_ERROR(Error("error", "invalid", type + ": " + s.message(), "_typeFilter"));
          }
          continue;
        }
        RETURN_IF_ERROR(s);
      }
    }
    return Status::Ok();
  }

  store::Store& store_;
  const ExportSpec& spec_;
  const RunOptions& options_;
  std::map<std::string, std::unique_ptr<TypeFiles>> files_;
  std::map<std::string, std::unique_ptr<TypeFiles>> deleted_;  // by the deleted resources' type
  std::unique_ptr<TypeFiles> errors_;
  bool restricted_ = false;                 // members_ lists every covered patient
  std::vector<std::string> members_order_;  // covered patients, in group order
  std::set<std::string> members_;
  std::map<std::string, bool> covered_cache_;
  std::set<std::string> reported_invalid_;
  std::vector<std::string> types_;  // patient level: the spec's types the store holds
};

}  // namespace

Result<ExportResult> RunExport(store::Store& store, const ExportSpec& spec,
                               const RunOptions& options) {
  Exporter exporter(store, spec, options);
  return exporter.Run();
}

}  // namespace vesta::bulk
