// UCUM (https://ucum.org/ucum): the grammar of unit terms (§2 "Syntax Rules": operators `.` and
// `/` read left to right, parentheses, exponents after a unit, `10*n`, annotations in braces)
// and the atoms below, each defined by its size in base units.
#include "fhir/ucum.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <unordered_map>

namespace vesta::ucum {
namespace {

struct Atom {
  const char* code;
  double factor;  // in base units m, g, s, K, rad, [IU], C, cd
  std::array<int, kBaseDims> dims;
  bool metric;          // accepts a prefix (UCUM's "metric" flag)
  bool offset = false;  // a temperature scale with an offset (Cel, [degF])
};

constexpr double kAvogadro = 6.02214076e23;  // mol is a dimensionless number in UCUM
constexpr double kPi = 3.141592653589793;
constexpr double kGravity = 9.80665;     // [g], standard acceleration of free fall (m/s2)
constexpr double kInI = 0.0254;          // [in_i]
constexpr double kFtI = 0.3048;          // [ft_i]
constexpr double kFtUs = 1200.0 / 3937;  // [ft_us], the US survey foot
constexpr double kInBr = 0.02539998;     // [in_br]
constexpr double kGalUs = 231 * kInI * kInI * kInI;     // [gal_us] = 231 [cin_i]
constexpr double kGalBr = 4.54609e-3;                   // [gal_br] = 4.54609 l
constexpr double kBuUs = 2150.42 * kInI * kInI * kInI;  // [bu_us] = 2150.42 [cin_i]
constexpr double kGr = 0.06479891;                      // [gr] = 64.79891 mg
constexpr double kLbAv = 7000 * kGr;                    // [lb_av] = 7000 [gr]

// Units are g-based (UCUM's base unit of mass is the gram): N = kg.m/s2 = 1000 g.m.s-2.
const Atom kAtoms[] = {
    {"m", 1, {1, 0, 0, 0, 0, 0}, true},
    {"g", 1, {0, 1, 0, 0, 0, 0}, true},
    {"s", 1, {0, 0, 1, 0, 0, 0}, true},
    {"K", 1, {0, 0, 0, 1, 0, 0}, true},
    {"rad", 1, {0, 0, 0, 0, 1, 0}, true},
    {"mol", kAvogadro, {0, 0, 0, 0, 0, 0}, true},
    {"eq", kAvogadro, {0, 0, 0, 0, 0, 0}, true},
    {"osm", kAvogadro, {0, 0, 0, 0, 0, 0}, true},
    {"kat", kAvogadro, {0, 0, -1, 0, 0, 0}, true},
    {"U", 1e-6 * kAvogadro / 60, {0, 0, -1, 0, 0, 0}, true},  // umol/min
    {"L", 1e-3, {3, 0, 0, 0, 0, 0}, true},
    {"l", 1e-3, {3, 0, 0, 0, 0, 0}, true},
    {"t", 1e6, {0, 1, 0, 0, 0, 0}, true},
    {"min", 60, {0, 0, 1, 0, 0, 0}, false},
    {"h", 3600, {0, 0, 1, 0, 0, 0}, false},
    {"d", 86400, {0, 0, 1, 0, 0, 0}, false},
    {"wk", 604800, {0, 0, 1, 0, 0, 0}, false},
    {"mo", 2629800, {0, 0, 1, 0, 0, 0}, false},
    {"a", 31557600, {0, 0, 1, 0, 0, 0}, false},
    {"[in_i]", 0.0254, {1, 0, 0, 0, 0, 0}, false},
    {"[ft_i]", 0.3048, {1, 0, 0, 0, 0, 0}, false},
    {"[yd_i]", 0.9144, {1, 0, 0, 0, 0, 0}, false},
    {"[mi_i]", 1609.344, {1, 0, 0, 0, 0, 0}, false},
    {"[lb_av]", 453.59237, {0, 1, 0, 0, 0, 0}, false},
    {"[oz_av]", 28.349523125, {0, 1, 0, 0, 0, 0}, false},
    {"[gal_us]", 3.785411784e-3, {3, 0, 0, 0, 0, 0}, false},
    {"[foz_us]", 2.95735295625e-5, {3, 0, 0, 0, 0, 0}, false},
    {"Cel", 1, {0, 0, 0, 1, 0, 0}, false, true},
    {"[degF]", 5.0 / 9.0, {0, 0, 0, 1, 0, 0}, false, true},
    {"%", 0.01, {0, 0, 0, 0, 0, 0}, false},
    {"[ppth]", 1e-3, {0, 0, 0, 0, 0, 0}, false},
    {"[ppm]", 1e-6, {0, 0, 0, 0, 0, 0}, false},
    {"[ppb]", 1e-9, {0, 0, 0, 0, 0, 0}, false},
    {"Hz", 1, {0, 0, -1, 0, 0, 0}, true},
    {"N", 1000, {1, 1, -2, 0, 0, 0}, true},
    {"Pa", 1000, {-1, 1, -2, 0, 0, 0}, true},
    {"bar", 1e8, {-1, 1, -2, 0, 0, 0}, true},
    {"J", 1000, {2, 1, -2, 0, 0, 0}, true},
    {"cal", 4184, {2, 1, -2, 0, 0, 0}, true},
    {"W", 1000, {2, 1, -3, 0, 0, 0}, true},
    {"m[Hg]", 133322000, {-1, 1, -2, 0, 0, 0}, true},
    {"m[H2O]", 9806650, {-1, 1, -2, 0, 0, 0}, true},
    {"[iU]", 1, {0, 0, 0, 0, 0, 1}, true},
    {"[IU]", 1, {0, 0, 0, 0, 0, 1}, true},
    {"deg", 0.017453292519943295, {0, 0, 0, 0, 1, 0}, false},
    {"[pi]", 3.141592653589793, {0, 0, 0, 0, 0, 0}, false},
    // Electricity, light, radiation: C (charge) and cd (luminous intensity) are base units.
    {"C", 1, {0, 0, 0, 0, 0, 0, 1, 0}, true},
    {"cd", 1, {0, 0, 0, 0, 0, 0, 0, 1}, true},
    {"sr", 1, {0, 0, 0, 0, 2, 0}, true},
    {"A", 1, {0, 0, -1, 0, 0, 0, 1, 0}, true},
    {"V", 1000, {2, 1, -2, 0, 0, 0, -1, 0}, true},
    {"F", 1e-3, {-2, -1, 2, 0, 0, 0, 2, 0}, true},
    {"Ohm", 1000, {2, 1, -1, 0, 0, 0, -2, 0}, true},
    {"S", 1e-3, {-2, -1, 1, 0, 0, 0, 2, 0}, true},
    {"mho", 1e-3, {-2, -1, 1, 0, 0, 0, 2, 0}, true},
    {"Wb", 1000, {2, 1, -1, 0, 0, 0, -1, 0}, true},
    {"T", 1000, {0, 1, -1, 0, 0, 0, -1, 0}, true},
    {"H", 1000, {2, 1, 0, 0, 0, 0, -2, 0}, true},
    {"lm", 1, {0, 0, 0, 0, 2, 0, 0, 1}, true},
    {"lx", 1, {-2, 0, 0, 0, 2, 0, 0, 1}, true},
    {"Bq", 1, {0, 0, -1, 0, 0, 0}, true},
    {"Gy", 1, {2, 0, -2, 0, 0, 0}, true},
    {"Sv", 1, {2, 0, -2, 0, 0, 0}, true},
    {"Ci", 3.7e10, {0, 0, -1, 0, 0, 0}, true},
    {"R", 2.58e-7, {0, -1, 0, 0, 0, 0, 1, 0}, true},
    {"RAD", 0.01, {2, 0, -2, 0, 0, 0}, true},
    {"REM", 0.01, {2, 0, -2, 0, 0, 0}, true},
    {"Bi", 10, {0, 0, -1, 0, 0, 0, 1, 0}, true},
    {"Mx", 1e-5, {2, 1, -1, 0, 0, 0, -1, 0}, true},
    {"G", 0.1, {0, 1, -1, 0, 0, 0, -1, 0}, true},
    {"Oe", 250 / kPi, {-1, 0, -1, 0, 0, 0, 1, 0}, true},
    {"Gb", 2.5 / kPi, {0, 0, -1, 0, 0, 0, 1, 0}, true},
    {"sb", 1e4, {-2, 0, 0, 0, 0, 0, 0, 1}, true},
    {"Lmb", 1e4 / kPi, {-2, 0, 0, 0, 0, 0, 0, 1}, true},
    {"ph", 1e-4, {-2, 0, 0, 0, 2, 0, 0, 1}, true},
    // Mechanics (cgs and others).
    {"ar", 100, {2, 0, 0, 0, 0, 0}, true},
    {"st", 1, {3, 0, 0, 0, 0, 0}, true},
    {"u", 1.6605402e-24, {0, 1, 0, 0, 0, 0}, true},
    {"eV", 1.60217733e-16, {2, 1, -2, 0, 0, 0}, true},
    {"pc", 3.085678e16, {1, 0, 0, 0, 0, 0}, true},
    {"Ky", 100, {-1, 0, 0, 0, 0, 0}, true},
    {"Gal", 0.01, {1, 0, -2, 0, 0, 0}, true},
    {"dyn", 0.01, {1, 1, -2, 0, 0, 0}, true},
    {"erg", 1e-4, {2, 1, -2, 0, 0, 0}, true},
    {"P", 100, {-1, 1, -1, 0, 0, 0}, true},
    {"St", 1e-4, {2, 0, -1, 0, 0, 0}, true},
    {"gf", kGravity, {1, 1, -2, 0, 0, 0}, true},
    {"tex", 1e-3, {-1, 1, 0, 0, 0, 0}, true},
    {"g%", 1e4, {-3, 1, 0, 0, 0, 0}, true},
    {"bit", 1, {0, 0, 0, 0, 0, 0}, true},
    {"By", 8, {0, 0, 0, 0, 0, 0}, true},
    {"Bd", 1, {0, 0, -1, 0, 0, 0}, true},
    {"atm", 1.01325e8, {-1, 1, -2, 0, 0, 0}, false},
    {"att", kGravity * 1e7, {-1, 1, -2, 0, 0, 0}, false},
    {"Ao", 1e-10, {1, 0, 0, 0, 0, 0}, false},
    {"b", 1e-28, {2, 0, 0, 0, 0, 0}, false},
    {"AU", 1.49597870691e11, {1, 0, 0, 0, 0, 0}, false},
    {"gon", 0.9 * kPi / 180, {0, 0, 0, 0, 1, 0}, false},
    {"circ", 2 * kPi, {0, 0, 0, 0, 1, 0}, false},
    {"sph", 4 * kPi, {0, 0, 0, 0, 2, 0}, false},
    {"'", kPi / 180 / 60, {0, 0, 0, 0, 1, 0}, false},
    {"''", kPi / 180 / 3600, {0, 0, 0, 0, 1, 0}, false},
    {"[S]", 1e-13, {0, 0, 1, 0, 0, 0}, false},
    // Natural constants, usable as units.
    {"[c]", 299792458, {1, 0, -1, 0, 0, 0}, true},
    {"[h]", 6.6260755e-31, {2, 1, -1, 0, 0, 0}, true},
    {"[k]", 1.380658e-20, {2, 1, -2, -1, 0, 0}, true},
    {"[eps_0]", 8.854187817e-15, {-3, -1, 2, 0, 0, 0, 2, 0}, true},
    {"[mu_0]", 4e-4 * kPi, {1, 1, 0, 0, 0, 0, -2, 0}, true},
    {"[e]", 1.60217733e-19, {0, 0, 0, 0, 0, 0, 1, 0}, true},
    {"[m_e]", 9.1093897e-28, {0, 1, 0, 0, 0, 0}, true},
    {"[m_p]", 1.6726231e-24, {0, 1, 0, 0, 0, 0}, true},
    {"[G]", 6.67259e-14, {3, -1, -2, 0, 0, 0}, true},
    {"[g]", kGravity, {1, 0, -2, 0, 0, 0}, true},
    {"[ly]", 299792458.0 * 31557600, {1, 0, 0, 0, 0, 0}, true},
    // Years and months other than the Julian ones (a, mo).
    {"a_t", 365.24219 * 86400, {0, 0, 1, 0, 0, 0}, false},
    {"a_j", 365.25 * 86400, {0, 0, 1, 0, 0, 0}, false},
    {"a_g", 365.2425 * 86400, {0, 0, 1, 0, 0, 0}, false},
    {"mo_s", 29.53059 * 86400, {0, 0, 1, 0, 0, 0}, false},
    {"mo_j", 365.25 * 86400 / 12, {0, 0, 1, 0, 0, 0}, false},
    {"mo_g", 365.2425 * 86400 / 12, {0, 0, 1, 0, 0, 0}, false},
    // Heat.
    {"cal_[15]", 4185.80, {2, 1, -2, 0, 0, 0}, true},
    {"cal_[20]", 4181.90, {2, 1, -2, 0, 0, 0}, true},
    {"cal_m", 4190.02, {2, 1, -2, 0, 0, 0}, true},
    {"cal_IT", 4186.8, {2, 1, -2, 0, 0, 0}, true},
    {"cal_th", 4184, {2, 1, -2, 0, 0, 0}, true},
    {"[Cal]", 4184000, {2, 1, -2, 0, 0, 0}, false},
    {"[Btu_39]", 1.05967e6, {2, 1, -2, 0, 0, 0}, false},
    {"[Btu_59]", 1.05480e6, {2, 1, -2, 0, 0, 0}, false},
    {"[Btu_60]", 1.05468e6, {2, 1, -2, 0, 0, 0}, false},
    {"[Btu_m]", 1.05587e6, {2, 1, -2, 0, 0, 0}, false},
    {"[Btu_IT]", 1.05505585262e6, {2, 1, -2, 0, 0, 0}, false},
    {"[Btu_th]", 1.054350e6, {2, 1, -2, 0, 0, 0}, false},
    {"[Btu]", 1.054350e6, {2, 1, -2, 0, 0, 0}, false},
    {"[HP]", 550 * kFtI* kLbAv* kGravity, {2, 1, -3, 0, 0, 0}, false},
    // Pressure and force in customary units.
    {"[lbf_av]", kLbAv* kGravity, {1, 1, -2, 0, 0, 0}, false},
    {"[psi]", kLbAv* kGravity / (kInI * kInI), {-1, 1, -2, 0, 0, 0}, false},
    {"[in_i'Hg]", 133322000 * kInI, {-1, 1, -2, 0, 0, 0}, false},
    {"[in_i'H2O]", 9806650 * kInI, {-1, 1, -2, 0, 0, 0}, false},
    // International customary lengths, areas and volumes.
    {"[fth_i]", 6 * kFtI, {1, 0, 0, 0, 0, 0}, false},
    {"[nmi_i]", 1852, {1, 0, 0, 0, 0, 0}, false},
    {"[kn_i]", 1852.0 / 3600, {1, 0, -1, 0, 0, 0}, false},
    {"[sin_i]", kInI* kInI, {2, 0, 0, 0, 0, 0}, false},
    {"[sft_i]", kFtI* kFtI, {2, 0, 0, 0, 0, 0}, false},
    {"[syd_i]", 9 * kFtI* kFtI, {2, 0, 0, 0, 0, 0}, false},
    {"[cin_i]", kInI* kInI* kInI, {3, 0, 0, 0, 0, 0}, false},
    {"[cft_i]", kFtI* kFtI* kFtI, {3, 0, 0, 0, 0, 0}, false},
    {"[cyd_i]", 27 * kFtI* kFtI* kFtI, {3, 0, 0, 0, 0, 0}, false},
    {"[bf_i]", 144 * kInI* kInI* kInI, {3, 0, 0, 0, 0, 0}, false},
    {"[cr_i]", 128 * kFtI* kFtI* kFtI, {3, 0, 0, 0, 0, 0}, false},
    {"[mil_i]", 1e-3 * kInI, {1, 0, 0, 0, 0, 0}, false},
    {"[cml_i]", kPi / 4 * 1e-6 * kInI* kInI, {2, 0, 0, 0, 0, 0}, false},
    {"[hd_i]", 4 * kInI, {1, 0, 0, 0, 0, 0}, false},
    // US survey lengths and areas.
    {"[ft_us]", kFtUs, {1, 0, 0, 0, 0, 0}, false},
    {"[yd_us]", 3 * kFtUs, {1, 0, 0, 0, 0, 0}, false},
    {"[in_us]", kFtUs / 12, {1, 0, 0, 0, 0, 0}, false},
    {"[rd_us]", 16.5 * kFtUs, {1, 0, 0, 0, 0, 0}, false},
    {"[ch_us]", 66 * kFtUs, {1, 0, 0, 0, 0, 0}, false},
    {"[lk_us]", 0.66 * kFtUs, {1, 0, 0, 0, 0, 0}, false},
    {"[rch_us]", 100 * kFtUs, {1, 0, 0, 0, 0, 0}, false},
    {"[rlk_us]", kFtUs, {1, 0, 0, 0, 0, 0}, false},
    {"[fth_us]", 6 * kFtUs, {1, 0, 0, 0, 0, 0}, false},
    {"[fur_us]", 660 * kFtUs, {1, 0, 0, 0, 0, 0}, false},
    {"[mi_us]", 5280 * kFtUs, {1, 0, 0, 0, 0, 0}, false},
    {"[acr_us]", 160 * 16.5 * 16.5 * kFtUs* kFtUs, {2, 0, 0, 0, 0, 0}, false},
    {"[srd_us]", 16.5 * 16.5 * kFtUs* kFtUs, {2, 0, 0, 0, 0, 0}, false},
    {"[smi_us]", 5280.0 * 5280 * kFtUs* kFtUs, {2, 0, 0, 0, 0, 0}, false},
    {"[sct]", 5280.0 * 5280 * kFtUs* kFtUs, {2, 0, 0, 0, 0, 0}, false},
    {"[twp]", 36 * 5280.0 * 5280 * kFtUs* kFtUs, {2, 0, 0, 0, 0, 0}, false},
    {"[mil_us]", 1e-3 * kFtUs / 12, {1, 0, 0, 0, 0, 0}, false},
    // British imperial lengths and areas.
    {"[in_br]", kInBr, {1, 0, 0, 0, 0, 0}, false},
    {"[ft_br]", 12 * kInBr, {1, 0, 0, 0, 0, 0}, false},
    {"[rd_br]", 16.5 * 12 * kInBr, {1, 0, 0, 0, 0, 0}, false},
    {"[ch_br]", 66 * 12 * kInBr, {1, 0, 0, 0, 0, 0}, false},
    {"[lk_br]", 0.66 * 12 * kInBr, {1, 0, 0, 0, 0, 0}, false},
    {"[fth_br]", 6 * 12 * kInBr, {1, 0, 0, 0, 0, 0}, false},
    {"[pc_br]", 2.5 * 12 * kInBr, {1, 0, 0, 0, 0, 0}, false},
    {"[yd_br]", 3 * 12 * kInBr, {1, 0, 0, 0, 0, 0}, false},
    {"[mi_br]", 5280 * 12 * kInBr, {1, 0, 0, 0, 0, 0}, false},
    {"[nmi_br]", 6080 * 12 * kInBr, {1, 0, 0, 0, 0, 0}, false},
    {"[kn_br]", 6080 * 12 * kInBr / 3600, {1, 0, -1, 0, 0, 0}, false},
    {"[acr_br]", 4840 * 36 * 36 * kInBr* kInBr, {2, 0, 0, 0, 0, 0}, false},
    // US volumes (fluid and dry).
    {"[bbl_us]", 42 * kGalUs, {3, 0, 0, 0, 0, 0}, false},
    {"[qt_us]", kGalUs / 4, {3, 0, 0, 0, 0, 0}, false},
    {"[pt_us]", kGalUs / 8, {3, 0, 0, 0, 0, 0}, false},
    {"[gil_us]", kGalUs / 32, {3, 0, 0, 0, 0, 0}, false},
    {"[fdr_us]", kGalUs / 1024, {3, 0, 0, 0, 0, 0}, false},
    {"[min_us]", kGalUs / 61440, {3, 0, 0, 0, 0, 0}, false},
    {"[crd_us]", 128 * kFtI* kFtI* kFtI, {3, 0, 0, 0, 0, 0}, false},
    {"[bu_us]", kBuUs, {3, 0, 0, 0, 0, 0}, false},
    {"[gal_wi]", kBuUs / 8, {3, 0, 0, 0, 0, 0}, false},
    {"[pk_us]", kBuUs / 4, {3, 0, 0, 0, 0, 0}, false},
    {"[dqt_us]", kBuUs / 32, {3, 0, 0, 0, 0, 0}, false},
    {"[dpt_us]", kBuUs / 64, {3, 0, 0, 0, 0, 0}, false},
    {"[tbs_us]", kGalUs / 256, {3, 0, 0, 0, 0, 0}, false},
    {"[tsp_us]", kGalUs / 768, {3, 0, 0, 0, 0, 0}, false},
    {"[cup_us]", kGalUs / 16, {3, 0, 0, 0, 0, 0}, false},
    {"[foz_m]", 30e-6, {3, 0, 0, 0, 0, 0}, false},
    {"[cup_m]", 240e-6, {3, 0, 0, 0, 0, 0}, false},
    {"[tsp_m]", 5e-6, {3, 0, 0, 0, 0, 0}, false},
    {"[tbs_m]", 15e-6, {3, 0, 0, 0, 0, 0}, false},
    // British imperial volumes.
    {"[gal_br]", kGalBr, {3, 0, 0, 0, 0, 0}, false},
    {"[pk_br]", 2 * kGalBr, {3, 0, 0, 0, 0, 0}, false},
    {"[bu_br]", 8 * kGalBr, {3, 0, 0, 0, 0, 0}, false},
    {"[qt_br]", kGalBr / 4, {3, 0, 0, 0, 0, 0}, false},
    {"[pt_br]", kGalBr / 8, {3, 0, 0, 0, 0, 0}, false},
    {"[gil_br]", kGalBr / 32, {3, 0, 0, 0, 0, 0}, false},
    {"[foz_br]", kGalBr / 160, {3, 0, 0, 0, 0, 0}, false},
    {"[fdr_br]", kGalBr / 1280, {3, 0, 0, 0, 0, 0}, false},
    {"[min_br]", kGalBr / 76800, {3, 0, 0, 0, 0, 0}, false},
    // Avoirdupois, troy and apothecaries' weights.
    {"[gr]", kGr, {0, 1, 0, 0, 0, 0}, false},
    {"[dr_av]", kLbAv / 256, {0, 1, 0, 0, 0, 0}, false},
    {"[scwt_av]", 100 * kLbAv, {0, 1, 0, 0, 0, 0}, false},
    {"[lcwt_av]", 112 * kLbAv, {0, 1, 0, 0, 0, 0}, false},
    {"[ston_av]", 2000 * kLbAv, {0, 1, 0, 0, 0, 0}, false},
    {"[lton_av]", 2240 * kLbAv, {0, 1, 0, 0, 0, 0}, false},
    {"[stone_av]", 14 * kLbAv, {0, 1, 0, 0, 0, 0}, false},
    {"[pwt_tr]", 24 * kGr, {0, 1, 0, 0, 0, 0}, false},
    {"[oz_tr]", 480 * kGr, {0, 1, 0, 0, 0, 0}, false},
    {"[lb_tr]", 5760 * kGr, {0, 1, 0, 0, 0, 0}, false},
    {"[sc_ap]", 20 * kGr, {0, 1, 0, 0, 0, 0}, false},
    {"[dr_ap]", 60 * kGr, {0, 1, 0, 0, 0, 0}, false},
    {"[oz_ap]", 480 * kGr, {0, 1, 0, 0, 0, 0}, false},
    {"[lb_ap]", 5760 * kGr, {0, 1, 0, 0, 0, 0}, false},
    {"[oz_m]", 28, {0, 1, 0, 0, 0, 0}, false},
    {"[car_m]", 0.2, {0, 1, 0, 0, 0, 0}, false},
    {"[car_Au]", 1.0 / 24, {0, 0, 0, 0, 0, 0}, false},
    // Typesetting lengths.
    {"[lne]", kInI / 12, {1, 0, 0, 0, 0, 0}, false},
    {"[pnt]", kInI / 72, {1, 0, 0, 0, 0, 0}, false},
    {"[pca]", kInI / 6, {1, 0, 0, 0, 0, 0}, false},
    {"[pnt_pr]", 0.013837 * kInI, {1, 0, 0, 0, 0, 0}, false},
    {"[pca_pr]", 12 * 0.013837 * kInI, {1, 0, 0, 0, 0, 0}, false},
    {"[pied]", 0.3248, {1, 0, 0, 0, 0, 0}, false},
    {"[pouce]", 0.3248 / 12, {1, 0, 0, 0, 0, 0}, false},
    {"[ligne]", 0.3248 / 144, {1, 0, 0, 0, 0, 0}, false},
    {"[didot]", 0.3248 / 864, {1, 0, 0, 0, 0, 0}, false},
    {"[cicero]", 0.3248 / 72, {1, 0, 0, 0, 0, 0}, false},
    // Clinical and other units.
    {"[drp]", 5e-8, {3, 0, 0, 0, 0, 0}, false},  // mL/20
    {"[HPF]", 1, {0, 0, 0, 0, 0, 0}, false},
    {"[LPF]", 100, {0, 0, 0, 0, 0, 0}, false},
    {"[MET]", 3.5e-6 / 60 / 1000, {3, -1, -1, 0, 0, 0}, false},  // 3.5 mL/min/kg
    {"[diop]", 1, {-1, 0, 0, 0, 0, 0}, false},
    {"[mesh_i]", 1 / kInI, {-1, 0, 0, 0, 0, 0}, false},
    {"[Ch]", 1e-3 / 3, {1, 0, 0, 0, 0, 0}, false},
    {"[pptr]", 1e-12, {0, 0, 0, 0, 0, 0}, false},
    {"[smoot]", 67 * kInI, {1, 0, 0, 0, 0, 0}, false},
    {"[PRU]", 1.33322e11, {-4, 1, -1, 0, 0, 0}, false},  // mm[Hg].s/ml
    // `10*3` and `10^3` are the atom 10* (or 10^) with an exponent.
    {"10*", 10, {0, 0, 0, 0, 0, 0}, false},
    {"10^", 10, {0, 0, 0, 0, 0, 0}, false},
};

// UCUM's arbitrary units other than [IU]/[iU]: "not of any specific dimension and not
// commensurable with any other unit" (UCUM §4.4), so each is a dimension of its own, in this order
// after the base ones (Dim, kBaseDims).
const char* const kArbitrary[] = {
    "[arb'U]",  "[USP'U]",   "[GPL'U]",   "[MPL'U]",     "[APL'U]", "[beth'U]", "[anti'Xa'U]",
    "[todd'U]", "[dye'U]",   "[smgy'U]",  "[bdsk'U]",    "[ka'U]",  "[knk'U]",  "[mclg'U]",
    "[tb'U]",   "[CCID_50]", "[TCID_50]", "[EID_50]",    "[PFU]",   "[FFU]",    "[CFU]",
    "[IR]",     "[BAU]",     "[AU]",      "[Amb'a'1'U]", "[PNU]",   "[Lf]",     "[D'ag'U]",
    "[FEU]",    "[ELU]",     "[EU]",      "[hnsf'U]"};
static_assert(sizeof(kArbitrary) / sizeof(kArbitrary[0]) == kArbitraryUnits);

struct Prefix {
  const char* code;
  double factor;
};
// "da" before "d": the longest prefix that leaves a metric atom wins.
const Prefix kPrefixes[] = {{"da", 1e1},  {"Y", 1e24},  {"Z", 1e21}, {"E", 1e18}, {"P", 1e15},
                            {"T", 1e12},  {"G", 1e9},   {"M", 1e6},  {"k", 1e3},  {"h", 1e2},
                            {"d", 1e-1},  {"c", 1e-2},  {"m", 1e-3}, {"u", 1e-6}, {"n", 1e-9},
                            {"p", 1e-12}, {"f", 1e-15}, {"a", 1e-18}};

// An atom as a unit (factor 1 for no prefix); false when `code` is none. Arbitrary units are all
// metric (k[IU], m[CFU]).
bool FindAtom(std::string_view code, Unit* out, bool* metric) {
  // Every atom by its code, built once: an index into kAtoms, or -1 - i for kArbitrary[i].
  static const std::unordered_map<std::string_view, int> kIndex = [] {
    std::unordered_map<std::string_view, int> index;
    for (size_t i = 0; i < std::size(kAtoms); ++i) index.emplace(kAtoms[i].code, int(i));
    for (int i = 0; i < kArbitraryUnits; ++i) index.emplace(kArbitrary[i], -1 - i);
    return index;
  }();
  auto it = kIndex.find(code);
  if (it == kIndex.end()) return false;
  *out = Unit{};
  if (it->second < 0) {
    out->dims[kBaseDims - 1 - it->second] = 1;
    *metric = true;
    return true;
  }
  const Atom& a = kAtoms[it->second];
  out->factor = a.factor;
  for (int d = 0; d < kBaseDims; ++d) out->dims[d] = a.dims[d];
  out->has_offset = a.offset;
  *metric = a.metric;
  return true;
}

// An atom, or a prefix followed by a metric atom ("mg", "dL", "mm[Hg]").
bool LookupUnit(std::string_view s, Unit* out) {
  bool metric = false;
  if (FindAtom(s, out, &metric)) return true;
  for (const Prefix& p : kPrefixes) {
    size_t n = std::strlen(p.code);
    if (s.size() <= n || s.substr(0, n) != p.code) continue;
    if (FindAtom(s.substr(n), out, &metric) && metric) {
      out->factor *= p.factor;
      return true;
    }
  }
  return false;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  bool ParseAll(Unit* out) { return Term(out) && i_ == s_.size(); }

 private:
  // term: ['/'] component (('.' | '/') component)*, read left to right.
  bool Term(Unit* out) {
    Unit acc;
    bool divide = false;
    if (i_ < s_.size() && s_[i_] == '/') {
      divide = true;
      ++i_;
    }
    for (;;) {
      Unit c;
      if (!Component(&c)) return false;
      acc.factor = divide ? acc.factor / c.factor : acc.factor * c.factor;
      for (int d = 0; d < kDims; ++d) acc.dims[d] += divide ? -c.dims[d] : c.dims[d];
      acc.has_offset = acc.has_offset || c.has_offset;
      if (i_ >= s_.size() || s_[i_] == ')') break;
      if (s_[i_] == '.') {
        divide = false;
      } else if (s_[i_] == '/') {
        divide = true;
      } else {
        return false;
      }
      ++i_;
    }
    *out = acc;
    return true;
  }

  // Skips an annotation `{...}` if one starts here; false when it is not closed.
  bool SkipAnnotation() {
    if (i_ >= s_.size() || s_[i_] != '{') return true;
    size_t end = s_.find('}', i_);
    if (end == std::string_view::npos) return false;
    i_ = end + 1;
    return true;
  }

  // component: '(' term ')' | annotation | unit[exponent][annotation] | factor[annotation]
  bool Component(Unit* out) {
    if (i_ < s_.size() && s_[i_] == '(') {
      // Untrusted input (search values): nesting is bounded so recursion cannot exhaust the
      // stack.
      if (++depth_ > kMaxDepth) return false;
      ++i_;
      if (!Term(out)) return false;
      --depth_;
      if (i_ >= s_.size() || s_[i_] != ')') return false;
      ++i_;
      return SkipAnnotation();
    }
    if (i_ < s_.size() && s_[i_] == '{') {
      *out = Unit{};  // an annotation alone is the unity
      return SkipAnnotation();
    }
    size_t start = i_;
    int bracket = 0;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == '[') ++bracket;
      if (c == ']') --bracket;
      if (bracket == 0 && (c == '.' || c == '/' || c == '(' || c == ')' || c == '{')) break;
      ++i_;
    }
    if (bracket != 0) return false;
    std::string_view text = s_.substr(start, i_ - start);
    if (!SkipAnnotation() || text.empty()) return false;
    if (AllDigits(text)) {  // a factor: "1", "100"
      *out = Unit{};
      out->factor = std::strtod(std::string(text).c_str(), nullptr);
      return out->factor > 0 && std::isfinite(out->factor);
    }
    // A trailing signed integer is the exponent ("m2", "s-1", "10*3", "10*-3").
    size_t e = text.size();
    while (e > 0 && text[e - 1] >= '0' && text[e - 1] <= '9') --e;
    if (e < text.size() && e > 0 && (text[e - 1] == '-' || text[e - 1] == '+')) --e;
    int exponent = 1;
    std::string_view base = text;
    if (e > 0 && e < text.size()) {
      std::string_view digits = text.substr(e);
      if (digits.size() > 3) return false;  // beyond ±24 anyway; keeps atoi in range
      exponent = std::atoi(std::string(digits).c_str());
      base = text.substr(0, e);
      if (exponent == 0 || std::abs(exponent) > 24) return false;
    }
    Unit u;
    if (!LookupUnit(base, &u)) return false;
    out->factor = std::pow(u.factor, exponent);
    for (int d = 0; d < kDims; ++d) out->dims[d] = u.dims[d] * exponent;
    out->has_offset = u.has_offset;
    return std::isfinite(out->factor) && out->factor > 0;
  }

  static constexpr int kMaxDepth = 8;
  std::string_view s_;
  size_t i_ = 0;
  int depth_ = 0;
};

double RoundSignificant(double v, int digits) {
  if (v == 0 || !std::isfinite(v)) return v;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return std::strtod(buf, nullptr);
}

}  // namespace

std::optional<Unit> ParseUnit(std::string_view code) {
  if (code.empty() || code == "1") return Unit{};
  Unit u;
  Parser p(code);
  if (!p.ParseAll(&u)) return std::nullopt;
  return u;
}

bool Commensurable(const Unit& a, const Unit& b) { return a.dims == b.dims; }

std::string CanonicalCode(const Unit& u) {
  auto name = [](int d) -> std::string {
    static const char* const kBase[kBaseDims] = {"m", "g", "s", "K", "rad", "[IU]", "C", "cd"};
    return d < kBaseDims ? kBase[d] : kArbitrary[d - kBaseDims];
  };
  std::string num, den;
  int den_terms = 0;
  for (int d = 0; d < kDims; ++d) {
    int p = u.dims[d];
    if (p == 0) continue;
    std::string& s = p > 0 ? num : den;
    if (p < 0) ++den_terms;
    if (!s.empty()) s += '.';
    s += name(d);
    int ap = p > 0 ? p : -p;
    if (ap != 1) s += std::to_string(ap);
  }
  if (den.empty()) return num.empty() ? "1" : num;
  if (den_terms == 1) return num + "/" + den;
  // Several divisors: negative exponents, since `a/b.c` would mean (a/b).c.
  std::string out = num;
  for (int d = 0; d < kDims; ++d) {
    if (u.dims[d] >= 0) continue;
    if (!out.empty()) out += '.';
    out += name(d) + std::to_string(u.dims[d]);
  }
  return out;
}

std::optional<Canonical> Canonicalize(double value, std::string_view code) {
  std::optional<Unit> u = ParseUnit(code);
  if (!u || !std::isfinite(value)) return std::nullopt;
  double v;
  if (u->has_offset) {
    // A temperature: only the scale alone converts (Cel: K = C + 273.15; [degF]: K = (F +
    // 459.67) * 5/9); a compound such as Cel/h has no defined conversion.
    if (code == "Cel") {
      v = value + 273.15;
    } else if (code == "[degF]") {
      v = (value + 459.67) * 5.0 / 9.0;
    } else {
      return std::nullopt;
    }
  } else {
    v = value * u->factor;
  }
  if (!std::isfinite(v)) return std::nullopt;
  return Canonical{RoundSignificant(v, 12), CanonicalCode(*u)};
}

}  // namespace vesta::ucum
