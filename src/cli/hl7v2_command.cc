// `vesta hl7v2`: the HL7 v2 feed's tools (docs/hl7v2.md).
//
//   vesta hl7v2 send --host 127.0.0.1 --port 2575 ADT_A01.hl7 ...   an MLLP client; prints ACKs
//   vesta hl7v2 map ADT_A01.hl7                      the FHIR transaction Bundle a message maps to
//   vesta hl7v2 deadletters list --data-dir DIR      messages that could not be applied
//   vesta hl7v2 deadletters replay --data-dir DIR ID...|--all     apply them again
//   vesta hl7v2 purge --older-than 30d --data-dir DIR  the raw text of older applied messages
//   vesta hl7v2 acks list --state pending --data-dir DIR  application ACKs not delivered yet
//
// `send` exits 0 when every message was accepted (AA or CA), 3 otherwise. `replay` and `purge` on
// SQLite run with the server stopped (as `vesta import`); on PostgreSQL while nodes serve.
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "base/clock.h"
#include "cli/command.h"
#include "cli/hl7v2_feed.h"
#include "cli/store_choice.h"
#include "hl7v2/mllp.h"
#include "hl7v2/parse.h"
#include "mllp/intake.h"
#include "mllp/retention.h"
#include "rest/api.h"
#include "store/sqlite/sqlite_store.h"

namespace vesta::cli {
namespace {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A message file as sent: segments ended by CR (files often have LF or CRLF), without trailing
// blank lines.
std::string AsWireMessage(std::string text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    out.push_back(text[i] == '\n' ? '\r' : text[i]);
  }
  while (out.size() > 1 && out.back() == '\r' && out[out.size() - 2] == '\r') out.pop_back();
  if (!out.empty() && out.back() != '\r') out.push_back('\r');
  return out;
}

int Connect(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd >= 0 && ::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  return fd;
}

struct SendFlags {
  std::string host = "127.0.0.1";
  int port = 2575;
  int timeout_s = 30;
  std::vector<std::string> files;
};

int RunSend(const SendFlags& flags) {
  const int fd = Connect(flags.host, flags.port);
  if (fd < 0) {
    std::cerr << "vesta hl7v2 send: cannot connect to " << flags.host << ":" << flags.port << "\n";
    return 1;
  }
  hl7v2::FrameDecoder decoder;
  int accepted = 0, refused = 0;
  for (const std::string& file : flags.files) {
    Result<std::string> text = ReadFile(file);
    if (!text.ok()) {
      std::cerr << "vesta hl7v2 send: " << text.status().message() << "\n";
      ++refused;
      continue;
    }
    const std::string frame = hl7v2::Frame(AsWireMessage(*text));
    if (::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(frame.size())) {
      std::cerr << "vesta hl7v2 send: the connection closed while sending " << file << "\n";
      ::close(fd);
      return 1;
    }
    std::vector<std::string> acks;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(flags.timeout_s);
    while (acks.empty() && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      char buf[65536];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      if (!decoder.Feed(std::string_view(buf, static_cast<size_t>(n)), &acks).ok()) break;
    }
    if (acks.empty()) {
      std::cerr << "vesta hl7v2 send: no acknowledgment for " << file << " within "
                << flags.timeout_s << " s\n";
      ::close(fd);
      return 1;
    }
    std::string shown = acks.front();
    for (char& c : shown) c = c == '\r' ? '\n' : c;
    std::cout << "== " << file << "\n" << shown;
    Result<hl7v2::Message> ack = hl7v2::Parse(acks.front());
    std::optional<hl7v2::Segment> msa = ack.ok() ? ack->Find("MSA") : std::nullopt;
    const std::string code = msa ? msa->Field(1).text() : "";
    (code == "AA" || code == "CA") ? ++accepted : ++refused;
  }
  ::close(fd);
  std::cout << accepted << " accepted, " << refused << " not accepted\n";
  return refused == 0 ? 0 : 3;
}

int RunMap(const std::string& file) {
  Result<std::string> text = ReadFile(file);
  if (!text.ok()) {
    std::cerr << "vesta hl7v2 map: " << text.status().message() << "\n";
    return 1;
  }
  Result<hl7v2::Message> message = hl7v2::Parse(*text);
  if (!message.ok()) {
    std::cerr << "vesta hl7v2 map: " << file << ": " << message.status().message() << "\n";
    return 1;
  }
  // Nothing is stored: the Provenance names the message by its identifier only (map.h).
  Result<std::string> bundle = FeedMapper()(*message, "");
  if (!bundle.ok()) {
    std::cerr << "vesta hl7v2 map: " << file << ": " << bundle.status().message() << "\n";
    return 1;
  }
  std::cout << *bundle << "\n";
  return 0;
}

struct StoreFlags {
  std::string data_dir = "./vesta-data";
  std::string store;
};

Result<std::unique_ptr<store::Store>> OpenStore(const StoreFlags& flags) {
  ASSIGN_OR_RETURN(StoreChoice choice, ChooseStore(flags.store, flags.data_dir));
  if (choice.postgres) return OpenPostgresStore(choice.uri, 2);
  store::SqliteStoreOptions options;
  options.directory = choice.directory;
  return store::OpenSqliteStore(options);
}

int RunList(const StoreFlags& flags, const std::string& state, int limit) {
  Result<std::unique_ptr<store::Store>> store = OpenStore(flags);
  if (!store.ok()) {
    std::cerr << "vesta hl7v2 deadletters: " << store.status().message() << "\n";
    return 1;
  }
  SystemClock clock;
  mllp::Intake intake(**store, clock, FeedMapper(), nullptr);
  Result<std::vector<mllp::StoredMessage>> listed = intake.List(state, limit);
  (void)(*store)->Close();
  if (!listed.ok()) {
    std::cerr << "vesta hl7v2 deadletters: " << listed.status().message() << "\n";
    return 1;
  }
  for (const mllp::StoredMessage& m : *listed) {
    std::cout << m.id << "  " << FormatInstant(m.received) << "  " << m.type << "  from "
              << m.sender << "  control id " << m.control_id
              << (m.ack.code.empty() ? "" : "  answered " + m.ack.code)
              << (m.raw_purged == 0 ? "" : "  text removed " + FormatInstant(m.raw_purged)) << "\n";
    if (!m.reason.empty()) std::cout << "    " << m.reason << "\n";
  }
  std::cout << listed->size() << " message(s) " << state << "\n";
  return 0;
}

int RunReplay(const StoreFlags& flags, std::vector<std::string> ids, bool all) {
  Result<std::unique_ptr<store::Store>> store = OpenStore(flags);
  if (!store.ok()) {
    std::cerr << "vesta hl7v2 deadletters replay: " << store.status().message() << "\n";
    return 1;
  }
  SystemClock clock;
  UuidV7Generator id_generator(clock);
  // The transactions go through the REST API as `POST /` does on the server.
  rest::RestApi api(rest::RestOptions{}, **store, clock, id_generator);
  mllp::Intake intake(**store, clock, FeedMapper(), FeedApplier(api, false));
  if (all) {
    Result<std::vector<mllp::StoredMessage>> listed = intake.List("dead-letter", 1000);
    if (!listed.ok()) {
      std::cerr << "vesta hl7v2 deadletters replay: " << listed.status().message() << "\n";
      (void)(*store)->Close();
      return 1;
    }
    for (const mllp::StoredMessage& m : *listed) ids.push_back(m.id);
  }
  int applied = 0, failed = 0;
  for (const std::string& id : ids) {
    Status s = intake.Replay(id);
    if (s.ok()) {
      ++applied;
      std::cout << id << ": applied\n";
    } else {
      ++failed;
      std::cout << id << ": " << s.message() << "\n";
    }
  }
  (void)(*store)->Close();
  std::cout << applied << " applied, " << failed << " still dead letters\n";
  return failed == 0 ? 0 : 3;
}

// The application ACKs in `state` (mllp/app_ack.h), newest first: to whom, how often tried, the
// last error.
int RunAcksList(const StoreFlags& flags, const std::string& state, int limit) {
  Result<std::unique_ptr<store::Store>> store = OpenStore(flags);
  if (!store.ok()) {
    std::cerr << "vesta hl7v2 acks: " << store.status().message() << "\n";
    return 1;
  }
  SystemClock clock;
  mllp::Intake intake(**store, clock, FeedMapper(), nullptr);
  Result<std::vector<mllp::StoredMessage>> listed = intake.ListAppAcks(state, limit);
  (void)(*store)->Close();
  if (!listed.ok()) {
    std::cerr << "vesta hl7v2 acks: " << listed.status().message() << "\n";
    return 1;
  }
  for (const mllp::StoredMessage& m : *listed) {
    if (!m.app_ack) continue;
    const mllp::AppAck& a = *m.app_ack;
    std::cout << m.id << "  " << m.type << "  from " << m.sender << "  control id " << m.control_id
              << "  " << a.code << " " << mllp::AppAckStateName(a.state) << "  attempts "
              << a.attempts << (a.destination.empty() ? "" : "  to " + a.destination)
              << (a.sent == 0 ? "" : "  sent " + FormatInstant(a.sent))
              << (a.state != mllp::AppAckState::kPending || a.next == 0
                      ? ""
                      : "  next " + FormatInstant(a.next))
              << "\n";
    if (!a.error.empty()) std::cout << "    " << a.error << "\n";
  }
  std::cout << listed->size() << " application ACK(s) " << state << "\n";
  return 0;
}

// One pass of the retention (mllp/retention.h), as `vesta serve --hl7v2-retention` runs them.
int RunPurge(const StoreFlags& flags, const std::string& older_than) {
  Result<std::chrono::seconds> age = mllp::ParseRetention(older_than);
  if (!age.ok()) {
    std::cerr << "vesta hl7v2 purge: --older-than: " << age.status().message() << "\n";
    return 1;
  }
  Result<std::unique_ptr<store::Store>> store = OpenStore(flags);
  if (!store.ok()) {
    std::cerr << "vesta hl7v2 purge: " << store.status().message() << "\n";
    return 1;
  }
  SystemClock clock;
  const Micros cutoff =
      clock.Now() - std::chrono::duration_cast<std::chrono::microseconds>(*age).count();
  Result<mllp::PurgeCount> done = mllp::RawPurge(**store, clock).Run(cutoff);
  (void)(*store)->Close();
  if (!done.ok()) {
    std::cerr << "vesta hl7v2 purge: " << done.status().message() << "\n";
    return 1;
  }
  std::cout << done->purged << " message(s) applied before " << FormatInstant(cutoff)
            << ": raw text removed";
  if (done->skipped > 0) std::cout << " (" << done->skipped << " changed meanwhile, skipped)";
  std::cout << "\n";
  return 0;
}

void AddHl7v2(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "hl7v2",
      "HL7 v2: send messages over MLLP, map, dead letters, application ACKs, purge raw "
      "messages");
  cmd->require_subcommand(1);

  auto send = std::make_shared<SendFlags>();
  CLI::App* s = cmd->add_subcommand("send", "Send message files over MLLP and print the ACKs");
  s->add_option("--host", send->host, "The MLLP listener's host")->capture_default_str();
  s->add_option("--port", send->port, "Its port")->required();
  s->add_option("--timeout", send->timeout_s, "Seconds to wait for each ACK")
      ->capture_default_str();
  s->add_option("files", send->files, "HL7 v2 message files (ER7), one message each")->required();
  s->callback([send] {
    if (int rc = RunSend(*send); rc != 0) throw CLI::RuntimeError(rc);
  });

  auto map_file = std::make_shared<std::string>();
  CLI::App* m = cmd->add_subcommand("map", "Print the FHIR transaction Bundle a message maps to");
  m->add_option("file", *map_file, "An HL7 v2 message file")->required();
  m->callback([map_file] {
    if (int rc = RunMap(*map_file); rc != 0) throw CLI::RuntimeError(rc);
  });

  CLI::App* dl = cmd->add_subcommand("deadletters", "Messages that could not be applied");
  dl->require_subcommand(1);
  auto store_flags = std::make_shared<StoreFlags>();
  auto add_store = [store_flags](CLI::App* c) {
    c->add_option("--data-dir", store_flags->data_dir, "The SQLite store")->capture_default_str();
    c->add_option("--store", store_flags->store, "sqlite:DIR or a postgresql:// URI");
  };
  auto state = std::make_shared<std::string>("dead-letter");
  auto limit = std::make_shared<int>(100);
  CLI::App* list = dl->add_subcommand("list", "List them, newest first, with the reason");
  add_store(list);
  list->add_option("--state", *state,
                   "dead-letter, rejected (not taken: malformed, unsupported), received or "
                   "applied")
      ->capture_default_str()
      ->check(CLI::IsMember({"dead-letter", "rejected", "received", "applied"}));
  list->add_option("--limit", *limit, "At most this many")->capture_default_str();
  list->callback([store_flags, state, limit] {
    if (int rc = RunList(*store_flags, *state, *limit); rc != 0) throw CLI::RuntimeError(rc);
  });
  auto ids = std::make_shared<std::vector<std::string>>();
  auto all = std::make_shared<bool>(false);
  CLI::App* replay = dl->add_subcommand("replay", "Map and apply dead letters again");
  add_store(replay);
  replay->add_option("ids", *ids, "The messages' ids (from list)");
  replay->add_flag("--all", *all, "Every dead letter");
  replay->callback([store_flags, ids, all] {
    if (ids->empty() && !*all) {
      std::cerr << "vesta hl7v2 deadletters replay: give ids or --all\n";
      throw CLI::RuntimeError(1);
    }
    if (int rc = RunReplay(*store_flags, *ids, *all); rc != 0) throw CLI::RuntimeError(rc);
  });

  CLI::App* acks = cmd->add_subcommand(
      "acks",
      "Application ACKs sent on connections of their own (vesta serve --hl7v2-app-ack-route)");
  acks->require_subcommand(1);
  auto ack_state = std::make_shared<std::string>("pending");
  auto ack_limit = std::make_shared<int>(100);
  CLI::App* acks_list =
      acks->add_subcommand("list", "List them, newest first, with attempts and the last error");
  add_store(acks_list);
  acks_list
      ->add_option("--state", *ack_state,
                   "pending (not delivered yet), failed (no route for the sender) or sent")
      ->capture_default_str()
      ->check(CLI::IsMember({"pending", "failed", "sent"}));
  acks_list->add_option("--limit", *ack_limit, "At most this many")->capture_default_str();
  acks_list->callback([store_flags, ack_state, ack_limit] {
    if (int rc = RunAcksList(*store_flags, *ack_state, *ack_limit); rc != 0) {
      throw CLI::RuntimeError(rc);
    }
  });

  auto older_than = std::make_shared<std::string>();
  CLI::App* purge = cmd->add_subcommand(
      "purge",
      "Remove the raw text of applied messages older than a period, from every version of "
      "their records (as `vesta serve --hl7v2-retention` does); prints how many");
  add_store(purge);
  purge
      ->add_option("--older-than", *older_than,
                   "Applied (or last written) before this long ago: 30d, 12h, 90m, 45s; 0s: all")
      ->required();
  purge->callback([store_flags, older_than] {
    if (int rc = RunPurge(*store_flags, *older_than); rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace

VESTA_COMMAND(AddHl7v2);

}  // namespace vesta::cli
