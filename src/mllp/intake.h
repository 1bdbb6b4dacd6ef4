// The HL7 v2 feed's intake (docs/hl7v2.md, "The feed"): every message received is stored durably
// before it is acknowledged (in the same transaction that applies it, or alone as a dead letter),
// applied once, and answered with its ACK; a message that cannot be mapped or applied is kept as a
// dead letter with the reason, and can be replayed.
//
//   Intake intake(store, clock, map, apply);
//   std::string ack = intake.Receive(message_text);   // what the MLLP connection sends back
//
// A message is kept as a FHIR `Basic` resource of the store (so it is durable on either store,
// versioned, readable and searchable like any other resource): its id is derived from the
// sending application, sending facility, control id (MSH-3, MSH-4, MSH-10) and text, which makes
// a resent message the same resource (a duplicate is acknowledged again, not applied twice); the
// raw message is an extension (valueString, or valueBase64Binary when it is not UTF-8 text
// without control characters), the state a tag:
//
//   meta.tag  urn:vesta:hl7v2:state | applied    written by its own transaction, with the rest
//                                   | received   stored, not yet applied (the earlier design;
//                                                applied by RecoverPending)
//                                   | dead-letter  mapping or applying failed (the reason in
//                                                  the extension urn:vesta:hl7v2:reason)
//                                   | rejected   not a message this server takes (parse error,
//                                                unsupported type): answered AR, kept to be seen
//   extension urn:vesta:hl7v2:ack   the ACK the sender was sent, written in the same commit as the
//                                   state it reports: `code` (valueCoding, v2 table 0008: AA, AE,
//                                   AR, CA, CE, CR), `text` (valueString: the errors' messages, as
//                                   in ERR-8 or MSA-3; absent for an accept) and `message` (the
//                                   whole ACK, segments ended by CR; valueString, or
//                                   valueBase64Binary as the raw message)
//   meta.tag and extension urn:vesta:hl7v2:app-ack   in enhanced mode, when the commit ACK
//                                   answered the connection and MSH-16 asks for an application
//                                   ACK: that ACK, its delivery state (pending, sent, failed) and
//                                   attempts, written in the same commit as the state (app_ack.h)
//
// After the retention period an applied message's raw text is removed (retention.h): the record
// keeps everything above but the extension urn:vesta:hl7v2:raw, and gains
//
//   meta.tag  urn:vesta:hl7v2:raw | removed   the text is gone from the current version; earlier
//                                             versions, which hold it, are being removed
//                                 | purged    the text is gone from every version
//   extension urn:vesta:hl7v2:raw-purged      valueDateTime: when the text was removed
//   extension urn:vesta:hl7v2:received        valueInstant: when the message was received (the
//                                             record's first version), which meta.lastUpdated
//                                             no longer says
//
// The mapping's Provenance names the record (Provenance.entity.what "Basic/v2-..."), so what a
// message created or updated is `GET /Provenance?entity=Basic/v2-...`.
//
// Thread-safety: Receive, Replay and the listings may be called from any thread.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "hl7v2/ack.h"
#include "hl7v2/error.h"
#include "hl7v2/message.h"
#include "mllp/app_ack.h"
#include "mllp/message_id.h"  // MessageId, for the feed's users
#include "store/store.h"

namespace vesta::mllp {

inline constexpr char kStateSystem[] = "urn:vesta:hl7v2:state";
inline constexpr char kRawUrl[] = "urn:vesta:hl7v2:raw";
inline constexpr char kReasonUrl[] = "urn:vesta:hl7v2:reason";
inline constexpr char kMessageCodeSystem[] = "urn:vesta:hl7v2";
inline constexpr char kAckUrl[] = "urn:vesta:hl7v2:ack";
inline constexpr char kRawTagSystem[] = "urn:vesta:hl7v2:raw";  // a meta.tag: removed, purged
inline constexpr char kRawPurgedUrl[] = "urn:vesta:hl7v2:raw-purged";
inline constexpr char kReceivedUrl[] = "urn:vesta:hl7v2:received";

// Maps a parsed message to a FHIR transaction Bundle (JSON) whose Provenance names
// `record_reference` ("Basic/v2-...", the message's record) as its entity. kNotSupported for a
// message type this server does not map (the ACK is AR with error 200); another error is a
// mapping failure (AE; the message becomes a dead letter).
using MapFunction = std::function<Result<std::string>(const hl7v2::Message& message,
                                                      const std::string& record_reference)>;
// Applies a transaction Bundle as `POST /` does; OK when every entry was committed.
using ApplyFunction = std::function<Status(const std::string& bundle)>;

// An ACK as sent, as the record keeps it (the extension urn:vesta:hl7v2:ack).
struct SentAck {
  std::string message;  // the whole ACK, segments ended by CR; empty when none was kept
  std::string code;     // MSA-1: AA, AE, AR, CA, CE, CR
  std::string text;     // the errors' messages, "; "-separated; empty for an accept
};

// A stored message, as the listings show it.
struct StoredMessage {
  std::string id;      // the Basic resource's id
  std::string state;   // received, applied, dead-letter, rejected
  std::string type;    // "ADT^A01"
  std::string sender;  // MSH-3^MSH-4
  std::string control_id;
  std::string reason;  // for dead letters and rejected messages
  Micros received = 0;
  std::string raw;                // the message as received; empty once the retention removed it
  Micros raw_purged = 0;          // when the retention removed the raw message; 0: it is kept
  SentAck ack;                    // the ACK it was answered with
  std::optional<AppAck> app_ack;  // the application ACK sent on its own connection, if any
};

class Intake {
 public:
  Intake(store::Store& store, Clock& clock, MapFunction map, ApplyFunction apply);

  // Where application ACKs go (app_ack.h); `on_pending` is called after a message whose
  // application ACK is pending was answered (to wake the delivery). Without routes (the
  // default) application ACKs are still kept with their records, in state failed. REQUIRES:
  // called before Receive; `routes` outlives the intake.
  void SetAppAckRoutes(const AppAckRoutes* routes, std::function<void()> on_pending);

  // Stores, applies and acknowledges one message (the text of one MLLP frame). Returns the ACK
  // (segments ended by CR): original mode AA/AE/AR; enhanced mode the commit ACK (CA/CR) when
  // MSH-15 asks for it, else the application ACK when MSH-16 does, else (both NE) the commit ACK
  // still, as MLLP answers every message. When the message could not even be stored, the ACK is
  // a reject (AR, or CR in enhanced mode) so that the sender keeps it and sends it again.
  std::string Receive(std::string_view text);

  // Applies the stored messages left in state `received` (a server that stopped between storing
  // and applying them). The number applied.
  Result<int> RecoverPending();

  // The messages in `state` (dead-letter, received, applied, rejected), newest first, at most
  // `limit`.
  Result<std::vector<StoredMessage>> List(const std::string& state, int limit);
  // The messages whose application ACK is in `state` (pending, sent, failed), newest first.
  Result<std::vector<StoredMessage>> ListAppAcks(const std::string& state, int limit);
  // Maps and applies a stored dead letter again (after the mapping or the data was fixed). Its
  // state becomes applied, or stays dead-letter with the new reason (returned as the error).
  Status Replay(const std::string& id);

 private:
  struct Applied {
    hl7v2::Outcome outcome = hl7v2::Outcome::kAccept;
    std::vector<hl7v2::Error> errors;
    bool stored = true;  // in safe storage (an enhanced-mode commit ACK says CA, else CR)
    SentAck ack;         // the ACK already built and kept with the record; empty: none yet
    std::optional<AppAck> app_ack;  // the application ACK kept with it, to be sent later
  };
  // Whether an ACK goes back for this processing (a message received), or none (a replay, a
  // recovery at start: the record keeps the ACK its sender was sent).
  enum class Answer { kSender, kNobody };
  // A message received: mapped, then applied with its record (state applied, with its ACK) in
  // one transaction whose record entry is a create only; on failure its record is stored alone,
  // as a dead letter (or rejected). A message stored already (its record exists: a duplicate)
  // is answered by AnswerStored instead, nothing applied.
  Applied ProcessNew(const hl7v2::Message& message, std::string_view text, const std::string& id,
                     Micros now);
  // The record of a message not applied (`result` says why), stored alone (a create) with the
  // ACK that answers it. The result, with that ACK.
  Applied StoreNew(const hl7v2::Message& message, const std::string& id, std::string_view text,
                   const std::string& state, const std::string& reason, Applied result, Micros now);
  // The answer to a message already stored (a duplicate, or one a stopped server left
  // received, which is applied now), from its record's state.
  Applied AnswerStored(const hl7v2::Message& message, const std::string& id);
  // Maps and applies the message stored as `stored` (its current version), and records the
  // result in its state (with the ACK, when `answer` is kSender).
  Applied Process(const hl7v2::Message& message, const store::StoredVersion& stored, Answer answer);
  // The next version of `stored` in `state`; with `ack`, that ACK, else the one it kept; with
  // `app_ack`, that application ACK, else the one it kept.
  Status SetState(const store::StoredVersion& stored, const std::string& state,
                  const std::string& reason, const SentAck* ack, const AppAck* app_ack = nullptr);
  // After a merge (ADT^A40) was applied: the resources that refer to the merged-away patient are
  // made to refer to the surviving one, in one transaction (docs/hl7v2.md, "Merges").
  Status MoveMergedReferences(const std::string& bundle);
  SentAck Ack(const hl7v2::Header& header, const Applied& result);
  // The application ACK to be sent later on a connection of its own: in enhanced mode, when
  // `sent` (the answer on the connection) is the commit ACK of a stored message and MSH-16 asks
  // for an application ACK for this outcome (HL7 v2.5.1 §2.9.3, table 0155). nullopt otherwise.
  std::optional<AppAck> LaterAppAck(const hl7v2::Header& header, const Applied& result,
                                    const SentAck& sent);
  // The messages tagged `system`|`code`, newest first.
  Result<std::vector<StoredMessage>> ListTagged(std::string_view system, const std::string& code,
                                                int limit);
  // Whether the store holds records under their earlier ids (LegacyMessageId), which a resend
  // must then be looked up by too. Asked of the store once.
  bool HasLegacyRecords();
  std::string NextControlId();

  store::Store& store_;
  Clock& clock_;
  MapFunction map_;
  ApplyFunction apply_;
  const AppAckRoutes* app_ack_routes_;
  std::function<void()> on_app_ack_pending_;
  std::mutex id_mu_;
  int64_t ack_counter_ = 0;
  std::once_flag legacy_checked_;
  bool legacy_records_ = false;
};

}  // namespace vesta::mllp
