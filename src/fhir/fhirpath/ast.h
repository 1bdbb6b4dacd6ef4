// The FHIRPath abstract syntax tree (internal to the engine).
//
// Grammar: http://hl7.org/fhirpath/N1/grammar.html. A path `a.b(c)` is a chain of nodes whose
// `target` is the expression before the dot; a node without a target applies to the current
// focus ($this, or the evaluation context at the top level).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "fhir/fhirpath/fhirpath.h"
#include "fhir/fhirpath/value.h"

namespace vesta::fhir {
struct StructInfo;
}

namespace vesta::fhirpath::internal {

enum class Op : uint8_t {
  kNone,
  kMul,
  kDiv,
  kDivInt,
  kMod,
  kAdd,
  kSub,
  kConcat,
  kUnion,
  kLt,
  kLe,
  kGt,
  kGe,
  kEq,
  kNe,
  kEquiv,
  kNotEquiv,
  kIn,
  kContains,
  kAnd,
  kOr,
  kXor,
  kImplies,
  kIs,
  kAs,
};

enum class NodeKind : uint8_t {
  kEmpty,     // {}
  kLiteral,   // literal holds the value
  kMember,    // name: an element name (or a type name at the start of a path)
  kFunction,  // name + args; fn is the resolved function
  kIndexer,   // target[args[0]]
  kNegate,    // -target (op kSub) or +target (op kAdd)
  kBinary,    // target op args[0]
  kTypeOp,    // target is/as type
  kVariable,  // %name
  kThis,
  kIndex,
  kTotal,
};

// A type named in an expression: `FHIR.Patient`, `System.String`, or unqualified `Quantity`.
struct TypeSpec {
  std::string ns;  // "FHIR", "System" or "" (unqualified)
  std::string name;
};

enum class Fn : uint8_t;  // functions.h

struct Node {
  NodeKind kind = NodeKind::kEmpty;
  Op op = Op::kNone;
  Fn fn{};
  int pos = 0;  // offset in the expression text, for messages
  std::string name;
  std::unique_ptr<Node> target;
  std::vector<std::unique_ptr<Node>> args;
  Item literal;
  TypeSpec type;
  // For a kMember whose name is a type in the model (`Patient` in `Patient.name`), that type;
  // looked up once when the expression is compiled.
  const fhir::StructInfo* named_type = nullptr;
  // For the `as` operator compiled in Mode::kNonStrict: a collection of several items keeps those
  // of the type (as ofType() does) instead of being an error. R4's search parameter expressions
  // apply `as` to collections (`(Substance.ingredient.substance as CodeableConcept)`); R5 rewrote
  // them with ofType().
  bool as_filters = false;
  // For a call of a function added by the caller (fn == Fn::kCallerFunction): its definition, owned
  // by the compiled Expression.
  const ExtensionFunction* extension = nullptr;
};

// Parses `text` into a tree. Errors are kInvalid Statuses naming the offset.
// `extensions`, when given, are the caller's functions (CompileOptions::extensions).
Result<std::unique_ptr<Node>> Parse(std::string_view text,
                                    const ExtensionFunctions* extensions = nullptr);

}  // namespace vesta::fhirpath::internal
