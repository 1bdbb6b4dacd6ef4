// Application acknowledgments sent on a connection of their own (app_ack.h).
#include "mllp/app_ack.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "base/log.h"
#include "base/strings.h"
#include "fhir/datetime.h"
#include "hl7v2/mllp.h"
#include "hl7v2/parse.h"
#include "json/parse.h"
#include "json/writer.h"
#include "mllp/record.h"

namespace vesta::mllp {
namespace {

std::optional<AppAckState> StateNamed(std::string_view name) {
  if (name == "pending") return AppAckState::kPending;
  if (name == "sent") return AppAckState::kSent;
  if (name == "failed") return AppAckState::kFailed;
  return std::nullopt;
}

// Printable ASCII, tab and CR: kept as a FHIR string; anything else (a message in another
// character set) in base64, as the record keeps its raw message.
bool IsPlainAscii(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\r' && c != '\n' && c != '\t') || u > 0x7E) return false;
  }
  return true;
}

Micros InstantOf(std::string_view text) {
  Result<fhir::TimeRange> t = fhir::ParseTimeRange(text);
  return t.ok() ? t->low : 0;
}

// The sender's namespace ids as the application ACK names them: its MSH-5 and MSH-6 are the
// message's MSH-3 and MSH-4 (§2.15.9).
std::pair<std::string, std::string> AddresseeOf(const std::string& ack) {
  Result<hl7v2::Message> parsed = hl7v2::Parse(ack);
  const hl7v2::Header h = parsed.ok() ? parsed->header() : hl7v2::SalvageHeader(ack);
  return {h.receiving_application.namespace_id, h.receiving_facility.namespace_id};
}

std::string NoRouteError(const std::string& sender) {
  return "no application ACK route for " + sender + " (vesta serve --hl7v2-app-ack-route '" +
         sender + "=HOST:PORT')";
}

// A socket to `host`:`port` (non-blocking), connected within `timeout`.
Result<int> ConnectTo(const std::string& host, uint16_t port, std::chrono::milliseconds timeout,
                      const std::atomic<bool>* stop) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0) {
    return Status(StatusCode::kUnavailable,
                  "cannot resolve " + host + ": " + std::string(gai_strerror(rc)));
  }
  std::string error = "no address";
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      error = std::strerror(errno);
      continue;
    }
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      rc = -1;
      while (std::chrono::steady_clock::now() < deadline && (stop == nullptr || !stop->load())) {
        pollfd p{fd, POLLOUT, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        int so_error = 0;
        socklen_t len = sizeof so_error;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
        rc = so_error == 0 ? 0 : -1;
        errno = so_error;
        break;
      }
      if (rc != 0 && errno == EINPROGRESS) errno = ETIMEDOUT;
    }
    if (rc != 0) {
      error = std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) return Status(StatusCode::kUnavailable, "cannot connect: " + error);
  return fd;
}

}  // namespace

std::string AppAckRoute::Destination() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<AppAckRoute> ParseAppAckRoute(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Invalid("'" + std::string(text) + "' is not an application ACK route (APP^FACILITY=" +
                   "HOST:PORT, FACILITY * for any): " + why);
  };
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos) return bad("no '='");
  const std::string_view sender = text.substr(0, eq);
  const std::string_view where = text.substr(eq + 1);
  const size_t caret = sender.find('^');
  if (caret == std::string_view::npos || sender.find('^', caret + 1) != std::string_view::npos) {
    return bad("the sender is MSH-3 and MSH-4 separated by one '^'");
  }
  AppAckRoute route;
  route.application = std::string(sender.substr(0, caret));
  route.facility = std::string(sender.substr(caret + 1));
  if (route.application.empty() || route.facility.empty()) {
    return bad("the application and the facility may not be empty");
  }
  std::string_view port;
  if (where.starts_with("[")) {
    const size_t close = where.find(']');
    if (close == std::string_view::npos || close + 1 >= where.size() || where[close + 1] != ':') {
      return bad("an IPv6 address is written [ADDRESS]:PORT");
    }
    route.host = std::string(where.substr(1, close - 1));
    port = where.substr(close + 2);
  } else {
    const size_t colon = where.rfind(':');
    if (colon == std::string_view::npos) return bad("no ':PORT'");
    route.host = std::string(where.substr(0, colon));
    if (route.host.find(':') != std::string::npos) {
      return bad("an IPv6 address is written [ADDRESS]:PORT");
    }
    port = where.substr(colon + 1);
  }
  if (route.host.empty()) return bad("no host");
  int number = 0;
  if (port.empty() || port.size() > 5) return bad("the port is a number from 1 to 65535");
  for (char c : port) {
    if (c < '0' || c > '9') return bad("the port is a number from 1 to 65535");
    number = number * 10 + (c - '0');
  }
  if (number < 1 || number > 65535) return bad("the port is a number from 1 to 65535");
  route.port = static_cast<uint16_t>(number);
  return route;
}

const AppAckRoute* AppAckRoutes::Find(std::string_view application,
                                      std::string_view facility) const {
  const AppAckRoute* any = nullptr;
  for (const AppAckRoute& r : routes_) {
    if (r.application != application) continue;
    if (r.facility == facility) return &r;
    if (r.facility == "*" && any == nullptr) any = &r;
  }
  return any;
}

bool AppAckRoutes::FirstMiss(const std::string& sender) const {
  std::lock_guard lock(mu_);
  return missed_.insert(sender).second;
}

std::string_view AppAckStateName(AppAckState state) {
  switch (state) {
    case AppAckState::kPending:
      return "pending";
    case AppAckState::kSent:
      return "sent";
    case AppAckState::kFailed:
      return "failed";
  }
  return "pending";
}

AppAck NewAppAck(const AppAckRoutes& routes, const hl7v2::Header& original, std::string message,
                 std::string code) {
  AppAck ack;
  ack.message = std::move(message);
  ack.code = std::move(code);
  const std::string& application = original.sending_application.namespace_id;
  const std::string& facility = original.sending_facility.namespace_id;
  if (routes.Find(application, facility) == nullptr) {
    const std::string sender = application + "^" + facility;
    ack.state = AppAckState::kFailed;
    ack.error = NoRouteError(sender);
    if (routes.FirstMiss(sender)) {
      LogWarning("HL7 v2: the application ACKs of " + sender +
                 " cannot be delivered: no --hl7v2-app-ack-route names that sender (each "
                 "record says so; this is logged once per sender)");
    }
  }
  return ack;
}

std::string AppAckTag(const AppAck& ack) {
  return R"({"system":")" + std::string(kAppAckTagSystem) + R"(","code":")" +
         std::string(AppAckStateName(ack.state)) + R"("})";
}

std::string AppAckExtension(const AppAck& ack) {
  std::string out = R"({"url":")" + std::string(kAppAckUrl) + R"(","extension":[)";
  out +=
      R"({"url":"code","valueCoding":{"system":"http://terminology.hl7.org/CodeSystem/v2-0008","code":)";
  json::WriteString(ack.code, &out);
  out += R"(}},{"url":"message",)";
  if (IsPlainAscii(ack.message)) {
    out += R"("valueString":)";
    json::WriteString(ack.message, &out);
  } else {
    out += R"("valueBase64Binary":)";
    json::WriteString(Base64Encode(ack.message), &out);
  }
  out += R"(},{"url":"state","valueCode":")" + std::string(AppAckStateName(ack.state)) +
         R"("},{"url":"attempts","valueInteger":)" + std::to_string(ack.attempts) + "}";
  if (!ack.error.empty()) {
    out += R"(,{"url":"error","valueString":)";
    // The error may quote what a peer or the system said: kept as valid UTF-8 by escaping
    // anything else.
    std::string safe;
    for (char c : ack.error) {
      const auto u = static_cast<unsigned char>(c);
      safe.push_back(u < 0x20 || u > 0x7E ? '?' : c);
    }
    json::WriteString(safe, &out);
    out += "}";
  }
  if (!ack.destination.empty()) {
    out += R"(,{"url":"destination","valueString":)";
    json::WriteString(ack.destination, &out);
    out += "}";
  }
  if (ack.next != 0) {
    out += R"(,{"url":"next","valueInstant":")" + FormatInstant(ack.next) + R"("})";
  }
  if (ack.sent != 0) {
    out += R"(,{"url":"sent","valueInstant":")" + FormatInstant(ack.sent) + R"("})";
  }
  return out + "]}";
}

std::optional<AppAck> AppAckOf(const json::Value& basic) {
  const json::Value* ext = basic.Find("extension");
  if (ext == nullptr) return std::nullopt;
  for (const json::Value& e : ext->items()) {
    if (e.FindString("url") != kAppAckUrl) continue;
    AppAck ack;
    const json::Value* parts = e.Find("extension");
    if (parts == nullptr) return ack;
    for (const json::Value& p : parts->items()) {
      const std::string_view url = p.FindString("url");
      if (url == "code") {
        if (const json::Value* coding = p.Find("valueCoding")) {
          ack.code = std::string(coding->FindString("code"));
        }
      } else if (url == "message") {
        ack.message = std::string(p.FindString("valueString"));
        if (std::string_view b = p.FindString("valueBase64Binary"); !b.empty()) {
          ack.message = Base64Decode(b).value_or("");
        }
      } else if (url == "state") {
        ack.state = StateNamed(p.FindString("valueCode")).value_or(AppAckState::kPending);
      } else if (url == "attempts") {
        if (const json::Value* n = p.Find("valueInteger"); n != nullptr && n->is_number()) {
          ack.attempts = std::atoi(std::string(n->number_text()).c_str());
        }
      } else if (url == "error") {
        ack.error = std::string(p.FindString("valueString"));
      } else if (url == "destination") {
        ack.destination = std::string(p.FindString("valueString"));
      } else if (url == "next") {
        ack.next = InstantOf(p.FindString("valueInstant"));
      } else if (url == "sent") {
        ack.sent = InstantOf(p.FindString("valueInstant"));
      }
    }
    return ack;
  }
  return std::nullopt;
}

std::string WithAppAck(const json::Value& basic, const AppAck& ack, int64_t version, Micros now) {
  std::string out = "{";
  bool first = true;
  auto key = [&](std::string_view k) {
    out += first ? "" : ",";
    first = false;
    json::WriteString(k, &out);
    out += ":";
  };
  bool had_extension = false;
  for (const json::Member& m : basic.members()) {
    if (m.key == "meta" && m.value.is_object()) {
      key("meta");
      out += NextMeta(m.value, version, now, kAppAckTagSystem, AppAckTag(ack));
    } else if (m.key == "extension" && m.value.is_array()) {
      had_extension = true;
      key("extension");
      out += "[";
      for (const json::Value& e : m.value.items()) {
        if (e.FindString("url") == kAppAckUrl) continue;
        out += json::ToString(e) + ",";
      }
      out += AppAckExtension(ack) + "]";
    } else {
      key(m.key);
      out += json::ToString(m.value);
    }
  }
  if (!had_extension) {
    key("extension");
    out += "[" + AppAckExtension(ack) + "]";
  }
  return out + "}";
}

std::chrono::microseconds AppAckBackoff(int attempts) {
  constexpr std::chrono::microseconds kFirst = std::chrono::seconds(1);
  constexpr std::chrono::microseconds kMost = std::chrono::minutes(5);
  if (attempts <= 1) return kFirst;
  if (attempts > 20) return kMost;  // 2^19 s is past the bound already
  return std::min(kFirst * (int64_t{1} << (attempts - 1)), kMost);
}

Result<std::string> SendMllp(const std::string& host, uint16_t port, std::string_view message,
                             const MllpSendOptions& options, const std::atomic<bool>* stop) {
  ASSIGN_OR_RETURN(int fd, ConnectTo(host, port, options.connect_timeout, stop));
  const std::string frame = hl7v2::Frame(message);
  auto stopping = [&] { return stop != nullptr && stop->load(); };
  size_t written = 0;
  auto deadline = std::chrono::steady_clock::now() + options.connect_timeout;
  while (written < frame.size()) {
    if (stopping() || std::chrono::steady_clock::now() >= deadline) {
      ::close(fd);
      return Status(StatusCode::kUnavailable, "sending timed out");
    }
    const ssize_t n = ::send(fd, frame.data() + written, frame.size() - written, MSG_NOSIGNAL);
    if (n > 0) {
      written += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 100);
    } else {
      const std::string why = std::strerror(errno);
      ::close(fd);
      return Status(StatusCode::kUnavailable, "sending failed: " + why);
    }
  }
  // The answer, if the peer sends one.
  hl7v2::FrameDecoder decoder;
  std::vector<std::string> frames;
  deadline = std::chrono::steady_clock::now() + options.answer_timeout;
  while (frames.empty() && !stopping() && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buffer[8192];
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
    if (n <= 0) break;  // closed: no answer, which is not an error
    if (!decoder.Feed(std::string_view(buffer, static_cast<size_t>(n)), &frames).ok()) break;
  }
  ::close(fd);
  return frames.empty() ? std::string() : frames.front();
}

AppAckDelivery::AppAckDelivery(store::Store& store, Clock& clock, const AppAckRoutes& routes,
                               AppAckDeliveryOptions options)
    : store_(store), clock_(clock), routes_(routes), options_(options) {}

Result<DeliveryCount> AppAckDelivery::DeliverOne(const store::StoredVersion& found, Micros now,
                                                 Micros* next_due) {
  DeliveryCount count;
  if (found.deleted) return count;
  ASSIGN_OR_RETURN(json::Document doc, json::Parse(found.json));
  std::optional<AppAck> ack = AppAckOf(doc.root());
  if (!ack || ack->state == AppAckState::kSent) return count;
  if (ack->state == AppAckState::kFailed) {
    // Failed for want of a route: delivered now if this server has one for its sender (a route
    // added since), else left as it is.
    const auto [application, facility] = AddresseeOf(ack->message);
    if (routes_.Find(application, facility) == nullptr) return count;
    ack->state = AppAckState::kPending;
    ack->next = 0;
    ack->error.clear();
  }
  auto later = [&](Micros when) {
    if (next_due != nullptr && (*next_due == 0 || when < *next_due)) *next_due = when;
  };
  if (ack->next > now) {
    later(ack->next);
    return count;
  }
  const auto [application, facility] = AddresseeOf(ack->message);
  const AppAckRoute* route = routes_.Find(application, facility);
  if (route == nullptr) {
    // The routes changed since the message came: it cannot be delivered now.
    const std::string sender = application + "^" + facility;
    ack->state = AppAckState::kFailed;
    ack->error = NoRouteError(sender);
    ack->next = 0;
    if (routes_.FirstMiss(sender)) LogWarning("HL7 v2: " + ack->error);
  } else {
    const std::string destination = route->Destination();
    // A destination that failed a moment ago is left alone until its own backoff ends, so that
    // a route that is down costs one attempt per backoff, not one per waiting ACK.
    if (auto d = destination_retry_.find(destination);
        d != destination_retry_.end() && d->second.second > now) {
      later(d->second.second);
      return count;
    }
    Result<std::string> answer =
        SendMllp(route->host, route->port, ack->message, options_.send, &worker_.stop_flag());
    ++ack->attempts;
    ack->destination = destination;
    if (answer.ok()) {
      destination_retry_.erase(destination);
      ack->state = AppAckState::kSent;
      ack->sent = clock_.Now();
      ack->next = 0;
      ack->error.clear();
      if (!answer->empty()) {
        // The peer's own ACK of the application ACK: its content is not acted on, but a
        // refusal is worth a line in the log.
        Result<hl7v2::Message> reply = hl7v2::Parse(*answer);
        std::optional<hl7v2::Segment> msa = reply.ok() ? reply->Find("MSA") : std::nullopt;
        const std::string code = msa ? msa->Field(1).text() : "";
        if (code == "AR" || code == "CR" || code == "AE" || code == "CE") {
          LogWarning("HL7 v2: " + destination + " answered the application ACK of " + found.id +
                     " with " + code + " (the ACK counts as sent)");
        }
      }
    } else {
      if (Stopping()) return count;  // cut short by the shutdown: not an attempt
      auto& [failures, retry_at] = destination_retry_[destination];
      ++failures;
      retry_at = now + AppAckBackoff(failures).count();
      ack->error = answer.status().message();
      ack->next = now + AppAckBackoff(ack->attempts).count();
      later(std::min(ack->next, retry_at));
      if (failures == 1 || ack->attempts == 1) {
        LogWarning("HL7 v2: the application ACK of " + found.id + " to " + destination + ": " +
                   ack->error + "; tried again later");
      }
    }
  }
  store::WriteOp op;
  op.kind = store::WriteKind::kUpdate;
  op.type = "Basic";
  op.id = found.id;
  op.expected_version = found.version;
  op.last_updated = clock_.Now();
  op.json = WithAppAck(doc.root(), *ack, found.version + 1, op.last_updated);
  Result<std::vector<store::WriteResult>> written = store_.Write({&op, 1});
  if (!written.ok()) {
    // Another writer (another node's delivery, the retention, a replay) changed the record
    // meanwhile: this attempt goes unrecorded, and the next pass reads the record afresh.
    if (written.status().code() == StatusCode::kConflict) {
      ++count.skipped;
      return count;
    }
    return written.status();
  }
  switch (ack->state) {
    case AppAckState::kSent:
      ++count.sent;
      break;
    case AppAckState::kFailed:
      ++count.failed;
      break;
    case AppAckState::kPending:
      ++count.retried;
      break;
  }
  return count;
}

Result<DeliveryCount> AppAckDelivery::RunOnce(Micros* next_due) {
  if (next_due != nullptr) *next_due = 0;
  DeliveryCount total;
  // The first pass also takes the ACKs that failed for want of a route: routes are given at
  // start, so one added since then delivers what waited for it.
  if (!failed_swept_) {
    ASSIGN_OR_RETURN(total, RunOver("failed", next_due));
    if (Stopping()) return total;
    failed_swept_ = true;
  }
  ASSIGN_OR_RETURN(DeliveryCount pending, RunOver("pending", next_due));
  total.sent += pending.sent;
  total.retried += pending.retried;
  total.failed += pending.failed;
  total.skipped += pending.skipped;
  return total;
}

Result<DeliveryCount> AppAckDelivery::RunOver(std::string_view state, Micros* next_due) {
  DeliveryCount total;
  std::string cursor;
  for (;;) {
    // https://hl7.org/fhir/R4/search.html#_tag, #_sort: the ones in `state`, oldest write first.
    store::SearchQuery q;
    q.types = {"Basic"};
    q.params = {{"_tag", std::string(kAppAckTagSystem) + "|" + std::string(state)},
                {"_sort", "_lastUpdated"},
                {"_count", std::to_string(options_.batch)}};
    if (!cursor.empty()) q.params.emplace_back("_cursor", cursor);
    q.max_count = options_.batch;
    const Micros now = clock_.Now();
    q.now = now;
    ASSIGN_OR_RETURN(store::SearchPage page, store_.Search(q));
    for (const store::SearchHit& hit : page.entries) {
      if (hit.mode != store::SearchMode::kMatch) continue;
      if (Stopping()) return total;
      ASSIGN_OR_RETURN(DeliveryCount one, DeliverOne(hit.version, clock_.Now(), next_due));
      total.sent += one.sent;
      total.retried += one.retried;
      total.failed += one.failed;
      total.skipped += one.skipped;
    }
    if (page.next_cursor.empty() || Stopping()) break;
    cursor = page.next_cursor;
  }
  return total;
}

void AppAckDelivery::Start() {
  worker_.Start([this] { return Pass(); });
}

std::chrono::microseconds AppAckDelivery::Pass() {
  Micros next_due = 0;
  Result<DeliveryCount> done = RunOnce(&next_due);
  if (!done.ok()) {
    LogWarning("HL7 v2 application ACKs: " + done.status().message());
  } else if (done->sent > 0) {
    LogInfo("HL7 v2: " + std::to_string(done->sent) + " application ACK(s) sent");
  }
  std::chrono::microseconds wait = options_.poll_interval;
  if (next_due != 0) {
    wait = std::min(wait, std::chrono::microseconds(std::max<Micros>(
                              next_due - clock_.Now(), 1000)));  // at least a millisecond
  }
  return wait;
}

}  // namespace vesta::mllp
