// RDE^O11: the IG's "RDE_O11 to Bundle Map", with "ORC to MedicationRequest", "RXE to
// MedicationRequest" and "RXR to MedicationRequest" (dosageInstruction.route and site).
#include "base/strings.h"
#include "hl7v2/map_internal.h"

namespace vesta::hl7v2::internal {
namespace {

// ORC-5 (table 0038), else ORC-1 (table 0119), to MedicationRequest.status
// (https://hl7.org/fhir/R4/valueset-medicationrequest-status.html).
std::string_view MedicationStatus(const Segment& orc) {
  const std::string status = Upper(orc.Field(5).text());
  static constexpr std::pair<std::string_view, std::string_view> kByStatus[] = {
      {"A", "active"},
      {"CA", "cancelled"},
      {"CM", "completed"},
      {"DC", "stopped"},
      {"ER", "entered-in-error"},
      {"HD", "on-hold"},
      {"IP", "active"},
      {"SC", "active"}};
  for (const auto& [v2, fhir] : kByStatus) {
    if (status == v2) return fhir;
  }
  const std::string control = Upper(orc.Field(1).text());
  static constexpr std::pair<std::string_view, std::string_view> kByControl[] = {
      {"NW", "active"},  {"XO", "active"},    {"RP", "active"},    {"OK", "active"},
      {"SC", "active"},  {"CA", "cancelled"}, {"OC", "cancelled"}, {"CR", "cancelled"},
      {"DC", "stopped"}, {"OD", "stopped"},   {"DR", "stopped"},   {"HD", "on-hold"},
      {"OH", "on-hold"}};
  for (const auto& [v2, fhir] : kByControl) {
    if (control == v2) return fhir;
  }
  return "unknown";
}

void MapMedicationRequest(MapContext& ctx, const std::vector<Segment>& group) {
  const Segment& orc = group.front();
  const Segment* rxe = nullptr;
  const Segment* rxr = nullptr;
  const Segment* tq1 = nullptr;
  for (const Segment& s : group) {
    if (s.id() == "RXE" && rxe == nullptr) rxe = &s;
    if (s.id() == "RXR" && rxr == nullptr) rxr = &s;
    if (s.id() == "TQ1" && tq1 == nullptr) tq1 = &s;
  }
  if (rxe == nullptr) {
    ctx.Fail(Where(orc, 0) + ": the order has no RXE segment");
    return;
  }
  J m = J::Obj();
  J ids = J::Arr();
  ids.Add(EiIdentifier(ctx, orc.Field(2), "PLAC"));
  ids.Add(EiIdentifier(ctx, orc.Field(3), "FILL"));
  m.Set("identifier", std::move(ids));
  Key key = EiKey(ctx, orc.Field(2));
  if (key.empty()) key = EiKey(ctx, orc.Field(3));
  m.Set("status", MedicationStatus(orc));
  m.Set("intent", "order");
  J medication = CodeableConcept(ctx, rxe->Field(2));
  if (medication.empty()) {
    ctx.Fail(Where(*rxe, 2) + ": the give code is required");
    return;
  }
  m.Set("medicationCodeableConcept", std::move(medication));
  m.Set("subject", Reference(ctx.patient_url));
  if (!ctx.encounter_url.empty()) m.Set("encounter", Reference(ctx.encounter_url));
  m.Set("authoredOn", DateTime(ctx, orc.Field(9).text()));
  m.Set("requester", PractitionerReference(ctx, orc.Field(12)));
  // Dosage: RXE-3/RXE-4 give amount (minimum, maximum) in RXE-5 units, RXE-7 instructions,
  // RXR-1 route, RXR-2 site, TQ1-3 repeat pattern.
  J dosage = J::Obj();
  J instructions = CodeableConcept(ctx, rxe->Field(7));
  if (const J* text = instructions.Find("text")) {
    dosage.Set("text", text->text());
  } else if (const J* codings = instructions.Find("coding")) {
    if (const J* display = codings->items().front().Find("display")) {
      dosage.Set("text", display->text());
    }
  }
  if (tq1 != nullptr) {
    J timing = J::Obj();
    timing.Set("code", CodeableConcept(ctx, tq1->Field(3).Component(1), "HL70335"));
    dosage.Set("timing", std::move(timing));
  }
  if (rxr != nullptr) {
    dosage.Set("route", CodeableConcept(ctx, rxr->Field(1), "HL70162"));
    dosage.Set("site", CodeableConcept(ctx, rxr->Field(2), "HL70550"));
  }
  J dose = J::Obj();
  J low = Quantity(ctx, rxe->Field(3).text(), rxe->Field(5));
  J high = Quantity(ctx, rxe->Field(4).text(), rxe->Field(5));
  if (!low.empty() && !high.empty() && low.Find("value")->text() != high.Find("value")->text()) {
    J range = J::Obj();
    range.Set("low", std::move(low));
    range.Set("high", std::move(high));
    dose.Set("doseRange", std::move(range));
  } else {
    dose.Set("doseQuantity", std::move(low));
  }
  dosage.Set("doseAndRate", J::Arr().Add(std::move(dose)));
  m.Set("dosageInstruction", J::Arr().Add(std::move(dosage)));
  // RXE-10 dispense amount in RXE-11 units, RXE-12 number of refills.
  J dispense = J::Obj();
  dispense.Set("quantity", Quantity(ctx, rxe->Field(10).text(), rxe->Field(11)));
  std::string refills = Decimal(rxe->Field(12).text());
  if (!refills.empty() && refills.find('.') == std::string::npos && refills[0] != '-') {
    dispense.Set("numberOfRepeatsAllowed", J::Num(refills));
  }
  m.Set("dispenseRequest", std::move(dispense));
  ctx.Add("MedicationRequest", std::move(m), key);
}

}  // namespace

void MapRde(MapContext& ctx) {
  if (!MapPatientAndVisit(ctx)) return;
  std::vector<std::vector<Segment>> groups = Groups(ctx.message(), {"ORC"});
  if (groups.empty()) {
    ctx.Fail("ORC: the message has no order");
    return;
  }
  for (const std::vector<Segment>& group : groups) {
    if (ctx.failed()) return;
    MapMedicationRequest(ctx, group);
  }
}

}  // namespace vesta::hl7v2::internal
