// Mapping a parsed HL7 v2 message to a FHIR R4 transaction Bundle, after the HL7 v2-to-FHIR
// Implementation Guide (https://build.fhir.org/ig/HL7/v2-to-fhir/): its message maps (ADT_A01 to
// Bundle, ORU_R01 to Bundle, ...), segment maps (PID to Patient, PV1 to Encounter, OBX to
// Observation, ...) and datatype maps (XPN to HumanName, CWE to CodeableConcept, ...).
// docs/hl7v2.md lists the message types, the segment to resource table and what is not mapped.
//
//   Result<Message> msg = hl7v2::Parse(text);
//   Result<MappedMessage> mapped = hl7v2::MapToFhir(*msg, MapOptions{});
//   if (!mapped.ok()) ...                      // mapping failed: AE, "OBX(2)-3: ... is required"
//   if (mapped->outcome == MapOutcome::kUnsupported) ...  // AR: not a mapped message type
//   ... POST mapped->bundle_json to the base URL ...
//
// The Bundle is a transaction (https://hl7.org/fhir/R4/http.html#transaction) that finds existing
// records without reading any store: the Patient is written as a conditional update
// `PUT Patient?identifier=SYSTEM|VALUE` (PID-3 with its assigning authority), the Encounter as
// `PUT Encounter?identifier=SYSTEM|VALUE` (PV1-19), orders, reports, appointments and documents
// by their placer or filler numbers, and other entries refer to them by their fullUrl
// (urn:uuid:..., which the server rewrites). So an A08 after an A01 updates the same Patient and
// Encounter, and results reach the existing Patient. Each Bundle ends with a Provenance whose
// targets are every other entry and whose entity is the message: its record in the store when
// the caller names it (MapOptions::record_reference, the feed's Basic resource, which keeps the
// message as received), and always its identifier (MessageIdentifier).
//
// The fullUrls are name-based: the same message (MSH-10) maps to the same uuids, entry by entry.
// MapToFhir is a pure function of its arguments and safe to call from any thread.
#pragma once

#include <string>

#include "base/status.h"
#include "hl7v2/message.h"

namespace vesta::hl7v2 {

struct MapOptions {
  // The root of the URIs made up for what a message names but does not identify as a URI or OID:
  // `<base>assigning-authority/<namespace>` for an assigning authority known only by its
  // namespace id (CX-4.1, HD.1), `<base>coding-system/<name>` for a coding system the mapping does
  // not know (CWE-3 "99ZZZ"), `<base>key` for the keys of records that the message identifies only
  // through their patient (NK1, AL1, DG1, IN1). Should end with '/'.
  std::string system_base = "http://vesta.example/hl7v2/";
  // The zone ("+01:00", "Z") of times the message sends without one. FHIR requires a zone on a
  // dateTime that has a time; when this is empty such values are cut to their date.
  std::string default_zone;
  // When the message arrived, as an R4 instant: Provenance.recorded when MSH-7 is not a full
  // date and time with a zone. Empty: the current time.
  std::string received_at;
  // The message's record in the store, "Basic/v2-..." (the feed's, mllp/intake.h): the literal
  // reference of Provenance.entity.what. Empty (`vesta hl7v2 map`, which stores nothing): the
  // entity names the message by its identifier only, which the record carries once stored.
  std::string record_reference;
};

enum class MapOutcome {
  kMapped,       // bundle_json holds the transaction
  kUnsupported,  // a message type not mapped (the ACK is AR); reason says which
};

struct MappedMessage {
  MapOutcome outcome = MapOutcome::kMapped;
  std::string bundle_json;  // compact JSON; empty when unsupported
  std::string reason;       // why unsupported: "ADT^A09 is not a mapped message type"
  int entry_count = 0;
};

// The message types MapToFhir maps: ADT A01 A02 A03 A04 A05 A06 A07 A08 A11 A13 A28 A31 A40,
// ORU^R01, ORM^O01, OML^O21, VXU^V04, SIU S12 to S26, MDM T01 to T10, RDE^O11.
bool IsMappedType(std::string_view message_code, std::string_view trigger_event);

// The transaction Bundle for `message`. A message of a type not mapped is OK with
// outcome kUnsupported. A mapped message that cannot be mapped (a required value missing or
// unreadable) is a kInvalid Status whose message names the segment and field
// ("RXA(1)-3: the administration date is required").
Result<MappedMessage> MapToFhir(const Message& message, const MapOptions& options);

}  // namespace vesta::hl7v2
