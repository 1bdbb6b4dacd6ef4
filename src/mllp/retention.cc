// The retention of raw HL7 v2 messages (retention.h).
#include "mllp/retention.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "base/log.h"
#include "json/parse.h"
#include "json/writer.h"
#include "mllp/intake.h"
#include "mllp/record.h"

namespace vesta::mllp {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

std::string Tag(std::string_view system, std::string_view code) {
  return std::string(system) + "|" + std::string(code);
}

// The record `v` (the JSON of a stored version) as its next version: meta.versionId and
// meta.lastUpdated for `version` written at `now`, the tag urn:vesta:hl7v2:raw set to `raw_tag`,
// the raw message's extension left out, and the extensions saying when the text was removed and
// when the message was received added unless the record has them. Every other member is kept as
// it is, in its order.
std::string WithoutRaw(const json::Value& v, int64_t version, Micros now, Micros received,
                       std::string_view raw_tag) {
  std::string out = "{";
  bool first = true;
  auto key = [&](std::string_view k) {
    out += first ? "" : ",";
    first = false;
    json::WriteString(k, &out);
    out += ":";
  };
  bool has_purged = false, has_received = false;
  if (const json::Value* ext = v.Find("extension")) {
    for (const json::Value& e : ext->items()) {
      has_purged |= e.FindString("url") == kRawPurgedUrl;
      has_received |= e.FindString("url") == kReceivedUrl;
    }
  }
  for (const json::Member& m : v.members()) {
    if (m.key == "meta" && m.value.is_object()) {
      key("meta");
      std::string tag = R"({"system":")" + std::string(kRawTagSystem) + R"(","code":)";
      json::WriteString(raw_tag, &tag);
      out += NextMeta(m.value, version, now, kRawTagSystem, tag + "}");
    } else if (m.key == "extension") {
      key("extension");
      out += "[";
      bool any = false;
      for (const json::Value& e : m.value.items()) {
        if (e.FindString("url") == kRawUrl) continue;
        out += (any ? "," : "") + json::ToString(e);
        any = true;
      }
      if (!has_purged) {
        out += std::string(any ? "," : "") + R"({"url":")" + kRawPurgedUrl +
               R"(","valueDateTime":")" + FormatInstant(now) + "\"}";
        any = true;
      }
      if (!has_received) {
        out += std::string(any ? "," : "") + R"({"url":")" + kReceivedUrl +
               R"(","valueInstant":")" + FormatInstant(received) + "\"}";
      }
      out += "]";
    } else {
      key(m.key);
      out += json::ToString(m.value);
    }
  }
  return out + "}";
}

bool IsConflict(const Status& s) { return s.code() == StatusCode::kConflict; }

}  // namespace

Result<std::chrono::seconds> ParseRetention(std::string_view text) {
  auto bad = [&] {
    return Invalid("'" + std::string(text) +
                   "' is not a retention period: a whole number and s, m, h or d (30d, 12h), or 0");
  };
  if (text == "0") return std::chrono::seconds(0);
  if (text.size() < 2 || text.size() > 8) return bad();  // at most 7 digits: no overflow
  int64_t n = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return bad();
    n = n * 10 + (c - '0');
  }
  switch (text.back()) {
    case 's':
      return std::chrono::seconds(n);
    case 'm':
      return std::chrono::seconds(std::chrono::minutes(n));
    case 'h':
      return std::chrono::seconds(std::chrono::hours(n));
    case 'd':
      return std::chrono::seconds(std::chrono::hours(24 * n));
    default:
      return bad();
  }
}

RawPurge::RawPurge(store::Store& store, Clock& clock, int batch, const std::atomic<bool>* stop)
    : store_(store), clock_(clock), batch_(std::max(batch, 1)), stop_(stop) {}

Result<RawPurge::Outcome> RawPurge::PurgeOne(const store::StoredVersion& found) {
  if (found.deleted) return Outcome::kSkipped;
  ASSIGN_OR_RETURN(json::Document doc, json::Parse(found.json));
  if (StateOf(doc.root()) != "applied") return Outcome::kSkipped;  // replayed into another state
  const std::string raw_tag = TagCode(doc.root(), kRawTagSystem);
  if (raw_tag == "purged") return Outcome::kSkipped;
  // The message was received when its record was first written.
  Micros received = found.last_updated;
  if (found.version > 1 && raw_tag != "removed") {
    if (Result<store::StoredVersion> v1 = store_.ReadVersion("Basic", found.id, 1); v1.ok()) {
      received = v1->last_updated;
    }
  }
  store::StoredVersion current = found;
  // The next version of `current` tagged `tag`; false when another writer got there first.
  auto write = [&](std::string_view tag) -> Result<bool> {
    ASSIGN_OR_RETURN(json::Document now_doc, json::Parse(current.json));
    store::WriteOp op;
    op.kind = store::WriteKind::kUpdate;
    op.type = "Basic";
    op.id = found.id;
    op.expected_version = current.version;
    op.last_updated = clock_.Now();
    op.json = WithoutRaw(now_doc.root(), current.version + 1, op.last_updated, received, tag);
    Result<std::vector<store::WriteResult>> written = store_.Write({&op, 1});
    if (!written.ok()) {
      if (IsConflict(written.status())) return false;
      return written.status();
    }
    current.version = (*written)[0].version;
    current.last_updated = op.last_updated;
    current.json = std::move(op.json);
    return true;
  };
  // 1. The text leaves the current version (a record a stopped pass left `removed` has none).
  if (raw_tag != "removed") {
    ASSIGN_OR_RETURN(bool wrote, write("removed"));
    if (!wrote) return Outcome::kSkipped;
  }
  // 2. ... and every earlier one.
  RETURN_IF_ERROR(store_.ExpungeHistory("Basic", found.id).status());
  // 3. The record says so; 4. the version that said `removed` goes too.
  ASSIGN_OR_RETURN(bool wrote, write("purged"));
  if (!wrote) return Outcome::kSkipped;
  RETURN_IF_ERROR(store_.ExpungeHistory("Basic", found.id).status());
  return Outcome::kPurged;
}

Result<bool> RawPurge::PurgePage(Params params, std::string* cursor, PurgeCount* count) {
  store::SearchQuery q;
  q.types = {"Basic"};
  q.params = std::move(params);
  q.params.emplace_back("_count", std::to_string(batch_));
  if (!cursor->empty()) q.params.emplace_back("_cursor", *cursor);
  q.max_count = batch_;
  q.now = clock_.Now();
  ASSIGN_OR_RETURN(store::SearchPage page, store_.Search(q));
  for (const store::SearchHit& hit : page.entries) {
    if (hit.mode != store::SearchMode::kMatch) continue;
    if (Stopping()) return false;
    ASSIGN_OR_RETURN(Outcome outcome, PurgeOne(hit.version));
    ++(outcome == Outcome::kPurged ? count->purged : count->skipped);
  }
  *cursor = page.next_cursor;
  return !page.next_cursor.empty();
}

Result<PurgeCount> RawPurge::Run(Micros cutoff) {
  PurgeCount count;
  // What a stopped pass (here or on another node) left half done, whatever its age.
  const Params unfinished = {{"_tag", Tag(kRawTagSystem, "removed")}};
  // Applied messages whose text is kept, oldest first, last written before the cutoff.
  // https://hl7.org/fhir/R4/search.html#token (`:not`, `system|`), #lastUpdated, #_sort
  const Params due = {{"_tag", Tag(kStateSystem, "applied")},
                      {"_tag:not", Tag(kRawTagSystem, "")},
                      {"_lastUpdated", "lt" + FormatInstant(cutoff)},
                      {"_sort", "_lastUpdated"}};
  for (const Params* params : {&unfinished, &due}) {
    std::string cursor;
    for (;;) {
      ASSIGN_OR_RETURN(bool more, PurgePage(*params, &cursor, &count));
      if (!more || Stopping()) break;
    }
  }
  return count;
}

RetentionThread::RetentionThread(store::Store& store, Clock& clock, std::chrono::seconds retention)
    : store_(store), clock_(clock), retention_(retention) {}

std::chrono::seconds RetentionThread::Interval(std::chrono::seconds retention) {
  return std::max<std::chrono::seconds>(
      std::min<std::chrono::seconds>(std::chrono::hours(1), retention / 10),
      std::chrono::minutes(1));
}

void RetentionThread::Start() {
  worker_.Start([this] { return Pass(); });
}

std::chrono::microseconds RetentionThread::Pass() {
  RawPurge purge(store_, clock_, 100, &worker_.stop_flag());
  const Micros cutoff =
      clock_.Now() - std::chrono::duration_cast<std::chrono::microseconds>(retention_).count();
  Result<PurgeCount> done = purge.Run(cutoff);
  if (!done.ok()) {
    LogWarning("HL7 v2 retention: " + done.status().message());
  } else if (done->purged > 0 || done->skipped > 0) {
    LogInfo("HL7 v2 retention: the raw text of " + std::to_string(done->purged) +
            " message(s) received before " + FormatInstant(cutoff) + " removed" +
            (done->skipped > 0 ? ", " + std::to_string(done->skipped) + " changed meanwhile" : ""));
  }
  return Interval(retention_);
}

}  // namespace vesta::mllp
