// The load generator of the HL7 v2 feed benchmark (bench/hl7v2/hl7v2_bench.py): one client design
// for both paths, so that the MLLP feed and the FHIR transaction it maps to are measured alike.
//
//   hl7v2_load --mode mllp|http --port P --connections N --duration S --payloads FILE
//              [--host 127.0.0.1]
//
// FILE holds the payloads separated by NUL bytes: HL7 v2 messages (segments ended by CR) for
// mllp, transaction Bundles (JSON) for http. N threads each open one connection (TCP_NODELAY)
// and send one payload at a time, waiting for its answer before the next (an MLLP sender waits
// for each ACK; an HTTP/1.1 keep-alive client for each response). Thread t sends payloads t,
// t + N, t + 2N, ... each once, and stops when its share is used up or S seconds have passed
// (the payload in flight is finished). Every wait is bounded by a 30 s socket timeout.
//
//   mllp  0x0B message 0x1C 0x0D (HL7 v2.5.1 appendix C, the minimal lower layer protocol); the
//         answer is one frame, an ACK whose MSA-1 must be AA.
//   http  POST / with Content-Type application/fhir+json (https://hl7.org/fhir/R4/http.html#
//         transaction); the answer's status must be 200 (Content-Length or chunked body).
//
// Prints one line:
//   sent=N ok=N failed=N seconds=S p50_ms=X p99_ms=Y exhausted=0|1
// followed, when some failed, by `first_failure=...` (the first answer that was not accepted).
// seconds runs from the start to the last answer; latency is from the first byte sent to the
// last byte of the answer. Exit status 1 on a usage or connection error.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

enum class Mode { kMllp, kHttp };

struct Options {
  Mode mode = Mode::kMllp;
  std::string host = "127.0.0.1";
  int port = 0;
  int connections = 1;
  double duration_s = 4;
  std::string payloads;
};

struct ThreadResult {
  long sent = 0;
  long ok = 0;
  long failed = 0;
  bool exhausted = false;
  std::vector<double> latency_ms;
  std::string first_failure;
  Clock::time_point last_answer{};
};

int Connect(const Options& o) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval tv{};
  tv.tv_sec = 30;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(o.port));
  if (inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr) != 1 ||
      connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads into `buf` until `done(buf)` says a whole answer is there; false on EOF or timeout.
template <typename Done>
bool ReadUntil(int fd, std::string& buf, Done done) {
  char chunk[16384];
  while (!done(buf)) {
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf.append(chunk, static_cast<size_t>(n));
  }
  return true;
}

// One MLLP exchange: true when the ACK's MSA-1 is AA. `answer` is the ACK's text.
bool MllpExchange(int fd, const std::string& message, std::string& answer) {
  std::string frame;
  frame.reserve(message.size() + 3);
  frame += '\x0b';
  frame += message;
  frame += "\x1c\x0d";
  if (!SendAll(fd, frame)) {
    answer = "send failed";
    return false;
  }
  std::string buf;
  if (!ReadUntil(fd, buf, [](const std::string& b) { return b.find("\x1c\x0d") != b.npos; })) {
    answer = "connection closed or timed out before the ACK";
    return false;
  }
  size_t start = buf.find('\x0b');
  size_t end = buf.find("\x1c\x0d");
  answer = buf.substr(start == buf.npos ? 0 : start + 1, end - (start == buf.npos ? 0 : start + 1));
  size_t msa = answer.find("\rMSA|");
  return msa != answer.npos && answer.compare(msa + 5, 3, "AA|") == 0;
}

// The length of a chunked body's encoding at the start of `body` once it is complete, else npos.
size_t ChunkedLength(const std::string& body) {
  size_t pos = 0;
  while (true) {
    size_t eol = body.find("\r\n", pos);
    if (eol == body.npos) return body.npos;
    size_t size = std::strtoul(body.c_str() + pos, nullptr, 16);
    pos = eol + 2;
    if (size == 0) {
      size_t end = body.find("\r\n", pos);  // no trailers expected: the final CRLF
      return end == body.npos ? body.npos : end + 2;
    }
    if (body.size() < pos + size + 2) return body.npos;
    pos += size + 2;
  }
}

// One HTTP/1.1 exchange on a keep-alive connection: true when the status is 200.
bool HttpExchange(int fd, const Options& o, const std::string& body, std::string& answer) {
  std::string req = "POST / HTTP/1.1\r\nHost: " + o.host + ":" + std::to_string(o.port) +
                    "\r\nContent-Type: application/fhir+json\r\nAccept: application/fhir+json"
                    "\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n";
  req += body;
  if (!SendAll(fd, req)) {
    answer = "send failed";
    return false;
  }
  std::string buf;
  size_t head_end = std::string::npos;
  bool complete = ReadUntil(fd, buf, [&](const std::string& b) {
    if (head_end == std::string::npos) {
      head_end = b.find("\r\n\r\n");
      if (head_end == std::string::npos) return false;
    }
    std::string head = b.substr(0, head_end);
    for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t cl = head.find("\r\ncontent-length:");
    if (cl != std::string::npos) {
      return b.size() >= head_end + 4 + std::strtoul(head.c_str() + cl + 17, nullptr, 10);
    }
    if (head.find("\r\ntransfer-encoding: chunked") != std::string::npos) {
      return ChunkedLength(b.substr(head_end + 4)) != std::string::npos;
    }
    return true;  // no body
  });
  if (!complete) {
    answer = "connection closed or timed out before the response";
    return false;
  }
  answer = buf.substr(0, std::min<size_t>(buf.size(), 600));
  return buf.compare(0, 13, "HTTP/1.1 200 ") == 0;
}

void Run(const Options& o, const std::vector<std::string>& payloads, int t, Clock::time_point end,
         ThreadResult& r) {
  int fd = Connect(o);
  if (fd < 0) {
    r.failed = 1;
    r.first_failure = "connect failed";
    return;
  }
  std::string answer;
  for (size_t i = static_cast<size_t>(t);; i += static_cast<size_t>(o.connections)) {
    if (i >= payloads.size()) {
      r.exhausted = true;
      break;
    }
    if (Clock::now() >= end) break;
    auto t0 = Clock::now();
    bool ok = o.mode == Mode::kMllp ? MllpExchange(fd, payloads[i], answer)
                                    : HttpExchange(fd, o, payloads[i], answer);
    auto t1 = Clock::now();
    ++r.sent;
    r.last_answer = t1;
    r.latency_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    if (ok) {
      ++r.ok;
    } else {
      ++r.failed;
      if (r.first_failure.empty()) r.first_failure = answer;
      if (answer.find("closed") != answer.npos || answer == "send failed") break;
    }
  }
  close(fd);
}

double Percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t k = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(k, v.size() - 1)];
}

int Usage() {
  std::fprintf(stderr,
               "usage: hl7v2_load --mode mllp|http --port P --connections N --duration S "
               "--payloads FILE [--host 127.0.0.1]\n");
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--mode" && (v == "mllp" || v == "http")) {
      o.mode = v == "mllp" ? Mode::kMllp : Mode::kHttp;
    } else if (k == "--host") {
      o.host = v;
    } else if (k == "--port") {
      o.port = std::atoi(v.c_str());
    } else if (k == "--connections") {
      o.connections = std::atoi(v.c_str());
    } else if (k == "--duration") {
      o.duration_s = std::atof(v.c_str());
    } else if (k == "--payloads") {
      o.payloads = v;
    } else {
      return Usage();
    }
  }
  if (argc % 2 == 0 || o.port <= 0 || o.connections <= 0 || o.payloads.empty()) return Usage();
  std::ifstream in(o.payloads, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "hl7v2_load: cannot read %s\n", o.payloads.c_str());
    return 1;
  }
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> payloads;
  for (size_t pos = 0; pos < all.size();) {
    size_t nul = all.find('\0', pos);
    if (nul == std::string::npos) nul = all.size();
    if (nul > pos) payloads.push_back(all.substr(pos, nul - pos));
    pos = nul + 1;
  }

  std::vector<ThreadResult> results(static_cast<size_t>(o.connections));
  std::vector<std::thread> threads;
  auto start = Clock::now();
  auto end = start + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(o.duration_s));
  for (int t = 0; t < o.connections; ++t) {
    threads.emplace_back(Run, std::cref(o), std::cref(payloads), t, end,
                         std::ref(results[static_cast<size_t>(t)]));
  }
  for (auto& th : threads) th.join();

  ThreadResult total;
  total.last_answer = start;
  for (auto& r : results) {
    total.sent += r.sent;
    total.ok += r.ok;
    total.failed += r.failed;
    total.exhausted = total.exhausted || r.exhausted;
    total.last_answer = std::max(total.last_answer, r.last_answer);
    total.latency_ms.insert(total.latency_ms.end(), r.latency_ms.begin(), r.latency_ms.end());
    if (total.first_failure.empty()) total.first_failure = r.first_failure;
  }
  double seconds = std::chrono::duration<double>(total.last_answer - start).count();
  double p50 = Percentile(total.latency_ms, 0.50);
  double p99 = Percentile(total.latency_ms, 0.99);
  std::printf("sent=%ld ok=%ld failed=%ld seconds=%.4f p50_ms=%.3f p99_ms=%.3f exhausted=%d\n",
              total.sent, total.ok, total.failed, seconds, p50, p99, total.exhausted ? 1 : 0);
  if (!total.first_failure.empty()) {
    std::string f = total.first_failure;
    for (char& c : f) {
      if (c == '\r' || c == '\n') c = ' ';
    }
    std::printf("first_failure=%s\n", f.c_str());
  }
  return 0;
}
