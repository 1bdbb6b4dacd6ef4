#include "mllp/intake.h"

#include <condition_variable>
#include <map>
#include <set>

#include "base/strings.h"
#include "fhir/datetime.h"
#include "fhir/model/model.h"
#include "hl7v2/ack.h"
#include "hl7v2/parse.h"
#include "json/parse.h"
#include "json/writer.h"
#include "mllp/message_id.h"
#include "mllp/record.h"
#include "search/registry.h"

namespace vesta::mllp {
namespace {

// Messages being processed, by id: a duplicate that arrives meanwhile (on another connection)
// waits for the first to finish instead of applying it a second time.
class InFlight {
 public:
  void Enter(const std::string& id) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !ids_.count(id); });
    ids_.insert(id);
  }
  void Leave(const std::string& id) {
    {
      std::lock_guard lock(mu_);
      ids_.erase(id);
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> ids_;
};

InFlight& Processing() {
  static InFlight* in_flight = new InFlight();
  return *in_flight;
}

// The length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no overlong forms, surrogates
// or code points past U+10FFFF); 0 when there is none.
size_t Utf8SequenceAt(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  size_t more = 0;
  uint32_t cp = 0, min = 0;
  if ((c & 0xE0) == 0xC0) {
    more = 1, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    more = 2, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    more = 3, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + more >= s.size()) return 0;
  for (size_t k = 1; k <= more; ++k) {
    const auto d = static_cast<unsigned char>(s[i + k]);
    if ((d & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (d & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return more + 1;
}

// True when `s` is well-formed UTF-8, as a JSON string must be.
bool IsUtf8(std::string_view s) {
  for (size_t i = 0, n = 0; i < s.size(); i += n) {
    if ((n = Utf8SequenceAt(s, i)) == 0) return false;
  }
  return true;
}

// True when `s` can be kept as a FHIR string as it is: UTF-8 without control characters other
// than tab, CR and LF (https://hl7.org/fhir/R4/datatypes.html#string). HL7 v2 text is, in UTF-8
// or ASCII feeds; a message in another character set is kept in base64.
bool IsPlainText(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return IsUtf8(s);
}

// An extension holding `bytes` ({"url":...,"valueString":...} or valueBase64Binary), the text
// readable in the record whenever it can be a string.
void AppendTextExtension(std::string_view url, std::string_view bytes, std::string* out) {
  *out += R"({"url":)";
  json::WriteString(url, out);
  if (IsPlainText(bytes)) {
    *out += R"(,"valueString":)";
    json::WriteString(bytes, out);
  } else {
    *out += R"(,"valueBase64Binary":)";
    json::WriteString(Base64Encode(bytes), out);
  }
  *out += "}";
}

// `s` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD.
std::string AsUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8SequenceAt(s, i);
    if (n == 0) {
      out.append("\xEF\xBF\xBD");
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

// HL7 table 0008 (http://terminology.hl7.org/CodeSystem/v2-0008), the displays of its codes.
std::string_view AckCodeDisplay(std::string_view code) {
  if (code == "AA")
    return "Original mode: Application Accept - Enhanced mode: Application acknowledgment: Accept";
  if (code == "AE")
    return "Original mode: Application Error - Enhanced mode: Application acknowledgment: Error";
  if (code == "AR")
    return "Original mode: Application Reject - Enhanced mode: Application acknowledgment: Reject";
  if (code == "CA") return "Enhanced mode: Accept acknowledgment: Commit Accept";
  if (code == "CE") return "Enhanced mode: Accept acknowledgment: Commit Error";
  if (code == "CR") return "Enhanced mode: Accept acknowledgment: Commit Reject";
  return "";
}

// The extension urn:vesta:hl7v2:ack for `ack` (intake.h), as JSON.
std::string AckExtension(const SentAck& ack) {
  std::string out = R"({"url":")" + std::string(kAckUrl) + R"(","extension":[)";
  out +=
      R"({"url":"code","valueCoding":{"system":"http://terminology.hl7.org/CodeSystem/v2-0008","code":)";
  json::WriteString(ack.code, &out);
  if (std::string_view display = AckCodeDisplay(ack.code); !display.empty()) {
    out += R"(,"display":)";
    json::WriteString(display, &out);
  }
  out += "}}";
  if (!ack.text.empty()) {
    out += R"(,{"url":"text","valueString":)";
    json::WriteString(AsUtf8(ack.text), &out);
    out += "}";
  }
  out += ",";
  AppendTextExtension("message", ack.message, &out);
  return out + "]}";
}

// The ACK a record keeps; empty when it has none (records written before ACKs were kept).
SentAck AckOf(const json::Value& basic) {
  SentAck ack;
  const json::Value* ext = basic.Find("extension");
  if (ext == nullptr) return ack;
  for (const json::Value& e : ext->items()) {
    if (e.FindString("url") != kAckUrl) continue;
    const json::Value* parts = e.Find("extension");
    if (parts == nullptr) continue;
    for (const json::Value& p : parts->items()) {
      const std::string_view url = p.FindString("url");
      if (url == "code") {
        if (const json::Value* coding = p.Find("valueCoding")) {
          ack.code = std::string(coding->FindString("code"));
        }
      } else if (url == "text") {
        ack.text = std::string(p.FindString("valueString"));
      } else if (url == "message") {
        ack.message = std::string(p.FindString("valueString"));
        if (std::string_view b = p.FindString("valueBase64Binary"); !b.empty()) {
          ack.message = Base64Decode(b).value_or("");
        }
      }
    }
  }
  return ack;
}

// A record whose raw message the retention removed (intake.h, retention.h): its type from
// code.text ("HL7 v2 ADT^A01"), its sender and control id from its identifier
// (hl7v2::MessageIdentifier: "MSH-3|MSH-4|MSH-10"), its time of receipt from its extension.
void DescribePurged(const json::Value& basic, StoredMessage* m) {
  if (const json::Value* code = basic.Find("code")) {
    std::string_view text = code->FindString("text");
    if (text.starts_with("HL7 v2 ")) m->type = std::string(text.substr(7));
  }
  if (const json::Value* ids = basic.Find("identifier")) {
    for (const json::Value& i : ids->items()) {
      if (i.FindString("system") != hl7v2::kMessageIdentifierSystem) continue;
      const std::string_view value = i.FindString("value");
      const size_t first = value.find('|');
      const size_t second = first == std::string_view::npos ? first : value.find('|', first + 1);
      if (second == std::string_view::npos) continue;
      m->sender = std::string(value.substr(0, first)) + "^" +
                  std::string(value.substr(first + 1, second - first - 1));
      m->control_id = std::string(value.substr(second + 1));
    }
  }
  if (const json::Value* ext = basic.Find("extension")) {
    for (const json::Value& e : ext->items()) {
      const std::string_view url = e.FindString("url");
      Micros* into = url == kReceivedUrl    ? &m->received
                     : url == kRawPurgedUrl ? &m->raw_purged
                                            : nullptr;
      if (into == nullptr) continue;
      std::string_view when = e.FindString(url == kReceivedUrl ? "valueInstant" : "valueDateTime");
      if (Result<fhir::TimeRange> t = fhir::ParseTimeRange(when); t.ok()) *into = t->low;
    }
  }
}

// The Basic resource that keeps a message (intake.h); `ack` is left out when it has no message,
// the application ACK when there is none.
std::string BasicJson(const std::string& id, const hl7v2::Header& h, std::string_view raw,
                      const std::string& state, const std::string& reason, const SentAck& ack,
                      Micros received, int64_t version, Micros last_updated,
                      const AppAck* app_ack) {
  std::string out = R"({"resourceType":"Basic","id":)";
  json::WriteString(id, &out);
  out += R"(,"meta":{"versionId":")" + std::to_string(version) + R"(","lastUpdated":")" +
         FormatInstant(last_updated) + R"(","tag":[{"system":")" + std::string(kStateSystem) +
         R"(","code":)";
  json::WriteString(state, &out);
  out += "}";
  if (app_ack != nullptr) out += "," + AppAckTag(*app_ack);
  out += R"(]},"extension":[)";
  AppendTextExtension(kRawUrl, raw, &out);
  if (!reason.empty()) {
    out += R"(,{"url":")" + std::string(kReasonUrl) + R"(","valueString":)";
    json::WriteString(AsUtf8(reason), &out);
    out += "}";
  }
  if (!ack.message.empty()) out += "," + AckExtension(ack);
  if (app_ack != nullptr) out += "," + AppAckExtension(*app_ack);
  out += R"(],"identifier":[{"system":")" + std::string(hl7v2::kMessageIdentifierSystem) +
         R"(","value":)";
  json::WriteString(AsUtf8(hl7v2::MessageIdentifier(h)), &out);
  out += R"(}],"code":{"coding":[{"system":")" + std::string(kMessageCodeSystem) +
         R"(","code":"message"}],"text":)";
  std::string type = h.message_code;
  if (!h.trigger_event.empty()) type += "^" + h.trigger_event;
  json::WriteString(type.empty() ? "HL7 v2 message" : "HL7 v2 " + type, &out);
  out += R"(},"created":")" + FormatInstant(received).substr(0, 10) + R"("})";
  return out;
}

// `bundle` (a transaction Bundle's JSON) with one more entry: `resource` created at `url` (PUT
// with ifNoneMatch *: the transaction fails with 412 when `url` exists already).
Result<std::string> AddEntry(const std::string& bundle, const std::string& resource,
                             const std::string& url) {
  std::string entry = R"({"resource":)" + resource + R"(,"request":{"method":"PUT","url":)";
  json::WriteString(url, &entry);
  entry += R"(,"ifNoneMatch":"*"}})";
  // The mapping's compact Bundle (hl7v2::MapToFhir) opens with this and ends with its entry
  // array, its last member: the entry goes in before the closing "]}", without reading and
  // writing the whole Bundle again. Any other Bundle is parsed.
  static constexpr std::string_view kMapped =
      R"({"resourceType":"Bundle","type":"transaction","entry":[)";
  if (bundle.starts_with(kMapped) && bundle.ends_with("]}")) {
    std::string out;
    out.reserve(bundle.size() + entry.size() + 1);
    out.append(bundle, 0, bundle.size() - 2);
    if (bundle.size() > kMapped.size() + 2) out += ',';
    return out + entry + "]}";
  }
  ASSIGN_OR_RETURN(json::Document doc, json::Parse(bundle));
  std::string out = "{";
  bool first = true, added = false;
  for (const json::Member& m : doc.root().members()) {
    out += first ? "" : ",";
    first = false;
    json::WriteString(m.key, &out);
    out += ":";
    if (m.key == "entry" && m.value.is_array()) {
      out += "[";
      for (const json::Value& e : m.value.items()) out += json::ToString(e) + ",";
      out += entry + "]";
      added = true;
    } else {
      out += json::ToString(m.value);
    }
  }
  if (!added) out += std::string(first ? "" : ",") + R"("entry":[)" + entry + "]";
  return out + "}";
}

hl7v2::Error InternalError(const std::string& message) {
  hl7v2::Error e;
  e.code = hl7v2::ErrorCode::kApplicationInternalError;
  e.message = message;
  return e;
}

// HL7 table 0357, 200: unsupported message type; rejected (2.9.2: MSH-9 not accepted).
hl7v2::Error UnsupportedTypeError(const std::string& message) {
  hl7v2::Error e = InternalError(message);
  e.code = hl7v2::ErrorCode::kUnsupportedMessageType;
  e.location.segment_id = "MSH";
  e.location.segment_sequence = 1;
  e.location.field = 9;
  return e;
}

}  // namespace

Intake::Intake(store::Store& store, Clock& clock, MapFunction map, ApplyFunction apply)
    : store_(store), clock_(clock), map_(std::move(map)), apply_(std::move(apply)) {
  static const AppAckRoutes* none = new AppAckRoutes();
  app_ack_routes_ = none;
}

void Intake::SetAppAckRoutes(const AppAckRoutes* routes, std::function<void()> on_pending) {
  app_ack_routes_ = routes;
  on_app_ack_pending_ = std::move(on_pending);
}

std::string Intake::NextControlId() {
  std::lock_guard lock(id_mu_);
  return "VESTA" + std::to_string(clock_.Now()) + "-" + std::to_string(++ack_counter_);
}

SentAck Intake::Ack(const hl7v2::Header& header, const Applied& result) {
  // HL7 v2.5.1 2.9.2 / 2.9.3: one original-mode ACK, or in enhanced mode the commit ACK (the
  // message is in safe storage once Receive answers) when MSH-15 asks for it, else the
  // application ACK when MSH-16 does.
  hl7v2::AckRequest request;
  request.outcome = result.outcome;
  request.errors = result.errors;
  if (hl7v2::ModeOf(header) == hl7v2::AckMode::kEnhanced) {
    const hl7v2::Outcome commit = result.stored ? hl7v2::Outcome::kAccept : hl7v2::Outcome::kReject;
    if (hl7v2::ShouldSend(hl7v2::AcceptAckCondition(header), commit)) {
      request.kind = hl7v2::AckKind::kCommit;
      request.outcome = commit;
      if (result.stored) request.errors.clear();
    } else if (hl7v2::ShouldSend(hl7v2::ApplicationAckCondition(header), result.outcome)) {
      request.kind = hl7v2::AckKind::kApplication;
    } else {
      // Neither is asked for (NE and NE, or SU/ER conditions not met). The MLLP transport still
      // answers every message (HL7 MLLP Release 2: each message gets a commit acknowledgment
      // or a negative one), and a sender waits for it: the commit ACK.
      request.kind = hl7v2::AckKind::kCommit;
      request.outcome = commit;
      if (result.stored) request.errors.clear();
    }
  }
  hl7v2::AckOptions options;
  options.control_id = NextControlId();
  const std::string now = FormatInstant(clock_.Now());  // 2026-12-07T16:48:50.155338Z
  options.date_time = now.substr(0, 4) + now.substr(5, 2) + now.substr(8, 2) + now.substr(11, 2) +
                      now.substr(14, 2) + now.substr(17, 2) + "+0000";
  SentAck ack;
  ack.message = hl7v2::BuildAck(header, request, options);
  ack.code = std::string(hl7v2::AckCode(request.kind, request.outcome));
  for (const hl7v2::Error& e : request.errors) {
    if (e.message.empty()) continue;
    ack.text += (ack.text.empty() ? "" : "; ") + e.message;
  }
  return ack;
}

std::optional<AppAck> Intake::LaterAppAck(const hl7v2::Header& header, const Applied& result,
                                          const SentAck& sent) {
  // HL7 v2.5.1 §2.9.3: the commit ACK answers the connection once the message is in safe
  // storage; the application ACK, when MSH-16 asks for one for this outcome (table 0155), is
  // sent afterwards as a message of its own (app_ack.h). A message not stored (CR) gets none:
  // its sender sends it again.
  if (hl7v2::ModeOf(header) != hl7v2::AckMode::kEnhanced || !result.stored ||
      sent.code != hl7v2::AckCode(hl7v2::AckKind::kCommit, hl7v2::Outcome::kAccept) ||
      !hl7v2::ShouldSend(hl7v2::ApplicationAckCondition(header), result.outcome)) {
    return std::nullopt;
  }
  hl7v2::AckRequest request;
  request.kind = hl7v2::AckKind::kApplication;
  request.outcome = result.outcome;
  request.errors = result.errors;
  hl7v2::AckOptions options;
  options.control_id = NextControlId();
  const std::string now = FormatInstant(clock_.Now());  // 2026-12-07T16:48:50.155338Z
  options.date_time = now.substr(0, 4) + now.substr(5, 2) + now.substr(8, 2) + now.substr(11, 2) +
                      now.substr(14, 2) + now.substr(17, 2) + "+0000";
  return NewAppAck(*app_ack_routes_, header, hl7v2::BuildAck(header, request, options),
                   std::string(hl7v2::AckCode(request.kind, request.outcome)));
}

std::string Intake::Receive(std::string_view text) {
  hl7v2::Error parse_error;
  Result<hl7v2::Message> message = hl7v2::Parse(text, &parse_error);
  const hl7v2::Header header = message.ok() ? message->header() : hl7v2::SalvageHeader(text);
  const Micros now = clock_.Now();
  const std::string id = MessageId(header, text);
  if (!message.ok()) {
    // Not a message this server can take: AR with the parse error. It is kept (state rejected),
    // with that ACK, unless it has no control id to be kept under.
    Applied rejected{hl7v2::Outcome::kReject, {parse_error}, !header.control_id.empty(), {}, {}};
    SentAck ack = Ack(header, rejected);
    if (!header.control_id.empty()) {
      std::optional<AppAck> app_ack = LaterAppAck(header, rejected, ack);
      store::WriteOp op;
      op.type = "Basic";
      op.id = id;
      op.last_updated = now;
      op.json = BasicJson(id, header, text, "rejected", message.status().message(), ack, now, 1,
                          now, app_ack ? &*app_ack : nullptr);
      // A resend of the same bad message is already kept (with its application ACK, if any).
      if (store_.Write({&op, 1}).ok() && app_ack && app_ack->state == AppAckState::kPending &&
          on_app_ack_pending_) {
        on_app_ack_pending_();
      }
    }
    return ack.message;
  }
  Processing().Enter(id);
  // No look-up first: the record is a create-only entry of the message's own transaction, which
  // fails when the message is already stored (a duplicate); only then is the record read. A
  // store written before the ids began with the message's time and control id may keep this
  // message under its earlier id: there, that id is read first.
  Applied result;
  const std::string legacy = HasLegacyRecords() ? LegacyMessageId(header, text) : "";
  if (Result<store::StoredVersion> old = legacy.empty() ? Result<store::StoredVersion>(NotFound(""))
                                                        : store_.Read("Basic", legacy);
      old.ok() || old.status().code() != StatusCode::kNotFound) {
    result = AnswerStored(*message, legacy);
  } else {
    result = ProcessNew(*message, text, id, now);
  }
  Processing().Leave(id);
  if (result.app_ack && result.app_ack->state == AppAckState::kPending && on_app_ack_pending_) {
    on_app_ack_pending_();
  }
  return result.ack.message.empty() ? Ack(header, result).message : result.ack.message;
}

bool Intake::HasLegacyRecords() {
  std::call_once(legacy_checked_, [this] {
    // The oldest record: records are never removed (the retention keeps their ids), so a store
    // that has any record under an earlier id has its oldest one under such an id.
    store::SearchQuery q;
    q.types = {"Basic"};
    q.params = {
        {"_tag", std::string(kStateSystem) + "|"}, {"_sort", "_lastUpdated"}, {"_count", "1"}};
    q.max_count = 1;
    q.now = clock_.Now();
    Result<store::SearchPage> page = store_.Search(q);
    // Unreadable: the earlier ids are read too, as a store with such records needs.
    legacy_records_ = !page.ok();
    if (page.ok()) {
      for (const store::SearchHit& hit : page->entries) {
        const std::string& id = hit.version.id;
        legacy_records_ =
            legacy_records_ || (id.size() == 43 && id.find('-', 3) == std::string::npos);
      }
    }
  });
  return legacy_records_;
}

Intake::Applied Intake::AnswerStored(const hl7v2::Message& message, const std::string& id) {
  Applied result;
  Result<store::StoredVersion> stored = store_.Read("Basic", id);
  if (!stored.ok() || stored->deleted) {
    // Not readable: rejected, so that the sender keeps it and retries.
    return Applied{
        hl7v2::Outcome::kReject,
        {InternalError("the message could not be looked up: " +
                       (stored.ok() ? std::string("deleted") : stored.status().message()))},
        false,
        {},
        {}};
  }
  Result<json::Document> doc = json::Parse(stored->json);
  const std::string state = doc.ok() ? StateOf(doc->root()) : "";
  if (state == "received") {
    result = Process(message, *stored, Answer::kSender);
  } else if (state == "dead-letter") {
    // A duplicate of a dead letter: the same answer again.
    result.outcome = hl7v2::Outcome::kError;
    result.errors.push_back(InternalError(ExtensionString(doc->root(), kReasonUrl)));
  } else if (state == "rejected") {
    result.outcome = hl7v2::Outcome::kReject;
    hl7v2::Error e = InternalError(ExtensionString(doc->root(), kReasonUrl));
    e.code = hl7v2::ErrorCode::kUnsupportedMessageType;
    result.errors.push_back(e);
  }
  // "applied": a duplicate of an applied message; AA again, nothing applied twice. A
  // duplicate's ACK (its own control id and time) is not kept: the record keeps the first.
  return result;
}

Intake::Applied Intake::StoreNew(const hl7v2::Message& message, const std::string& id,
                                 std::string_view text, const std::string& state,
                                 const std::string& reason, Applied result, Micros now) {
  const hl7v2::Header& header = message.header();
  result.ack = Ack(header, result);
  result.app_ack = LaterAppAck(header, result, result.ack);
  store::WriteOp op;
  op.type = "Basic";
  op.id = id;
  op.last_updated = now;  // a create: fails with kConflict when the message is stored already
  op.json = BasicJson(id, header, text, state, reason, result.ack, now, 1, now,
                      result.app_ack ? &*result.app_ack : nullptr);
  if (Status written = store_.Write({&op, 1}).status(); !written.ok()) {
    if (written.code() == StatusCode::kConflict) return AnswerStored(message, id);
    // Not in safe storage: the answer says so (CR in enhanced mode), and nothing is kept.
    result.stored = false;
    result.ack = Ack(header, result);
    result.app_ack.reset();
  }
  return result;
}

Intake::Applied Intake::ProcessNew(const hl7v2::Message& message, std::string_view text,
                                   const std::string& id, Micros now) {
  const hl7v2::Header& header = message.header();
  Applied result;
  Result<std::string> bundle = map_(message, "Basic/" + id);
  if (!bundle.ok()) {
    if (bundle.status().code() == StatusCode::kNotSupported) {
      result.outcome = hl7v2::Outcome::kReject;
      result.errors.push_back(UnsupportedTypeError(bundle.status().message()));
      return StoreNew(message, id, text, "rejected", bundle.status().message(), std::move(result),
                      now);
    }
    result.outcome = hl7v2::Outcome::kError;
    result.errors.push_back(InternalError(bundle.status().message()));
    return StoreNew(message, id, text, "dead-letter", "mapping: " + bundle.status().message(),
                    std::move(result), now);
  }
  // The message's record, in state applied and with the ACK that says so, is one more entry of
  // its own transaction: applied, recorded and its answer kept in one commit, so that a message
  // is in safe storage before its ACK either way (applied with its record, or kept as a dead
  // letter below). The entry creates the record only (ifNoneMatch *): a message stored already
  // (a duplicate, on this connection or another node) fails the whole transaction, and nothing
  // is applied twice.
  result.ack = Ack(header, result);
  result.app_ack = LaterAppAck(header, result, result.ack);
  Result<std::string> with_record =
      AddEntry(*bundle,
               BasicJson(id, header, text, "applied", "", result.ack, now, 1, now,
                         result.app_ack ? &*result.app_ack : nullptr),
               "Basic/" + id);
  Status applied = with_record.ok() ? apply_(*with_record) : with_record.status();
  if (!applied.ok()) {
    // Failed because the record exists (a duplicate)? Then it answers; else a dead letter.
    Result<store::StoredVersion> stored = store_.Read("Basic", id);
    if (stored.ok() || stored.status().code() != StatusCode::kNotFound) {
      return AnswerStored(message, id);
    }
  }
  if (applied.ok() && header.message_code == "ADT" && header.trigger_event == "A40") {
    Status moved = MoveMergedReferences(*bundle);
    if (!moved.ok()) {
      // The merge itself is applied and recorded; the references stay where they were. The
      // record's ACK becomes the one sent.
      result.outcome = hl7v2::Outcome::kError;
      result.errors.push_back(InternalError(moved.message()));
      result.ack = Ack(header, result);
      result.app_ack = LaterAppAck(header, result, result.ack);
      if (Result<store::StoredVersion> v = store_.Read("Basic", id); v.ok()) {
        (void)SetState(*v, "applied", "", &result.ack, result.app_ack ? &*result.app_ack : nullptr);
      }
    }
    return result;
  }
  if (!applied.ok()) {
    result.outcome = hl7v2::Outcome::kError;
    result.errors.push_back(InternalError("applying the mapped transaction: " + applied.message()));
    return StoreNew(message, id, text, "dead-letter", "applying: " + applied.message(),
                    std::move(result), now);
  }
  return result;
}

Intake::Applied Intake::Process(const hl7v2::Message& message, const store::StoredVersion& stored,
                                Answer answer) {
  Applied result;
  // The state recorded with the ACK that answers it, when one is sent.
  auto record = [&](const std::string& state, const std::string& reason) {
    if (answer == Answer::kSender) {
      result.ack = Ack(message.header(), result);
      result.app_ack = LaterAppAck(message.header(), result, result.ack);
    }
    return SetState(stored, state, reason, answer == Answer::kSender ? &result.ack : nullptr,
                    result.app_ack ? &*result.app_ack : nullptr);
  };
  Result<std::string> bundle = map_(message, "Basic/" + stored.id);
  if (!bundle.ok()) {
    if (bundle.status().code() == StatusCode::kNotSupported) {
      result.outcome = hl7v2::Outcome::kReject;
      result.errors.push_back(UnsupportedTypeError(bundle.status().message()));
      (void)record("rejected", bundle.status().message());
    } else {
      result.outcome = hl7v2::Outcome::kError;
      result.errors.push_back(InternalError(bundle.status().message()));
      (void)record("dead-letter", "mapping: " + bundle.status().message());
    }
    return result;
  }
  Status applied = apply_(*bundle);
  if (applied.ok() && message.header().message_code == "ADT" &&
      message.header().trigger_event == "A40") {
    applied = MoveMergedReferences(*bundle);
  }
  if (!applied.ok()) {
    result.outcome = hl7v2::Outcome::kError;
    result.errors.push_back(InternalError("applying the mapped transaction: " + applied.message()));
    (void)record("dead-letter", "applying: " + applied.message());
    return result;
  }
  if (Status s = record("applied", ""); !s.ok()) {
    // Applied, but the state could not be recorded: a resend would apply it again; say so.
    result.outcome = hl7v2::Outcome::kError;
    result.errors.push_back(
        InternalError("applied, but its state was not recorded: " + s.message()));
    result.ack = {};
  }
  return result;
}

namespace {

// The one Patient a conditional URL of the mapped Bundle ("Patient?identifier=SYSTEM|VALUE")
// finds now; "" when none or several.
Result<std::string> FindPatient(store::Store& store, std::string_view url, Micros now) {
  const size_t q = url.find('?');
  if (q == std::string_view::npos) return std::string();
  std::optional<std::vector<std::pair<std::string, std::string>>> pairs =
      ParseFormPairs(url.substr(q + 1));
  if (!pairs) return std::string();
  store::SearchQuery query;
  query.types = {"Patient"};
  query.params = *pairs;
  query.params.emplace_back("_count", "2");
  query.now = now;
  ASSIGN_OR_RETURN(store::SearchPage page, store.Search(query));
  std::vector<std::string> ids;
  for (const store::SearchHit& hit : page.entries) {
    if (hit.mode == store::SearchMode::kMatch) ids.push_back(hit.version.id);
  }
  return ids.size() == 1 ? ids[0] : std::string();
}

}  // namespace

Status Intake::MoveMergedReferences(const std::string& bundle) {
  // The merge as the mapping wrote it: the old Patient's entry links `replaced-by` the
  // surviving one's (https://hl7.org/fhir/R4/patient.html#links; v2-to-FHIR: ADT_A40 to Bundle).
  ASSIGN_OR_RETURN(json::Document doc, json::Parse(bundle));
  std::map<std::string, std::string> url_of;                // fullUrl -> request.url
  std::vector<std::pair<std::string, std::string>> merges;  // (old url, survivor fullUrl)
  if (const json::Value* entries = doc.root().Find("entry")) {
    for (const json::Value& e : entries->items()) {
      const json::Value* request = e.Find("request");
      const json::Value* resource = e.Find("resource");
      if (request == nullptr || resource == nullptr) continue;
      url_of[std::string(e.FindString("fullUrl"))] = std::string(request->FindString("url"));
      if (resource->FindString("resourceType") != "Patient") continue;
      if (const json::Value* links = resource->Find("link")) {
        for (const json::Value& l : links->items()) {
          if (l.FindString("type") != "replaced-by") continue;
          const json::Value* other = l.Find("other");
          if (other == nullptr) continue;
          merges.emplace_back(std::string(request->FindString("url")),
                              std::string(other->FindString("reference")));
        }
      }
    }
  }
  const Micros now = clock_.Now();
  const search::Registry& registry = search::Registry::Active();
  for (const auto& [old_url, survivor_full_url] : merges) {
    ASSIGN_OR_RETURN(std::string old_id, FindPatient(store_, old_url, now));
    ASSIGN_OR_RETURN(std::string new_id, FindPatient(store_, url_of[survivor_full_url], now));
    if (old_id.empty() || new_id.empty() || old_id == new_id) {
      return Status(StatusCode::kUnprocessable,
                    "the merged patients could not both be found after the merge");
    }
    // Every resource of the old patient's compartment but the Patients themselves (whose links
    // say who replaced whom) and Provenances (the record of what was done to whom).
    const std::string from = "\"reference\":\"Patient/" + old_id + "\"";
    const std::string to = "\"reference\":\"Patient/" + new_id + "\"";
    std::string tx = R"({"resourceType":"Bundle","type":"transaction","entry":[)";
    int moved = 0;
    for (const std::string& type : fhir::Model::R4().resource_types()) {
      if (type == "Patient" || type == "Provenance" ||
          registry.PatientCompartmentParams(type).empty()) {
        continue;
      }
      std::string cursor;
      for (;;) {
        store::SearchQuery q;
        q.types = {type};
        q.compartment_patient = old_id;
        q.params = {{"_count", "500"}};
        if (!cursor.empty()) q.params.emplace_back("_cursor", cursor);
        q.now = now;
        ASSIGN_OR_RETURN(store::SearchPage page, store_.Search(q));
        for (const store::SearchHit& hit : page.entries) {
          if (hit.mode != store::SearchMode::kMatch) continue;
          std::string json = hit.version.json;
          for (size_t at = json.find(from); at != std::string::npos; at = json.find(from, at)) {
            json.replace(at, from.size(), to);
            at += to.size();
          }
          if (++moved > 10000) {
            return Status(StatusCode::kUnprocessable,
                          "the merged patient has more than 10,000 resources; move them in parts");
          }
          tx += moved > 1 ? "," : "";
          tx += R"({"resource":)" + json + R"(,"request":{"method":"PUT","url":")" + type + "/" +
                hit.version.id + R"(","ifMatch":"W/\")" + std::to_string(hit.version.version) +
                R"(\""}})";
        }
        if (page.next_cursor.empty()) break;
        cursor = page.next_cursor;
      }
    }
    tx += "]}";
    if (moved > 0) {
      if (Status s = apply_(tx); !s.ok()) {
        return Status(s.code(), "moving the merged patient's references: " + s.message());
      }
    }
  }
  return Status::Ok();
}

Status Intake::SetState(const store::StoredVersion& stored, const std::string& state,
                        const std::string& reason, const SentAck* ack, const AppAck* app_ack) {
  Result<json::Document> doc = json::Parse(stored.json);
  if (!doc.ok()) return doc.status();
  const std::string raw = ExtensionString(doc->root(), kRawUrl);
  Result<hl7v2::Message> message = hl7v2::Parse(raw);
  const hl7v2::Header header = message.ok() ? message->header() : hl7v2::SalvageHeader(raw);
  const Micros now = clock_.Now();
  store::WriteOp op;
  op.kind = store::WriteKind::kUpdate;
  op.type = "Basic";
  op.id = stored.id;
  op.expected_version = stored.version;
  op.last_updated = now;
  Micros received = stored.last_updated;
  const std::optional<AppAck> kept = AppAckOf(doc->root());
  op.json =
      BasicJson(stored.id, header, raw, state, reason, ack ? *ack : AckOf(doc->root()), received,
                stored.version + 1, now, app_ack != nullptr ? app_ack : (kept ? &*kept : nullptr));
  return store_.Write({&op, 1}).status();
}

Result<int> Intake::RecoverPending() {
  ASSIGN_OR_RETURN(std::vector<StoredMessage> pending, List("received", 1000));
  int applied = 0;
  for (const StoredMessage& m : pending) {
    Processing().Enter(m.id);
    Result<store::StoredVersion> stored = store_.Read("Basic", m.id);
    Result<hl7v2::Message> message = hl7v2::Parse(m.raw);
    if (stored.ok() && message.ok()) {
      Result<json::Document> doc = json::Parse(stored->json);
      if (doc.ok() && StateOf(doc->root()) == "received") {
        applied +=
            Process(*message, *stored, Answer::kNobody).outcome == hl7v2::Outcome::kAccept ? 1 : 0;
      }
    }
    Processing().Leave(m.id);
  }
  return applied;
}

Result<std::vector<StoredMessage>> Intake::List(const std::string& state, int limit) {
  return ListTagged(kStateSystem, state, limit);
}

Result<std::vector<StoredMessage>> Intake::ListAppAcks(const std::string& state, int limit) {
  return ListTagged(kAppAckTagSystem, state, limit);
}

Result<std::vector<StoredMessage>> Intake::ListTagged(std::string_view system,
                                                      const std::string& code, int limit) {
  store::SearchQuery q;
  q.types = {"Basic"};
  q.params = {{"_tag", std::string(system) + "|" + code},
              {"_sort", "-_lastUpdated"},
              {"_count", std::to_string(limit)}};
  q.max_count = limit;
  q.now = clock_.Now();
  ASSIGN_OR_RETURN(store::SearchPage page, store_.Search(q));
  std::vector<StoredMessage> out;
  for (const store::SearchHit& hit : page.entries) {
    if (hit.mode != store::SearchMode::kMatch) continue;
    Result<json::Document> doc = json::Parse(hit.version.json);
    if (!doc.ok()) continue;
    StoredMessage m;
    m.id = hit.version.id;
    m.state = StateOf(doc->root());
    m.raw = ExtensionString(doc->root(), kRawUrl);
    m.reason = ExtensionString(doc->root(), kReasonUrl);
    m.ack = AckOf(doc->root());
    m.app_ack = AppAckOf(doc->root());
    m.received = hit.version.last_updated;
    if (!m.raw.empty()) {
      const hl7v2::Header h = hl7v2::SalvageHeader(m.raw);
      m.type = h.message_code + (h.trigger_event.empty() ? "" : "^" + h.trigger_event);
      m.sender = Designator(h.sending_application) + "^" + Designator(h.sending_facility);
      m.control_id = h.control_id;
    } else {
      DescribePurged(doc->root(), &m);
    }
    out.push_back(std::move(m));
  }
  return out;
}

Status Intake::Replay(const std::string& id) {
  Processing().Enter(id);
  Result<store::StoredVersion> stored = store_.Read("Basic", id);
  Status result = Status::Ok();
  if (!stored.ok() || stored->deleted) {
    result = NotFound("no stored message " + id);
  } else {
    Result<json::Document> doc = json::Parse(stored->json);
    const std::string state = doc.ok() ? StateOf(doc->root()) : "";
    Result<hl7v2::Message> message =
        hl7v2::Parse(doc.ok() ? ExtensionString(doc->root(), kRawUrl) : std::string());
    if (state != "dead-letter" && state != "received") {
      result = Invalid(id + " is " + (state.empty() ? "not a stored message" : state) +
                       ", not a dead letter");
    } else if (!message.ok()) {
      result = message.status();
    } else {
      Applied applied = Process(*message, *stored, Answer::kNobody);
      if (applied.outcome != hl7v2::Outcome::kAccept) {
        result = Status(StatusCode::kUnprocessable,
                        applied.errors.empty() ? "not applied" : applied.errors.front().message);
      }
    }
  }
  Processing().Leave(id);
  return result;
}

}  // namespace vesta::mllp
