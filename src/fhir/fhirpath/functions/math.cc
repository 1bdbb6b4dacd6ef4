// Math functions: http://hl7.org/fhirpath/N1/#math.
#include <cmath>
#include <cstdlib>

#include "fhir/fhirpath/functions/call.h"

namespace vesta::fhirpath::internal {

namespace {}  // namespace

// abs() ... truncate().
Result<Collection> CallMath(FunctionCall& c) {
  const Node& n = c.n;
  Items input = c.input;
  (void)input;
  switch (n.fn) {
    // --- Math: http://hl7.org/fhirpath/N1/#math ---
    case Fn::kAbs:
    case Fn::kCeiling:
    case Fn::kExp:
    case Fn::kFloor:
    case Fn::kLn:
    case Fn::kLog:
    case Fn::kPower:
    case Fn::kRound:
    case Fn::kSqrt:
    case Fn::kTruncate: {
      Item x;
      ASSIGN_OR_RETURN(bool has, c.Single(&x));
      if (!has) return Collection{};
      if (n.fn == Fn::kAbs && x.kind == ItemKind::kQuantity) {
        Quantity q = x.as_quantity();
        if (q.value.mantissa < 0) q.value.mantissa = -q.value.mantissa;
        return Collection{Item::Qty(q)};
      }
      if (!IsNumber(x)) return c.Error(n.name + "() needs a number");
      Decimal d = AsDecimal(x);
      double v = d.ToDouble();
      auto dec = [](double r) -> Collection {
        Decimal out;
        if (!Decimal::FromDouble(r, 8, &out)) return Collection{};
        return Collection{Item::Dec(out)};
      };
      switch (n.fn) {
        case Fn::kAbs:
          if (IsWhole(x)) {
            if (x.as_int() == INT64_MIN) return Collection{};  // overflow: empty
            return Collection{x.kind == ItemKind::kLong ? Item::Long(std::llabs(x.as_int()))
                                                        : Item::Integer(std::llabs(x.as_int()))};
          }
          if (d.mantissa < 0) d.mantissa = -d.mantissa;
          return Collection{Item::Dec(d)};
        case Fn::kCeiling:
        case Fn::kFloor:
        case Fn::kTruncate: {
          if (IsWhole(x)) return Collection{x};
          double r = n.fn == Fn::kCeiling ? std::ceil(v)
                     : n.fn == Fn::kFloor ? std::floor(v)
                                          : std::trunc(v);
          if (!(std::fabs(r) < 9.2e18)) return Collection{};  // out of Integer range
          return Collection{Item::Integer(static_cast<int64_t>(r))};
        }
        case Fn::kExp:
          return dec(std::exp(v));
        case Fn::kLn:
          if (v <= 0) return Collection{};
          return dec(std::log(v));
        case Fn::kLog: {
          ASSIGN_OR_RETURN(Collection bc, c.Arg(0));
          Item bv;
          if (bc.empty()) return Collection{};
          if (bc.size() > 1 || !ToSystem(bc[0], &bv) || !IsNumber(bv)) {
            return c.Error("log() needs a number base");
          }
          double base = AsDecimal(bv).ToDouble();
          if (v <= 0 || base <= 0 || base == 1) return Collection{};
          return dec(std::log(v) / std::log(base));
        }
        case Fn::kPower: {
          ASSIGN_OR_RETURN(Collection ec, c.Arg(0));
          Item ev;
          if (ec.empty()) return Collection{};
          if (ec.size() > 1 || !ToSystem(ec[0], &ev) || !IsNumber(ev)) {
            return c.Error("power() needs a number exponent");
          }
          double e = AsDecimal(ev).ToDouble();
          double r = std::pow(v, e);
          if (std::isnan(r) || std::isinf(r)) return Collection{};
          if (x.kind == ItemKind::kInteger && ev.kind == ItemKind::kInteger && e >= 0 &&
              std::fabs(r) < 9.2e18) {
            return Collection{Item::Integer(static_cast<int64_t>(std::llround(r)))};
          }
          return dec(r);
        }
        case Fn::kRound: {
          int64_t p = 0;
          if (!n.args.empty()) {
            ASSIGN_OR_RETURN(bool hp, c.IntArg(0, &p));
            if (!hp) p = 0;
          }
          if (p < 0 || p > 28) return c.Error("round() precision out of range");
          Decimal r;
          if (!d.Rescale(static_cast<int>(p), &r)) return Collection{};
          return Collection{Item::Dec(r)};
        }
        case Fn::kSqrt:
          if (v < 0) return Collection{};
          return dec(std::sqrt(v));
        default:
          return Collection{};
      }
    }

    default:
      break;
  }
  return c.Error(n.name + "() is not supported");
}

}  // namespace vesta::fhirpath::internal
