// ORM^O01 and OML^O21: the IG's "ORM_O01 to Bundle Map" and "OML_O21 to Bundle Map", with
// "ORC to ServiceRequest", "OBR to ServiceRequest", "OBX to Observation" (observations that
// support the order) and "SPM to Specimen".
#include "base/strings.h"
#include "hl7v2/map_internal.h"

namespace vesta::hl7v2::internal {
namespace {

// ORC-5 order status (table 0038), else ORC-1 order control (table 0119), to
// ServiceRequest.status (https://hl7.org/fhir/R4/valueset-request-status.html).
std::string_view RequestStatus(const Segment* orc) {
  if (orc == nullptr) return "unknown";
  const std::string status = Upper(orc->Field(5).text());
  static constexpr std::pair<std::string_view, std::string_view> kByStatus[] = {
      {"A", "active"},   {"CA", "revoked"},          {"CM", "completed"},
      {"DC", "revoked"}, {"ER", "entered-in-error"}, {"HD", "on-hold"},
      {"IP", "active"},  {"RP", "revoked"},          {"SC", "active"}};
  for (const auto& [v2, fhir] : kByStatus) {
    if (status == v2) return fhir;
  }
  const std::string control = Upper(orc->Field(1).text());
  static constexpr std::pair<std::string_view, std::string_view> kByControl[] = {
      {"NW", "active"},  {"XO", "active"},  {"SC", "active"},  {"RP", "active"},  {"OK", "active"},
      {"CA", "revoked"}, {"OC", "revoked"}, {"CR", "revoked"}, {"DC", "revoked"}, {"OD", "revoked"},
      {"DR", "revoked"}, {"HD", "on-hold"}, {"OH", "on-hold"}, {"RL", "active"},  {"SN", "active"}};
  for (const auto& [v2, fhir] : kByControl) {
    if (control == v2) return fhir;
  }
  return "unknown";
}

// Priority (TQ1-9, or component 6 of the TQ in OBR-27 / ORC-7, table 0485) to request-priority.
std::string_view Priority(std::string_view code) {
  if (code == "S") return "stat";
  if (code == "A") return "asap";
  if (code == "R" || code == "T") return "routine";
  return "";
}

const Segment* First(const std::vector<Segment>& group, std::string_view id) {
  for (const Segment& s : group) {
    if (s.id() == id) return &s;
  }
  return nullptr;
}

void MapServiceRequest(MapContext& ctx, const std::vector<Segment>& group) {
  const Segment* orc = First(group, "ORC");
  const Segment* obr = First(group, "OBR");
  const Segment* tq1 = First(group, "TQ1");
  J r = J::Obj();
  // Placer and filler order numbers: ORC-2/ORC-3, else OBR-2/OBR-3.
  Value placer = orc != nullptr ? orc->Field(2) : Value();
  if (placer.Component(1).text().empty() && obr != nullptr) placer = obr->Field(2);
  Value filler = orc != nullptr ? orc->Field(3) : Value();
  if (filler.Component(1).text().empty() && obr != nullptr) filler = obr->Field(3);
  J ids = J::Arr();
  ids.Add(EiIdentifier(ctx, placer, "PLAC"));
  ids.Add(EiIdentifier(ctx, filler, "FILL"));
  r.Set("identifier", std::move(ids));
  Key key = EiKey(ctx, placer);
  if (key.empty()) key = EiKey(ctx, filler);
  if (orc != nullptr) r.Set("requisition", EiIdentifier(ctx, orc->Field(4), "PGN"));
  r.Set("status", RequestStatus(orc));
  r.Set("intent", "order");
  std::string priority;
  if (tq1 != nullptr) priority = tq1->Field(9).Component(1).text();
  if (priority.empty() && obr != nullptr) priority = obr->Field(27).Component(6).text();
  if (priority.empty() && orc != nullptr) priority = orc->Field(7).Component(6).text();
  r.Set("priority", Priority(Upper(priority)));
  if (obr != nullptr) r.Set("code", CodeableConcept(ctx, obr->Field(4)));
  r.Set("subject", Reference(ctx.patient_url));
  if (!ctx.encounter_url.empty()) r.Set("encounter", Reference(ctx.encounter_url));
  std::string occurrence;
  if (obr != nullptr) occurrence = DateTime(ctx, obr->Field(7).text());
  if (occurrence.empty() && tq1 != nullptr) occurrence = DateTime(ctx, tq1->Field(7).text());
  r.Set("occurrenceDateTime", occurrence);
  if (orc != nullptr) r.Set("authoredOn", DateTime(ctx, orc->Field(9).text()));
  J requester;
  if (orc != nullptr) requester = PractitionerReference(ctx, orc->Field(12));
  if (requester.empty() && obr != nullptr) requester = PractitionerReference(ctx, obr->Field(16));
  r.Set("requester", std::move(requester));
  if (obr != nullptr) {
    J reasons = J::Arr();
    for (const Value& v : obr->Field(31).Repetitions()) reasons.Add(CodeableConcept(ctx, v));
    r.Set("reasonCode", std::move(reasons));
  }
  J support = J::Arr();
  J specimens = J::Arr();
  J notes = J::Arr();
  std::string_view last;  // the last segment before a run of NTE
  for (size_t i = 0; i < group.size() && !ctx.failed(); ++i) {
    const Segment& s = group[i];
    if (s.id() == "OBX") {
      std::vector<Segment> nte;
      for (size_t j = i + 1; j < group.size() && group[j].id() == "NTE"; ++j) {
        nte.push_back(group[j]);
      }
      std::string url = MapObservation(ctx, s, nte, key, "", nullptr);
      if (!url.empty()) support.Add(Reference(url));
    } else if (s.id() == "SPM") {
      specimens.Add(Reference(MapSpecimen(ctx, s, key)));
    } else if (s.id() == "NTE" && last == "OBR") {
      // NTE right after the OBR: notes on the order (those after an OBX belong to it).
      J note = J::Obj();
      note.Set("text", JoinedText(s.Field(3)));
      notes.Add(std::move(note));
    }
    if (s.id() != "NTE") last = s.id();
  }
  if (ctx.failed()) return;
  r.Set("supportingInfo", std::move(support));
  r.Set("specimen", std::move(specimens));
  r.Set("note", std::move(notes));
  ctx.Add("ServiceRequest", std::move(r), key);
}

}  // namespace

void MapOrder(MapContext& ctx) {
  if (!MapPatientAndVisit(ctx)) return;
  const bool has_orc = ctx.message().Find("ORC").has_value();
  std::vector<std::vector<Segment>> groups =
      Groups(ctx.message(),
             has_orc ? std::vector<std::string_view>{"ORC"} : std::vector<std::string_view>{"OBR"});
  if (groups.empty()) {
    ctx.Fail("ORC: the message has no order (ORC or OBR)");
    return;
  }
  for (const std::vector<Segment>& group : groups) {
    if (ctx.failed()) return;
    MapServiceRequest(ctx, group);
  }
}

}  // namespace vesta::hl7v2::internal
