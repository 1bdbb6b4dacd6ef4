// Application acknowledgments sent on a connection of their own (docs/hl7v2.md, "Application
// ACKs"): in enhanced acknowledgment mode, when a message asks for both a commit ACK (MSH-15) and
// an application ACK (MSH-16), the commit ACK (CA/CE/CR) answers on the sender's connection and
// the application ACK (AA/AE/AR) is sent later, as a message of its own, to where the sender
// takes them: a route given to `vesta serve --hl7v2-app-ack-route 'APP^FACILITY=HOST:PORT'`.
//
// HL7 v2.5.1 §2.9.3 "Response using enhanced acknowledgment": the accept (commit) ACK says that
// the message is in safe storage; the application ACK, once the message was processed, is a
// message the receiver initiates towards the sender, in the other direction
// (https://www.hl7.org/implement/standards/product_brief.cfm?product_id=144). Vesta sends it over
// a connection of its own, since the sender's connection carries its messages and their commit
// ACKs.
//
// The application ACK is part of the message's record (intake.h), written in the same commit as
// the message's state, so that a restart loses none:
//
//   meta.tag  urn:vesta:hl7v2:app-ack | pending  to be sent (retried until it is)
//                                     | sent     delivered to the route
//                                     | failed   no route for its sender (a server started
//                                                with one later delivers it)
//   extension urn:vesta:hl7v2:app-ack  `code` (valueCoding, v2 table 0008: AA, AE, AR),
//                                      `message` (valueString: the whole ACK, segments ended by
//                                      CR), `state` (valueCode: as the tag), `attempts`
//                                      (valueInteger), `error` (valueString: the last attempt's
//                                      failure, or why it cannot be delivered), `destination`
//                                      (valueString: HOST:PORT last tried), `next` (valueInstant:
//                                      a pending ACK is not tried before), `sent` (valueInstant)
//
// AppAckDelivery (a thread of `vesta serve`, started when routes are given) finds the pending
// records by their tag, sends each ACK framed over MLLP, reads an optional answer frame for a
// short while (peers often answer with an ACK of their own: its content is ignored, but an AR or
// CR is logged), and writes the record as sent; a failure keeps the error and tries again after a
// backoff (1 s, doubling, at most 5 minutes between attempts). Each state change is a
// compare-and-set on the record's version: several PostgreSQL nodes may deliver at once, and an
// ACK two of them sent in a race is recorded once. Delivery is at least once: a process stopped
// between sending and recording sends that ACK again after the restart.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/periodic_thread.h"
#include "base/status.h"
#include "hl7v2/message.h"
#include "json/value.h"
#include "store/store.h"

namespace vesta::mllp {

inline constexpr char kAppAckUrl[] = "urn:vesta:hl7v2:app-ack";
inline constexpr char kAppAckTagSystem[] = "urn:vesta:hl7v2:app-ack";  // pending, sent, failed

// Where the application ACKs of one sender go.
struct AppAckRoute {
  std::string application;  // the message's MSH-3 namespace id
  std::string facility;     // its MSH-4 namespace id; "*": any
  std::string host;
  uint16_t port = 0;

  std::string Destination() const;  // "HOST:PORT" ("[::1]:PORT" for an IPv6 address)
};

// A route as `--hl7v2-app-ack-route` spells it: `APP^FACILITY=HOST:PORT`, FACILITY `*` for any,
// HOST a name, an IPv4 address or a bracketed IPv6 address ("[::1]"). kInvalid, saying what is
// wrong, for anything else.
Result<AppAckRoute> ParseAppAckRoute(std::string_view text);

// The routes of a server. Immutable after construction but for the set of senders already
// logged as having none; every method is thread-safe.
class AppAckRoutes {
 public:
  AppAckRoutes() = default;
  explicit AppAckRoutes(std::vector<AppAckRoute> routes) : routes_(std::move(routes)) {}

  // The route of the sender MSH-3 `application`, MSH-4 `facility` (namespace ids): one naming
  // that facility, else one naming `*`; nullptr when there is none.
  const AppAckRoute* Find(std::string_view application, std::string_view facility) const;
  bool empty() const { return routes_.empty(); }
  // True the first time it is asked about `sender` (the caller then logs that the sender's
  // application ACKs cannot be delivered), false afterwards.
  bool FirstMiss(const std::string& sender) const;

 private:
  std::vector<AppAckRoute> routes_;
  mutable std::mutex mu_;
  mutable std::set<std::string> missed_;
};

enum class AppAckState { kPending, kSent, kFailed };
std::string_view AppAckStateName(AppAckState state);

// An application ACK as its record keeps it (the extension above).
struct AppAck {
  std::string message;  // the whole ACK, segments ended by CR
  std::string code;     // MSA-1: AA, AE, AR
  AppAckState state = AppAckState::kPending;
  int attempts = 0;
  std::string error;        // the last failure, or why it cannot be delivered; "" when none
  std::string destination;  // HOST:PORT last tried; "" before the first attempt
  Micros next = 0;          // a pending ACK is not tried before this; 0: at once
  Micros sent = 0;          // when it was delivered; 0: not yet
};

// The application ACK `message` (MSA-1 `code`) of the message whose header is `original`, ready
// to be kept with its record: pending when `routes` has a route for its sender, else failed
// with the reason (logged once per sender, at warning level).
AppAck NewAppAck(const AppAckRoutes& routes, const hl7v2::Header& original, std::string message,
                 std::string code);

// The extension urn:vesta:hl7v2:app-ack for `ack`, as JSON; and the meta.tag that goes with it.
std::string AppAckExtension(const AppAck& ack);
std::string AppAckTag(const AppAck& ack);
// The application ACK the record `basic` keeps; nullopt when it has none.
std::optional<AppAck> AppAckOf(const json::Value& basic);
// The record `basic` as its next version: meta.versionId `version`, meta.lastUpdated `now`, the
// tag and extension of `ack` in place of the ones it had; every other member kept as it is.
std::string WithAppAck(const json::Value& basic, const AppAck& ack, int64_t version, Micros now);

// How long after its `attempts`-th failed attempt a pending ACK is tried again: 1 s, doubling,
// at most 5 minutes.
std::chrono::microseconds AppAckBackoff(int attempts);

struct MllpSendOptions {
  std::chrono::milliseconds connect_timeout{5000};
  // How long an answer frame is waited for once the ACK is sent; none is not an error.
  std::chrono::milliseconds answer_timeout{2000};
};

// Connects to `host`:`port`, sends `message` framed (0x0B message 0x1C 0x0D), and reads one
// answer frame for at most options.answer_timeout. The answer's text; "" when none came (or the
// peer closed the connection without one). kUnavailable when the connection or the send failed.
// `stop`, when given and set, ends the waits early (kUnavailable).
Result<std::string> SendMllp(const std::string& host, uint16_t port, std::string_view message,
                             const MllpSendOptions& options,
                             const std::atomic<bool>* stop = nullptr);

struct AppAckDeliveryOptions {
  MllpSendOptions send;
  // How often the store is searched for pending ACKs when nothing wakes the thread sooner (a new
  // ACK on this node wakes it; another node's is found by the next search).
  std::chrono::milliseconds poll_interval{2000};
  int batch = 100;  // records read per search page
};

struct DeliveryCount {
  int sent = 0;
  int retried = 0;  // attempts that failed; the ACK is tried again later
  int failed = 0;   // no route: marked failed
  int skipped = 0;  // changed by another writer meanwhile (another node delivered it)
};

// The delivery of pending application ACKs: RunOnce() is one pass; Start() runs passes on a
// thread of its own until Stop() (or the destructor), which ends the pass under way after the
// ACK being sent (its waits are cut short) and joins the thread. Wake() starts a pass soon.
class AppAckDelivery {
 public:
  AppAckDelivery(store::Store& store, Clock& clock, const AppAckRoutes& routes,
                 AppAckDeliveryOptions options = {});
  ~AppAckDelivery() { Stop(); }
  AppAckDelivery(const AppAckDelivery&) = delete;
  AppAckDelivery& operator=(const AppAckDelivery&) = delete;

  // Every pending ACK that is due, tried once; the first pass also delivers the failed ones
  // whose sender has a route now. Fails on a store error other than a conflict.
  // REQUIRES: not called concurrently with itself or while the thread runs.
  // `next_due`, when given, is set to the earliest time a pending ACK not yet due is (0: none).
  Result<DeliveryCount> RunOnce(Micros* next_due = nullptr);

  void Start();
  void Stop() { worker_.Stop(); }
  void Wake() { worker_.Wake(); }

 private:
  // One pass over the records tagged `state` (pending, or failed: those whose sender has a
  // route now are delivered as pending ones).
  Result<DeliveryCount> RunOver(std::string_view state, Micros* next_due);
  // One record: sent, retried later or marked failed, written with compare-and-set.
  Result<DeliveryCount> DeliverOne(const store::StoredVersion& found, Micros now, Micros* next_due);
  // One pass of the thread; the wait before the next.
  std::chrono::microseconds Pass();
  bool Stopping() const { return worker_.stopping(); }

  store::Store& store_;
  Clock& clock_;
  const AppAckRoutes& routes_;
  const AppAckDeliveryOptions options_;
  // Destinations that failed lately: their failures in a row and when they are tried again.
  // Used by RunOnce only (one thread).
  std::map<std::string, std::pair<int, Micros>> destination_retry_;
  bool failed_swept_ = false;  // the ACKs failed for want of a route were looked at once
  PeriodicThread worker_;      // last: stopped (by its destructor) before the members it uses go
};

}  // namespace vesta::mllp
