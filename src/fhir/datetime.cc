#include "fhir/datetime.h"

#include <ctime>
#include <string>

#include "base/strings.h"

namespace vesta::fhir {
namespace {

Micros ToMicros(int y, int mo, int d, int h, int mi, int s) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<Micros>(timegm(&tm)) * 1000000;
}

}  // namespace

Result<TimeRange> ParseTimeRange(std::string_view text) {
  auto bad = [&] {
    return Status(StatusCode::kInvalid,
                  "'" + std::string(text) + "' is not a FHIR date, dateTime or instant");
  };
  size_t i = 0;
  int y = 0, mo = 1, d = 1, h = 0, mi = 0, s = 0;
  if (!ConsumeDigits(text, &i, 4, &y)) return bad();
  int precision = 1;  // 1 year, 2 month, 3 day, 4 minute, 5 second, 6 fraction
  if (i < text.size() && text[i] == '-') {
    ++i;
    if (!ConsumeDigits(text, &i, 2, &mo) || mo < 1 || mo > 12) return bad();
    precision = 2;
    if (i < text.size() && text[i] == '-') {
      ++i;
      if (!ConsumeDigits(text, &i, 2, &d) || d < 1 || d > 31) return bad();
      precision = 3;
    }
  }
  Micros fraction = 0;
  int fraction_digits = 0;
  if (i < text.size() && text[i] == 'T') {
    if (precision != 3) return bad();
    ++i;
    if (!ConsumeDigits(text, &i, 2, &h) || h > 23) return bad();
    if (i >= text.size() || text[i++] != ':') return bad();
    if (!ConsumeDigits(text, &i, 2, &mi) || mi > 59) return bad();
    precision = 4;
    if (i < text.size() && text[i] == ':') {
      ++i;
      if (!ConsumeDigits(text, &i, 2, &s) || s > 60) return bad();
      precision = 5;
      if (i < text.size() && text[i] == '.') {
        ++i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
          if (fraction_digits < 6) {
            fraction = fraction * 10 + (text[i] - '0');
            ++fraction_digits;
          }
          ++i;
        }
        if (fraction_digits == 0) return bad();
        for (int k = fraction_digits; k < 6; ++k) fraction *= 10;
        precision = 6;
      }
    }
  }
  Micros offset = 0;
  if (i < text.size()) {
    if (precision < 4) return bad();
    if (text[i] == 'Z') {
      ++i;
    } else if (text[i] == '+' || text[i] == '-') {
      int sign = text[i] == '-' ? -1 : 1;
      ++i;
      int oh, om;
      if (!ConsumeDigits(text, &i, 2, &oh)) return bad();
      if (i >= text.size() || text[i++] != ':') return bad();
      if (!ConsumeDigits(text, &i, 2, &om) || om > 59 || oh > 14) return bad();
      offset = sign * (static_cast<Micros>(oh) * 3600 + om * 60) * 1000000;
    } else {
      return bad();
    }
  }
  if (i != text.size()) return bad();
  TimeRange r;
  r.low = ToMicros(y, mo, d, h, mi, s) + fraction - offset;
  Micros next;
  switch (precision) {
    case 1:
      next = ToMicros(y + 1, 1, 1, 0, 0, 0);
      break;
    case 2:
      next = mo == 12 ? ToMicros(y + 1, 1, 1, 0, 0, 0) : ToMicros(y, mo + 1, 1, 0, 0, 0);
      break;
    case 3:
      next = r.low + 86400LL * 1000000;
      break;
    case 4:
      next = r.low + 60LL * 1000000;
      break;
    case 5:
      next = r.low + 1000000;
      break;
    default: {
      Micros unit = 1;
      for (int k = fraction_digits; k < 6; ++k) unit *= 10;
      next = r.low + unit;
    }
  }
  if (precision <= 2) next -= offset;
  r.high = next - 1;
  return r;
}

}  // namespace vesta::fhir
