#include "hl7v2/parse.h"

#include <memory>
#include <optional>

#include "hl7v2/message_data.h"

namespace vesta::hl7v2 {

namespace internal {

std::vector<std::string_view> SplitFields(std::string_view line, char field_separator,
                                          bool is_msh) {
  std::vector<std::string_view> fields;
  size_t begin = 0;
  while (true) {
    size_t end = line.find(field_separator, begin);
    if (end == std::string_view::npos) {
      fields.push_back(line.substr(begin));
      break;
    }
    fields.push_back(line.substr(begin, end - begin));
    begin = end + 1;
  }
  if (is_msh) {
    // "MSH|^~\&|A" splits as MSH, ^~\&, A; the standard numbers the separator itself MSH-1.
    fields.insert(fields.begin() + 1, line.substr(3, 1));
  }
  return fields;
}

namespace {

HierarchicDesignator ReadHd(const Value& v) {
  return {v.Component(1).text(), v.Component(2).text(), v.Component(3).text()};
}

}  // namespace

Header ReadHeader(const std::vector<std::string_view>& fields, const Delimiters& d) {
  Header h;
  h.delimiters = d;
  auto field = [&](size_t n) {
    return n < fields.size() ? Value::OfField(fields[n], &h.delimiters) : Value();
  };
  h.sending_application = ReadHd(field(3));
  h.sending_facility = ReadHd(field(4));
  h.receiving_application = ReadHd(field(5));
  h.receiving_facility = ReadHd(field(6));
  h.date_time = field(7).Component(1).text();
  h.message_code = field(9).Component(1).text();
  h.trigger_event = field(9).Component(2).text();
  h.message_structure = field(9).Component(3).text();
  h.control_id = field(10).text();
  h.processing_id = field(11).Component(1).text();
  h.processing_mode = field(11).Component(2).text();
  h.version = field(12).Component(1).text();
  h.accept_ack_type = field(15).text();
  h.application_ack_type = field(16).text();
  for (const Value& r : field(18).Repetitions()) h.character_sets.push_back(r.text());
  return h;
}

}  // namespace internal

namespace {

using internal::MessageData;
using internal::SegmentData;

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// A character a sender may use as a delimiter: printable ASCII, not a letter, digit or space.
bool IsDelimiterChar(char c) {
  return c > ' ' && c < 0x7F &&
         !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
}

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

bool IsSegmentIdChar(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// The lines of `text` from `begin`, each with its offset, blank ones dropped. A line ends at
// CR, LF or CRLF.
struct Line {
  size_t offset;
  std::string_view text;
};
std::vector<Line> Lines(std::string_view text, size_t begin) {
  std::vector<Line> lines;
  size_t i = begin;
  while (i < text.size()) {
    size_t end = text.find_first_of("\r\n", i);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(i, end - i);
    if (!IsBlank(line)) lines.push_back({i, line});
    i = end;
    if (i < text.size() && text[i] == '\r') ++i;
    if (i < text.size() && text[i] == '\n') ++i;
  }
  return lines;
}

// The delimiters MSH-1 and MSH-2 of `msh` declare, or the reason they are refused (an Error
// with its message and field set).
std::optional<Error> ReadDelimiters(std::string_view msh, Delimiters* d) {
  Error e;
  e.location.segment_id = "MSH";
  e.location.segment_sequence = 1;
  if (msh.size() < 4) {
    e.code = ErrorCode::kRequiredFieldMissing;
    e.location.field = 1;
    e.message = "the field separator is required";
    return e;
  }
  if (!IsDelimiterChar(msh[3])) {
    e.code = ErrorCode::kDataTypeError;
    e.location.field = 1;
    e.message =
        "the field separator must be a printable character other than a letter, digit "
        "or space";
    return e;
  }
  d->field = msh[3];
  size_t end = msh.find(d->field, 4);
  std::string_view encoding = msh.substr(4, end == std::string_view::npos ? end : end - 4);
  e.location.field = 2;
  if (encoding.empty()) {
    e.code = ErrorCode::kRequiredFieldMissing;
    e.message = "the encoding characters are required";
    return e;
  }
  if (encoding.size() > 5) {
    e.code = ErrorCode::kDataTypeError;
    e.message =
        "at most 5 encoding characters (component, repetition, escape, subcomponent, "
        "truncation), found " +
        std::to_string(encoding.size());
    return e;
  }
  for (size_t i = 0; i < encoding.size(); ++i) {
    char c = encoding[i];
    if (!IsDelimiterChar(c) || c == d->field || encoding.find(c) != i) {
      e.code = ErrorCode::kDataTypeError;
      e.message = "encoding character " + std::to_string(i + 1) +
                  " must be a printable character other than a letter, digit or space, and "
                  "differ from the field separator and the other encoding characters";
      return e;
    }
  }
  char* slots[] = {&d->component, &d->repetition, &d->escape, &d->subcomponent, &d->truncation};
  for (size_t i = 0; i < 5; ++i) *slots[i] = i < encoding.size() ? encoding[i] : '\0';
  return std::nullopt;
}

std::optional<Error> ParseInto(MessageData* data) {
  std::string_view text = data->text;
  size_t begin = text.substr(0, 3) == kBom ? 3 : 0;
  std::vector<Line> lines = Lines(text, begin);
  auto error_at = [&](ErrorCode code, size_t line, std::string message) {
    Error e;
    e.code = code;
    e.segment_index = static_cast<int>(line) + 1;
    e.byte_offset = line < lines.size() ? lines[line].offset : text.size();
    e.message = std::move(message);
    return e;
  };
  if (lines.empty()) {
    Error e = error_at(ErrorCode::kSegmentSequenceError, 0, "the message is empty");
    e.segment_index = 0;
    e.location.segment_id = "MSH";
    e.location.segment_sequence = 1;
    return e;
  }
  std::string_view first = lines[0].text;
  if (first.substr(0, 3) != "MSH") {
    std::string id(first.substr(0, 3));
    Error e =
        error_at(ErrorCode::kSegmentSequenceError, 0,
                 id == "FHS" || id == "BHS" ? "a batch (" + id +
                                                  ") is not accepted: send one message, starting "
                                                  "with MSH"
                                            : "the message must start with an MSH segment");
    e.segment_index = 0;
    e.location.segment_id = "MSH";
    e.location.segment_sequence = 1;
    return e;
  }
  Delimiters d;
  if (std::optional<Error> bad = ReadDelimiters(first, &d)) {
    bad->segment_index = 1;
    bad->byte_offset = lines[0].offset + (bad->location.field == 1 ? 3 : 4);
    return bad;
  }

  data->segments.reserve(lines.size());
  for (size_t li = 0; li < lines.size(); ++li) {
    std::string_view line = lines[li].text;
    size_t id_end = li == 0 ? 3 : line.find(d.field);
    if (id_end == std::string_view::npos) id_end = line.size();
    std::string_view id = line.substr(0, id_end);
    bool id_ok = id.size() == 3 && IsSegmentIdChar(id[0]) && IsSegmentIdChar(id[1]) &&
                 IsSegmentIdChar(id[2]);
    if (!id_ok) {
      Error e = error_at(ErrorCode::kSegmentSequenceError, li,
                         "segment id '" + std::string(id.substr(0, 20)) +
                             (id.size() > 20 ? "...'" : "'") + " is not 3 characters A-Z or 0-9");
      e.location.segment_id = std::string(id.substr(0, 3));
      return e;
    }
    if (li > 0 && id == "MSH") {
      Error e = error_at(ErrorCode::kSegmentSequenceError, li,
                         "a second MSH: one message is parsed at a time");
      e.location.segment_id = "MSH";
      e.location.segment_sequence = 2;
      return e;
    }
    SegmentData s;
    s.offset = lines[li].offset;
    s.raw = line;
    s.fields = internal::SplitFields(line, d.field, li == 0);
    data->segments.push_back(std::move(s));
  }

  const SegmentData& msh = data->segments[0];
  data->header = internal::ReadHeader(msh.fields, d);
  const Header& h = data->header;
  auto missing = [&](int field, std::string message) {
    Error e = error_at(ErrorCode::kRequiredFieldMissing, 0, std::move(message));
    e.location.segment_id = "MSH";
    e.location.segment_sequence = 1;
    e.location.field = field;
    if (static_cast<size_t>(field) < msh.fields.size()) {
      e.byte_offset = msh.offset + (msh.fields[field].data() - msh.raw.data());
    } else {
      e.byte_offset = msh.offset + msh.raw.size();
    }
    return e;
  };
  if (h.message_code.empty()) return missing(9, "message type is required");
  if (h.control_id.empty()) return missing(10, "message control id is required");
  if (h.version.empty()) return missing(12, "version id is required");
  return std::nullopt;
}

}  // namespace

Result<Message> Parse(std::string_view text, Error* error) {
  auto data = std::make_shared<MessageData>();
  data->text = std::string(text);
  if (std::optional<Error> e = ParseInto(data.get())) {
    Status status = ToStatus(*e);
    if (error != nullptr) *error = std::move(*e);
    return status;
  }
  return internal::MakeMessage(std::move(data));
}

Header SalvageHeader(std::string_view text) {
  size_t begin = text.substr(0, 3) == kBom ? 3 : 0;
  for (const Line& line : Lines(text, begin)) {
    if (line.text.substr(0, 3) != "MSH") continue;
    Delimiters d;
    if (!ReadDelimiters(line.text, &d)) {
      return internal::ReadHeader(internal::SplitFields(line.text, d.field, true), d);
    }
    if (line.text.size() >= 4 && IsDelimiterChar(line.text[3])) {
      // Fields can still be told apart; their insides cannot: read each as one opaque value.
      Delimiters opaque{line.text[3], '\0', '\0', '\0', '\0', '\0'};
      return internal::ReadHeader(internal::SplitFields(line.text, opaque.field, true), opaque);
    }
    break;
  }
  return Header();
}

}  // namespace vesta::hl7v2
