// UCUM units (https://ucum.org/ucum): a unit code parsed into a factor and powers of base
// dimensions, so that quantities written in different units can be compared. Shared by the
// FHIRPath engine (quantity equality, comparison and arithmetic,
// http://hl7.org/fhirpath/N1/#quantity) and search (https://hl7.org/fhir/R4/search.html#quantity:
// "the server SHOULD ... canonical units").
//
//   std::optional<ucum::Canonical> c = ucum::Canonicalize(5500, "ug");   // {0.0055, "g"}
//   ucum::Canonicalize(5.4, "mg")->value < c->value                      // true: 5.4 mg < 5.5 mg
//
// The atoms listed in ucum.cc are known: UCUM's base units, the metric (SI and cgs) units,
// natural constants, the customary units (international, US survey, British imperial,
// avoirdupois, troy, apothecaries', typesetting), and the arbitrary units ([IU], [arb'U], [CFU],
// ...), each of which is commensurable only with itself. Units on a logarithmic or other
// non-ratio scale ([pH], B, Np, [hp_X], [p'diop], %[slope]) have no conversion and are not known:
// an unknown atom makes the whole unit unknown (nullopt / false), and callers then compare units
// as written. Annotations (`{cells}`) count as 1, as UCUM says.
//
// Thread-safety: everything here is a pure function over constant tables.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace vesta::ucum {

// UCUM's base units: m, g, s, K, rad, C (charge) and cd (luminous intensity); one dimension for
// the international unit, which UCUM makes an arbitrary unit, so that `[IU]/L` never compares
// equal to `/L` or `U/L`; then one dimension for each other arbitrary unit (kArbitraryUnits, in
// the order of ucum.cc's table). The order of the first six is part of the canonical codes stored
// in search indexes: new dimensions go at the end.
enum class Dim { kMeter, kGram, kSecond, kKelvin, kRadian, kInternationalUnit, kCoulomb, kCandela };
inline constexpr int kBaseDims = 8;
inline constexpr int kArbitraryUnits = 32;
inline constexpr int kDims = kBaseDims + kArbitraryUnits;

struct Unit {
  double factor = 1;                 // the size of the unit in base units
  std::array<int, kDims> dims = {};  // the power of each base unit
  // The unit contains Cel or [degF], whose scale has an offset: `factor` is the size of one
  // degree (a temperature difference), not a conversion of temperatures.
  bool has_offset = false;

  int dim(Dim d) const { return dims[static_cast<int>(d)]; }
};

// Parses a UCUM unit code ("mg/dL", "mm[Hg]", "10*3/uL", "{beats}/min", "kg.m-2", "1", "").
// nullopt when the syntax is wrong or an atom is unknown.
std::optional<Unit> ParseUnit(std::string_view code);

// Whether the two units measure the same kind of quantity (same powers of the base units).
bool Commensurable(const Unit& a, const Unit& b);

// The unit's canonical code: its base units and powers, e.g. "g", "m3", "g.m-1.s-2" (a single
// divisor is written `/`: "m/s", "/m3"); "1" for a dimensionless unit. Two commensurable units
// have the same canonical code.
std::string CanonicalCode(const Unit& u);

// A quantity in canonical units.
struct Canonical {
  double value = 0;
  std::string code;  // CanonicalCode of the unit
};

// `value` `code` in canonical units: the value times the unit's factor, rounded to 12
// significant digits so that one quantity written in two units (5.4 mg, 5400 ug) gets one
// canonical value. A temperature in Cel or [degF] alone is converted to kelvin with its offset;
// a compound unit with an offset (`Cel/h`) has no canonical form. nullopt when the unit is not
// one ParseUnit knows or the value does not stay finite.
std::optional<Canonical> Canonicalize(double value, std::string_view code);

}  // namespace vesta::ucum
