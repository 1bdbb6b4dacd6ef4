// Internals of the v2 to FHIR mapping (map.h), shared by map.cc, map_datatypes.cc and the files
// per message family. Not part of the library's interface.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "hl7v2/map.h"
#include "hl7v2/message.h"

namespace vesta::hl7v2::internal {

// JSON under construction. Empty strings, objects and arrays are dropped when set or added, so
// converters can build optional elements without checking each one (FHIR forbids empty values:
// https://hl7.org/fhir/R4/json.html).
class J {
 public:
  enum class Kind { kNone, kString, kNumber, kBool, kArray, kObject };

  J() = default;
  static J Str(std::string_view s);
  // REQUIRES: `text` is a JSON number.
  static J Num(std::string_view text);
  static J Bool(bool b);
  static J Obj() { return J(Kind::kObject); }
  static J Arr() { return J(Kind::kArray); }

  Kind kind() const { return kind_; }
  // kNone, or an object or array with nothing in it.
  bool empty() const;
  const std::string& text() const { return text_; }

  // Object members, in the order set; a key set twice keeps its first place and the last value.
  J& Set(std::string_view key, J value);
  J& Set(std::string_view key, std::string_view s) { return Set(key, Str(s)); }
  J& Set(std::string_view key, const char* s) { return Set(key, Str(s)); }
  const J* Find(std::string_view key) const;
  J* Find(std::string_view key);
  // Array items.
  J& Add(J value);
  const std::vector<J>& items() const { return items_; }
  std::vector<J>& items() { return items_; }
  const std::vector<std::pair<std::string, J>>& members() const { return members_; }
  std::vector<std::pair<std::string, J>>& members() { return members_; }

  // Compact JSON.
  std::string ToJson() const;

 private:
  explicit J(Kind kind) : kind_(kind) {}
  Kind kind_ = Kind::kNone;
  std::string text_;
  std::vector<std::pair<std::string, J>> members_;
  std::vector<J> items_;
};

// An identifier of a record: the system URI and the value, the key of a conditional write.
struct Key {
  std::string system;
  std::string value;
  bool empty() const { return value.empty(); }
};

// The Bundle being built for one message, and what the segment maps share.
class MapContext {
 public:
  MapContext(const Message& message, const MapOptions& options);

  const Message& message() const { return message_; }
  const MapOptions& options() const { return options_; }

  // Adds an entry and returns its fullUrl. With a key, the entry is the conditional update
  // `PUT type?identifier=SYSTEM|VALUE`; a second entry with the same type and key is not added
  // and the first one's fullUrl is returned (a transaction may not write one resource twice). With
  // no key, the entry is a POST (a new resource).
  std::string Add(std::string_view type, J resource, const Key& key = {});
  // The resource of the entry with this fullUrl, to complete it after adding; null when none.
  J* Resource(const std::string& full_url);

  // The Patient (PID) and Encounter (PV1) of the message, once mapped ("" before).
  std::string patient_url;
  std::string encounter_url;
  Key patient_key;  // the identifier the Patient is matched by

  // The first mapping failure; later ones are ignored.
  void Fail(std::string message);
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }

  // The Bundle: every entry, then the Provenance of the message.
  std::string Finish(int* entry_count);

 private:
  struct Entry {
    std::string full_url;
    std::string type;
    J resource;
    std::string method;
    std::string url;
  };
  std::string NewUrl();

  const Message& message_;
  const MapOptions& options_;
  std::vector<Entry> entries_;
  std::map<std::string, std::string> by_url_;  // "Type?identifier=..." -> fullUrl
  std::string error_;
};

// "PID-3", "OBX(2)-5": where a value is, for error messages.
std::string Where(const Segment& segment, int field);

// ---- datatype maps (map_datatypes.cc) ----------------------------------------------------------

// TS/DTM/DT (YYYY[MM[DD[HH[MM[SS[.S...]]]]]][+/-ZZZZ]) to an R4 dateTime keeping its precision
// (https://hl7.org/fhir/R4/datatypes.html#dateTime): a time gets seconds and a zone (the
// message's, else MapOptions::default_zone, else the value is cut to its date). "" when the value
// is not a date.
std::string DateTime(const MapContext& ctx, std::string_view ts);
// The date part only (R4 date).
std::string Date(std::string_view ts);
// An R4 instant when `ts` has at least minutes and a zone is known (seconds padded); else "".
std::string Instant(const MapContext& ctx, std::string_view ts);
// TM (HH[MM[SS[.S]]]) to an R4 time; "" when not a time.
std::string Time(std::string_view tm);
// A v2 number (NM) as a FHIR decimal ("+5" -> "5", ".5" -> "0.5", "5." -> "5"); "" when not one.
std::string Decimal(std::string_view nm);

// The FHIR system URI for a v2 coding system name (CWE-3): LN, SCT, I10, I9C, CVX, HL7nnnn...
// Unknown names give `<system_base>coding-system/<name>`.
std::string CodeSystemUri(const MapContext& ctx, std::string_view name);
// A system URI from an HD (namespace id, universal id, universal id type): urn:oid:, urn:uuid:,
// the URI itself, or `<system_base>assigning-authority/<namespace>`; "" when all are empty.
std::string HdSystem(const MapContext& ctx, std::string_view namespace_id,
                     std::string_view universal_id, std::string_view universal_id_type);
// The system of the sending facility (MSH-4), used for identifiers sent without an authority.
std::string SendingFacilitySystem(const MapContext& ctx);

// "CWE to CodeableConcept" (also CE, CNE, CF): the primary and alternate codings, CWE-9 as text.
// `default_system` names the system of a code sent without one (e.g. "HL70001" for PID-8).
J CodeableConcept(const MapContext& ctx, const Value& cwe, std::string_view default_system = {});
// The first coding of a CWE, as a Coding.
J Coding(const MapContext& ctx, const Value& cwe, std::string_view default_system = {});
// A CodeableConcept of one coding with a fixed system and code (code "" gives an empty J).
J Concept(std::string_view system, std::string_view code, std::string_view display = {});
// "XPN to HumanName".
J HumanName(const Value& xpn);
// "XAD to Address".
J Address(const Value& xad);
// "XTN to ContactPoint"; `use` when XTN-2 says nothing ("home" for PID-13, "work" for PID-14).
J ContactPoint(const Value& xtn, std::string_view use = {});
// "CX to Identifier"; without an assigning authority the system is `fallback_system`.
J Identifier(const MapContext& ctx, const Value& cx, std::string_view fallback_system = {});
Key CxKey(const MapContext& ctx, const Value& cx, std::string_view fallback_system = {});
// "EI to Identifier" (also the EI inside EIP); `type` a v2-0203 code ("PLAC", "FILL") or "".
J EiIdentifier(const MapContext& ctx, const Value& ei, std::string_view type = {});
Key EiKey(const MapContext& ctx, const Value& ei);
// "XCN to Practitioner": a conditional update keyed by XCN-1 and XCN-9 (else the sending
// facility); a Reference to it, or one with only a display when XCN-1 is empty.
J PractitionerReference(MapContext& ctx, const Value& xcn);
// "PL to Location": a Location keyed by its point of care, room, bed and facility.
J LocationReference(MapContext& ctx, const Value& pl);
// {"reference": url}.
J Reference(std::string_view url);
// A Quantity with OBX-6-style units (CWE: code, text, system): UCUM when the unit is a UCUM code
// or a known synonym (mg/dl, beats/min...), else the unit as text only.
J Quantity(const MapContext& ctx, std::string_view value, const Value& units);
// A key made from the Patient's key and `parts`, for records the message does not identify.
Key DerivedKey(const MapContext& ctx, std::string_view type,
               const std::vector<std::string_view>& parts);
// Decoded text of every repetition, joined with "\n".
std::string JoinedText(const Value& field);

// ---- segment maps shared by several message families ------------------------------------------

// "PID to Patient" (and PD1 parts): adds the Patient as a conditional update and sets
// ctx.patient_url. Fails when PID-3 carries no identifier.
void MapPatient(MapContext& ctx, const Segment& pid);
// "PV1 to Encounter" (+ PV2): adds the Encounter (conditional on PV1-19) with `status`.
void MapEncounter(MapContext& ctx, const Segment& pv1, const Segment* pv2, std::string_view status);
// How order, result, immunization and pharmacy messages begin: the PID (required; fails without
// one) and, when present, the PV1 with its PV2. False when the mapping failed.
bool MapPatientAndVisit(MapContext& ctx);
// "OBX to Observation". Adds the Observation and returns its fullUrl ("" when the OBX has an ED
// value, which goes to `presented_form` instead, when given). `nte` are the NTE segments after it.
std::string MapObservation(MapContext& ctx, const Segment& obx, const std::vector<Segment>& nte,
                           const Key& parent_key, std::string_view default_time,
                           J* presented_form = nullptr);
// "SPM to Specimen".
std::string MapSpecimen(MapContext& ctx, const Segment& spm, const Key& parent_key);
// An ED value (OBX-5) as an Attachment: contentType from ED-2/ED-3, data when ED-4 is Base64.
J EdAttachment(const Value& ed);

// ---- message families -------------------------------------------------------------------------

void MapAdt(MapContext& ctx);
void MapOru(MapContext& ctx);
void MapOrder(MapContext& ctx);  // ORM^O01, OML^O21
void MapVxu(MapContext& ctx);
void MapSiu(MapContext& ctx);
void MapMdm(MapContext& ctx);
void MapRde(MapContext& ctx);

// The segments of the message grouped under each segment with id `head` (ORC, OBR, SCH...):
// each group is `head` and every segment after it up to the next one of `heads`.
std::vector<std::vector<Segment>> Groups(const Message& message,
                                         const std::vector<std::string_view>& heads);

}  // namespace vesta::hl7v2::internal
