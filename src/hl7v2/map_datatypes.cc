// The datatype maps of the HL7 v2-to-FHIR IG (https://build.fhir.org/ig/HL7/v2-to-fhir/,
// "Datatype Maps"): TS/DTM to dateTime, CWE to CodeableConcept, XPN to HumanName, XAD to Address,
// XTN to ContactPoint, CX and EI to Identifier, XCN to Practitioner, PL to Location, and the
// units of OBX-6 to UCUM.
#include <cctype>
#include <cstdio>

#include "base/strings.h"
#include "fhir/ucum.h"
#include "hl7v2/map_internal.h"

namespace vesta::hl7v2::internal {
namespace {

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// "+0215" -> "+02:15"; "" when not a zone.
std::string Zone(std::string_view z) {
  if (z.size() != 5 || (z[0] != '+' && z[0] != '-') || !AllDigits(z.substr(1))) return "";
  return std::string(z.substr(0, 3)) + ":" + std::string(z.substr(3));
}

struct Parts {
  std::string date;  // YYYY, YYYY-MM or YYYY-MM-DD
  std::string time;  // "" or hh:mm:ss(.fff)
  std::string zone;  // "" or +hh:mm
  bool has_time = false;
};

// TS/DTM: YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ] (v2.5.1 §2.A.22, §2.A.75).
bool SplitTs(std::string_view ts, Parts* p) {
  ts = Trim(ts);
  size_t z = ts.find_first_of("+-");
  std::string_view digits = ts.substr(0, z);
  if (z != std::string_view::npos) {
    p->zone = Zone(ts.substr(z));
    if (p->zone.empty()) return false;
  }
  std::string_view frac;
  if (size_t dot = digits.find('.'); dot != std::string_view::npos) {
    frac = digits.substr(dot + 1);
    digits = digits.substr(0, dot);
    if (!frac.empty() && !AllDigits(frac)) return false;
  }
  const size_t n = digits.size();
  if (!AllDigits(digits) || (n != 4 && n != 6 && n != 8 && n != 10 && n != 12 && n != 14)) {
    return false;
  }
  int month = n >= 6 ? std::stoi(std::string(digits.substr(4, 2))) : 1;
  int day = n >= 8 ? std::stoi(std::string(digits.substr(6, 2))) : 1;
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  p->date = std::string(digits.substr(0, 4));
  if (n >= 6) p->date += "-" + std::string(digits.substr(4, 2));
  if (n >= 8) p->date += "-" + std::string(digits.substr(6, 2));
  if (n >= 10) {
    int hh = std::stoi(std::string(digits.substr(8, 2)));
    int mm = n >= 12 ? std::stoi(std::string(digits.substr(10, 2))) : 0;
    int ss = n >= 14 ? std::stoi(std::string(digits.substr(12, 2))) : 0;
    if (hh > 23 || mm > 59 || ss > 59) return false;
    p->has_time = true;
    p->time = std::string(digits.substr(8, 2)) + ":" +
              (n >= 12 ? std::string(digits.substr(10, 2)) : "00") + ":" +
              (n >= 14 ? std::string(digits.substr(12, 2)) : "00");
    if (n >= 14 && !frac.empty()) p->time += "." + std::string(frac);
  }
  return true;
}

}  // namespace

std::string DateTime(const MapContext& ctx, std::string_view ts) {
  Parts p;
  if (!SplitTs(ts, &p)) return "";
  if (!p.has_time) return p.date;
  std::string zone = p.zone.empty() ? ctx.options().default_zone : p.zone;
  // https://hl7.org/fhir/R4/datatypes.html#dateTime: "If hours and minutes are specified, a
  // time zone SHALL be populated".
  if (zone.empty()) return p.date;
  return p.date + "T" + p.time + zone;
}

std::string Date(std::string_view ts) {
  Parts p;
  if (!SplitTs(ts, &p)) return "";
  return p.date;
}

std::string Instant(const MapContext& ctx, std::string_view ts) {
  Parts p;
  if (!SplitTs(ts, &p) || !p.has_time || p.date.size() != 10) return "";
  std::string zone = p.zone.empty() ? ctx.options().default_zone : p.zone;
  if (zone.empty()) return "";
  return p.date + "T" + p.time + zone;
}

std::string Time(std::string_view tm) {
  tm = Trim(tm);
  size_t z = tm.find_first_of("+-");
  std::string_view digits = tm.substr(0, z);
  std::string_view frac;
  if (size_t dot = digits.find('.'); dot != std::string_view::npos) {
    frac = digits.substr(dot + 1);
    digits = digits.substr(0, dot);
  }
  if (!AllDigits(digits) || (digits.size() != 2 && digits.size() != 4 && digits.size() != 6)) {
    return "";
  }
  std::string out = std::string(digits.substr(0, 2)) + ":" +
                    (digits.size() >= 4 ? std::string(digits.substr(2, 2)) : "00") + ":" +
                    (digits.size() >= 6 ? std::string(digits.substr(4, 2)) : "00");
  if (!frac.empty() && AllDigits(frac)) out += "." + std::string(frac);
  return out;
}

std::string Decimal(std::string_view nm) {
  nm = Trim(nm);
  std::string sign;
  if (!nm.empty() && (nm[0] == '+' || nm[0] == '-')) {
    if (nm[0] == '-') sign = "-";
    nm.remove_prefix(1);
  }
  size_t dot = nm.find('.');
  std::string_view whole = nm.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? "" : nm.substr(dot + 1);
  if ((whole.empty() && frac.empty()) || (!whole.empty() && !AllDigits(whole)) ||
      (!frac.empty() && !AllDigits(frac))) {
    return "";
  }
  // JSON numbers have no leading zeros.
  while (whole.size() > 1 && whole[0] == '0') whole.remove_prefix(1);
  std::string out = sign + (whole.empty() ? "0" : std::string(whole));
  if (!frac.empty()) out += "." + std::string(frac);
  return out;
}

std::string CodeSystemUri(const MapContext& ctx, std::string_view name) {
  name = Trim(name);
  if (name.empty()) return "";
  const std::string upper = Upper(name);
  // The IG's coding system names (HL7 table 0396), for the systems FHIR names with a URI.
  static constexpr std::pair<std::string_view, std::string_view> kSystems[] = {
      {"LN", "http://loinc.org"},
      {"LOINC", "http://loinc.org"},
      {"SCT", "http://snomed.info/sct"},
      {"SNOMED", "http://snomed.info/sct"},
      {"SNOMEDCT", "http://snomed.info/sct"},
      {"SCT2", "http://snomed.info/sct"},
      {"SNM", "http://snomed.info/sct"},
      {"SNM3", "http://snomed.info/sct"},
      {"I9", "http://hl7.org/fhir/sid/icd-9-cm"},
      {"I9C", "http://hl7.org/fhir/sid/icd-9-cm"},
      {"I9CM", "http://hl7.org/fhir/sid/icd-9-cm"},
      {"ICD9", "http://hl7.org/fhir/sid/icd-9-cm"},
      {"ICD9CM", "http://hl7.org/fhir/sid/icd-9-cm"},
      {"I10", "http://hl7.org/fhir/sid/icd-10-cm"},
      {"I10C", "http://hl7.org/fhir/sid/icd-10-cm"},
      {"ICD10", "http://hl7.org/fhir/sid/icd-10-cm"},
      {"ICD10CM", "http://hl7.org/fhir/sid/icd-10-cm"},
      {"I10P", "http://www.cms.gov/Medicare/Coding/ICD10"},
      {"CVX", "http://hl7.org/fhir/sid/cvx"},
      {"NDC", "http://hl7.org/fhir/sid/ndc"},
      {"MVX", "http://terminology.hl7.org/CodeSystem/MVX"},
      {"RXNORM", "http://www.nlm.nih.gov/research/umls/rxnorm"},
      {"RXN", "http://www.nlm.nih.gov/research/umls/rxnorm"},
      {"C4", "http://www.ama-assn.org/go/cpt"},
      {"CPT", "http://www.ama-assn.org/go/cpt"},
      {"UCUM", "http://unitsofmeasure.org"},
      {"NCIT", "http://ncimeta.nci.nih.gov"},
      {"CDCPHINVS", "urn:oid:2.16.840.1.114222.4.5.274"},
      {"ISO+", "urn:iso:std:iso:11073:10101"},
  };
  for (const auto& [n, uri] : kSystems) {
    if (upper == n) return std::string(uri);
  }
  // HL7nnnn, HL7-defined tables (HL7 table 0396: "HL7nnnn ... HL7 Defined Codes where nnnn is
  // the HL7 table number"), and the user-defined ones (99xxx are local).
  if (upper.size() == 7 && upper.rfind("HL7", 0) == 0 && AllDigits(upper.substr(3))) {
    return "http://terminology.hl7.org/CodeSystem/v2-" + upper.substr(3);
  }
  if (name.rfind("urn:", 0) == 0 || name.rfind("http://", 0) == 0 ||
      name.rfind("https://", 0) == 0) {
    return std::string(name);
  }
  return ctx.options().system_base + "coding-system/" + PercentEncode(name);
}

std::string HdSystem(const MapContext& ctx, std::string_view namespace_id,
                     std::string_view universal_id, std::string_view universal_id_type) {
  universal_id = Trim(universal_id);
  namespace_id = Trim(namespace_id);
  if (!universal_id.empty()) {
    const std::string type = Upper(universal_id_type);
    bool oid = !universal_id.empty();
    for (char c : universal_id)
      oid = oid && (std::isdigit(static_cast<unsigned char>(c)) || c == '.');
    if (oid && (type == "ISO" || type.empty())) return "urn:oid:" + std::string(universal_id);
    if (type == "UUID" || type == "GUID") return "urn:uuid:" + Lower(universal_id);
    if ((type == "URI" || type == "URL") && universal_id.find(' ') == std::string_view::npos) {
      return std::string(universal_id);
    }
  }
  if (!namespace_id.empty()) {
    return ctx.options().system_base + "assigning-authority/" + PercentEncode(namespace_id);
  }
  if (!universal_id.empty()) {
    return ctx.options().system_base + "assigning-authority/" + PercentEncode(universal_id);
  }
  return "";
}

std::string SendingFacilitySystem(const MapContext& ctx) {
  const HierarchicDesignator& f = ctx.message().header().sending_facility;
  return HdSystem(ctx, f.namespace_id, f.universal_id, f.universal_id_type);
}

J Coding(const MapContext& ctx, const Value& cwe, std::string_view default_system) {
  std::string code(Trim(cwe.Component(1).text()));
  if (code.empty()) return J();
  J c = J::Obj();
  std::string system = CodeSystemUri(ctx, cwe.Component(3).text());
  if (system.empty()) system = CodeSystemUri(ctx, default_system);
  c.Set("system", system);
  c.Set("version", cwe.Component(7).text());
  c.Set("code", code);
  c.Set("display", cwe.Component(2).text());
  return c;
}

J CodeableConcept(const MapContext& ctx, const Value& cwe, std::string_view default_system) {
  if (cwe.empty() || cwe.is_null()) return J();
  J cc = J::Obj();
  J codings = J::Arr();
  codings.Add(Coding(ctx, cwe, default_system));
  // CWE-4..6: the alternate identifier, text and coding system; CWE-8 its version.
  std::string alt(Trim(cwe.Component(4).text()));
  if (!alt.empty()) {
    J c = J::Obj();
    c.Set("system", CodeSystemUri(ctx, cwe.Component(6).text()));
    c.Set("version", cwe.Component(8).text());
    c.Set("code", alt);
    c.Set("display", cwe.Component(5).text());
    codings.Add(std::move(c));
  }
  cc.Set("coding", std::move(codings));
  std::string text = cwe.Component(9).text();
  // A CWE with text and no code (only CWE-2): the text is what was sent.
  if (text.empty() && cwe.Component(1).text().empty()) text = cwe.Component(2).text();
  cc.Set("text", text);
  return cc;
}

J Concept(std::string_view system, std::string_view code, std::string_view display) {
  if (code.empty()) return J();
  J c = J::Obj();
  c.Set("system", system);
  c.Set("code", code);
  c.Set("display", display);
  J cc = J::Obj();
  cc.Set("coding", J::Arr().Add(std::move(c)));
  return cc;
}

J HumanName(const Value& xpn) {
  if (xpn.empty() || xpn.is_null()) return J();
  J name = J::Obj();
  // XPN-7 name type (HL7 table 0200) to name-use.
  std::string type = Upper(xpn.Component(7).text());
  static constexpr std::pair<std::string_view, std::string_view> kUse[] = {
      {"L", "official"},  {"D", "usual"}, {"M", "maiden"}, {"N", "nickname"}, {"A", "usual"},
      {"S", "anonymous"}, {"T", "temp"},  {"C", "old"},    {"BAD", "old"},    {"U", "usual"}};
  for (const auto& [t, use] : kUse) {
    if (type == t) name.Set("use", use);
  }
  name.Set("family", xpn.Component(1).text());  // FN.1 surname
  J given = J::Arr();
  given.Add(J::Str(xpn.Component(2).text()));
  // XPN-3: "second and further given names or initials thereof", space separated.
  const std::string further = xpn.Component(3).text();
  for (std::string_view g : Split(further, ' ')) given.Add(J::Str(Trim(g)));
  name.Set("given", std::move(given));
  name.Set("prefix", J::Arr().Add(J::Str(xpn.Component(5).text())));
  J suffix = J::Arr();
  suffix.Add(J::Str(xpn.Component(4).text()));
  suffix.Add(J::Str(xpn.Component(6).text()));  // XPN-6 degree
  name.Set("suffix", std::move(suffix));
  return name;
}

J Address(const Value& xad) {
  if (xad.empty() || xad.is_null()) return J();
  J a = J::Obj();
  std::string type = Upper(xad.Component(7).text());
  // XAD-7 address type (HL7 table 0190).
  if (type == "H" || type == "P") a.Set("use", "home");
  if (type == "B" || type == "O") a.Set("use", "work");
  if (type == "C") a.Set("use", "temp");
  if (type == "BA" || type == "BDL") a.Set("use", "old");
  if (type == "M") a.Set("type", "postal");
  if (type == "SH") a.Set("type", "physical");
  J line = J::Arr();
  line.Add(J::Str(xad.Component(1).text()));  // SAD.1 street or mailing address
  line.Add(J::Str(xad.Component(2).text()));
  a.Set("line", std::move(line));
  a.Set("city", xad.Component(3).text());
  a.Set("state", xad.Component(4).text());
  a.Set("postalCode", xad.Component(5).text());
  a.Set("country", xad.Component(6).text());
  a.Set("district", xad.Component(9).text());
  return a;
}

J ContactPoint(const Value& xtn, std::string_view use) {
  if (xtn.empty() || xtn.is_null()) return J();
  J c = J::Obj();
  const std::string equipment = Upper(xtn.Component(3).text());  // table 0202
  const std::string purpose = Upper(xtn.Component(2).text());    // table 0201
  std::string value;
  if (equipment == "INTERNET" || equipment == "X.400") {
    value = xtn.Component(4).text();
    c.Set("system", "email");
  } else {
    std::string country = xtn.Component(5).text();
    std::string area = xtn.Component(6).text();
    std::string local = xtn.Component(7).text();
    if (!local.empty()) {
      if (!country.empty()) value = "+" + country + " ";
      if (!area.empty()) value += "(" + area + ") ";
      value += local;
      if (std::string ext = xtn.Component(8).text(); !ext.empty()) value += " ext. " + ext;
    } else {
      value = xtn.Component(1).text();  // XTN-1, the unformatted number (before v2.7)
    }
    if (equipment == "FX") {
      c.Set("system", "fax");
    } else if (equipment == "BP") {
      c.Set("system", "pager");
    } else if (equipment == "URL" || equipment == "URI") {
      c.Set("system", "url");
    } else if (!value.empty()) {
      c.Set("system", "phone");
    }
  }
  if (value.empty()) return J();
  c.Set("value", value);
  if (equipment == "CP" || purpose == "PRS") {
    c.Set("use", "mobile");
  } else if (purpose == "PRN" || purpose == "ORN" || purpose == "VHN") {
    c.Set("use", "home");
  } else if (purpose == "WPN") {
    c.Set("use", "work");
  } else if (!use.empty()) {
    c.Set("use", use);
  }
  return c;
}

Key CxKey(const MapContext& ctx, const Value& cx, std::string_view fallback_system) {
  Key k;
  k.value = std::string(Trim(cx.Component(1).text()));
  if (k.value.empty()) return {};
  Value hd = cx.Component(4);
  k.system = HdSystem(ctx, hd.Subcomponent(1).text(), hd.Subcomponent(2).text(),
                      hd.Subcomponent(3).text());
  if (k.system.empty()) {
    // CX-9 / CX-10, the assigning jurisdiction and agency (v2.5 on).
    Value j = cx.Component(10);
    k.system = HdSystem(ctx, "", j.Subcomponent(1).text(), j.Subcomponent(3).text());
  }
  if (k.system.empty()) k.system = std::string(fallback_system);
  return k;
}

J Identifier(const MapContext& ctx, const Value& cx, std::string_view fallback_system) {
  Key k = CxKey(ctx, cx, fallback_system);
  if (k.empty()) return J();
  J id = J::Obj();
  std::string type(Trim(cx.Component(5).text()));
  id.Set("type", Concept("http://terminology.hl7.org/CodeSystem/v2-0203", type));
  id.Set("system", k.system);
  id.Set("value", k.value);
  J period = J::Obj();
  period.Set("start", Date(cx.Component(7).text()));
  period.Set("end", Date(cx.Component(8).text()));
  id.Set("period", std::move(period));
  return id;
}

Key EiKey(const MapContext& ctx, const Value& ei) {
  Key k;
  k.value = std::string(Trim(ei.Component(1).text()));
  if (k.value.empty()) return {};
  k.system = HdSystem(ctx, ei.Component(2).text(), ei.Component(3).text(), ei.Component(4).text());
  if (k.system.empty()) k.system = SendingFacilitySystem(ctx);
  return k;
}

J EiIdentifier(const MapContext& ctx, const Value& ei, std::string_view type) {
  Key k = EiKey(ctx, ei);
  if (k.empty()) return J();
  J id = J::Obj();
  id.Set("type", Concept("http://terminology.hl7.org/CodeSystem/v2-0203", type));
  id.Set("system", k.system);
  id.Set("value", k.value);
  return id;
}

J Reference(std::string_view url) {
  J r = J::Obj();
  r.Set("reference", url);
  return r;
}

J PractitionerReference(MapContext& ctx, const Value& xcn) {
  if (xcn.empty() || xcn.is_null()) return J();
  // The name is XCN-2 to XCN-7 and XCN-21 (degree); as an XPN it starts one component later.
  J name = J::Obj();
  name.Set("family", xcn.Component(2).text());
  J given = J::Arr();
  given.Add(J::Str(xcn.Component(3).text()));
  const std::string further = xcn.Component(4).text();
  for (std::string_view g : Split(further, ' ')) given.Add(J::Str(Trim(g)));
  name.Set("given", std::move(given));
  name.Set("prefix", J::Arr().Add(J::Str(xcn.Component(6).text())));
  J suffix = J::Arr();
  suffix.Add(J::Str(xcn.Component(5).text()));
  suffix.Add(J::Str(xcn.Component(7).text()));
  name.Set("suffix", std::move(suffix));
  std::string display;
  for (int c : {6, 3, 4, 2, 5, 7}) {
    std::string part = xcn.Component(c).text();
    if (!part.empty()) display += (display.empty() ? "" : " ") + part;
  }
  Key key;
  key.value = std::string(Trim(xcn.Component(1).text()));
  if (key.empty()) {
    if (display.empty()) return J();
    J r = J::Obj();
    r.Set("display", display);
    return r;
  }
  Value hd = xcn.Component(9);
  key.system = HdSystem(ctx, hd.Subcomponent(1).text(), hd.Subcomponent(2).text(),
                        hd.Subcomponent(3).text());
  if (key.system.empty()) key.system = SendingFacilitySystem(ctx);
  J p = J::Obj();
  J id = J::Obj();
  id.Set("type", Concept("http://terminology.hl7.org/CodeSystem/v2-0203",
                         std::string(Trim(xcn.Component(13).text()))));
  id.Set("system", key.system);
  id.Set("value", key.value);
  p.Set("identifier", J::Arr().Add(std::move(id)));
  p.Set("name", J::Arr().Add(std::move(name)));
  J r = Reference(ctx.Add("Practitioner", std::move(p), key));
  r.Set("display", display);
  return r;
}

J LocationReference(MapContext& ctx, const Value& pl) {
  if (pl.empty() || pl.is_null()) return J();
  // PL-4 facility, PL-1 point of care, PL-2 room, PL-3 bed (and PL-7 building, PL-8 floor).
  std::string name;
  for (int c : {4, 7, 8, 1, 2, 3}) {
    std::string part(Trim(pl.Component(c).text()));
    if (!part.empty()) name += (name.empty() ? "" : " / ") + part;
  }
  if (name.empty()) return J();
  J loc = J::Obj();
  Key key{ctx.options().system_base + "location", name};
  J id = J::Obj();
  id.Set("system", key.system);
  id.Set("value", key.value);
  loc.Set("identifier", J::Arr().Add(std::move(id)));
  loc.Set("name", name);
  loc.Set("description", pl.Component(9).text());
  // PL-6 person location type (table 0305): the physical type of the smallest part named.
  std::string_view physical = !pl.Component(3).text().empty()   ? "bd"
                              : !pl.Component(2).text().empty() ? "ro"
                              : !pl.Component(1).text().empty() ? "wa"
                                                                : "si";
  loc.Set("physicalType",
          Concept("http://terminology.hl7.org/CodeSystem/location-physical-type", physical));
  J r = Reference(ctx.Add("Location", std::move(loc), key));
  r.Set("display", name);
  return r;
}

namespace {
// Units senders write that are not UCUM codes, with the UCUM code for each.
std::string UcumSynonym(std::string_view unit) {
  static constexpr std::pair<std::string_view, std::string_view> kSynonyms[] = {
      {"beats/min", "/min"},
      {"bpm", "/min"},
      {"breaths/min", "/min"},
      {"/minute", "/min"},
      {"lbs", "[lb_av]"},
      {"lb", "[lb_av]"},
      {"in", "[in_i]"},
      {"inch", "[in_i]"},
      {"inches", "[in_i]"},
      {"degf", "[degF]"},
      {"deg f", "[degF]"},
      {"f", "[degF]"},
      {"degc", "Cel"},
      {"deg c", "Cel"},
      {"c", "Cel"},
      {"mmhg", "mm[Hg]"},
      {"meq/l", "meq/L"},
      {"iu/l", "[IU]/L"},
      {"iu/ml", "[IU]/mL"},
      {"k/ul", "10*3/uL"},
      {"k/mm3", "10*3/uL"},
      {"m/ul", "10*6/uL"},
      {"x10e3/ul", "10*3/uL"},
      {"x10e6/ul", "10*6/uL"},
      {"sec", "s"},
      {"secs", "s"},
      {"mins", "min"},
      {"hr", "h"},
      {"hrs", "h"},
      {"yrs", "a"},
      {"years", "a"},
      {"months", "mo"},
      {"days", "d"},
      {"percent", "%"},
      {"mg/dl", "mg/dL"},
      {"g/dl", "g/dL"},
      {"mmol/l", "mmol/L"},
      {"ml", "mL"},
      {"dl", "dL"},
  };
  const std::string lower = Lower(unit);
  for (const auto& [s, ucum] : kSynonyms) {
    if (lower == s) return std::string(ucum);
  }
  return "";
}
}  // namespace

J Quantity(const MapContext& ctx, std::string_view value, const Value& units) {
  std::string number = Decimal(value);
  if (number.empty()) return J();
  J q = J::Obj();
  q.Set("value", J::Num(number));
  std::string code(Trim(units.Component(1).text()));
  std::string text = units.Component(2).text();
  std::string system = Upper(units.Component(3).text());
  q.Set("unit", text.empty() ? code : text);
  if (code.empty()) return q;
  std::string ucum;
  if (system == "UCUM" || system == "ANSI+" || system == "ISO+" || system == "ISO" ||
      system.empty()) {
    ucum = UcumSynonym(code);
    if (ucum.empty() && ucum::ParseUnit(code).has_value()) ucum = code;
  }
  if (!ucum.empty()) {
    q.Set("system", "http://unitsofmeasure.org");
    q.Set("code", ucum);
  } else if (!system.empty()) {
    q.Set("system", CodeSystemUri(ctx, units.Component(3).text()));
    q.Set("code", code);
  }
  return q;
}

Key DerivedKey(const MapContext& ctx, std::string_view type,
               const std::vector<std::string_view>& parts) {
  std::string text = ctx.patient_key.system + "|" + ctx.patient_key.value + "|" + std::string(type);
  for (std::string_view p : parts) text += "|" + std::string(p);
  // 64-bit FNV-1a, twice with different offsets, as 32 hex digits.
  uint64_t a = 14695981039346656037ULL, b = 0x84222325cbf29ce4ULL;
  for (unsigned char c : text) {
    a = (a ^ c) * 1099511628211ULL;
    b = (b ^ c) * 1099511628211ULL;
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(a),
                static_cast<unsigned long long>(b));
  return Key{ctx.options().system_base + "key", buf};
}

std::string JoinedText(const Value& field) {
  std::string out;
  bool first = true;
  for (const Value& r : field.Repetitions()) {
    if (!first) out += "\n";
    first = false;
    out += r.text();
  }
  return out;
}

J EdAttachment(const Value& ed) {
  J a = J::Obj();
  std::string type = Lower(ed.Component(2).text());     // table 0191: AP, IM, TEXT, ...
  std::string subtype = Lower(ed.Component(3).text());  // PDF, JPEG, ...
  std::string content_type;
  if (subtype.find('/') != std::string::npos) {
    content_type = subtype;
  } else if (type == "ap" || type == "application") {
    content_type = "application/" + (subtype.empty() ? "octet-stream" : subtype);
  } else if (type == "im" || type == "image") {
    content_type = "image/" + (subtype.empty() ? "octet-stream" : subtype);
  } else if (type == "text" || type == "tx") {
    content_type = "text/" + (subtype.empty() ? "plain" : subtype);
  } else {
    content_type = "application/octet-stream";
  }
  a.Set("contentType", content_type);
  std::string encoding = Upper(ed.Component(4).text());
  std::string data = ed.Component(5).text();
  if (encoding == "BASE64") {
    std::string compact;
    for (char c : data) {
      if (!std::isspace(static_cast<unsigned char>(c))) compact += c;
    }
    if (Base64Decode(compact)) a.Set("data", compact);
  } else if (!data.empty()) {
    a.Set("data", Base64Encode(data));
  }
  return a;
}

}  // namespace vesta::hl7v2::internal
