// A parsed HL7 v2 message in ER7 (pipe-and-hat) encoding: the original text, kept as received,
// and typed, read-only access to its segments, fields, repetitions, components and subcomponents.
//
//   Result<Message> msg = Parse(text);                      // parse.h
//   if (!msg.ok()) ... msg.status().message() ...           // "MSH-9: message type is required"
//   const Header& h = msg->header();                        // h.message_code == "ADT"
//   for (const Segment& obx : msg->Segments("OBX")) {
//     std::string type = obx.Field(2).text();               // "NM"
//     Value value = obx.Field(5);                           // every repetition of OBX-5
//   }
//   std::string assigner = msg->Get("PID-3(2).4.1").text(); // see Path below
//
// Numbering follows the standard: fields, repetitions, components and subcomponents are
// 1-based, and for MSH, MSH-1 is the field separator itself and MSH-2 the encoding characters.
// Anything asked for that the message does not hold (a field past the last one sent, a second
// repetition of a field sent once) is an empty Value rather than an error: optional fields are
// routinely left out, and trailing separators are routinely sent.
//
// Values come back two ways: text() decoded (escape sequences resolved, escape.h) and raw() as
// written in the message (still escaped, delimiters included).
//
// Lifetimes and threads: a Message is immutable and cheap to copy (copies share one buffer). A
// Segment or Value, and every string_view they return, stays valid as long as any copy of the
// Message it came from lives. Reading one Message from several threads is safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "hl7v2/escape.h"

namespace vesta::hl7v2 {

// One piece of a message at some depth: a field (all its repetitions), one repetition, one
// component or one subcomponent. Asking a deeper question of a shallower piece goes through the
// first of each level in between, so `Field(3).Component(4)` is the fourth component of the
// first repetition, and asking a shallower piece for its first part gives the piece itself
// (a field sent with no components is its own first component), which is what mapping code
// wants when senders differ in how much structure they send.
class Value {
 public:
  Value() = default;  // empty
  // A field's value over `raw`, split and decoded with `*delimiters`, which must outlive it (as
  // must the text `raw` views).
  static Value OfField(std::string_view raw, const Delimiters* delimiters) {
    return Value(raw, delimiters, Level::kField);
  }

  // As written in the message: escape sequences and any deeper delimiters kept.
  std::string_view raw() const { return raw_; }
  bool empty() const { return raw_.empty(); }
  // True when the value is the explicit null `""` (two double quotes: "delete this value").
  bool is_null() const { return raw_ == "\"\""; }

  // The first subcomponent of the first component of the first repetition, with its escape
  // sequences decoded; "" for an empty value and for the explicit null. MSH-1 and MSH-2 are
  // returned as written.
  std::string text() const;

  // Number of repetitions, components, subcomponents present (0 for an empty value; trailing
  // empty ones counted as sent).
  int repetition_count() const;
  int component_count() const;
  int subcomponent_count() const;

  // The n-th (1-based) repetition, component, subcomponent; empty when not present.
  Value Repetition(int n) const;
  Value Component(int n) const;
  Value Subcomponent(int n) const;
  // Every repetition of a field (one element for a repetition or deeper value; none when empty).
  std::vector<Value> Repetitions() const;

 private:
  friend class Segment;
  enum class Level { kField, kRepetition, kComponent, kSubcomponent, kLiteral };
  Value(std::string_view raw, const Delimiters* d, Level level)
      : raw_(raw), delimiters_(d), level_(level) {}
  Value Split(char separator, int n, Level level) const;
  int Count(char separator) const;

  std::string_view raw_;
  const Delimiters* delimiters_ = nullptr;
  Level level_ = Level::kLiteral;
};

class Message;
namespace internal {
struct MessageData;
Message MakeMessage(std::shared_ptr<const MessageData> data);
}  // namespace internal

// One segment of a message.
class Segment {
 public:
  // The segment id: "MSH", "PID", "ZPI".
  std::string_view id() const;
  // The segment's text as written, without its terminator.
  std::string_view raw() const;
  // Field n (1-based). For MSH, Field(1) is the field separator and Field(2) the encoding
  // characters, both returned as written. Field(0) is the segment id. Empty past the last field.
  Value Field(int n) const;
  // The number of the last field present (trailing empty fields counted as sent).
  int field_count() const;
  // The segment's position among the message's segments, 1 for MSH (blank lines not counted).
  int number() const { return static_cast<int>(index_) + 1; }
  // Byte offset of the segment's first character in Message::text().
  size_t offset() const;

 private:
  friend class Message;
  Segment(const internal::MessageData* data, size_t index) : data_(data), index_(index) {}
  const internal::MessageData* data_;
  size_t index_;
};

// HD, hierarchic designator (MSH-3 to MSH-6), decoded.
struct HierarchicDesignator {
  std::string namespace_id;       // .1
  std::string universal_id;       // .2
  std::string universal_id_type;  // .3
  bool operator==(const HierarchicDesignator&) const = default;
};

// What the rest of the system needs from MSH, decoded (escape sequences resolved). Fields the
// sender left out are empty strings.
struct Header {
  Delimiters delimiters;                       // MSH-1, MSH-2
  HierarchicDesignator sending_application;    // MSH-3
  HierarchicDesignator sending_facility;       // MSH-4
  HierarchicDesignator receiving_application;  // MSH-5
  HierarchicDesignator receiving_facility;     // MSH-6
  std::string date_time;                       // MSH-7.1, as sent ("198908181126+0215")
  std::string message_code;                    // MSH-9.1 "ADT"
  std::string trigger_event;                   // MSH-9.2 "A01"
  std::string message_structure;               // MSH-9.3 "ADT_A01" (from 2.3.1 on)
  std::string control_id;                      // MSH-10
  std::string processing_id;                   // MSH-11.1 "P", "T", "D"
  std::string processing_mode;                 // MSH-11.2
  std::string version;                         // MSH-12.1 "2.5.1"
  std::string accept_ack_type;                 // MSH-15 (table 0155: AL, NE, ER, SU)
  std::string application_ack_type;            // MSH-16 (table 0155)
  std::vector<std::string> character_sets;     // MSH-18, every repetition ("UNICODE UTF-8")
};

// The identifier a received message is kept under (the feed's Basic.identifier, and the
// identifier in the mapping's Provenance.entity.what): system kMessageIdentifierSystem, value
// "MSH-3|MSH-4|MSH-10", each HD written as namespace id, then "&" and the universal id when it
// has one ("ADT|HOSP&2.16.840.1.113883.19.1|MSG00001"). Not unique on its own: a sender that
// reuses control ids gives two messages the same identifier.
inline constexpr char kMessageIdentifierSystem[] = "urn:vesta:hl7v2:message";
std::string MessageIdentifier(const Header& header);

// A terser-like address of a value:
//
//   SEG[(occurrence)]-field[(repetition)][.component[.subcomponent]]
//
// "PID-5" (PID-5, every repetition), "PID-3(2)" (its second repetition), "PID-3(2).4.1" (that
// repetition's fourth component's first subcomponent), "OBX(3)-5" (OBX-5 of the third OBX).
// Every number is 1-based; occurrence defaults to 1, and a path that names no repetition reads
// the whole field (Value then descends through the first repetition). Note that HAPI's Terser
// counts repetitions from 0; this syntax does not.
struct Path {
  std::string segment_id;
  int occurrence = 1;
  int field = 0;
  int repetition = 0;  // 0: the whole field
  int component = 0;   // 0: not named
  int subcomponent = 0;

  // kInvalid naming the offending character for anything else.
  static Result<Path> Parse(std::string_view text);
};

class Message {
 public:
  // The text given to Parse, unchanged (a byte order mark included).
  std::string_view text() const;
  const Header& header() const;
  const Delimiters& delimiters() const;

  // Every segment in order, Z-segments and segments this code knows nothing of included.
  std::vector<Segment> segments() const;
  size_t segment_count() const;
  // The segments with this id, in order.
  std::vector<Segment> Segments(std::string_view id) const;
  // The n-th (1-based) segment with this id.
  std::optional<Segment> Find(std::string_view id, int occurrence = 1) const;

  // The value at `path`; empty when the message does not hold it or (string form) when the path
  // does not parse: use Path::Parse to tell the two apart.
  Value Get(const Path& path) const;
  Value Get(std::string_view path) const;

 private:
  friend Message internal::MakeMessage(std::shared_ptr<const internal::MessageData> data);
  explicit Message(std::shared_ptr<const internal::MessageData> data) : data_(std::move(data)) {}
  std::shared_ptr<const internal::MessageData> data_;
};

}  // namespace vesta::hl7v2
