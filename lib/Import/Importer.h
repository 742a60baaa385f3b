//===- Importer.h - Internals of the ONNX importer ------------------------===//
//
// The state the importer's files share. One Importer translates one ONNX
// graph, node by node in the graph's (topological) order, into the lines of
// a `.nn` model body:
//   Importer.cpp     the walk: inputs, initializers, nodes, outputs; names
//   Values.cpp       values, constants and how `.nn` text refers to them
//   Attributes.cpp   typed access to a node's attributes
//   Tensors.cpp      ONNX TensorProto decoding
//   Ops*.cpp         one handler per ONNX operator, listed in OpTable.cpp
// Every ONNX value keeps a static type (element type, shape) that the
// handlers compute as they go, so a handler knows its operands' shapes and
// the generated source type-checks; values known at import time (
// initializers, Constant, shape arithmetic) carry their contents, which the
// handlers of Reshape, Slice, Pad, ... read, and which are folded through
// the shape-computing ops.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_IMPORT_IMPORTER_H
#define NNC_LIB_IMPORT_IMPORTER_H

#include "nnc/Graph/Types.h"
#include "nnc/Import/Onnx.h"

#include <onnx/onnx_pb.h>

#include <llvm/ADT/StringMap.h>
#include <llvm/ADT/StringSet.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace nnc::onnx_import {

using OnnxType = int32_t; ///< onnx::TensorProto_DataType

/// How nnc computes and stores an ONNX element type: `Spelling` is the
/// `.nn` element type of an input or output of that type (`i64`, `bool`).
struct ElemInfo {
  DType Computed;
  const char *Spelling;
};

/// The element type's mapping, or nullopt for types nnc has no use for
/// (strings, complex numbers, 8-bit floats).
std::optional<ElemInfo> elemInfo(OnnxType T);
/// ONNX's name of an element type ("FLOAT", "INT64", ...).
std::string onnxTypeName(OnnxType T);
/// The floating element types (computed in f32, holding fractions).
bool isFloatType(OnnxType T);

/// One ONNX value: a graph input, an initializer or a node's output.
struct Value {
  std::string OnnxName;
  OnnxType Elem = onnx::TensorProto_DataType_FLOAT;
  Shape Dims;
  /// The name `.nn` source gives it (a plain or `quoted` name).
  std::string NnName;
  /// How `.nn` source refers to it: its name once bound, a number for a
  /// scalar constant, or another value's reference (Identity). Empty until
  /// emitted; constants are emitted at their first use.
  std::string Ref;
  /// Import-time contents, row-major (integers are exact up to 2^53).
  std::optional<std::vector<double>> Data;
  /// An initializer: a param (floats) or const (integers) that loads its
  /// value from the weights file.
  bool Initializer = false;

  DType computed() const;
  int64_t numel() const;
  bool isConst() const { return Data.has_value(); }
};

class Importer;
/// Translates the current node (Importer::node()); an llvm::Error names
/// what is wrong.
using OpHandler = llvm::Error (*)(Importer &I);
/// The handler of ONNX operator `OpType` (domain ai.onnx), or null.
OpHandler findHandler(llvm::StringRef OpType);

class Importer {
public:
  Importer(const onnx::ModelProto &Model, llvm::StringRef WeightsFile,
           llvm::StringRef ModelName);
  llvm::Expected<ImportedModel> run();

  //===--- For op handlers ------------------------------------------------===//
  /// The node being translated.
  const onnx::NodeProto &node() const { return *Node; }
  /// The ai.onnx opset version the model imports.
  int64_t opset() const { return Opset; }
  /// An error about the current node: "ONNX node 'N' (Op): Msg".
  llvm::Error fail(const llvm::Twine &Msg) const;
  /// "ONNX operator 'Op' (node 'N') is not supported" with `Why` appended.
  llvm::Error unsupported(const llvm::Twine &Why = "") const;

  /// Number of inputs written (optional ones may be empty).
  unsigned numInputs() const { return unsigned(Node->input_size()); }
  /// Input `K` is given (present and not the empty name).
  bool has(unsigned K) const;
  /// Input `K`'s value; an error when it is missing.
  llvm::Expected<Value *> in(unsigned K);
  /// Input `K`'s contents, which must be known at import time (an
  /// initializer, a Constant, shape arithmetic); `What` names it in errors.
  llvm::Expected<std::vector<double>> constIn(unsigned K, llvm::StringRef What);
  /// Input `K` as a list of integers (`constIn`, integral values).
  llvm::Expected<std::vector<int64_t>> intsIn(unsigned K, llvm::StringRef What);
  /// The `.nn` expression of `V` as a tensor operand (declares a constant
  /// or initializer on its first use).
  llvm::Expected<std::string> use(Value &V);
  /// `use` of input `K`.
  llvm::Expected<std::string> useIn(unsigned K);

  /// Binds output `K` to `Expr`, of type (Elem, Dims): `name = Expr`.
  llvm::Error define(unsigned K, const std::string &Expr, OnnxType Elem,
                     const Shape &Dims);
  /// Output `K` is known at import time: emitted at its first use.
  llvm::Error defineConst(unsigned K, OnnxType Elem, const Shape &Dims,
                          std::vector<double> Data);
  /// Output `K` is `Dims` filled with `Fill`: a constant when `foldable`,
  /// else a `full(...)` the generated code computes (never held here).
  llvm::Error defineFill(unsigned K, OnnxType Elem, const Shape &Dims,
                         double Fill);
  /// Output `K` is value `V` itself (Identity, Dropout at inference).
  llvm::Error alias(unsigned K, const Value &V);
  /// Output `K` is written (present and not the empty name).
  bool hasOutput(unsigned K) const;
  /// Binds `Expr` to a fresh name derived from the node's first output and
  /// `Hint`, and returns the name: for an intermediate used more than once.
  std::string temp(const std::string &Expr, llvm::StringRef Hint);
  /// The `.nn` expression of a constant the importer makes (a literal, or
  /// a const from the weights file when large), named after `Hint`.
  llvm::Expected<std::string> constant(OnnxType Elem, const Shape &Dims,
                                       std::vector<double> Data,
                                       llvm::StringRef Hint);

  // Attributes (Attributes.cpp); a wrong attribute type is an error.
  const onnx::AttributeProto *attr(llvm::StringRef Name) const;
  llvm::Expected<int64_t> attrInt(llvm::StringRef Name, int64_t Default) const;
  llvm::Expected<double> attrFloat(llvm::StringRef Name, double Default) const;
  llvm::Expected<std::string> attrString(llvm::StringRef Name,
                                         llvm::StringRef Default) const;
  /// An ints attribute; nullopt when absent.
  llvm::Expected<std::optional<std::vector<int64_t>>>
  attrInts(llvm::StringRef Name) const;
  llvm::Expected<std::optional<std::vector<double>>>
  attrFloats(llvm::StringRef Name) const;
  /// Every attribute the node has must be in `Known`: an attribute nnc does
  /// not understand changes the meaning, so it is an error, not ignored.
  llvm::Error checkAttrs(std::initializer_list<llvm::StringRef> Known) const;

private:
  llvm::Error declareInputs();
  llvm::Error declareInitializers();
  llvm::Error translateNode(const onnx::NodeProto &N, unsigned Index);
  llvm::Error declareOutputs();
  /// A unique `.nn` spelling for `Name` (quoted unless a plain identifier).
  std::string uniqueName(llvm::StringRef Name);
  /// Declares `V` (a constant not yet emitted) as `param`/`const`, named
  /// V.NnName.
  llvm::Error declareConst(Value &V);
  void line(const std::string &Text) { Body += "  " + Text + "\n"; }
  Value &output(unsigned K, OnnxType Elem, const Shape &Dims);

  const onnx::ModelProto &Model;
  std::string WeightsFile, ModelName;
  int64_t Opset = 1;
  const onnx::NodeProto *Node = nullptr;
  unsigned NodeIndex = 0;
  /// Every value by ONNX name.
  std::map<std::string, Value> Values;
  /// Constants the importer made (`constant`), kept for their names.
  std::vector<std::unique_ptr<Value>> Made;
  /// Spellings given out (unquoted), for uniqueness.
  llvm::StringSet<> Taken;
  std::string Body;
  ImportedModel Result;
};

/// The most elements a value the importer computes itself (a folded
/// constant, a mask) may have; larger ones are left to the generated code
/// (or refused), so no model makes the importer allocate without bound.
constexpr int64_t MaxFolded = int64_t(1) << 24;
/// Whether a value of dims `Dims` is small enough to compute here.
bool foldable(llvm::ArrayRef<int64_t> Dims);

/// Decodes an initializer or Constant value: element type, dims and
/// contents (Tensors.cpp). Errors say what is malformed.
llvm::Error decodeTensor(const onnx::TensorProto &T, OnnxType &Elem,
                         Shape &Dims, std::vector<double> &Data);

/// A number as `.nn` source writes it, exactly (a float keeps all the
/// digits an f32 needs); negative numbers in parentheses.
std::string numberText(double V, bool Integer);
/// "[1, 2, 3]" / "[[1, 2], [3, 4]]": a tensor literal of `Data`.
std::string literalText(const std::vector<double> &Data, const Shape &Dims,
                        bool Integer);
/// "[2, 3]".
std::string dimsText(llvm::ArrayRef<int64_t> Dims);

} // namespace nnc::onnx_import

#endif
