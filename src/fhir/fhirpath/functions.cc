// The FHIRPath functions (http://hl7.org/fhirpath/N1/#functions): the table of names and
// arities, and Evaluator::CallFunction, which evaluates the functions that iterate, filter or
// combine (existence, filtering and projection, subsetting, combining, iif, coalesce, trace,
// aggregate, is/as, sort) and hands the others to their group in functions/ (call.h).
#include "fhir/fhirpath/functions.h"

#include <algorithm>
#include <set>

#include "fhir/fhirpath/eval.h"
#include "fhir/fhirpath/functions/call.h"

namespace vesta::fhirpath::internal {

const FunctionInfo* FindFunction(std::string_view name) {
  static const FunctionInfo kTable[] = {
#define VESTA_FN_ROW(id, nm, lo, hi) {Fn::id, nm, lo, hi},
      VESTA_FHIRPATH_FUNCTIONS(VESTA_FN_ROW)
#undef VESTA_FN_ROW
  };
  for (const FunctionInfo& f : kTable) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

Result<int> BoolOf(const Evaluator& ev, const Node& n, Items c);

Result<Collection> Evaluator::Descendants(const Node& n, Items input, const TypeSpec* of_type) {
  Collection out;
  if (!internal::Descendants(input, of_type, 1000000, &out)) {
    return Error(n, "descendants() produced too many items");
  }
  return out;
}

Result<Collection> Evaluator::CallFunction(const Node& n, Items input, const Frame& f) {
  auto all_input = [&] { return Collection(input.begin(), input.end()); };
  auto arg = [&](size_t i) -> Result<Collection> { return Eval(*n.args[i], f); };
  auto int_arg = [&](size_t i, int64_t* out) -> Result<bool> {
    return FunctionCall(*this, n, input, f).IntArg(i, out);
  };

  switch (n.fn) {
    // --- Existence: http://hl7.org/fhirpath/N1/#existence ---
    case Fn::kEmpty:
      return Bool(input.empty());
    case Fn::kExists:
    case Fn::kWhere: {
      if (n.args.empty()) return Bool(!input.empty());
      Collection out;
      for (size_t i = 0; i < input.size(); ++i) {
        ASSIGN_OR_RETURN(int b, ConditionOn(*n.args[0], input[i], static_cast<int64_t>(i), f, n));
        if (b == 1) {
          if (n.fn == Fn::kExists) return Bool(true);
          out.push_back(input[i]);
        }
      }
      if (n.fn == Fn::kExists) return Bool(false);
      return out;
    }
    case Fn::kAll: {
      for (size_t i = 0; i < input.size(); ++i) {
        ASSIGN_OR_RETURN(int b, ConditionOn(*n.args[0], input[i], static_cast<int64_t>(i), f, n));
        if (b != 1) return Bool(false);
      }
      return Bool(true);
    }
    case Fn::kAllTrue:
    case Fn::kAnyTrue:
    case Fn::kAllFalse:
    case Fn::kAnyFalse: {
      bool want = n.fn == Fn::kAllTrue || n.fn == Fn::kAnyTrue;
      bool all = n.fn == Fn::kAllTrue || n.fn == Fn::kAllFalse;
      for (const Item& i : input) {
        Item v;
        if (!ToSystem(i, &v) || v.kind != ItemKind::kBoolean) {
          return Error(n, n.name + "() needs Boolean items");
        }
        if (all && v.as_bool() != want) return Bool(false);
        if (!all && v.as_bool() == want) return Bool(true);
      }
      return Bool(all);
    }
    case Fn::kSubsetOf:
    case Fn::kSupersetOf: {
      ASSIGN_OR_RETURN(Collection other, arg(0));
      Items sub = n.fn == Fn::kSubsetOf ? input : Items(other);
      Items super = n.fn == Fn::kSubsetOf ? Items(other) : input;
      for (const Item& i : sub) {
        bool found = false;
        for (const Item& j : super) {
          if (ItemEquals(i, j) == 1) {
            found = true;
            break;
          }
        }
        if (!found) return Bool(false);
      }
      return Bool(true);
    }
    case Fn::kCount:
      return Collection{Item::Integer(static_cast<int64_t>(input.size()))};
    case Fn::kDistinct:
    case Fn::kIsDistinct: {
      Collection out = Union(Collection{}, input);
      if (n.fn == Fn::kIsDistinct) return Bool(out.size() == input.size());
      return out;
    }

    // --- Filtering and projection: http://hl7.org/fhirpath/N1/#filtering-and-projection ---
    case Fn::kSelect: {
      Collection out;
      for (size_t i = 0; i < input.size(); ++i) {
        ASSIGN_OR_RETURN(Collection c, EvalOn(*n.args[0], input[i], static_cast<int64_t>(i), f));
        out.insert(out.end(), c.begin(), c.end());
      }
      return out;
    }
    case Fn::kRepeat: {
      Collection out, values;
      std::set<std::pair<const json::Value*, const json::Value*>> seen_nodes;
      UniqueCollector unique_values(&values);
      Collection work = all_input();
      const size_t kLimit = 100000;
      while (!work.empty()) {
        Collection next;
        for (size_t i = 0; i < work.size(); ++i) {
          ASSIGN_OR_RETURN(Collection c, EvalOn(*n.args[0], work[i], static_cast<int64_t>(i), f));
          for (Item& x : c) {
            if (x.is_node()) {
              // Nodes are told apart by identity: the input is a tree, so this ends.
              if (!seen_nodes.insert({x.node, x.extension_part}).second) continue;
            } else if (!unique_values.Add(x)) {
              continue;
            }
            out.push_back(x);
            next.push_back(std::move(x));
          }
          if (out.size() > kLimit) return Error(n, "repeat() produced too many items");
        }
        work = std::move(next);
      }
      return out;
    }
    case Fn::kOfType: {
      Collection out;
      for (const Item& i : input) {
        if (IsType(i, n.type, TypeMatch::kExactPrimitive)) out.push_back(i);
      }
      return out;
    }

    // --- Subsetting: http://hl7.org/fhirpath/N1/#subsetting ---
    case Fn::kSingle:
      if (input.size() > 1)
        return Error(n, "single() on " + std::to_string(input.size()) + " items");
      return all_input();
    case Fn::kFirst:
      if (input.empty()) return Collection{};
      return Collection{input.front()};
    case Fn::kLast:
      if (input.empty()) return Collection{};
      return Collection{input.back()};
    case Fn::kTail:
      if (input.size() <= 1) return Collection{};
      return Collection(input.begin() + 1, input.end());
    case Fn::kSkip:
    case Fn::kTake: {
      int64_t k;
      ASSIGN_OR_RETURN(bool has, int_arg(0, &k));
      if (!has) return Collection{};
      int64_t size = static_cast<int64_t>(input.size());
      if (n.fn == Fn::kSkip) {
        if (k <= 0) return all_input();
        if (k >= size) return Collection{};
        return Collection(input.begin() + k, input.end());
      }
      if (k <= 0) return Collection{};
      return Collection(input.begin(), input.begin() + std::min(k, size));
    }
    case Fn::kIntersect:
    case Fn::kExclude: {
      ASSIGN_OR_RETURN(Collection other, arg(0));
      Collection out;
      for (const Item& i : input) {
        bool in_other = false;
        for (const Item& j : other) {
          if (ItemEquals(i, j) == 1) {
            in_other = true;
            break;
          }
        }
        if (n.fn == Fn::kExclude) {
          if (!in_other) out.push_back(i);
        } else if (in_other) {
          bool dup = false;
          for (const Item& j : out) dup = dup || ItemEquals(i, j) == 1;
          if (!dup) out.push_back(i);
        }
      }
      return out;
    }

    // --- Combining ---
    case Fn::kUnion:
    case Fn::kCombine: {
      ASSIGN_OR_RETURN(Collection other, arg(0));
      if (n.fn == Fn::kCombine) {
        Collection out = all_input();
        out.insert(out.end(), other.begin(), other.end());
        return out;
      }
      return Union(all_input(), other);
    }

    // --- Conversion ---
    case Fn::kIif: {
      if (input.size() > 1) return Error(n, "iif() on more than one item");
      Frame inner = f;
      if (n.target != nullptr) inner.focus = input;
      ASSIGN_OR_RETURN(Collection c, Eval(*n.args[0], inner));
      ASSIGN_OR_RETURN(int b, BoolOf(*this, n, c));
      if (b == 1) return Eval(*n.args[1], inner);
      if (n.args.size() > 2) return Eval(*n.args[2], inner);
      return Collection{};
    }
    case Fn::kToBoolean:
    case Fn::kConvertsToBoolean:
    case Fn::kToInteger:
    case Fn::kConvertsToInteger:
    case Fn::kToDecimal:
    case Fn::kConvertsToDecimal:
    case Fn::kToString:
    case Fn::kConvertsToString:
    case Fn::kToDate:
    case Fn::kConvertsToDate:
    case Fn::kToDateTime:
    case Fn::kConvertsToDateTime:
    case Fn::kToTime:
    case Fn::kConvertsToTime:
    case Fn::kToQuantity:
    case Fn::kConvertsToQuantity:
    case Fn::kToLong:
    case Fn::kConvertsToLong: {
      FunctionCall call(*this, n, input, f);
      return CallConversion(call);
    }
    // https://build.fhir.org/ig/HL7/FHIRPath/#coalescevalue--collection-value--collection---collection
    // (STU): "returns the first non-empty collection from the arguments ... arguments after the
    // first non-empty argument are not evaluated".
    case Fn::kCoalesce: {
      Frame inner = f;
      if (n.target != nullptr) inner.focus = input;
      for (const auto& a : n.args) {
        ASSIGN_OR_RETURN(Collection c, Eval(*a, inner));
        if (!c.empty()) return c;
      }
      return Collection{};
    }
    // --- Strings: http://hl7.org/fhirpath/N1/#string-manipulation ---
    case Fn::kIndexOf:
    case Fn::kStartsWith:
    case Fn::kEndsWith:
    case Fn::kContainsFn:
    case Fn::kSubstring:
    case Fn::kUpper:
    case Fn::kLower:
    case Fn::kReplace:
    case Fn::kMatches:
    case Fn::kMatchesFull:
    case Fn::kReplaceMatches:
    case Fn::kLength:
    case Fn::kToChars:
    case Fn::kTrim:
    case Fn::kSplit:
    case Fn::kEncode:
    case Fn::kDecode:
    case Fn::kEscape:
    case Fn::kUnescape:
    case Fn::kLastIndexOf: {
      FunctionCall call(*this, n, input, f);
      return CallString(call);
    }
    case Fn::kJoin: {
      FunctionCall call(*this, n, input, f);
      return CallString(call);
    }
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
      FunctionCall call(*this, n, input, f);
      return CallMath(call);
    }
    // --- Tree navigation ---
    case Fn::kChildren: {
      Collection out;
      for (const Item& i : input) Children(i, &out);
      return out;
    }
    case Fn::kDescendants:
      return Descendants(n, input, nullptr);

    // --- Utility ---
    case Fn::kTrace: {
      if (env_.trace) {
        std::string name;
        ASSIGN_OR_RETURN(bool hn, FunctionCall(*this, n, input, f).StringArg(0, &name));
        (void)hn;
        if (n.args.size() > 1) {
          Collection projected;
          for (size_t i = 0; i < input.size(); ++i) {
            ASSIGN_OR_RETURN(Collection c,
                             EvalOn(*n.args[1], input[i], static_cast<int64_t>(i), f));
            projected.insert(projected.end(), c.begin(), c.end());
          }
          env_.trace(name, projected);
        } else {
          env_.trace(name, all_input());
        }
      }
      return all_input();
    }
    case Fn::kNow:
    case Fn::kToday:
    case Fn::kTimeOfDay:
    case Fn::kPrecision:
    case Fn::kLowBoundary:
    case Fn::kHighBoundary:
    case Fn::kComparable:
    case Fn::kYearOf:
    case Fn::kMonthOf:
    case Fn::kDayOf:
    case Fn::kHourOf:
    case Fn::kMinuteOf:
    case Fn::kSecondOf:
    case Fn::kMillisecondOf:
    case Fn::kTimezoneOffsetOf:
    case Fn::kDateOf:
    case Fn::kTimeOf:
    case Fn::kDuration:
    case Fn::kDifference: {
      FunctionCall call(*this, n, input, f);
      return CallDate(call);
    }
    case Fn::kNot: {
      ASSIGN_OR_RETURN(int b, BoolOf(*this, n, input));
      if (b < 0) return Collection{};
      return Bool(b == 0);
    }
    case Fn::kAggregate: {
      Collection total;
      if (n.args.size() > 1) {
        ASSIGN_OR_RETURN(total, arg(1));
      }
      for (size_t i = 0; i < input.size(); ++i) {
        Frame inner{Items(&input[i], 1), static_cast<int64_t>(i), &total};
        ASSIGN_OR_RETURN(Collection next, Eval(*n.args[0], inner));
        total = std::move(next);
      }
      return total;
    }

    // --- Types ---
    case Fn::kIs:
    case Fn::kAs: {
      if (input.empty()) return Collection{};
      if (input.size() > 1) {
        return Error(n, n.name + "() needs a single item, found " + std::to_string(input.size()));
      }
      bool is = IsType(input[0], n.type,
                       n.fn == Fn::kIs ? TypeMatch::kHierarchy : TypeMatch::kExactPrimitive);
      if (n.fn == Fn::kIs) return Bool(is);
      if (is) return all_input();
      return Collection{};
    }
    case Fn::kSort: {
      struct Key {
        const Node* expr;
        bool descending;
      };
      std::vector<Key> keys;
      for (const auto& a : n.args) {
        if (a->kind == NodeKind::kNegate && a->op == Op::kSub) {
          keys.push_back({a->target.get(), true});
        } else {
          keys.push_back({a.get(), false});
        }
      }
      std::vector<std::vector<Collection>> values(input.size());
      for (size_t i = 0; i < input.size(); ++i) {
        // A primitive without a value is an empty key: empty keys sort first.
        if (keys.empty()) {
          values[i].push_back(ValueLess(input[i]) ? Collection{} : Collection{input[i]});
          continue;
        }
        for (const Key& k : keys) {
          ASSIGN_OR_RETURN(Collection c, EvalOn(*k.expr, input[i], static_cast<int64_t>(i), f));
          if (c.size() > 1) return Error(n, "sort() key must be a single item");
          if (c.size() == 1 && ValueLess(c[0])) c.clear();
          values[i].push_back(std::move(c));
        }
      }
      std::vector<size_t> order(input.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      bool failed = false;
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        for (size_t k = 0; k < values[a].size(); ++k) {
          const Collection& x = values[a][k];
          const Collection& y = values[b][k];
          bool desc = !keys.empty() && keys[k].descending;
          int c = 0;
          if (x.empty() || y.empty()) {
            // Empty keys sort first in either direction.
            if (x.empty() != y.empty()) return x.empty();
            continue;
          } else {
            bool empty;
            if (!ItemCompare(x[0], y[0], &c, &empty)) {
              failed = true;
              return false;
            }
            if (empty) c = 0;
          }
          if (c != 0) return desc ? c > 0 : c < 0;
        }
        return false;
      });
      if (failed) return Error(n, "sort() keys are not comparable");
      Collection out;
      for (size_t i : order) out.push_back(input[i]);
      return out;
    }
    case Fn::kType:
    case Fn::kExtension:
    case Fn::kHasValue:
    case Fn::kGetValue:
    case Fn::kResolve:
    case Fn::kHtmlChecks:
    case Fn::kMemberOf:
    case Fn::kConformsTo:
    case Fn::kSubsumes:
    case Fn::kSubsumedBy:
    case Fn::kElementDefinition:
    case Fn::kSlice:
    case Fn::kCheckModifiers:
    case Fn::kDefineVariable:
    case Fn::kUnknown: {
      FunctionCall call(*this, n, input, f);
      return CallFhir(call);
    }
    case Fn::kCallerFunction: {
      ExtensionCall call;
      call.input = input;
      if (n.extension->type_argument) {
        call.type_name = n.type.name;
      } else {
        for (size_t i = 0; i < n.args.size(); ++i) {
          ASSIGN_OR_RETURN(Collection a, arg(i));
          call.args.push_back(std::move(a));
        }
      }
      call.root_resource = root_;
      call.env = &env_;
      Result<Collection> r = n.extension->call(call);
      if (!r.ok()) return Error(n, n.name + "(): " + r.status().message());
      return r;
    }
  }
  return Error(n, n.name + "() is not supported");
}

// --- FunctionCall ---

Result<bool> FunctionCall::Single(Item* out) {
  if (input.empty()) return false;
  if (input.size() > 1) {
    return Error(n.name + "() needs a single item, found " + std::to_string(input.size()));
  }
  if (ValueLess(input[0])) return false;
  if (!ToSystem(input[0], out)) {
    return Error(n.name + "() cannot use a " + std::string(input[0].fhir_type));
  }
  return true;
}

Result<bool> FunctionCall::StringInput(std::string_view* out) {
  if (input.empty()) return false;
  if (input.size() > 1) return Error(n.name + "() needs a single string");
  if (ValueLess(input[0])) return false;
  if (!StringOf(input[0], out)) return Error(n.name + "() needs a string input");
  return true;
}

Result<bool> FunctionCall::StringArg(size_t i, std::string* out) {
  ASSIGN_OR_RETURN(Collection c, Arg(i));
  if (c.empty() || (c.size() == 1 && ValueLess(c[0]))) return false;
  std::string_view v;
  if (c.size() > 1 || !StringOf(c[0], &v)) return Error(n.name + "() needs a string argument");
  *out = std::string(v);
  return true;
}

Result<bool> FunctionCall::IntArg(size_t i, int64_t* out) {
  ASSIGN_OR_RETURN(Collection c, Arg(i));
  if (c.empty() || (c.size() == 1 && ValueLess(c[0]))) return false;
  Item v;
  if (c.size() > 1 || !ToSystem(c[0], &v) || v.kind != ItemKind::kInteger) {
    return Error(n.name + "() needs an integer argument");
  }
  *out = v.as_int();
  return true;
}

}  // namespace vesta::fhirpath::internal
