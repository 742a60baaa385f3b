//===- OpsElementwise.cpp - Elementwise ops without a one-to-one operator -===//
//
// The translations (x the operand; ONNX's comparisons give BOOL, nnc's f32
// 0/1, hence the casts):
//   leaky_relu, elu   LeakyRelu, Elu with `alpha`
//   step(x)           Cast<FLOAT>(Greater(x, 0))        (1 if x > 0 else 0)
//   sign(x)           Where(Greater(x, 0), 1, -1)       (ONNX's Sign(0) is 0,
//                                                        nnc's -1)
//   gelu(x)           x (1 + Erf(x / sqrt 2)) / 2       (ONNX has Gelu from
//                                                        opset 20 only)
//   silu(x)           x Sigmoid(x)
//   cast              Cast<FLOAT or INT32>
//   eq lt le gt ge    Cast<FLOAT>(Equal / Less / LessOrEqual / Greater /
//                     GreaterOrEqual)
//   ne                Cast<FLOAT>(Not(Equal))
// NaN compares as it does in nnc: every comparison but `ne` is false.
//
//===----------------------------------------------------------------------===//
#include "Exporter.h"

#include <numbers>

using namespace nnc;
using namespace nnc::onnx_export;

bool onnx_export::exportAlpha(Exporter &E, const Node &N, llvm::StringRef Op) {
  setFloat(E.same(N, Op), "alpha", float(N.A.Alpha));
  return true;
}

bool onnx_export::exportStep(Exporter &E, const Node &N) {
  std::string X = E.operand(N, 0);
  std::string Positive = E.helper("positive");
  E.emit("Greater", {X, E.scalar("zero", 0)}, {Positive});
  setInt(E.emit("Cast", {Positive}, {E.result(N)}), "to",
         onnx::TensorProto::FLOAT);
  return true;
}

bool onnx_export::exportSign(Exporter &E, const Node &N) {
  std::string X = E.operand(N, 0);
  std::string Positive = E.helper("positive");
  E.emit("Greater", {X, E.scalar("zero", 0)}, {Positive});
  E.emit("Where", {Positive, E.scalar("one", 1), E.scalar("minus_one", -1)},
         {E.result(N)});
  return true;
}

bool onnx_export::exportGelu(Exporter &E, const Node &N) {
  // As PyTorch exports its exact GELU before opset 20.
  std::string X = E.operand(N, 0);
  std::string Scaled = E.helper("scaled"), Erf = E.helper("erf");
  std::string Phi2 = E.helper("phi2"), Times = E.helper("times");
  E.emit("Div", {X, E.scalar("sqrt2", std::numbers::sqrt2)}, {Scaled});
  E.emit("Erf", {Scaled}, {Erf});
  E.emit("Add", {Erf, E.scalar("one", 1)}, {Phi2});
  E.emit("Mul", {X, Phi2}, {Times});
  E.emit("Mul", {Times, E.scalar("half", 0.5)}, {E.result(N)});
  return true;
}

bool onnx_export::exportSilu(Exporter &E, const Node &N) {
  std::string X = E.operand(N, 0);
  std::string Sigmoid = E.helper("sigmoid");
  E.emit("Sigmoid", {X}, {Sigmoid});
  E.emit("Mul", {X, Sigmoid}, {E.result(N)});
  return true;
}

bool onnx_export::exportCast(Exporter &E, const Node &N) {
  setInt(E.same(N, "Cast"), "to", onnxType(N.dtype()));
  return true;
}

bool onnx_export::exportCompare(Exporter &E, const Node &N, llvm::StringRef Op,
                                bool Negate) {
  std::string A = E.operand(N, 0), B = E.operand(N, 1);
  std::string Bool = E.helper("bool");
  E.emit(Op, {A, B}, {Bool});
  if (Negate) {
    std::string Not = E.helper("not");
    E.emit("Not", {Bool}, {Not});
    Bool = Not;
  }
  setInt(E.emit("Cast", {Bool}, {E.result(N)}), "to", onnx::TensorProto::FLOAT);
  return true;
}
