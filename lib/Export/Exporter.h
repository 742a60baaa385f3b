//===- Exporter.h - Internals of the ONNX exporter ------------------------===//
//
// The state the exporter's files share. One Exporter translates one forward
// graph, node by node in the graph's (topological) order, into the nodes of
// an ONNX GraphProto:
//   Exporter.cpp   the walk: live nodes, inputs, initializers, nodes,
//                  outputs, value infos, the ModelProto around them
//   Names.cpp      which ONNX value name each nnc value gets
//   Protos.cpp     element types, tensors, value infos, attributes
//   OpTable.cpp    the one switch over the op table: each op's handler
//   Ops*.cpp       the handlers, one group per file
// A handler reads its operands with `operand`, writes the node's result
// under `result`, and makes the helper values it needs (shape constants,
// booleans before a cast) with `constInts`, `scalar` and `helper`, whose
// names are the result's name plus a role (`probs.shape`).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_EXPORT_EXPORTER_H
#define NNC_LIB_EXPORT_EXPORTER_H

#include "nnc/Export/Onnx.h"

#include <onnx/onnx_pb.h>

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/DenseSet.h>
#include <llvm/ADT/StringSet.h>
#include <llvm/ADT/Twine.h>

#include <optional>
#include <string>
#include <vector>

namespace nnc::onnx_export {

using OnnxType = int32_t; ///< onnx::TensorProto_DataType

/// The ONNX element type nnc computes `T` in: FLOAT or INT32.
OnnxType onnxType(DType T);
/// The ONNX element type a tensor file stores an input or output in:
/// `Stored`, or the computed type `Native` for FileType::Native.
OnnxType onnxType(FileType Stored, DType Native);

/// A TensorProto of type `Elem` and shape `Dims` holding `Bytes`
/// (little-endian, row-major).
void fillTensor(onnx::TensorProto &T, OnnxType Elem,
                llvm::ArrayRef<int64_t> Dims, llvm::StringRef Bytes);
/// The same for an nnc tensor (f32 or i32).
void fillTensor(onnx::TensorProto &T, const Tensor &V);
/// Sets `Info` to a tensor of `Elem` and static shape `Dims`.
void setValueInfo(onnx::ValueInfoProto &Info, const std::string &Name,
                  OnnxType Elem, llvm::ArrayRef<int64_t> Dims);

class Exporter {
public:
  Exporter(const Graph &G, const WeightBits &Weights,
           const OnnxExportOptions &Options, DiagEngine &Diags);

  /// The serialized model, or nullopt after reporting errors.
  std::optional<std::string> run();

  // For the op handlers.

  /// The ONNX value holding operand `I` of `N` (a constant operand is
  /// emitted at its first use).
  std::string operand(const Node &N, unsigned I);
  /// The value name `N`'s result must be written under.
  const std::string &result(const Node &N) const;
  /// Appends a node reading `Inputs` and writing `Outputs`; its doc string
  /// is the source location of the nnc node being translated.
  onnx::NodeProto &emit(llvm::StringRef OpType,
                        llvm::ArrayRef<std::string> Inputs,
                        llvm::ArrayRef<std::string> Outputs);
  /// `Op(operands of N...)` into `N`'s result: the ops with an ONNX
  /// operator of the same meaning.
  onnx::NodeProto &same(const Node &N, llvm::StringRef Op);
  /// A fresh name for a helper value of the node being translated:
  /// `RESULT.Role`.
  std::string helper(llvm::StringRef Role);
  /// A Constant of INT64 values (1-D; a scalar with `Scalar`), named as
  /// `helper(Role)`: shapes, axes, slice bounds.
  std::string constInts(llvm::StringRef Role, llvm::ArrayRef<int64_t> V,
                        bool Scalar = false);
  /// A Constant holding `V`, named as `helper(Role)`.
  std::string constTensor(llvm::StringRef Role, const Tensor &V);
  /// A 0-D Constant of element type `T` holding `V`.
  std::string scalar(llvm::StringRef Role, double V, DType T = DType::F32);
  /// Reports that `N` has no ONNX translation (`Why` says what it is) and
  /// returns false.
  bool unsupported(const Node &N, const llvm::Twine &Why);

private:
  bool collectLive();
  void nameValues();
  void declareInputs();
  bool declareInitializers();
  void declareOutputs();
  void declareValueInfos();
  /// The ONNX value holding `N`'s result; a constant is emitted here at its
  /// first use, under `helper(Role)` unless it has a name already.
  std::string value(const Node *N, llvm::StringRef Role);
  /// The name of the file `Loc` points into (node doc strings).
  std::string sourceName(SourceLoc Loc) const;
  /// A fresh value name: `Base`, else `Base.1`, `Base.2`, ...
  std::string fresh(const std::string &Base);
  /// The node whose value `N` is: `N`, or for an op that computes nothing
  /// in eval mode (dropout) the value it passes on.
  static const Node *resolve(const Node *N);

  const Graph &G;
  const WeightBits &Weights;
  const OnnxExportOptions &Options;
  DiagEngine &Diags;
  onnx::ModelProto Model;
  onnx::GraphProto *Out = nullptr;
  /// Nodes the outputs read, directly or not.
  llvm::DenseSet<const Node *> Live;
  /// The ONNX value name of each live node's result.
  llvm::DenseMap<const Node *, std::string> Names;
  /// Constant leaves already emitted (at their first use).
  llvm::DenseSet<const Node *> Emitted;
  llvm::StringSet<> Used;
  const Node *Current = nullptr;
};

/// Translates `N` into ONNX nodes (OpTable.cpp). Returns false after a
/// diagnostic.
bool exportNode(Exporter &E, const Node &N);

// Handlers of the ops without a one-operator translation (Ops*.cpp).
bool exportStep(Exporter &E, const Node &N);
bool exportSign(Exporter &E, const Node &N);
bool exportGelu(Exporter &E, const Node &N);
bool exportSilu(Exporter &E, const Node &N);
bool exportCast(Exporter &E, const Node &N);
bool exportAlpha(Exporter &E, const Node &N, llvm::StringRef Op);
/// `Op` (a comparison giving BOOL), negated with `Negate`, cast to f32.
bool exportCompare(Exporter &E, const Node &N, llvm::StringRef Op, bool Negate);
bool exportReduce(Exporter &E, const Node &N, llvm::StringRef Op);
bool exportArgMax(Exporter &E, const Node &N);
bool exportChannelSum(Exporter &E, const Node &N);
bool exportReshape(Exporter &E, const Node &N);
bool exportBroadcast(Exporter &E, const Node &N);
bool exportTranspose(Exporter &E, const Node &N);
bool exportPermute(Exporter &E, const Node &N);
bool exportSlice(Exporter &E, const Node &N);
bool exportConcat(Exporter &E, const Node &N);
bool exportSoftmax(Exporter &E, const Node &N, llvm::StringRef Op);
bool exportOneHot(Exporter &E, const Node &N);
bool exportConv2d(Exporter &E, const Node &N);
bool exportPool2d(Exporter &E, const Node &N, llvm::StringRef Op);
bool exportBatchNorm(Exporter &E, const Node &N);

// Attributes of the node being built.
void setInt(onnx::NodeProto &N, llvm::StringRef Name, int64_t V);
void setFloat(onnx::NodeProto &N, llvm::StringRef Name, float V);
void setInts(onnx::NodeProto &N, llvm::StringRef Name,
             llvm::ArrayRef<int64_t> V);

} // namespace nnc::onnx_export

#endif
