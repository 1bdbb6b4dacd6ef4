#include "hl7v2/ack.h"

#include <cstdlib>

namespace vesta::hl7v2 {

namespace {

// Table 0155 (accept/application acknowledgment conditions).
AckCondition ConditionOf(const std::string& value) {
  if (value.empty() || value == "NE") return AckCondition::kNever;
  if (value == "ER") return AckCondition::kErrorOnly;
  if (value == "SU") return AckCondition::kSuccessOnly;
  return AckCondition::kAlways;  // AL, and anything not in the table
}

// The major and minor numbers of a version id ("2.5.1" -> 2, 5); 0, 0 when it does not read.
std::pair<int, int> MajorMinor(std::string_view version) {
  int major = 0, minor = 0;
  size_t i = 0;
  auto number = [&](int* out) {
    size_t start = i;
    while (i < version.size() && version[i] >= '0' && version[i] <= '9' && i - start < 4) {
      *out = *out * 10 + (version[i] - '0');
      ++i;
    }
    return i > start;
  };
  if (!number(&major) || i >= version.size() || version[i] != '.') return {0, 0};
  ++i;
  if (!number(&minor)) return {0, 0};
  return {major, minor};
}

// True for 2.3, 2.4 and earlier: the ERR-1 layout and MSA-3/MSA-6.
bool UsesOldErrLayout(std::string_view version) {
  auto [major, minor] = MajorMinor(version);
  return major == 2 && minor < 5;
}

// True for 2.3 and earlier (not 2.3.1): MSH-9 has no message structure component.
bool HasNoMessageStructure(std::string_view version) {
  auto [major, minor] = MajorMinor(version);
  return major == 2 && (minor < 3 || version == "2.3");
}

// Components joined with `sep`, trailing empty ones left out.
std::string JoinTrimmed(const std::vector<std::string>& parts, char sep) {
  size_t n = parts.size();
  while (n > 0 && parts[n - 1].empty()) --n;
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) out.push_back(sep);
    out += parts[i];
  }
  return out;
}

class AckWriter {
 public:
  explicit AckWriter(const Delimiters& d) : d_(d) {}

  std::string Esc(std::string_view text) const { return Escape(text, d_); }

  std::string Hd(const HierarchicDesignator& hd) const {
    return JoinTrimmed({Esc(hd.namespace_id), Esc(hd.universal_id), Esc(hd.universal_id_type)},
                       d_.component);
  }

  // Appends one segment: `id` then `fields` (field 1 first), trailing empty fields left out.
  void Segment(std::string_view id, std::vector<std::string> fields) {
    out_ += id;
    size_t n = fields.size();
    while (n > 0 && fields[n - 1].empty()) --n;
    for (size_t i = 0; i < n; ++i) {
      out_.push_back(d_.field);
      out_ += fields[i];
    }
    out_.push_back('\r');
  }

  void Raw(std::string_view text) { out_ += text; }
  std::string Take() { return std::move(out_); }
  const Delimiters& delimiters() const { return d_; }

 private:
  Delimiters d_;
  std::string out_;
};

// ERL (v2.5 on, ERR-2): segment id ^ sequence ^ field ^ repetition ^ component ^ subcomponent.
std::string ErrorLocationText(const ErrorLocation& at, const AckWriter& w) {
  if (at.segment_id.empty()) return std::string();
  std::vector<std::string> parts{w.Esc(at.segment_id),
                                 std::to_string(at.segment_sequence > 0 ? at.segment_sequence : 1)};
  for (int n : {at.field, at.repetition, at.component, at.subcomponent}) {
    parts.push_back(n > 0 ? std::to_string(n) : std::string());
  }
  return JoinTrimmed(parts, w.delimiters().component);
}

}  // namespace

AckMode ModeOf(const Header& header) {
  return header.accept_ack_type.empty() && header.application_ack_type.empty() ? AckMode::kOriginal
                                                                               : AckMode::kEnhanced;
}

AckCondition AcceptAckCondition(const Header& header) {
  if (ModeOf(header) == AckMode::kOriginal) return AckCondition::kNever;
  return ConditionOf(header.accept_ack_type);
}

AckCondition ApplicationAckCondition(const Header& header) {
  if (ModeOf(header) == AckMode::kOriginal) return AckCondition::kAlways;
  return ConditionOf(header.application_ack_type);
}

bool ShouldSend(AckCondition condition, Outcome outcome) {
  switch (condition) {
    case AckCondition::kAlways:
      return true;
    case AckCondition::kNever:
      return false;
    case AckCondition::kErrorOnly:
      return outcome != Outcome::kAccept;
    case AckCondition::kSuccessOnly:
      return outcome == Outcome::kAccept;
  }
  return true;
}

std::string_view AckCode(AckKind kind, Outcome outcome) {
  bool commit = kind == AckKind::kCommit;
  switch (outcome) {
    case Outcome::kAccept:
      return commit ? "CA" : "AA";
    case Outcome::kError:
      return commit ? "CE" : "AE";
    case Outcome::kReject:
      return commit ? "CR" : "AR";
  }
  return "AR";
}

std::string BuildAck(const Header& original, const AckRequest& request, const AckOptions& options) {
  const Delimiters& od = original.delimiters;
  Delimiters d;  // the standard ones, unless the message declared a full set
  if (od.field != '\0' && od.component != '\0' && od.repetition != '\0' && od.escape != '\0' &&
      od.subcomponent != '\0') {
    d = od;
  }
  AckWriter w(d);
  const std::string version = original.version.empty() ? options.default_version : original.version;
  const bool old_layout = UsesOldErrLayout(version);

  // MSH (2.15.9): the header swapped; MSH-1 is the separator written between "MSH" and MSH-2.
  std::vector<std::string> type{"ACK", w.Esc(original.trigger_event)};
  if (!HasNoMessageStructure(version)) type.push_back("ACK");
  std::string processing =
      original.processing_id.empty()
          ? w.Esc(options.default_processing_id)
          : JoinTrimmed({w.Esc(original.processing_id), w.Esc(original.processing_mode)},
                        d.component);
  std::vector<std::string> charsets;
  for (const std::string& c : original.character_sets) charsets.push_back(w.Esc(c));
  bool enhanced = request.kind != AckKind::kOriginal;
  std::string msh_fields[] = {
      d.EncodingCharacters(),                // MSH-2
      w.Hd(original.receiving_application),  // MSH-3
      w.Hd(original.receiving_facility),     // MSH-4
      w.Hd(original.sending_application),    // MSH-5
      w.Hd(original.sending_facility),       // MSH-6
      w.Esc(options.date_time),              // MSH-7
      "",                                    // MSH-8 security
      JoinTrimmed(type, d.component),        // MSH-9
      w.Esc(options.control_id),             // MSH-10
      processing,                            // MSH-11
      w.Esc(version),                        // MSH-12
      "",                                    // MSH-13 sequence number
      "",                                    // MSH-14 continuation pointer
      enhanced ? "NE" : "",                  // MSH-15: an acknowledgment is not acknowledged
      enhanced ? "NE" : "",                  // MSH-16
      "",                                    // MSH-17 country
      JoinTrimmed(charsets, d.repetition),   // MSH-18
  };
  w.Raw("MSH");
  w.Raw(std::string_view(&d.field, 1));
  w.Segment(msh_fields[0],
            std::vector<std::string>(std::begin(msh_fields) + 1, std::end(msh_fields)));

  // MSA (2.15.8).
  std::vector<std::string> msa{std::string(AckCode(request.kind, request.outcome)),
                               w.Esc(original.control_id)};
  if (old_layout && !request.errors.empty()) {
    std::string text;
    for (const Error& e : request.errors) {
      if (!text.empty()) text += "; ";
      text += e.message;
    }
    const Error& first = request.errors.front();
    msa.push_back(w.Esc(text));  // MSA-3 text message
    msa.push_back("");           // MSA-4 expected sequence number
    msa.push_back("");           // MSA-5 delayed acknowledgment type
    msa.push_back(JoinTrimmed(   // MSA-6 error condition (CE)
        {std::to_string(static_cast<int>(first.code)), w.Esc(ErrorCodeText(first.code)), "HL70357"},
        d.component));
  }
  w.Segment("MSA", std::move(msa));

  // ERR (2.15.5).
  if (request.errors.empty()) return w.Take();
  if (old_layout) {
    // ERR-1, repeating: segment id ^ sequence ^ field position ^ code&text&HL70357.
    std::vector<std::string> repetitions;
    for (const Error& e : request.errors) {
      const ErrorLocation& at = e.location;
      std::string code = JoinTrimmed(
          {std::to_string(static_cast<int>(e.code)), w.Esc(ErrorCodeText(e.code)), "HL70357"},
          d.subcomponent);
      repetitions.push_back(JoinTrimmed(
          {w.Esc(at.segment_id),
           at.segment_sequence > 0 ? std::to_string(at.segment_sequence) : std::string(),
           at.field > 0 ? std::to_string(at.field) : std::string(), code},
          d.component));
    }
    w.Segment("ERR", {JoinTrimmed(repetitions, d.repetition)});
    return w.Take();
  }
  for (const Error& e : request.errors) {
    w.Segment("ERR", {
                         "",                                // ERR-1 (2.3/2.4 layout)
                         ErrorLocationText(e.location, w),  // ERR-2
                         JoinTrimmed({std::to_string(static_cast<int>(e.code)),
                                      w.Esc(ErrorCodeText(e.code)), "HL70357"},
                                     d.component),                    // ERR-3
                         std::string(ErrorSeverityCode(e.severity)),  // ERR-4
                         "", "", "",                                  // ERR-5..7
                         w.Esc(e.message),                            // ERR-8 user message
                     });
  }
  return w.Take();
}

}  // namespace vesta::hl7v2
