#include "hl7v2/message.h"

#include <algorithm>

#include "hl7v2/message_data.h"

namespace vesta::hl7v2 {

namespace {

// The n-th (1-based) piece of `s` between `separator`s; empty when there are fewer.
std::string_view Piece(std::string_view s, char separator, int n) {
  if (n < 1) return {};
  size_t begin = 0;
  for (int i = 1; i < n; ++i) {
    size_t next = s.find(separator, begin);
    if (next == std::string_view::npos) return {};
    begin = next + 1;
  }
  size_t end = s.find(separator, begin);
  return s.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin);
}

}  // namespace

Value Value::Split(char separator, int n, Level level) const {
  if (separator == '\0') return n == 1 ? Value(raw_, delimiters_, level) : Value();
  std::string_view piece = Piece(raw_, separator, n);
  if (piece.empty()) return Value();
  return Value(piece, delimiters_, level);
}

int Value::Count(char separator) const {
  if (raw_.empty()) return 0;
  if (separator == '\0') return 1;
  return static_cast<int>(std::count(raw_.begin(), raw_.end(), separator)) + 1;
}

Value Value::Repetition(int n) const {
  if (level_ == Level::kField) return Split(delimiters_->repetition, n, Level::kRepetition);
  return n == 1 ? *this : Value();
}

Value Value::Component(int n) const {
  switch (level_) {
    case Level::kField:
      return Repetition(1).Component(n);
    case Level::kRepetition:
      return Split(delimiters_->component, n, Level::kComponent);
    default:
      return n == 1 ? *this : Value();
  }
}

Value Value::Subcomponent(int n) const {
  switch (level_) {
    case Level::kField:
    case Level::kRepetition:
      return Component(1).Subcomponent(n);
    case Level::kComponent:
      return Split(delimiters_->subcomponent, n, Level::kSubcomponent);
    default:
      return n == 1 ? *this : Value();
  }
}

int Value::repetition_count() const {
  return level_ == Level::kField ? Count(delimiters_->repetition) : (empty() ? 0 : 1);
}

int Value::component_count() const {
  switch (level_) {
    case Level::kField:
      return Repetition(1).component_count();
    case Level::kRepetition:
      return Count(delimiters_->component);
    default:
      return empty() ? 0 : 1;
  }
}

int Value::subcomponent_count() const {
  switch (level_) {
    case Level::kField:
    case Level::kRepetition:
      return Component(1).subcomponent_count();
    case Level::kComponent:
      return Count(delimiters_->subcomponent);
    default:
      return empty() ? 0 : 1;
  }
}

std::vector<Value> Value::Repetitions() const {
  std::vector<Value> out;
  int n = repetition_count();
  out.reserve(n);
  for (int i = 1; i <= n; ++i) {
    Value r = Repetition(i);
    // An empty repetition between two others ("a~~b") is kept, as a placeholder, in place.
    out.push_back(r.empty() ? Value(std::string_view(), delimiters_, Level::kRepetition) : r);
  }
  return out;
}

std::string Value::text() const {
  if (level_ == Level::kLiteral) return std::string(raw_);
  Value leaf = Subcomponent(1);
  if (leaf.empty() || leaf.is_null()) return std::string();
  return Unescape(leaf.raw_, *delimiters_);
}

// --- Segment ---

std::string_view Segment::id() const { return data_->segments[index_].fields[0]; }
std::string_view Segment::raw() const { return data_->segments[index_].raw; }
size_t Segment::offset() const { return data_->segments[index_].offset; }

int Segment::field_count() const {
  return static_cast<int>(data_->segments[index_].fields.size()) - 1;
}

Value Segment::Field(int n) const {
  const internal::SegmentData& s = data_->segments[index_];
  if (n < 0 || static_cast<size_t>(n) >= s.fields.size()) return Value();
  bool literal = n == 0 || (n <= 2 && s.fields[0] == "MSH");
  return Value(s.fields[n], &data_->header.delimiters,
               literal ? Value::Level::kLiteral : Value::Level::kField);
}

// --- Path ---

namespace {

// Reads a positive decimal number at text[*i]; false when there is none or it is over 1e6.
bool ReadNumber(std::string_view text, size_t* i, int* out) {
  size_t start = *i;
  long value = 0;
  while (*i < text.size() && text[*i] >= '0' && text[*i] <= '9') {
    value = value * 10 + (text[*i] - '0');
    if (value > 1000000) return false;
    ++*i;
  }
  if (*i == start || value == 0) return false;
  *out = static_cast<int>(value);
  return true;
}

// Reads "(n)" at text[*i] when there is one.
bool ReadParenthesized(std::string_view text, size_t* i, int* out) {
  if (*i >= text.size() || text[*i] != '(') return true;
  ++*i;
  if (!ReadNumber(text, i, out)) return false;
  if (*i >= text.size() || text[*i] != ')') return false;
  ++*i;
  return true;
}

}  // namespace

Result<Path> Path::Parse(std::string_view text) {
  Path p;
  auto fail = [&](size_t at) {
    return Status(StatusCode::kInvalid, "HL7 v2 path '" + std::string(text) +
                                            "': unexpected text at character " +
                                            std::to_string(at + 1));
  };
  if (text.size() < 3) return fail(text.size());
  for (size_t k = 0; k < 3; ++k) {
    char c = text[k];
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return fail(k);
  }
  p.segment_id = std::string(text.substr(0, 3));
  size_t i = 3;
  if (!ReadParenthesized(text, &i, &p.occurrence)) return fail(i);
  if (i >= text.size() || text[i] != '-') return fail(i);
  ++i;
  if (!ReadNumber(text, &i, &p.field)) return fail(i);
  if (!ReadParenthesized(text, &i, &p.repetition)) return fail(i);
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (!ReadNumber(text, &i, &p.component)) return fail(i);
    if (i < text.size() && text[i] == '.') {
      ++i;
      if (!ReadNumber(text, &i, &p.subcomponent)) return fail(i);
    }
  }
  if (i != text.size()) return fail(i);
  return p;
}

// --- Message ---

namespace internal {
Message MakeMessage(std::shared_ptr<const MessageData> data) { return Message(std::move(data)); }
}  // namespace internal

std::string_view Message::text() const { return data_->text; }
const Header& Message::header() const { return data_->header; }
const Delimiters& Message::delimiters() const { return data_->header.delimiters; }
size_t Message::segment_count() const { return data_->segments.size(); }

std::vector<Segment> Message::segments() const {
  std::vector<Segment> out;
  out.reserve(data_->segments.size());
  for (size_t i = 0; i < data_->segments.size(); ++i) out.push_back(Segment(data_.get(), i));
  return out;
}

std::vector<Segment> Message::Segments(std::string_view id) const {
  std::vector<Segment> out;
  for (size_t i = 0; i < data_->segments.size(); ++i) {
    if (data_->segments[i].fields[0] == id) out.push_back(Segment(data_.get(), i));
  }
  return out;
}

std::optional<Segment> Message::Find(std::string_view id, int occurrence) const {
  int seen = 0;
  for (size_t i = 0; i < data_->segments.size(); ++i) {
    if (data_->segments[i].fields[0] == id && ++seen == occurrence) {
      return Segment(data_.get(), i);
    }
  }
  return std::nullopt;
}

Value Message::Get(const Path& path) const {
  std::optional<Segment> segment = Find(path.segment_id, path.occurrence);
  if (!segment) return Value();
  Value v = segment->Field(path.field);
  if (path.repetition > 0) v = v.Repetition(path.repetition);
  if (path.component > 0) v = v.Component(path.component);
  if (path.subcomponent > 0) v = v.Subcomponent(path.subcomponent);
  return v;
}

Value Message::Get(std::string_view path) const {
  Result<Path> p = Path::Parse(path);
  if (!p.ok()) return Value();
  return Get(*p);
}

std::string MessageIdentifier(const Header& header) {
  auto designator = [](const HierarchicDesignator& d) {
    return d.universal_id.empty() ? d.namespace_id : d.namespace_id + "&" + d.universal_id;
  };
  return designator(header.sending_application) + "|" + designator(header.sending_facility) + "|" +
         header.control_id;
}

}  // namespace vesta::hl7v2
