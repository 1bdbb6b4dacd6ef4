// ORU^R01: the IG's "ORU_R01 to Bundle Map", with "OBR to DiagnosticReport", "OBX to
// Observation" and "SPM to Specimen". Also the OBX and SPM maps the order and immunization
// messages share.
#include "base/strings.h"
#include "hl7v2/map_internal.h"

namespace vesta::hl7v2::internal {
namespace {

// OBX-11 observation result status (table 0085) to Observation.status.
std::string_view ObservationStatus(std::string_view code) {
  static constexpr std::pair<std::string_view, std::string_view> kStatus[] = {
      {"F", "final"},
      {"C", "corrected"},
      {"P", "preliminary"},
      {"R", "preliminary"},
      {"S", "preliminary"},
      {"I", "registered"},
      {"O", "registered"},
      {"X", "cancelled"},
      {"D", "entered-in-error"},
      {"W", "entered-in-error"},
      {"U", "final"},
      {"A", "amended"}};
  for (const auto& [v2, fhir] : kStatus) {
    if (code == v2) return fhir;
  }
  return "unknown";
}

// OBR-25 result status (table 0123) to DiagnosticReport.status.
std::string_view ReportStatus(std::string_view code) {
  static constexpr std::pair<std::string_view, std::string_view> kStatus[] = {
      {"O", "registered"},  {"I", "registered"},  {"S", "registered"}, {"A", "partial"},
      {"P", "preliminary"}, {"R", "preliminary"}, {"F", "final"},      {"C", "corrected"},
      {"M", "amended"},     {"X", "cancelled"},   {"Z", "unknown"}};
  for (const auto& [v2, fhir] : kStatus) {
    if (code == v2) return fhir;
  }
  return "unknown";
}

// OBX-7 reference range: "70-105", "70_105", "<5", ">=10", "3.5 - 5.0".
J ReferenceRange(const MapContext& ctx, std::string_view text, const Value& units) {
  text = Trim(text);
  if (text.empty()) return J();
  J range = J::Obj();
  auto quantity = [&](std::string_view v) { return Quantity(ctx, Trim(v), units); };
  if (text[0] == '<' || text[0] == '>') {
    bool below = text[0] == '<';
    std::string_view v = text.substr(1);
    if (!v.empty() && v[0] == '=') v.remove_prefix(1);
    J q = quantity(v);
    if (!q.empty()) {
      range.Set(below ? "high" : "low", std::move(q));
      range.Set("text", text);
      return range;
    }
  } else {
    size_t sep = text.find_first_of("-_", 1);
    if (sep != std::string_view::npos) {
      J low = quantity(text.substr(0, sep));
      J high = quantity(text.substr(sep + 1));
      if (!low.empty() && !high.empty()) {
        range.Set("low", std::move(low));
        range.Set("high", std::move(high));
        return range;
      }
    }
  }
  range.Set("text", text);
  return range;
}

// OBX-5 by OBX-2 (value type, table 0125) to Observation.value[x]. The first repetition is the
// value, except for text types, whose repetitions are joined with line breaks.
void SetValue(const MapContext& ctx, const Segment& obx, J& o) {
  const std::string type = Upper(obx.Field(2).text());
  const Value value = obx.Field(5);
  if (value.empty() || value.is_null()) return;
  const Value first = value.Repetition(1);
  if (type == "NM") {
    J q = Quantity(ctx, first.text(), obx.Field(6));
    if (!q.empty()) {
      o.Set("valueQuantity", std::move(q));
      return;
    }
  } else if (type == "CE" || type == "CWE" || type == "CNE" || type == "CF") {
    o.Set("valueCodeableConcept", CodeableConcept(ctx, first));
    return;
  } else if (type == "SN") {
    // SN: comparator ^ number ^ separator/suffix ^ number.
    std::string comparator(Trim(first.Component(1).text()));
    std::string n1 = first.Component(2).text();
    std::string sep = first.Component(3).text();
    std::string n2 = first.Component(4).text();
    if (sep.empty() && n2.empty()) {
      J q = Quantity(ctx, n1, obx.Field(6));
      if (!q.empty() && (comparator.empty() || comparator == "=" || comparator == "<" ||
                         comparator == ">" || comparator == "<=" || comparator == ">=")) {
        if (comparator != "=") {
          J with = J::Obj();
          with.Set("value", *q.Find("value"));
          with.Set("comparator", comparator);
          for (const auto& [k, v] : q.members()) with.Set(k, v);
          q = std::move(with);
        }
        o.Set("valueQuantity", std::move(q));
        return;
      }
    } else if (sep == "-" && comparator.empty()) {
      J low = Quantity(ctx, n1, obx.Field(6));
      J high = Quantity(ctx, n2, obx.Field(6));
      if (!low.empty() && !high.empty()) {
        J range = J::Obj();
        range.Set("low", std::move(low));
        range.Set("high", std::move(high));
        o.Set("valueRange", std::move(range));
        return;
      }
    } else if ((sep == ":" || sep == "/") && comparator.empty()) {
      J num = Quantity(ctx, n1, Value());
      J den = Quantity(ctx, n2, Value());
      if (!num.empty() && !den.empty()) {
        J ratio = J::Obj();
        ratio.Set("numerator", std::move(num));
        ratio.Set("denominator", std::move(den));
        o.Set("valueRatio", std::move(ratio));
        return;
      }
    }
    // Anything else ("2+", "<>5") as written.
    std::string text = comparator + n1 + sep + n2;
    o.Set("valueString", text);
    return;
  } else if (type == "DT" || type == "TS" || type == "DTM") {
    std::string dt = DateTime(ctx, first.text());
    if (!dt.empty()) {
      o.Set("valueDateTime", dt);
      return;
    }
  } else if (type == "TM") {
    std::string tm = Time(first.text());
    if (!tm.empty()) {
      o.Set("valueTime", tm);
      return;
    }
  } else if (type == "ST" || type == "TX" || type == "FT") {
    o.Set("valueString", JoinedText(value));
    return;
  }
  // Other types (CX, XCN, XAD, NA, ...) and values their type does not parse: the text as sent.
  std::string text;
  for (const Value& rep : value.Repetitions()) {
    std::string part;
    for (int c = 1; c <= rep.component_count(); ++c) {
      std::string piece = rep.Component(c).text();
      if (!piece.empty()) part += (part.empty() ? "" : " ") + piece;
    }
    if (!part.empty()) text += (text.empty() ? "" : "\n") + part;
  }
  o.Set("valueString", text);
}

}  // namespace

std::string MapObservation(MapContext& ctx, const Segment& obx, const std::vector<Segment>& nte,
                           const Key& parent_key, std::string_view default_time,
                           J* presented_form) {
  const std::string type = Upper(obx.Field(2).text());
  if ((type == "ED" || type == "RP") && presented_form != nullptr) {
    // R4 Observation.value[x] has no Attachment: a document result (ED) becomes the report's
    // presentedForm.
    if (type == "ED") {
      J a = EdAttachment(obx.Field(5));
      a.Set("title", obx.Field(3).Component(2).text());
      presented_form->Add(std::move(a));
    }
    return "";
  }
  J o = J::Obj();
  J code = CodeableConcept(ctx, obx.Field(3));
  if (code.empty()) {
    ctx.Fail(Where(obx, 3) + ": the observation identifier is required");
    return "";
  }
  Key key;
  if (!parent_key.empty()) {
    // Results of a report the message identifies: keyed by the report, OBX-3 and OBX-4, so that
    // a corrected result replaces the one it corrects.
    key = DerivedKey(ctx, "OBX",
                     {parent_key.system, parent_key.value, obx.Field(3).Component(1).raw(),
                      obx.Field(4).raw(), obx.Field(1).raw()});
    J id = J::Obj();
    id.Set("system", key.system);
    id.Set("value", key.value);
    o.Set("identifier", J::Arr().Add(std::move(id)));
  }
  o.Set("status", ObservationStatus(Upper(obx.Field(11).text())));
  o.Set("code", std::move(code));
  o.Set("subject", Reference(ctx.patient_url));
  if (!ctx.encounter_url.empty()) o.Set("encounter", Reference(ctx.encounter_url));
  std::string effective = DateTime(ctx, obx.Field(14).text());
  if (effective.empty()) effective = std::string(default_time);
  o.Set("effectiveDateTime", effective);
  o.Set("issued", Instant(ctx, obx.Field(19).text()));  // OBX-19 date/time of the analysis
  J performers = J::Arr();
  for (const Value& xcn : obx.Field(16).Repetitions()) {
    performers.Add(PractitionerReference(ctx, xcn));
  }
  o.Set("performer", std::move(performers));
  SetValue(ctx, obx, o);
  // OBX-8 abnormal flags (table 0078): the same codes as v3 ObservationInterpretation.
  J interpretation = J::Arr();
  for (const Value& flag : obx.Field(8).Repetitions()) {
    interpretation.Add(CodeableConcept(ctx, flag, "HL70078"));
  }
  for (J& i : interpretation.items()) {
    J* codings = i.Find("coding");
    if (codings == nullptr) continue;
    for (J& c : codings->items()) {
      J* system = c.Find("system");
      if (system != nullptr && system->text() == "http://terminology.hl7.org/CodeSystem/v2-0078") {
        c.Set("system", "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation");
      }
    }
  }
  o.Set("interpretation", std::move(interpretation));
  J notes = J::Arr();
  for (const Segment& n : nte) {
    std::string text = JoinedText(n.Field(3));
    if (text.empty()) continue;
    J note = J::Obj();
    note.Set("text", text);
    notes.Add(std::move(note));
  }
  o.Set("note", std::move(notes));
  o.Set("method", CodeableConcept(ctx, obx.Field(17)));
  o.Set("referenceRange", J::Arr().Add(ReferenceRange(ctx, obx.Field(7).text(), obx.Field(6))));
  return ctx.Add("Observation", std::move(o), key);
}

std::string MapSpecimen(MapContext& ctx, const Segment& spm, const Key& parent_key) {
  J s = J::Obj();
  // SPM-2 specimen id (EIP: placer ^ filler, each an EI in subcomponents).
  J ids = J::Arr();
  Key key;
  for (int c : {1, 2}) {
    Value part = spm.Field(2).Component(c);
    Key k;
    k.value = std::string(Trim(part.Subcomponent(1).text()));
    if (k.value.empty()) continue;
    k.system = HdSystem(ctx, part.Subcomponent(2).text(), part.Subcomponent(3).text(),
                        part.Subcomponent(4).text());
    if (k.system.empty()) k.system = SendingFacilitySystem(ctx);
    J id = J::Obj();
    id.Set("type",
           Concept("http://terminology.hl7.org/CodeSystem/v2-0203", c == 1 ? "PLAC" : "FILL"));
    id.Set("system", k.system);
    id.Set("value", k.value);
    ids.Add(std::move(id));
    if (key.empty()) key = k;
  }
  if (key.empty()) {
    key = DerivedKey(ctx, "SPM",
                     {parent_key.system, parent_key.value, spm.Field(1).raw(), spm.Field(4).raw()});
    J id = J::Obj();
    id.Set("system", key.system);
    id.Set("value", key.value);
    ids.Add(std::move(id));
  }
  s.Set("identifier", std::move(ids));
  s.Set("type", CodeableConcept(ctx, spm.Field(4), "HL70487"));
  s.Set("subject", Reference(ctx.patient_url));
  s.Set("receivedTime", DateTime(ctx, spm.Field(18).text()));
  J collection = J::Obj();
  collection.Set("collectedDateTime", DateTime(ctx, spm.Field(17).Component(1).text()));
  collection.Set("bodySite", CodeableConcept(ctx, spm.Field(8), "HL70163"));
  collection.Set("method", CodeableConcept(ctx, spm.Field(7), "HL70488"));
  s.Set("collection", std::move(collection));
  return ctx.Add("Specimen", std::move(s), key);
}

void MapOru(MapContext& ctx) {
  if (!MapPatientAndVisit(ctx)) return;
  // Each OBR and what follows it up to the next OBR: its OBX (with their NTE) and SPM.
  for (const std::vector<Segment>& group : Groups(ctx.message(), {"OBR", "PID"})) {
    if (ctx.failed()) return;
    const Segment& obr = group.front();
    if (obr.id() != "OBR") continue;
    J r = J::Obj();
    J ids = J::Arr();
    ids.Add(EiIdentifier(ctx, obr.Field(3), "FILL"));
    ids.Add(EiIdentifier(ctx, obr.Field(2), "PLAC"));
    r.Set("identifier", std::move(ids));
    Key key = EiKey(ctx, obr.Field(3));  // the filler order number identifies the report
    if (key.empty()) key = EiKey(ctx, obr.Field(2));
    r.Set("status", ReportStatus(Upper(obr.Field(25).text())));
    r.Set("category", J::Arr().Add(CodeableConcept(ctx, obr.Field(24), "HL70074")));
    J code = CodeableConcept(ctx, obr.Field(4));
    if (code.empty()) {
      ctx.Fail(Where(obr, 4) + ": the universal service identifier is required");
      return;
    }
    r.Set("code", std::move(code));
    r.Set("subject", Reference(ctx.patient_url));
    if (!ctx.encounter_url.empty()) r.Set("encounter", Reference(ctx.encounter_url));
    const std::string effective = DateTime(ctx, obr.Field(7).text());
    r.Set("effectiveDateTime", effective);
    r.Set("issued", Instant(ctx, obr.Field(22).text()));
    J performers = J::Arr();
    performers.Add(PractitionerReference(ctx, obr.Field(32).Component(1)));
    r.Set("resultsInterpreter", std::move(performers));
    J results = J::Arr();
    J specimens = J::Arr();
    J presented = J::Arr();
    std::vector<std::string> observation_urls;
    for (size_t i = 1; i < group.size() && !ctx.failed(); ++i) {
      if (group[i].id() == "OBX") {
        std::vector<Segment> nte;
        for (size_t j = i + 1; j < group.size() && group[j].id() == "NTE"; ++j) {
          nte.push_back(group[j]);
        }
        std::string url = MapObservation(ctx, group[i], nte, key, effective, &presented);
        if (!url.empty()) {
          results.Add(Reference(url));
          observation_urls.push_back(url);
        }
      } else if (group[i].id() == "SPM") {
        specimens.Add(Reference(MapSpecimen(ctx, group[i], key)));
      }
    }
    if (ctx.failed()) return;
    if (!specimens.empty()) {
      for (const std::string& url : observation_urls) {
        if (J* o = ctx.Resource(url)) o->Set("specimen", specimens.items().front());
      }
    }
    r.Set("specimen", std::move(specimens));
    r.Set("result", std::move(results));
    r.Set("presentedForm", std::move(presented));
    ctx.Add("DiagnosticReport", std::move(r), key);
  }
}

}  // namespace vesta::hl7v2::internal
