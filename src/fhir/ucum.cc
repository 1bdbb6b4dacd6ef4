// UCUM (https://ucum.org/ucum): the grammar of unit terms (§2 "Syntax Rules": operators `.` and
// `/` read left to right, parentheses, exponents after a unit, `10*n`, annotations in braces)
// and the atoms below, each defined by its size in base units.
#include "fhir/ucum.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace vesta::ucum {
namespace {

struct Atom {
  const char* code;
  double factor;  // in base units m, g, s, K, rad, [IU]
  std::array<int, kDims> dims;
  bool metric;          // accepts a prefix (UCUM's "metric" flag)
  bool offset = false;  // a temperature scale with an offset (Cel, [degF])
};

constexpr double kAvogadro = 6.02214076e23;  // mol is a dimensionless number in UCUM

// Units are g-based (UCUM's base unit of mass is the gram): N = kg.m/s2 = 1000 g.m.s-2.
const Atom kAtoms[] = {
    {"m", 1, {1, 0, 0, 0, 0, 0}, true},
    {"g", 1, {0, 1, 0, 0, 0, 0}, true},
    {"s", 1, {0, 0, 1, 0, 0, 0}, true},
    {"K", 1, {0, 0, 0, 1, 0, 0}, true},
    {"rad", 1, {0, 0, 0, 0, 1, 0}, true},
    {"mol", kAvogadro, {0, 0, 0, 0, 0, 0}, true},
    {"eq", kAvogadro, {0, 0, 0, 0, 0, 0}, true},
    {"osm", kAvogadro, {0, 0, 0, 0, 0, 0}, true},
    {"kat", kAvogadro, {0, 0, -1, 0, 0, 0}, true},
    {"U", 1e-6 * kAvogadro / 60, {0, 0, -1, 0, 0, 0}, true},  // umol/min
    {"L", 1e-3, {3, 0, 0, 0, 0, 0}, true},
    {"l", 1e-3, {3, 0, 0, 0, 0, 0}, true},
    {"t", 1e6, {0, 1, 0, 0, 0, 0}, true},
    {"min", 60, {0, 0, 1, 0, 0, 0}, false},
    {"h", 3600, {0, 0, 1, 0, 0, 0}, false},
    {"d", 86400, {0, 0, 1, 0, 0, 0}, false},
    {"wk", 604800, {0, 0, 1, 0, 0, 0}, false},
    {"mo", 2629800, {0, 0, 1, 0, 0, 0}, false},
    {"a", 31557600, {0, 0, 1, 0, 0, 0}, false},
    {"[in_i]", 0.0254, {1, 0, 0, 0, 0, 0}, false},
    {"[ft_i]", 0.3048, {1, 0, 0, 0, 0, 0}, false},
    {"[yd_i]", 0.9144, {1, 0, 0, 0, 0, 0}, false},
    {"[mi_i]", 1609.344, {1, 0, 0, 0, 0, 0}, false},
    {"[lb_av]", 453.59237, {0, 1, 0, 0, 0, 0}, false},
    {"[oz_av]", 28.349523125, {0, 1, 0, 0, 0, 0}, false},
    {"[gal_us]", 3.785411784e-3, {3, 0, 0, 0, 0, 0}, false},
    {"[foz_us]", 2.95735295625e-5, {3, 0, 0, 0, 0, 0}, false},
    {"Cel", 1, {0, 0, 0, 1, 0, 0}, false, true},
    {"[degF]", 5.0 / 9.0, {0, 0, 0, 1, 0, 0}, false, true},
    {"%", 0.01, {0, 0, 0, 0, 0, 0}, false},
    {"[ppth]", 1e-3, {0, 0, 0, 0, 0, 0}, false},
    {"[ppm]", 1e-6, {0, 0, 0, 0, 0, 0}, false},
    {"[ppb]", 1e-9, {0, 0, 0, 0, 0, 0}, false},
    {"Hz", 1, {0, 0, -1, 0, 0, 0}, true},
    {"N", 1000, {1, 1, -2, 0, 0, 0}, true},
    {"Pa", 1000, {-1, 1, -2, 0, 0, 0}, true},
    {"bar", 1e8, {-1, 1, -2, 0, 0, 0}, true},
    {"J", 1000, {2, 1, -2, 0, 0, 0}, true},
    {"cal", 4184, {2, 1, -2, 0, 0, 0}, true},
    {"W", 1000, {2, 1, -3, 0, 0, 0}, true},
    {"m[Hg]", 133322000, {-1, 1, -2, 0, 0, 0}, true},
    {"m[H2O]", 9806650, {-1, 1, -2, 0, 0, 0}, true},
    {"[iU]", 1, {0, 0, 0, 0, 0, 1}, true},
    {"[IU]", 1, {0, 0, 0, 0, 0, 1}, true},
    {"deg", 0.017453292519943295, {0, 0, 0, 0, 1, 0}, false},
    {"[pi]", 3.141592653589793, {0, 0, 0, 0, 0, 0}, false},
    // `10*3` and `10^3` are the atom 10* (or 10^) with an exponent.
    {"10*", 10, {0, 0, 0, 0, 0, 0}, false},
    {"10^", 10, {0, 0, 0, 0, 0, 0}, false},
};

struct Prefix {
  const char* code;
  double factor;
};
// "da" before "d": the longest prefix that leaves a metric atom wins.
const Prefix kPrefixes[] = {{"da", 1e1},  {"Y", 1e24},  {"Z", 1e21}, {"E", 1e18}, {"P", 1e15},
                            {"T", 1e12},  {"G", 1e9},   {"M", 1e6},  {"k", 1e3},  {"h", 1e2},
                            {"d", 1e-1},  {"c", 1e-2},  {"m", 1e-3}, {"u", 1e-6}, {"n", 1e-9},
                            {"p", 1e-12}, {"f", 1e-15}, {"a", 1e-18}};

const Atom* FindAtom(std::string_view code) {
  for (const Atom& a : kAtoms) {
    if (code == a.code) return &a;
  }
  return nullptr;
}

// An atom, or a prefix followed by a metric atom ("mg", "dL", "mm[Hg]").
bool LookupUnit(std::string_view s, Unit* out) {
  if (const Atom* a = FindAtom(s)) {
    out->factor = a->factor;
    out->dims = a->dims;
    out->has_offset = a->offset;
    return true;
  }
  for (const Prefix& p : kPrefixes) {
    size_t n = std::strlen(p.code);
    if (s.size() <= n || s.substr(0, n) != p.code) continue;
    const Atom* a = FindAtom(s.substr(n));
    if (a != nullptr && a->metric) {
      out->factor = a->factor * p.factor;
      out->dims = a->dims;
      out->has_offset = a->offset;
      return true;
    }
  }
  return false;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  bool ParseAll(Unit* out) { return Term(out) && i_ == s_.size(); }

 private:
  // term: ['/'] component (('.' | '/') component)*, read left to right.
  bool Term(Unit* out) {
    Unit acc;
    bool divide = false;
    if (i_ < s_.size() && s_[i_] == '/') {
      divide = true;
      ++i_;
    }
    for (;;) {
      Unit c;
      if (!Component(&c)) return false;
      acc.factor = divide ? acc.factor / c.factor : acc.factor * c.factor;
      for (int d = 0; d < kDims; ++d) acc.dims[d] += divide ? -c.dims[d] : c.dims[d];
      acc.has_offset = acc.has_offset || c.has_offset;
      if (i_ >= s_.size() || s_[i_] == ')') break;
      if (s_[i_] == '.') {
        divide = false;
      } else if (s_[i_] == '/') {
        divide = true;
      } else {
        return false;
      }
      ++i_;
    }
    *out = acc;
    return true;
  }

  // Skips an annotation `{...}` if one starts here; false when it is not closed.
  bool SkipAnnotation() {
    if (i_ >= s_.size() || s_[i_] != '{') return true;
    size_t end = s_.find('}', i_);
    if (end == std::string_view::npos) return false;
    i_ = end + 1;
    return true;
  }

  // component: '(' term ')' | annotation | unit[exponent][annotation] | factor[annotation]
  bool Component(Unit* out) {
    if (i_ < s_.size() && s_[i_] == '(') {
      // Untrusted input (search values): nesting is bounded so recursion cannot exhaust the
      // stack.
      if (++depth_ > kMaxDepth) return false;
      ++i_;
      if (!Term(out)) return false;
      --depth_;
      if (i_ >= s_.size() || s_[i_] != ')') return false;
      ++i_;
      return SkipAnnotation();
    }
    if (i_ < s_.size() && s_[i_] == '{') {
      *out = Unit{};  // an annotation alone is the unity
      return SkipAnnotation();
    }
    size_t start = i_;
    int bracket = 0;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == '[') ++bracket;
      if (c == ']') --bracket;
      if (bracket == 0 && (c == '.' || c == '/' || c == '(' || c == ')' || c == '{')) break;
      ++i_;
    }
    if (bracket != 0) return false;
    std::string_view text = s_.substr(start, i_ - start);
    if (!SkipAnnotation() || text.empty()) return false;
    if (AllDigits(text)) {  // a factor: "1", "100"
      *out = Unit{};
      out->factor = std::strtod(std::string(text).c_str(), nullptr);
      return out->factor > 0 && std::isfinite(out->factor);
    }
    // A trailing signed integer is the exponent ("m2", "s-1", "10*3", "10*-3").
    size_t e = text.size();
    while (e > 0 && text[e - 1] >= '0' && text[e - 1] <= '9') --e;
    if (e < text.size() && e > 0 && (text[e - 1] == '-' || text[e - 1] == '+')) --e;
    int exponent = 1;
    std::string_view base = text;
    if (e > 0 && e < text.size()) {
      std::string_view digits = text.substr(e);
      if (digits.size() > 3) return false;  // beyond ±24 anyway; keeps atoi in range
      exponent = std::atoi(std::string(digits).c_str());
      base = text.substr(0, e);
      if (exponent == 0 || std::abs(exponent) > 24) return false;
    }
    Unit u;
    if (!LookupUnit(base, &u)) return false;
    out->factor = std::pow(u.factor, exponent);
    for (int d = 0; d < kDims; ++d) out->dims[d] = u.dims[d] * exponent;
    out->has_offset = u.has_offset;
    return std::isfinite(out->factor) && out->factor > 0;
  }

  static constexpr int kMaxDepth = 8;
  std::string_view s_;
  size_t i_ = 0;
  int depth_ = 0;
};

double RoundSignificant(double v, int digits) {
  if (v == 0 || !std::isfinite(v)) return v;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return std::strtod(buf, nullptr);
}

}  // namespace

std::optional<Unit> ParseUnit(std::string_view code) {
  if (code.empty() || code == "1") return Unit{};
  Unit u;
  Parser p(code);
  if (!p.ParseAll(&u)) return std::nullopt;
  return u;
}

bool Commensurable(const Unit& a, const Unit& b) { return a.dims == b.dims; }

std::string CanonicalCode(const Unit& u) {
  static const char* kNames[kDims] = {"m", "g", "s", "K", "rad", "[IU]"};
  std::string num, den;
  int den_terms = 0;
  for (int d = 0; d < kDims; ++d) {
    int p = u.dims[d];
    if (p == 0) continue;
    std::string& s = p > 0 ? num : den;
    if (p < 0) ++den_terms;
    if (!s.empty()) s += '.';
    s += kNames[d];
    int ap = p > 0 ? p : -p;
    if (ap != 1) s += std::to_string(ap);
  }
  if (den.empty()) return num.empty() ? "1" : num;
  if (den_terms == 1) return num + "/" + den;
  // Several divisors: negative exponents, since `a/b.c` would mean (a/b).c.
  std::string out = num;
  for (int d = 0; d < kDims; ++d) {
    if (u.dims[d] >= 0) continue;
    if (!out.empty()) out += '.';
    out += kNames[d] + std::to_string(u.dims[d]);
  }
  return out;
}

std::optional<Canonical> Canonicalize(double value, std::string_view code) {
  std::optional<Unit> u = ParseUnit(code);
  if (!u || !std::isfinite(value)) return std::nullopt;
  double v;
  if (u->has_offset) {
    // A temperature: only the scale alone converts (Cel: K = C + 273.15; [degF]: K = (F +
    // 459.67) * 5/9); a compound such as Cel/h has no defined conversion.
    if (code == "Cel") {
      v = value + 273.15;
    } else if (code == "[degF]") {
      v = (value + 459.67) * 5.0 / 9.0;
    } else {
      return std::nullopt;
    }
  } else {
    v = value * u->factor;
  }
  if (!std::isfinite(v)) return std::nullopt;
  return Canonical{RoundSignificant(v, 12), CanonicalCode(*u)};
}

}  // namespace vesta::ucum
