#include "base/clock.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace vesta {

Micros SystemClock::Now() {
  Micros now = std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  std::lock_guard lock(mu_);
  if (now <= last_) now = last_ + 1;
  last_ = now;
  return now;
}

namespace {
// UTC calendar fields of `t`, from the proleptic Gregorian calendar of <chrono>: no call into
// gmtime_r, which takes the C library's time zone lock on every call (it showed in read
// profiles through Last-Modified).
std::tm ToTm(Micros t) {
  using namespace std::chrono;
  const sys_time<microseconds> tp{microseconds(t)};
  const sys_days day = floor<days>(tp);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> hms{floor<seconds>(tp - day)};
  std::tm tm{};
  tm.tm_year = static_cast<int>(ymd.year()) - 1900;
  tm.tm_mon = static_cast<int>(static_cast<unsigned>(ymd.month())) - 1;
  tm.tm_mday = static_cast<int>(static_cast<unsigned>(ymd.day()));
  tm.tm_hour = static_cast<int>(hms.hours().count());
  tm.tm_min = static_cast<int>(hms.minutes().count());
  tm.tm_sec = static_cast<int>(hms.seconds().count());
  tm.tm_wday = static_cast<int>(weekday(day).c_encoding());
  return tm;
}
}  // namespace

std::string FormatInstant(Micros t) {
  std::tm tm = ToTm(t);
  long frac = static_cast<long>(((t % 1000000) + 1000000) % 1000000);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

namespace {
constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
}  // namespace

// Formatted by hand: on every read (Last-Modified), where snprintf showed in profiles.
std::string FormatHttpDate(Micros t) {
  std::tm tm = ToTm(t);
  std::string out = "Ddd, 00 Mmm 0000 00:00:00 GMT";
  auto two = [&](size_t at, int v) {
    out[at] = static_cast<char>('0' + v / 10 % 10);
    out[at + 1] = static_cast<char>('0' + v % 10);
  };
  out.replace(0, 3, kDays[tm.tm_wday]);
  two(5, tm.tm_mday);
  out.replace(8, 3, kMonths[tm.tm_mon]);
  int year = tm.tm_year + 1900;
  if (year < 0 || year > 9999) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                  tm.tm_mday, kMonths[tm.tm_mon], year, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
  }
  two(12, year / 100);
  two(14, year % 100);
  two(17, tm.tm_hour);
  two(20, tm.tm_min);
  two(23, tm.tm_sec);
  return out;
}

bool ParseHttpDate(const std::string& text, Micros* out) {
  char day[4] = {}, mon[4] = {}, zone[4] = {};
  int mday = 0, year = 0, hh = 0, mm = 0, ss = 0;
  if (std::sscanf(text.c_str(), "%3s, %d %3s %d %d:%d:%d %3s", day, &mday, mon, &year, &hh, &mm,
                  &ss, zone) != 8) {
    return false;
  }
  int month = -1;
  for (int i = 0; i < 12; ++i) {
    if (std::string(mon) == kMonths[i]) month = i;
  }
  if (month < 0 || std::string(zone) != "GMT") return false;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month;
  tm.tm_mday = mday;
  tm.tm_hour = hh;
  tm.tm_min = mm;
  tm.tm_sec = ss;
  *out = static_cast<Micros>(timegm(&tm)) * 1000000;
  return true;
}

namespace {

// The 128 bits `hi`:`lo` in the RFC 9562 text form, lower case (8-4-4-4-12 hex digits).
std::string FormatUuid(uint64_t hi, uint64_t lo) {
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return buf;
}

}  // namespace

UuidGenerator::UuidGenerator() : rng_(std::random_device{}()) {}

std::string UuidGenerator::NewId() {
  uint64_t a, b;
  {
    std::lock_guard lock(mu_);
    a = rng_();
    b = rng_();
  }
  a = (a & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 1
  return FormatUuid(a, b);
}

UuidV7Generator::UuidV7Generator(Clock& clock) : clock_(clock), rng_(std::random_device{}()) {}

std::string UuidV7Generator::NewId() {
  int64_t ms = clock_.Now() / 1000;
  uint32_t counter;
  uint64_t random;
  {
    std::lock_guard lock(mu_);
    if (ms <= last_ms_) {
      // The same millisecond (or a clock that stepped back): count on from the last id. When
      // the 12-bit counter runs out, borrow the next millisecond, as §6.2 allows.
      ms = last_ms_;
      if (++counter_ > 0xFFF) {
        ++ms;
        counter_ = 0;
      }
    } else {
      counter_ = 0;
    }
    last_ms_ = ms;
    counter = counter_;
    random = rng_();
  }
  uint64_t hi = (static_cast<uint64_t>(ms) & 0xFFFFFFFFFFFFULL) << 16 | 0x7000U | counter;
  uint64_t lo = (random & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 1
  return FormatUuid(hi, lo);
}

}  // namespace vesta
