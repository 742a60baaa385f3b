//===- OpsTensor.cpp - Reductions, data movement, softmax, one_hot --------===//
//
// The translations (shapes, axes and bounds are INT64 Constants named
// after the result, `probs.shape`):
//   reduce_sum, reduce_max   ReduceSum (axes an input), ReduceMax (axes an
//                            attribute before opset 18), `keepdims` always
//                            given (ONNX's default keeps them); over all
//                            axes: no axes; of a scalar: Identity
//   argmax                   ArgMax (first maximum, INT64) then Cast<INT32>;
//                            over all axes: of x reshaped to 1-D, the flat
//                            index reshaped to the result
//   channel_sum              ReduceSum over every axis but 1
//   reshape                  Reshape
//   broadcast                Expand
//   transpose, permute       Transpose with `perm`
//   slice                    Slice (one axis, step 1)
//   concat                   Concat
//   softmax, log_softmax     Softmax, LogSoftmax along `axis` (opset 13's
//                            meaning: one axis, not the flattened tail)
//   one_hot(y, n)            Cast<FLOAT>(Equal(Unsqueeze(y, -1), [0..n-1])):
//                            a label outside [0, n) gives a row of zeros, as
//                            in nnc (ONNX's OneHot counts negative labels
//                            from the end)
//
//===----------------------------------------------------------------------===//
#include "Exporter.h"

using namespace nnc;
using namespace nnc::onnx_export;

bool onnx_export::exportReduce(Exporter &E, const Node &N, llvm::StringRef Op) {
  const Node &X = *N.operand(0);
  if (X.Type.isScalar()) {
    E.same(N, "Identity");
    return true;
  }
  std::vector<std::string> Inputs{E.operand(N, 0)};
  bool All = N.A.Axis == ALL_AXES;
  // ReduceSum takes its axes as an input since opset 13, ReduceMax as an
  // attribute until opset 18.
  bool AxesInput = Op == "ReduceSum";
  if (!All && AxesInput)
    Inputs.push_back(E.constInts("axes", {N.A.Axis}));
  onnx::NodeProto &R = E.emit(Op, Inputs, {E.result(N)});
  if (!All && !AxesInput)
    setInts(R, "axes", {N.A.Axis});
  setInt(R, "keepdims", N.A.KeepDims);
  return true;
}

bool onnx_export::exportArgMax(Exporter &E, const Node &N) {
  const Node &X = *N.operand(0);
  std::string In = E.operand(N, 0);
  bool All = N.A.Axis == ALL_AXES;
  if (All && X.Type.rank() != 1) {
    std::string Flat = E.helper("flat");
    E.emit("Reshape", {In, E.constInts("flat_shape", {X.Type.numElements()})},
           {Flat});
    In = Flat;
  }
  std::string Index = E.helper("i64");
  onnx::NodeProto &A = E.emit("ArgMax", {In}, {Index});
  setInt(A, "axis", All ? 0 : N.A.Axis);
  setInt(A, "keepdims", All ? 0 : int64_t(N.A.KeepDims));
  if (All && !N.Type.isScalar()) {
    std::string Shaped = E.helper("shaped");
    E.emit("Reshape", {Index, E.constInts("shape", N.dims())}, {Shaped});
    Index = Shaped;
  }
  setInt(E.emit("Cast", {Index}, {E.result(N)}), "to",
         onnx::TensorProto::INT32);
  return true;
}

bool onnx_export::exportChannelSum(Exporter &E, const Node &N) {
  std::vector<int64_t> Axes{0};
  for (unsigned I = 2; I < N.operand(0)->Type.rank(); ++I)
    Axes.push_back(I);
  std::string X = E.operand(N, 0);
  setInt(E.emit("ReduceSum", {X, E.constInts("axes", Axes)}, {E.result(N)}),
         "keepdims", 0);
  return true;
}

bool onnx_export::exportReshape(Exporter &E, const Node &N) {
  // Dimensions are positive (docs/language.md), so no 0 in the shape asks
  // for Reshape's copy of the input's dimension.
  std::string X = E.operand(N, 0);
  E.emit("Reshape", {X, E.constInts("shape", N.dims())}, {E.result(N)});
  return true;
}

bool onnx_export::exportBroadcast(Exporter &E, const Node &N) {
  std::string X = E.operand(N, 0);
  E.emit("Expand", {X, E.constInts("shape", N.dims())}, {E.result(N)});
  return true;
}

bool onnx_export::exportTranspose(Exporter &E, const Node &N) {
  setInts(E.same(N, "Transpose"), "perm", {1, 0});
  return true;
}

bool onnx_export::exportPermute(Exporter &E, const Node &N) {
  std::vector<int64_t> Perm;
  for (unsigned K = 0; K < N.Type.rank(); ++K)
    Perm.push_back(permAxis(N.A.Perm, K));
  setInts(E.same(N, "Transpose"), "perm", Perm);
  return true;
}

bool onnx_export::exportSlice(Exporter &E, const Node &N) {
  std::string X = E.operand(N, 0);
  std::string Starts = E.constInts("starts", {N.A.Offset});
  std::string Ends = E.constInts("ends", {N.A.Offset + N.A.Size});
  std::string Axes = E.constInts("axes", {N.A.Axis});
  E.emit("Slice", {X, Starts, Ends, Axes}, {E.result(N)});
  return true;
}

bool onnx_export::exportConcat(Exporter &E, const Node &N) {
  setInt(E.same(N, "Concat"), "axis", N.A.Axis);
  return true;
}

bool onnx_export::exportSoftmax(Exporter &E, const Node &N,
                                llvm::StringRef Op) {
  setInt(E.same(N, Op), "axis", N.A.Axis);
  return true;
}

bool onnx_export::exportOneHot(Exporter &E, const Node &N) {
  const Node &Y = *N.operand(0);
  std::string Labels = E.operand(N, 0);
  std::string Column = E.helper("column");
  E.emit("Unsqueeze", {Labels, E.constInts("axes", {int64_t(Y.Type.rank())})},
         {Column});
  Tensor Classes(TensorType(DType::I32, {N.A.Size}));
  for (int64_t I = 0; I < N.A.Size; ++I)
    Classes.I[I] = int32_t(I);
  std::string Hot = E.helper("bool");
  E.emit("Equal", {Column, E.constTensor("classes", Classes)}, {Hot});
  setInt(E.emit("Cast", {Hot}, {E.result(N)}), "to", onnx::TensorProto::FLOAT);
  return true;
}
