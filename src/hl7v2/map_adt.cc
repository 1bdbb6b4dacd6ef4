// ADT messages: the IG's "ADT_A01 to Bundle Map" and its siblings (A02 to A13, A28, A31), the
// "ADT_A39 to Bundle Map" for A40 (merge patient), and the segment maps they use: "PID to
// Patient", "PV1 to Encounter", "PV2 to Encounter", "NK1 to RelatedPerson", "AL1 to
// AllergyIntolerance", "DG1 to Condition", "IN1 to Coverage".
#include "base/strings.h"
#include "hl7v2/map_internal.h"

namespace vesta::hl7v2::internal {
namespace {

const char kV2_0203[] = "http://terminology.hl7.org/CodeSystem/v2-0203";

// The PID-3 identifier a Patient is matched by: the first medical record number (CX-5 "MR"),
// else the first identifier sent.
Value MatchIdentifier(const Segment& pid) {
  std::vector<Value> ids = pid.Field(3).Repetitions();
  for (const Value& id : ids) {
    if (!id.Component(1).text().empty() && Upper(id.Component(5).text()) == "MR") return id;
  }
  for (const Value& id : ids) {
    if (!id.Component(1).text().empty()) return id;
  }
  return Value();
}

}  // namespace

// "Segment PID to Patient Map".
void MapPatient(MapContext& ctx, const Segment& pid) {
  Value match = MatchIdentifier(pid);
  const std::string fallback = SendingFacilitySystem(ctx);
  if (match.empty()) {
    ctx.Fail(Where(pid, 3) + ": the patient identifier list has no identifier");
    return;
  }
  ctx.patient_key = CxKey(ctx, match, fallback);
  J p = J::Obj();
  J ids = J::Arr();
  for (const Value& id : pid.Field(3).Repetitions()) ids.Add(Identifier(ctx, id, fallback));
  // PID-2 (patient id, before v2.7) and PID-4 (alternate patient id), as further identifiers.
  ids.Add(Identifier(ctx, pid.Field(2), fallback));
  for (const Value& id : pid.Field(4).Repetitions()) ids.Add(Identifier(ctx, id, fallback));
  // PID-19 SSN (before v2.7): an identifier of type SS.
  if (std::string ssn = pid.Field(19).text(); !ssn.empty()) {
    J id = J::Obj();
    id.Set("type", Concept(kV2_0203, "SS"));
    id.Set("system", "http://hl7.org/fhir/sid/us-ssn");
    id.Set("value", ssn);
    ids.Add(std::move(id));
  }
  p.Set("identifier", std::move(ids));
  J names = J::Arr();
  for (const Value& n : pid.Field(5).Repetitions()) names.Add(HumanName(n));
  for (const Value& n : pid.Field(9).Repetitions()) names.Add(HumanName(n));  // PID-9 alias
  p.Set("name", std::move(names));
  J telecom = J::Arr();
  for (const Value& t : pid.Field(13).Repetitions()) telecom.Add(ContactPoint(t, "home"));
  for (const Value& t : pid.Field(14).Repetitions()) telecom.Add(ContactPoint(t, "work"));
  p.Set("telecom", std::move(telecom));
  // PID-8 administrative sex (table 0001) to administrative-gender.
  std::string sex = Upper(pid.Field(8).text());
  if (sex == "M") p.Set("gender", "male");
  if (sex == "F") p.Set("gender", "female");
  if (sex == "O" || sex == "A" || sex == "N") p.Set("gender", "other");
  if (sex == "U") p.Set("gender", "unknown");
  p.Set("birthDate", Date(pid.Field(7).text()));
  // PID-30 death indicator, PID-29 date of death.
  if (std::string died = DateTime(ctx, pid.Field(29).text()); !died.empty()) {
    p.Set("deceasedDateTime", died);
  } else if (std::string ind = Upper(pid.Field(30).text()); ind == "Y" || ind == "N") {
    p.Set("deceasedBoolean", J::Bool(ind == "Y"));
  }
  J addresses = J::Arr();
  for (const Value& a : pid.Field(11).Repetitions()) addresses.Add(Address(a));
  p.Set("address", std::move(addresses));
  p.Set("maritalStatus", CodeableConcept(ctx, pid.Field(16), "HL70002"));
  // PID-24 multiple birth indicator, PID-25 birth order.
  if (std::string order = pid.Field(25).text();
      !order.empty() && Decimal(order) == order && order.find('.') == std::string::npos) {
    p.Set("multipleBirthInteger", J::Num(order));
  } else if (std::string mb = Upper(pid.Field(24).text()); mb == "Y" || mb == "N") {
    p.Set("multipleBirthBoolean", J::Bool(mb == "Y"));
  }
  // PID-15 primary language.
  if (J lang = CodeableConcept(ctx, pid.Field(15), "HL70296"); !lang.empty()) {
    J comm = J::Obj();
    comm.Set("language", std::move(lang));
    comm.Set("preferred", J::Bool(true));
    p.Set("communication", J::Arr().Add(std::move(comm)));
  }
  // PID-6 mother's maiden name (https://hl7.org/fhir/R4/extension-patient-mothersmaidenname.html).
  if (std::string maiden = pid.Field(6).Component(1).text(); !maiden.empty()) {
    J ext = J::Obj();
    ext.Set("url", "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName");
    ext.Set("valueString", maiden);
    p.Set("extension", J::Arr().Add(std::move(ext)));
  }
  ctx.patient_url = ctx.Add("Patient", std::move(p), ctx.patient_key);
}

// "Segment PV1 to Encounter Map" and "Segment PV2 to Encounter Map".
bool MapPatientAndVisit(MapContext& ctx) {
  std::optional<Segment> pid = ctx.message().Find("PID");
  if (!pid) {
    ctx.Fail("PID: the message has no PID segment");
    return false;
  }
  MapPatient(ctx, *pid);
  if (ctx.failed()) return false;
  if (std::optional<Segment> pv1 = ctx.message().Find("PV1")) {
    std::optional<Segment> pv2 = ctx.message().Find("PV2");
    MapEncounter(ctx, *pv1, pv2 ? &*pv2 : nullptr, "");
  }
  return !ctx.failed();
}

void MapEncounter(MapContext& ctx, const Segment& pv1, const Segment* pv2,
                  std::string_view status) {
  J e = J::Obj();
  Key key = CxKey(ctx, pv1.Field(19), SendingFacilitySystem(ctx));
  if (!key.empty()) {
    J id = J::Obj();
    id.Set("type", Concept(kV2_0203, "VN"));
    id.Set("system", key.system);
    id.Set("value", key.value);
    e.Set("identifier", J::Arr().Add(std::move(id)));
  }
  // Without an event that says otherwise: finished when PV1-45 (discharge) is sent, in
  // progress when PV1-44 (admit) is, else unknown.
  std::string end = DateTime(ctx, pv1.Field(45).text());
  std::string start = DateTime(ctx, pv1.Field(44).text());
  if (status.empty())
    status = !end.empty() ? "finished" : !start.empty() ? "in-progress" : "unknown";
  e.Set("status", status);
  // PV1-2 patient class (table 0004) to v3 ActCode.
  std::string cls = Upper(pv1.Field(2).text());
  static constexpr std::pair<std::string_view, std::pair<std::string_view, std::string_view>>
      kClass[] = {{"E", {"EMER", "emergency"}},          {"I", {"IMP", "inpatient encounter"}},
                  {"O", {"AMB", "ambulatory"}},          {"P", {"PRENC", "pre-admission"}},
                  {"R", {"IMP", "inpatient encounter"}}, {"B", {"OBSENC", "observation encounter"}},
                  {"C", {"AMB", "ambulatory"}},          {"N", {"AMB", "ambulatory"}}};
  J klass = J::Obj();
  for (const auto& [v2, act] : kClass) {
    if (cls == v2) {
      klass.Set("system", "http://terminology.hl7.org/CodeSystem/v3-ActCode");
      klass.Set("code", act.first);
      klass.Set("display", act.second);
    }
  }
  if (klass.empty()) {
    // Encounter.class is required (1..1): an unknown or absent class is sent as v3 NullFlavor.
    klass.Set("system", "http://terminology.hl7.org/CodeSystem/v3-NullFlavor");
    klass.Set("code", cls.empty() ? "UNK" : "OTH");
  }
  e.Set("class", std::move(klass));
  e.Set("type", J::Arr().Add(CodeableConcept(ctx, pv1.Field(4), "HL70007")));
  e.Set("serviceType", CodeableConcept(ctx, pv1.Field(10), "HL70069"));
  e.Set("subject", Reference(ctx.patient_url));
  // PV1-7 attending, PV1-8 referring, PV1-9 consulting, PV1-17 admitting (v3 ParticipationType).
  J participants = J::Arr();
  static constexpr std::pair<int, std::pair<std::string_view, std::string_view>> kRoles[] = {
      {7, {"ATND", "attender"}},
      {8, {"REF", "referrer"}},
      {9, {"CON", "consultant"}},
      {17, {"ADM", "admitter"}}};
  for (const auto& [field, role] : kRoles) {
    for (const Value& xcn : pv1.Field(field).Repetitions()) {
      J who = PractitionerReference(ctx, xcn);
      if (who.empty()) continue;
      J part = J::Obj();
      part.Set("type",
               J::Arr().Add(Concept("http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                    role.first, role.second)));
      part.Set("individual", std::move(who));
      participants.Add(std::move(part));
    }
  }
  e.Set("participant", std::move(participants));
  J period = J::Obj();
  period.Set("start", start);
  period.Set("end", end);
  e.Set("period", std::move(period));
  J hosp = J::Obj();
  hosp.Set("preAdmissionIdentifier", Identifier(ctx, pv1.Field(5)));
  hosp.Set("admitSource", CodeableConcept(ctx, pv1.Field(14), "HL70023"));
  hosp.Set("reAdmission", CodeableConcept(ctx, pv1.Field(13), "HL70092"));
  hosp.Set("dischargeDisposition", CodeableConcept(ctx, pv1.Field(36), "HL70112"));
  J diet = J::Arr();
  diet.Add(CodeableConcept(ctx, pv1.Field(38), "HL70114"));
  hosp.Set("dietPreference", std::move(diet));
  e.Set("hospitalization", std::move(hosp));
  // PV1-3 assigned location (active, or completed once finished), PV1-6 prior location.
  J locations = J::Arr();
  if (J loc = LocationReference(ctx, pv1.Field(3)); !loc.empty()) {
    J l = J::Obj();
    l.Set("location", std::move(loc));
    l.Set("status", status == "finished"  ? "completed"
                    : status == "planned" ? "planned"
                                          : "active");
    locations.Add(std::move(l));
  }
  if (J loc = LocationReference(ctx, pv1.Field(6)); !loc.empty()) {
    J l = J::Obj();
    l.Set("location", std::move(loc));
    l.Set("status", "completed");
    locations.Add(std::move(l));
  }
  e.Set("location", std::move(locations));
  if (pv2 != nullptr) {
    // PV2-3 admit reason; PV2-12 visit description as its text when there is no reason.
    J reason = CodeableConcept(ctx, pv2->Field(3));
    if (reason.empty() && !pv2->Field(12).text().empty()) {
      reason = J::Obj();
      reason.Set("text", pv2->Field(12).text());
    }
    e.Set("reasonCode", J::Arr().Add(std::move(reason)));
  }
  ctx.encounter_url = ctx.Add("Encounter", std::move(e), key);
}

namespace {

// "Segment NK1 to RelatedPerson Map".
void MapRelatedPerson(MapContext& ctx, const Segment& nk1) {
  J r = J::Obj();
  J names = J::Arr();
  for (const Value& n : nk1.Field(2).Repetitions()) names.Add(HumanName(n));
  for (const Value& n : nk1.Field(30).Repetitions()) names.Add(HumanName(n));  // contact person
  if (names.empty() && nk1.Field(3).empty()) return;  // nobody named: nothing to record
  J ids = J::Arr();
  for (const Value& id : nk1.Field(33).Repetitions()) ids.Add(Identifier(ctx, id));
  r.Set("identifier", std::move(ids));
  r.Set("active", J::Bool(true));
  r.Set("patient", Reference(ctx.patient_url));
  J rel = J::Arr();
  rel.Add(CodeableConcept(ctx, nk1.Field(3), "HL70063"));
  rel.Add(CodeableConcept(ctx, nk1.Field(7), "HL70131"));  // contact role
  r.Set("relationship", std::move(rel));
  r.Set("name", std::move(names));
  J telecom = J::Arr();
  for (const Value& t : nk1.Field(5).Repetitions()) telecom.Add(ContactPoint(t, "home"));
  for (const Value& t : nk1.Field(6).Repetitions()) telecom.Add(ContactPoint(t, "work"));
  for (const Value& t : nk1.Field(40).Repetitions()) telecom.Add(ContactPoint(t));
  r.Set("telecom", std::move(telecom));
  std::string sex = Upper(nk1.Field(15).text());
  if (sex == "M") r.Set("gender", "male");
  if (sex == "F") r.Set("gender", "female");
  if (sex == "O" || sex == "A" || sex == "N") r.Set("gender", "other");
  if (sex == "U") r.Set("gender", "unknown");
  r.Set("birthDate", Date(nk1.Field(16).text()));
  J addresses = J::Arr();
  for (const Value& a : nk1.Field(4).Repetitions()) addresses.Add(Address(a));
  r.Set("address", std::move(addresses));
  J period = J::Obj();
  period.Set("start", DateTime(ctx, nk1.Field(8).text()));
  period.Set("end", DateTime(ctx, nk1.Field(9).text()));
  r.Set("period", std::move(period));
  Key key = DerivedKey(ctx, "NK1", {nk1.Field(2).raw(), nk1.Field(3).Component(1).raw()});
  J id = J::Obj();
  id.Set("system", key.system);
  id.Set("value", key.value);
  J* list = r.Find("identifier");
  if (list == nullptr) {
    r.Set("identifier", J::Arr().Add(std::move(id)));
  } else {
    list->Add(std::move(id));
  }
  ctx.Add("RelatedPerson", std::move(r), key);
}

// Adds `key` to `resource`'s identifiers.
void AddKeyIdentifier(J& resource, const Key& key) {
  J id = J::Obj();
  id.Set("system", key.system);
  id.Set("value", key.value);
  if (J* list = resource.Find("identifier")) {
    list->Add(std::move(id));
  } else {
    resource.Set("identifier", J::Arr().Add(std::move(id)));
  }
}

// "Segment AL1 to AllergyIntolerance Map".
void MapAllergy(MapContext& ctx, const Segment& al1) {
  J a = J::Obj();
  J code = CodeableConcept(ctx, al1.Field(3));
  if (code.empty()) {
    ctx.Fail(Where(al1, 3) + ": the allergen code is required");
    return;
  }
  a.Set("clinicalStatus",
        Concept("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active"));
  // AL1-2 allergen type (table 0127) to the AllergyIntolerance category.
  std::string type = Upper(al1.Field(2).Component(1).text());
  if (type == "DA" || type == "MA") a.Set("category", J::Arr().Add(J::Str("medication")));
  if (type == "FA") a.Set("category", J::Arr().Add(J::Str("food")));
  if (type == "EA" || type == "AA" || type == "PA") {
    a.Set("category", J::Arr().Add(J::Str("environment")));
  }
  if (type == "DA" || type == "FA" || type == "EA" || type == "MA" || type == "AA" ||
      type == "PA") {
    a.Set("type", "allergy");
  }
  // AL1-4 severity (table 0128) to criticality.
  std::string severity = Upper(al1.Field(4).Component(1).text());
  if (severity == "SV") a.Set("criticality", "high");
  if (severity == "MO" || severity == "MI") a.Set("criticality", "low");
  if (severity == "U") a.Set("criticality", "unable-to-assess");
  a.Set("code", code);
  a.Set("patient", Reference(ctx.patient_url));
  a.Set("onsetDateTime", DateTime(ctx, al1.Field(6).text()));
  J reactions = J::Arr();
  for (const Value& r : al1.Field(5).Repetitions()) {
    if (r.text().empty()) continue;
    J manifestation = J::Obj();
    manifestation.Set("text", r.text());
    J reaction = J::Obj();
    reaction.Set("manifestation", J::Arr().Add(std::move(manifestation)));
    reactions.Add(std::move(reaction));
  }
  a.Set("reaction", std::move(reactions));
  Key key =
      DerivedKey(ctx, "AL1", {al1.Field(3).Component(1).raw(), al1.Field(3).Component(3).raw()});
  AddKeyIdentifier(a, key);
  ctx.Add("AllergyIntolerance", std::move(a), key);
}

// "Segment DG1 to Condition Map".
void MapCondition(MapContext& ctx, const Segment& dg1) {
  J c = J::Obj();
  J code = CodeableConcept(ctx, dg1.Field(3), dg1.Field(2).text());
  if (code.empty() && !dg1.Field(4).text().empty()) {
    code = J::Obj();
    code.Set("text", dg1.Field(4).text());  // DG1-4 description (before v2.7)
  }
  if (code.empty()) {
    ctx.Fail(Where(dg1, 3) + ": the diagnosis code is required");
    return;
  }
  J ids = J::Arr();
  ids.Add(EiIdentifier(ctx, dg1.Field(20)));  // DG1-20 diagnosis identifier
  c.Set("identifier", std::move(ids));
  c.Set("category", J::Arr().Add(Concept("http://terminology.hl7.org/CodeSystem/condition-category",
                                         "encounter-diagnosis", "Encounter Diagnosis")));
  c.Set("code", std::move(code));
  c.Set("subject", Reference(ctx.patient_url));
  if (!ctx.encounter_url.empty()) c.Set("encounter", Reference(ctx.encounter_url));
  c.Set("onsetDateTime", DateTime(ctx, dg1.Field(5).text()));
  c.Set("recordedDate", DateTime(ctx, dg1.Field(19).text()));
  if (J who = PractitionerReference(ctx, dg1.Field(16)); !who.empty()) c.Set("asserter", who);
  Key key = DerivedKey(ctx, "DG1",
                       {dg1.Field(3).Component(1).raw(), dg1.Field(3).Component(3).raw(),
                        dg1.Field(20).Component(1).raw()});
  AddKeyIdentifier(c, key);
  ctx.Add("Condition", std::move(c), key);
}

// "Segment IN1 to Coverage Map" (IN1-3/IN1-4 to the payor Organization).
void MapCoverage(MapContext& ctx, const Segment& in1) {
  J c = J::Obj();
  J ids = J::Arr();
  if (std::string policy = in1.Field(36).text(); !policy.empty()) {
    J id = J::Obj();
    id.Set("type", Concept(kV2_0203, "MB"));
    id.Set("value", policy);
    ids.Add(std::move(id));
  }
  c.Set("identifier", std::move(ids));
  c.Set("status", "active");
  c.Set("type", CodeableConcept(ctx, in1.Field(15), "HL70086"));
  c.Set("subscriberId", in1.Field(49).Component(1).text());
  c.Set("beneficiary", Reference(ctx.patient_url));
  c.Set("relationship", CodeableConcept(ctx, in1.Field(17), "HL70063"));
  J period = J::Obj();
  period.Set("start", DateTime(ctx, in1.Field(12).text()));
  period.Set("end", DateTime(ctx, in1.Field(13).text()));
  c.Set("period", std::move(period));
  // The payor: the insurance company (IN1-3 id, IN1-4 name).
  J payor;
  std::string company = in1.Field(4).Component(1).text();
  Key org_key = CxKey(ctx, in1.Field(3), SendingFacilitySystem(ctx));
  if (!org_key.empty()) {
    J org = J::Obj();
    J id = J::Obj();
    id.Set("system", org_key.system);
    id.Set("value", org_key.value);
    org.Set("identifier", J::Arr().Add(std::move(id)));
    org.Set("name", company);
    J addresses = J::Arr();
    for (const Value& a : in1.Field(5).Repetitions()) addresses.Add(Address(a));
    org.Set("address", std::move(addresses));
    J telecom = J::Arr();
    for (const Value& t : in1.Field(7).Repetitions()) telecom.Add(ContactPoint(t, "work"));
    org.Set("telecom", std::move(telecom));
    payor = Reference(ctx.Add("Organization", std::move(org), org_key));
    payor.Set("display", company);
  } else if (!company.empty()) {
    payor = J::Obj();
    payor.Set("display", company);
  } else {
    return;  // Coverage.payor is required (1..*): an IN1 naming no insurer is not mapped
  }
  c.Set("payor", J::Arr().Add(std::move(payor)));
  J classes = J::Arr();
  if (std::string plan = in1.Field(2).Component(1).text(); !plan.empty()) {
    J k = J::Obj();
    k.Set("type", Concept("http://terminology.hl7.org/CodeSystem/coverage-class", "plan"));
    k.Set("value", plan);
    k.Set("name", in1.Field(2).Component(2).text());
    classes.Add(std::move(k));
  }
  if (std::string group = in1.Field(8).text(); !group.empty()) {
    J k = J::Obj();
    k.Set("type", Concept("http://terminology.hl7.org/CodeSystem/coverage-class", "group"));
    k.Set("value", group);
    k.Set("name", in1.Field(9).Component(1).text());
    classes.Add(std::move(k));
  }
  c.Set("class", std::move(classes));
  Key key = DerivedKey(
      ctx, "IN1",
      {in1.Field(3).Component(1).raw(), in1.Field(2).Component(1).raw(), in1.Field(36).raw()});
  AddKeyIdentifier(c, key);
  ctx.Add("Coverage", std::move(c), key);
}

// The Encounter.status an ADT event implies (the IG's message maps set it per event).
std::string_view EncounterStatus(std::string_view event) {
  if (event == "A03") return "finished";
  if (event == "A05") return "planned";    // pre-admit
  if (event == "A11") return "cancelled";  // cancel admit / visit notification
  if (event == "A01" || event == "A02" || event == "A04" || event == "A06" || event == "A07" ||
      event == "A13") {
    return "in-progress";
  }
  return "";  // A08: from PV1-44 and PV1-45
}

// "ADT_A39 to Bundle Map" for A40: each PID/MRG pair merges the patient MRG-1 names into the
// one PID-3 names (https://hl7.org/fhir/R4/patient.html#links: the survivor "replaces" the old
// record, which is marked inactive and "replaced-by" the survivor).
void MapMerge(MapContext& ctx) {
  for (const std::vector<Segment>& group : Groups(ctx.message(), {"PID"})) {
    const Segment& pid = group.front();
    const Segment* mrg = nullptr;
    for (const Segment& s : group) {
      if (s.id() == "MRG") mrg = &s;
    }
    if (mrg == nullptr) {
      ctx.Fail(Where(pid, 0) + ": A40 needs an MRG segment after each PID");
      return;
    }
    MapPatient(ctx, pid);
    if (ctx.failed()) return;
    const std::string survivor = ctx.patient_url;
    const std::string fallback = SendingFacilitySystem(ctx);
    Value prior;
    for (const Value& id : mrg->Field(1).Repetitions()) {
      if (!id.Component(1).text().empty()) {
        prior = id;
        break;
      }
    }
    if (prior.empty()) {
      ctx.Fail(Where(*mrg, 1) + ": the prior patient identifier list has no identifier");
      return;
    }
    Key old_key = CxKey(ctx, prior, fallback);
    J old = J::Obj();
    J ids = J::Arr();
    for (const Value& id : mrg->Field(1).Repetitions()) ids.Add(Identifier(ctx, id, fallback));
    old.Set("identifier", std::move(ids));
    old.Set("active", J::Bool(false));
    J names = J::Arr();
    for (const Value& n : mrg->Field(7).Repetitions()) names.Add(HumanName(n));
    old.Set("name", std::move(names));
    J link = J::Obj();
    link.Set("other", Reference(survivor));
    link.Set("type", "replaced-by");
    old.Set("link", J::Arr().Add(std::move(link)));
    const std::string old_url = ctx.Add("Patient", std::move(old), old_key);
    if (old_url == survivor) {
      ctx.Fail(Where(*mrg, 1) + ": the prior patient is the surviving patient");
      return;
    }
    J back = J::Obj();
    back.Set("other", Reference(old_url));
    back.Set("type", "replaces");
    if (J* p = ctx.Resource(survivor)) {
      J* links = p->Find("link");
      if (links == nullptr) {
        p->Set("link", J::Arr().Add(std::move(back)));
      } else {
        links->Add(std::move(back));
      }
    }
  }
}

}  // namespace

void MapAdt(MapContext& ctx) {
  const std::string& event = ctx.message().header().trigger_event;
  if (event == "A40") {
    MapMerge(ctx);
    return;
  }
  std::optional<Segment> pid = ctx.message().Find("PID");
  if (!pid) {
    ctx.Fail("PID: the message has no PID segment");
    return;
  }
  MapPatient(ctx, *pid);
  if (ctx.failed()) return;
  // A28 and A31 (add and update person information) carry no visit.
  std::optional<Segment> pv1 = ctx.message().Find("PV1");
  if (pv1 && event != "A28" && event != "A31") {
    std::optional<Segment> pv2 = ctx.message().Find("PV2");
    MapEncounter(ctx, *pv1, pv2 ? &*pv2 : nullptr, EncounterStatus(event));
  }
  for (const Segment& s : ctx.message().segments()) {
    if (ctx.failed()) return;
    if (s.id() == "NK1") MapRelatedPerson(ctx, s);
    if (s.id() == "AL1") MapAllergy(ctx, s);
    if (s.id() == "DG1") MapCondition(ctx, s);
    if (s.id() == "IN1") MapCoverage(ctx, s);
  }
}

}  // namespace vesta::hl7v2::internal
