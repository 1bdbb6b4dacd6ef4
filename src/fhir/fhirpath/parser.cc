// Lexer and recursive-descent parser for FHIRPath.
//
// http://hl7.org/fhirpath/N1/grammar.html — operator precedence, from tightest:
//   . []  |  unary + -  |  * / div mod  |  + - &  |  is as  |  '|'  |  < > <= >=  |
//   = ~ != !~  |  in contains  |  and  |  or xor  |  implies
// http://hl7.org/fhirpath/N1/#literals for the literal forms (strings with escapes, numbers,
// @dates, @Ttimes, quantities with UCUM or calendar units).
#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>
#include <vector>

#include "base/strings.h"
#include "fhir/fhirpath/ast.h"
#include "fhir/fhirpath/functions.h"
#include "fhir/model/model.h"

namespace vesta::fhirpath::internal {
namespace {

enum class Tok : uint8_t {
  kEnd,
  kIdent,       // plain identifier (also keywords like and/or/div: checked by text)
  kDelimIdent,  // `...`
  kString,      // '...'
  kNumber,
  kDate,      // text without '@'
  kTime,      // text without '@T'
  kVariable,  // %name or %`name` or %'name'
  kSpecial,   // $this $index $total
  kPunct,     // operators and punctuation
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;
  int pos = 0;
};

Status ErrorAt(int pos, const std::string& what) {
  return Invalid("FHIRPath: " + what + " at position " + std::to_string(pos));
}

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsHighSurrogate(unsigned cp) { return cp >= 0xD800 && cp <= 0xDBFF; }
bool IsLowSurrogate(unsigned cp) { return cp >= 0xDC00 && cp <= 0xDFFF; }

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  Result<std::vector<Token>> Run() {
    std::vector<Token> out;
    while (true) {
      RETURN_IF_ERROR(SkipSpace());
      Token t;
      t.pos = static_cast<int>(i_);
      if (i_ >= s_.size()) {
        out.push_back(t);
        return out;
      }
      char c = s_[i_];
      if (IsIdentStart(c)) {
        size_t st = i_;
        while (i_ < s_.size() && IsIdentChar(s_[i_])) ++i_;
        t.kind = Tok::kIdent;
        t.text = std::string(s_.substr(st, i_ - st));
      } else if (c == '`' || c == '\'') {
        t.kind = c == '`' ? Tok::kDelimIdent : Tok::kString;
        RETURN_IF_ERROR(Quoted(c, &t.text));
      } else if (IsDigit(c)) {
        size_t st = i_;
        while (i_ < s_.size() && IsDigit(s_[i_])) ++i_;
        if (i_ + 1 < s_.size() && s_[i_] == '.' && IsDigit(s_[i_ + 1])) {
          ++i_;
          while (i_ < s_.size() && IsDigit(s_[i_])) ++i_;
        }
        t.kind = Tok::kNumber;
        t.text = std::string(s_.substr(st, i_ - st));
        // A Long literal: digits and an L (https://hl7.org/fhirpath/#long, STU).
        if (i_ < s_.size() && s_[i_] == 'L' && (i_ + 1 >= s_.size() || !IsIdentChar(s_[i_ + 1])) &&
            t.text.find('.') == std::string::npos) {
          ++i_;
          t.text += 'L';
        }
      } else if (c == '@') {
        ++i_;
        RETURN_IF_ERROR(DateTimeLiteral(&t));
      } else if (c == '%') {
        ++i_;
        t.kind = Tok::kVariable;
        if (i_ < s_.size() && (s_[i_] == '`' || s_[i_] == '\'')) {
          RETURN_IF_ERROR(Quoted(s_[i_], &t.text));
        } else if (i_ < s_.size() && IsIdentStart(s_[i_])) {
          size_t st = i_;
          while (i_ < s_.size() && (IsIdentChar(s_[i_]) || s_[i_] == '-')) ++i_;
          t.text = std::string(s_.substr(st, i_ - st));
        } else {
          return ErrorAt(t.pos, "expected a name after '%'");
        }
      } else if (c == '$') {
        size_t st = i_++;
        while (i_ < s_.size() && IsIdentChar(s_[i_])) ++i_;
        t.kind = Tok::kSpecial;
        t.text = std::string(s_.substr(st, i_ - st));
        if (t.text != "$this" && t.text != "$index" && t.text != "$total") {
          return ErrorAt(t.pos, "unknown special variable '" + t.text + "'");
        }
      } else {
        static const char* kTwo[] = {"<=", ">=", "!=", "!~"};
        t.kind = Tok::kPunct;
        for (const char* two : kTwo) {
          if (s_.substr(i_, 2) == two) t.text = two;
        }
        if (t.text.empty()) {
          if (std::strchr(".,()[]{}+-*/&|<>=~", c) == nullptr) {
            return ErrorAt(t.pos, std::string("unexpected character '") + c + "'");
          }
          t.text = std::string(1, c);
        }
        i_ += t.text.size();
      }
      out.push_back(std::move(t));
    }
  }

 private:
  Status SkipSpace() {
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f') {
        ++i_;
      } else if (s_.substr(i_, 2) == "//") {
        while (i_ < s_.size() && s_[i_] != '\n') ++i_;
      } else if (s_.substr(i_, 2) == "/*") {
        size_t end = s_.find("*/", i_ + 2);
        if (end == std::string_view::npos) {
          return ErrorAt(static_cast<int>(i_), "unterminated comment");
        }
        i_ = end + 2;
      } else {
        break;
      }
    }
    return Status::Ok();
  }

  // A quoted string or delimited identifier with escapes (http://hl7.org/fhirpath/N1/#string).
  Status Quoted(char q, std::string* out) {
    int start = static_cast<int>(i_);
    ++i_;
    while (i_ < s_.size() && s_[i_] != q) {
      char c = s_[i_++];
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (i_ >= s_.size()) break;
      char e = s_[i_++];
      switch (e) {
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case '\\':
        case '/':
        case '\'':
        case '"':
        case '`':
          out->push_back(e);
          break;
        case 'u': {
          // http://hl7.org/fhirpath/N1/#string: \uXXXX is a UTF-16 code unit, as in JSON: a
          // surrogate pair written as two escapes is one code point (RFC 8259 section 7). A lone
          // surrogate has no UTF-8 form: an error, so no invalid UTF-8 comes out.
          const int at = static_cast<int>(i_) - 2;
          unsigned cp;
          if (!Hex4(&cp)) return ErrorAt(at, "bad \\u escape: four hexadecimal digits expected");
          if (IsHighSurrogate(cp)) {
            unsigned low;
            if (s_.substr(i_, 2) != "\\u" || (i_ += 2, !Hex4(&low)) || !IsLowSurrogate(low)) {
              return ErrorAt(at,
                             "unpaired surrogate in \\u escape (a high surrogate must be "
                             "followed by a \\u escape of a low surrogate)");
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (IsLowSurrogate(cp)) {
            return ErrorAt(at, "unpaired surrogate in \\u escape (a low surrogate alone)");
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return ErrorAt(static_cast<int>(i_) - 2, std::string("bad escape '\\") + e + "'");
      }
    }
    if (i_ >= s_.size()) return ErrorAt(start, "unterminated string");
    ++i_;
    return Status::Ok();
  }

  // Four hexadecimal digits at i_ (consumed) as a number.
  bool Hex4(unsigned* out) {
    if (i_ + 4 > s_.size()) return false;
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = s_[i_ + k];
      if (!std::isxdigit(static_cast<unsigned char>(h))) return false;
      v = v * 16 + static_cast<unsigned>(IsDigit(h) ? h - '0' : (std::tolower(h) - 'a' + 10));
    }
    i_ += 4;
    *out = v;
    return true;
  }

  bool Digits(int n) {
    if (i_ + n > s_.size()) return false;
    for (int k = 0; k < n; ++k) {
      if (!IsDigit(s_[i_ + k])) return false;
    }
    i_ += n;
    return true;
  }

  // hh(:mm(:ss(.fff)?)?)?
  bool TimePart() {
    if (!Digits(2)) return false;
    if (i_ < s_.size() && s_[i_] == ':' && (i_ += 1, Digits(2))) {
      if (i_ < s_.size() && s_[i_] == ':') {
        ++i_;
        if (!Digits(2)) return false;
        if (i_ + 1 < s_.size() && s_[i_] == '.' && IsDigit(s_[i_ + 1])) {
          ++i_;
          while (i_ < s_.size() && IsDigit(s_[i_])) ++i_;
        }
      }
    }
    return true;
  }

  bool Timezone() {
    if (i_ < s_.size() && s_[i_] == 'Z') {
      ++i_;
      return true;
    }
    if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-') && i_ + 6 <= s_.size() &&
        IsDigit(s_[i_ + 1]) && IsDigit(s_[i_ + 2]) && s_[i_ + 3] == ':') {
      i_ += 4;
      return Digits(2);
    }
    return true;
  }

  Status DateTimeLiteral(Token* t) {
    size_t st = i_;
    if (i_ < s_.size() && s_[i_] == 'T') {
      ++i_;
      if (!TimePart()) return ErrorAt(t->pos, "bad time literal");
      if (i_ < s_.size() && (s_[i_] == 'Z' || s_[i_] == '+' || s_[i_] == '-') &&
          i_ + 1 < s_.size() && (s_[i_] == 'Z' || IsDigit(s_[i_ + 1]))) {
        return ErrorAt(t->pos, "a time literal cannot have a timezone");
      }
      t->kind = Tok::kTime;
      t->text = std::string(s_.substr(st + 1, i_ - st - 1));
      return Status::Ok();
    }
    if (!Digits(4)) return ErrorAt(t->pos, "bad date literal");
    bool full_date = false;
    if (i_ + 2 < s_.size() && s_[i_] == '-' && IsDigit(s_[i_ + 1])) {
      ++i_;
      if (!Digits(2)) return ErrorAt(t->pos, "bad date literal");
      if (i_ + 2 < s_.size() && s_[i_] == '-' && IsDigit(s_[i_ + 1])) {
        ++i_;
        if (!Digits(2)) return ErrorAt(t->pos, "bad date literal");
        full_date = true;
      }
    }
    t->kind = Tok::kDate;
    if (i_ < s_.size() && s_[i_] == 'T') {
      ++i_;
      t->kind = Tok::kTime;  // marks a DateTime; fixed below
      if (full_date && i_ < s_.size() && IsDigit(s_[i_])) {
        if (!TimePart()) return ErrorAt(t->pos, "bad dateTime literal");
        if (!Timezone()) return ErrorAt(t->pos, "bad timezone");
      }
    } else if (full_date && i_ < s_.size() && (s_[i_] == 'Z')) {
      ++i_;
    }
    std::string text(s_.substr(st, i_ - st));
    if (t->kind == Tok::kTime) {
      t->kind = Tok::kDate;
      t->text = text;  // contains 'T': a DateTime
    } else {
      t->text = text;
    }
    return Status::Ok();
  }

  std::string_view s_;
  size_t i_ = 0;
};

bool IsCalendarUnit(std::string_view s) {
  static const char* kUnits[] = {
      "year", "years", "month",  "months",  "week",   "weeks",   "day",         "days",
      "hour", "hours", "minute", "minutes", "second", "seconds", "millisecond", "milliseconds"};
  for (const char* u : kUnits) {
    if (s == u) return true;
  }
  return false;
}

class Parser {
 public:
  Parser(std::vector<Token> toks, const ExtensionFunctions* extensions)
      : t_(std::move(toks)), extensions_(extensions) {}

  Result<std::unique_ptr<Node>> ParseAll() {
    ASSIGN_OR_RETURN(auto n, Expr(0));
    if (Peek().kind != Tok::kEnd) {
      return ErrorAt(Peek().pos, "unexpected '" + Peek().text + "'");
    }
    return n;
  }

 private:
  const Token& Peek(int k = 0) const {
    size_t j = std::min(p_ + k, t_.size() - 1);
    return t_[j];
  }
  bool IsPunct(std::string_view p, int k = 0) const {
    return Peek(k).kind == Tok::kPunct && Peek(k).text == p;
  }
  bool IsWord(std::string_view w) const { return Peek().kind == Tok::kIdent && Peek().text == w; }
  Status Expect(std::string_view p) {
    if (!IsPunct(p)) {
      return ErrorAt(
          Peek().pos,
          "expected '" + std::string(p) + "'" +
              (Peek().kind == Tok::kEnd ? " before the end" : " but found '" + Peek().text + "'"));
    }
    ++p_;
    return Status::Ok();
  }

  // Binary operator at the current token and its precedence level (higher binds tighter).
  bool BinaryOp(Op* op, int* level) const {
    const Token& t = Peek();
    struct Entry {
      const char* text;
      bool word;
      Op op;
      int level;
    };
    static const Entry kOps[] = {
        {"*", false, Op::kMul, 10},     {"/", false, Op::kDiv, 10},
        {"div", true, Op::kDivInt, 10}, {"mod", true, Op::kMod, 10},
        {"+", false, Op::kAdd, 9},      {"-", false, Op::kSub, 9},
        {"&", false, Op::kConcat, 9},   {"is", true, Op::kIs, 8},
        {"as", true, Op::kAs, 8},       {"|", false, Op::kUnion, 7},
        {"<", false, Op::kLt, 6},       {"<=", false, Op::kLe, 6},
        {">", false, Op::kGt, 6},       {">=", false, Op::kGe, 6},
        {"=", false, Op::kEq, 5},       {"~", false, Op::kEquiv, 5},
        {"!=", false, Op::kNe, 5},      {"!~", false, Op::kNotEquiv, 5},
        {"in", true, Op::kIn, 4},       {"contains", true, Op::kContains, 4},
        {"and", true, Op::kAnd, 3},     {"or", true, Op::kOr, 2},
        {"xor", true, Op::kXor, 2},     {"implies", true, Op::kImplies, 1},
    };
    for (const Entry& e : kOps) {
      if ((e.word ? t.kind == Tok::kIdent : t.kind == Tok::kPunct) && t.text == e.text) {
        *op = e.op;
        *level = e.level;
        return true;
      }
    }
    return false;
  }

  Result<std::unique_ptr<Node>> Expr(int min_level) {
    if (++depth_ > 200) return ErrorAt(Peek().pos, "expression nested too deeply");
    ASSIGN_OR_RETURN(auto lhs, Unary());
    while (true) {
      Op op;
      int level;
      if (!BinaryOp(&op, &level) || level < min_level) break;
      int pos = Peek().pos;
      ++p_;
      auto n = std::make_unique<Node>();
      n->pos = pos;
      n->op = op;
      n->target = std::move(lhs);
      if (op == Op::kIs || op == Op::kAs) {
        n->kind = NodeKind::kTypeOp;
        ASSIGN_OR_RETURN(n->type, TypeSpecifier());
      } else {
        n->kind = NodeKind::kBinary;
        ASSIGN_OR_RETURN(auto rhs, Expr(level + 1));
        n->args.push_back(std::move(rhs));
      }
      lhs = std::move(n);
    }
    --depth_;
    return lhs;
  }

  Result<TypeSpec> TypeSpecifier() {
    TypeSpec ts;
    ASSIGN_OR_RETURN(std::string first, Identifier());
    if (IsPunct(".") && (Peek(1).kind == Tok::kIdent || Peek(1).kind == Tok::kDelimIdent)) {
      ++p_;
      ASSIGN_OR_RETURN(ts.name, Identifier());
      ts.ns = first;
    } else {
      ts.name = first;
    }
    return ts;
  }

  Result<std::string> Identifier() {
    const Token& t = Peek();
    if (t.kind != Tok::kIdent && t.kind != Tok::kDelimIdent) {
      return ErrorAt(t.pos, "expected an identifier");
    }
    ++p_;
    return t.text;
  }

  Result<std::unique_ptr<Node>> Unary() {
    if (IsPunct("+") || IsPunct("-")) {
      int pos = Peek().pos;
      Op op = Peek().text == "-" ? Op::kSub : Op::kAdd;
      ++p_;
      if (++depth_ > 200) return ErrorAt(pos, "expression nested too deeply");
      ASSIGN_OR_RETURN(auto operand, Unary());
      --depth_;
      auto n = std::make_unique<Node>();
      n->kind = NodeKind::kNegate;
      n->op = op;
      n->pos = pos;
      n->target = std::move(operand);
      return n;
    }
    ASSIGN_OR_RETURN(auto n, Term());
    while (true) {
      if (IsPunct(".")) {
        ++p_;
        ASSIGN_OR_RETURN(auto inv, Invocation());
        inv->target = std::move(n);
        n = std::move(inv);
      } else if (IsPunct("[")) {
        int pos = Peek().pos;
        ++p_;
        ASSIGN_OR_RETURN(auto idx, Expr(0));
        RETURN_IF_ERROR(Expect("]"));
        auto ix = std::make_unique<Node>();
        ix->kind = NodeKind::kIndexer;
        ix->pos = pos;
        ix->target = std::move(n);
        ix->args.push_back(std::move(idx));
        n = std::move(ix);
      } else {
        break;
      }
    }
    return n;
  }

  Result<std::unique_ptr<Node>> Invocation() {
    const Token& t = Peek();
    auto n = std::make_unique<Node>();
    n->pos = t.pos;
    if (t.kind == Tok::kSpecial) {
      ++p_;
      n->kind = t.text == "$this"    ? NodeKind::kThis
                : t.text == "$index" ? NodeKind::kIndex
                                     : NodeKind::kTotal;
      return n;
    }
    if (t.kind != Tok::kIdent && t.kind != Tok::kDelimIdent) {
      return ErrorAt(t.pos, t.kind == Tok::kEnd ? "expected a name before the end"
                                                : "expected a name but found '" + t.text + "'");
    }
    bool delimited = t.kind == Tok::kDelimIdent;
    n->name = t.text;
    ++p_;
    if (!delimited && IsPunct("(")) {
      ++p_;
      // A caller's function comes first: it may replace one of the engine's (a dialect).
      const FunctionInfo* fi = nullptr;
      FunctionInfo extension_info{Fn::kCallerFunction, n->name, 0, 0};
      if (extensions_ != nullptr) {
        auto it = extensions_->find(n->name);
        if (it != extensions_->end()) {
          n->extension = &it->second;
          extension_info.min_args = it->second.min_args;
          extension_info.max_args =
              it->second.type_argument ? std::min(it->second.max_args, 1) : it->second.max_args;
          fi = &extension_info;
        }
      }
      if (fi == nullptr) fi = FindFunction(n->name);
      if (fi == nullptr) return ErrorAt(n->pos, "unknown function '" + n->name + "'");
      n->kind = NodeKind::kFunction;
      n->fn = fi->fn;
      if (!IsPunct(")")) {
        while (true) {
          ASSIGN_OR_RETURN(auto a, Expr(0));
          n->args.push_back(std::move(a));
          if (IsPunct(",")) {
            ++p_;
            continue;
          }
          break;
        }
      }
      RETURN_IF_ERROR(Expect(")"));
      int argc = static_cast<int>(n->args.size());
      if (argc < fi->min_args || argc > fi->max_args) {
        return ErrorAt(n->pos,
                       "wrong number of arguments for " + n->name + "(): " + std::to_string(argc));
      }
      if (fi->fn == Fn::kIs || fi->fn == Fn::kAs || fi->fn == Fn::kOfType ||
          (n->extension != nullptr && n->extension->type_argument && !n->args.empty())) {
        // The argument is a type specifier, written as an identifier or Namespace.Name.
        const Node* a = n->args[0].get();
        if (a->kind == NodeKind::kMember && a->target == nullptr) {
          n->type.name = a->name;
        } else if (a->kind == NodeKind::kMember && a->target &&
                   a->target->kind == NodeKind::kMember && a->target->target == nullptr) {
          n->type.ns = a->target->name;
          n->type.name = a->name;
        } else {
          return ErrorAt(a->pos, "expected a type name");
        }
      }
      return n;
    }
    n->kind = NodeKind::kMember;
    if (!n->name.empty() && std::isupper(static_cast<unsigned char>(n->name[0]))) {
      n->named_type = fhir::Model::R4().FindStruct(n->name);
      n->type = TypeSpec{"", n->name};
    }
    return n;
  }

  Result<std::unique_ptr<Node>> Term() {
    const Token& t = Peek();
    auto n = std::make_unique<Node>();
    n->pos = t.pos;
    switch (t.kind) {
      case Tok::kEnd:
        return ErrorAt(t.pos, "unexpected end of expression");
      case Tok::kPunct:
        if (t.text == "(") {
          ++p_;
          ASSIGN_OR_RETURN(auto e, Expr(0));
          RETURN_IF_ERROR(Expect(")"));
          return e;
        }
        if (t.text == "{") {
          ++p_;
          RETURN_IF_ERROR(Expect("}"));
          n->kind = NodeKind::kEmpty;
          return n;
        }
        return ErrorAt(t.pos, "unexpected '" + t.text + "'");
      case Tok::kString:
        ++p_;
        n->kind = NodeKind::kLiteral;
        n->literal = Item::String(t.text);
        return n;
      case Tok::kNumber: {
        ++p_;
        n->kind = NodeKind::kLiteral;
        if (t.text.back() == 'L') {
          Decimal d;
          if (!Decimal::Parse(std::string_view(t.text).substr(0, t.text.size() - 1), &d) ||
              d.mantissa > INT64_MAX) {
            return ErrorAt(t.pos, "Long out of range");
          }
          n->literal = Item::Long(static_cast<int64_t>(d.mantissa));
          return n;
        }
        Decimal d;
        if (!Decimal::Parse(t.text, &d)) return ErrorAt(t.pos, "number out of range");
        // A quantity: a number followed by a unit string or a calendar keyword.
        if (Peek().kind == Tok::kString ||
            (Peek().kind == Tok::kIdent && IsCalendarUnit(Peek().text))) {
          Quantity q;
          q.value = d;
          q.unit = Peek().text;
          ++p_;
          n->literal = Item::Qty(std::move(q));
          return n;
        }
        if (t.text.find('.') == std::string::npos) {
          if (d.mantissa > INT64_MAX) return ErrorAt(t.pos, "integer out of range");
          n->literal = Item::Integer(static_cast<int64_t>(d.mantissa));
        } else {
          n->literal = Item::Dec(d);
        }
        return n;
      }
      case Tok::kDate: {
        ++p_;
        n->kind = NodeKind::kLiteral;
        Temporal tm;
        std::string text = t.text;
        bool is_datetime = text.find('T') != std::string::npos;
        if (is_datetime && text.back() == 'T') text.pop_back();
        bool ok = is_datetime ? Temporal::ParseDateTime(text, &tm) : Temporal::ParseDate(text, &tm);
        if (!ok) return ErrorAt(t.pos, "bad date/time literal '@" + t.text + "'");
        if (is_datetime) tm.kind = TemporalKind::kDateTime;
        n->literal = Item::Time(tm);
        return n;
      }
      case Tok::kTime: {
        ++p_;
        n->kind = NodeKind::kLiteral;
        Temporal tm;
        if (!Temporal::ParseTime(t.text, &tm)) {
          return ErrorAt(t.pos, "bad time literal '@T" + t.text + "'");
        }
        n->literal = Item::Time(tm);
        return n;
      }
      case Tok::kVariable:
        ++p_;
        n->kind = NodeKind::kVariable;
        n->name = t.text;
        return n;
      case Tok::kIdent:
        if (t.text == "true" || t.text == "false") {
          ++p_;
          n->kind = NodeKind::kLiteral;
          n->literal = Item::Boolean(t.text == "true");
          return n;
        }
        return Invocation();
      case Tok::kDelimIdent:
      case Tok::kSpecial:
        return Invocation();
    }
    return ErrorAt(t.pos, "unexpected token");
  }

  std::vector<Token> t_;
  const ExtensionFunctions* extensions_;
  size_t p_ = 0;
  int depth_ = 0;
};

}  // namespace

Result<std::unique_ptr<Node>> Parse(std::string_view text, const ExtensionFunctions* extensions) {
  Lexer lexer(text);
  ASSIGN_OR_RETURN(std::vector<Token> toks, lexer.Run());
  Parser parser(std::move(toks), extensions);
  return parser.ParseAll();
}

}  // namespace vesta::fhirpath::internal
