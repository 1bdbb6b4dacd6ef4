// VXU^V04: the IG's "VXU_V04 to Bundle Map", with "RXA to Immunization", "RXR to Immunization"
// and "ORC to Immunization"; the OBX of an administration become Observations that are part of
// it (Observation.partOf).
#include "base/strings.h"
#include "hl7v2/map_internal.h"

namespace vesta::hl7v2::internal {
namespace {

void MapImmunization(MapContext& ctx, const std::vector<Segment>& group) {
  const Segment* orc = nullptr;
  const Segment* rxa = nullptr;
  const Segment* rxr = nullptr;
  for (const Segment& s : group) {
    if (s.id() == "ORC" && orc == nullptr) orc = &s;
    if (s.id() == "RXA" && rxa == nullptr) rxa = &s;
    if (s.id() == "RXR" && rxr == nullptr) rxr = &s;
  }
  if (rxa == nullptr) {
    ctx.Fail(Where(group.front(), 0) + ": the order has no RXA segment");
    return;
  }
  J im = J::Obj();
  J ids = J::Arr();
  Key key;
  if (orc != nullptr) {
    ids.Add(EiIdentifier(ctx, orc->Field(2), "PLAC"));
    ids.Add(EiIdentifier(ctx, orc->Field(3), "FILL"));
    key = EiKey(ctx, orc->Field(3));
    if (key.empty()) key = EiKey(ctx, orc->Field(2));
  }
  if (key.empty()) {
    key = DerivedKey(ctx, "RXA", {rxa->Field(5).Component(1).raw(), rxa->Field(3).raw()});
    J id = J::Obj();
    id.Set("system", key.system);
    id.Set("value", key.value);
    ids.Add(std::move(id));
  }
  im.Set("identifier", std::move(ids));
  // RXA-20 completion status (table 0322), RXA-21 action code (table 0206).
  const std::string completion = Upper(rxa->Field(20).text());
  std::string status = "completed";
  if (completion == "RE" || completion == "NA") status = "not-done";
  if (Upper(rxa->Field(21).text()) == "D") status = "entered-in-error";
  im.Set("status", status);
  if (status == "not-done") im.Set("statusReason", CodeableConcept(ctx, rxa->Field(18)));
  J vaccine = CodeableConcept(ctx, rxa->Field(5), "CVX");
  if (vaccine.empty()) {
    ctx.Fail(Where(*rxa, 5) + ": the administered code is required");
    return;
  }
  im.Set("vaccineCode", std::move(vaccine));
  im.Set("patient", Reference(ctx.patient_url));
  if (!ctx.encounter_url.empty()) im.Set("encounter", Reference(ctx.encounter_url));
  std::string occurrence = DateTime(ctx, rxa->Field(3).text());
  if (occurrence.empty()) {
    ctx.Fail(Where(*rxa, 3) + ": the administration date/time is required");
    return;
  }
  im.Set("occurrenceDateTime", occurrence);
  // RXA-9 administration notes: NIP001 "00" is a new record (primary source), others historical.
  std::string origin = rxa->Field(9).Component(1).text();
  if (!origin.empty()) {
    im.Set("primarySource", J::Bool(origin == "00"));
    if (origin != "00") im.Set("reportOrigin", CodeableConcept(ctx, rxa->Field(9), "NIP001"));
  }
  // RXA-17 manufacturer (MVX), as an Organization keyed by its code.
  if (std::string mvx(Trim(rxa->Field(17).Component(1).text())); !mvx.empty()) {
    std::string system = CodeSystemUri(ctx, rxa->Field(17).Component(3).text());
    if (system.empty()) system = CodeSystemUri(ctx, "MVX");
    Key org_key{system, mvx};
    J org = J::Obj();
    J id = J::Obj();
    id.Set("system", system);
    id.Set("value", mvx);
    org.Set("identifier", J::Arr().Add(std::move(id)));
    org.Set("name", rxa->Field(17).Component(2).text());
    im.Set("manufacturer", Reference(ctx.Add("Organization", std::move(org), org_key)));
  }
  im.Set("lotNumber", rxa->Field(15).text());
  im.Set("expirationDate", Date(rxa->Field(16).text()));
  if (rxr != nullptr) {
    im.Set("site", CodeableConcept(ctx, rxr->Field(2), "HL70163"));
    im.Set("route", CodeableConcept(ctx, rxr->Field(1), "HL70162"));
  }
  // RXA-6 administered amount (999: unknown) in RXA-7 units.
  if (std::string amount = rxa->Field(6).text(); amount != "999") {
    im.Set("doseQuantity", Quantity(ctx, amount, rxa->Field(7)));
  }
  // RXA-10 administering provider (function AP), ORC-12 ordering provider (OP).
  J performers = J::Arr();
  auto add_performer = [&](const Value& xcn, std::string_view function) {
    J who = PractitionerReference(ctx, xcn);
    if (who.empty()) return;
    J p = J::Obj();
    p.Set("function", Concept("http://terminology.hl7.org/CodeSystem/v2-0443", function));
    p.Set("actor", std::move(who));
    performers.Add(std::move(p));
  };
  add_performer(rxa->Field(10), "AP");
  if (orc != nullptr) add_performer(orc->Field(12), "OP");
  im.Set("performer", std::move(performers));
  const std::string url = ctx.Add("Immunization", std::move(im), key);
  for (size_t i = 0; i < group.size() && !ctx.failed(); ++i) {
    if (group[i].id() != "OBX") continue;
    std::vector<Segment> nte;
    for (size_t j = i + 1; j < group.size() && group[j].id() == "NTE"; ++j) {
      nte.push_back(group[j]);
    }
    std::string obs = MapObservation(ctx, group[i], nte, key, occurrence, nullptr);
    if (J* o = ctx.Resource(obs)) o->Set("partOf", J::Arr().Add(Reference(url)));
  }
}

}  // namespace

void MapVxu(MapContext& ctx) {
  if (!MapPatientAndVisit(ctx)) return;
  // Each order: ORC (optional before v2.5) or RXA starts it.
  const bool has_orc = ctx.message().Find("ORC").has_value();
  std::vector<std::vector<Segment>> groups =
      Groups(ctx.message(),
             has_orc ? std::vector<std::string_view>{"ORC"} : std::vector<std::string_view>{"RXA"});
  for (const std::vector<Segment>& group : groups) {
    if (ctx.failed()) return;
    MapImmunization(ctx, group);
  }
}

}  // namespace vesta::hl7v2::internal
