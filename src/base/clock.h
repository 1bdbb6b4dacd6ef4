// Time and identity sources, injected so that tests can fix them.
#pragma once

#include <cstdint>
#include <mutex>
#include <random>
#include <string>

namespace vesta {

// Microseconds since the Unix epoch, UTC.
using Micros = int64_t;

// A source of the current time. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Micros Now() = 0;
};

// The system's real-time clock, made strictly increasing so that two writes never share a
// lastUpdated instant (history ordering and _since rely on it).
class SystemClock : public Clock {
 public:
  Micros Now() override;

 private:
  std::mutex mu_;
  Micros last_ = 0;
};

// A clock that tests move by hand.
class FakeClock : public Clock {
 public:
  explicit FakeClock(Micros start) : now_(start) {}
  Micros Now() override { return now_; }
  void Advance(Micros by) { now_ += by; }

 private:
  Micros now_;
};

// Formats an instant as an R4 `instant` (https://hl7.org/fhir/R4/datatypes.html#instant):
// YYYY-MM-DDThh:mm:ss.ffffffZ with microseconds, always UTC.
std::string FormatInstant(Micros t);
// Formats as an HTTP-date (RFC 9110 §5.6.7), e.g. "Tue, 24 Nov 2026 01:52:59 GMT".
std::string FormatHttpDate(Micros t);
// Parses an HTTP-date in IMF-fixdate form; returns false when it is not one.
bool ParseHttpDate(const std::string& text, Micros* out);

// A source of new logical ids. Implementations are thread-safe.
class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  virtual std::string NewId() = 0;
};

// Random version-4 UUIDs in lower-case text form, valid FHIR ids (64 chars max, [A-Za-z0-9\-.]).
class UuidGenerator : public IdGenerator {
 public:
  UuidGenerator();
  explicit UuidGenerator(uint64_t seed) : rng_(seed) {}
  std::string NewId() override;

 private:
  std::mutex mu_;
  std::mt19937_64 rng_;
};

// Time-ordered version-7 UUIDs (RFC 9562 §5.7): 48 bits of Unix milliseconds from `clock`, then
// a 12-bit counter in rand_a that orders ids made in the same millisecond (§6.2, method 1), then
// 62 random bits. Successive ids sort in creation order as text, so the store's (type, id)
// indexes grow at their right edge: a batch of creates shares a few index pages instead of
// dirtying one random page per id. The id reveals its creation time, as meta.lastUpdated does.
class UuidV7Generator : public IdGenerator {
 public:
  explicit UuidV7Generator(Clock& clock);
  UuidV7Generator(Clock& clock, uint64_t seed) : clock_(clock), rng_(seed) {}
  std::string NewId() override;

 private:
  Clock& clock_;
  std::mutex mu_;  // guards the three below
  std::mt19937_64 rng_;
  int64_t last_ms_ = -1;
  uint32_t counter_ = 0;
};

}  // namespace vesta
