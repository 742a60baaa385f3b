//===- OpTable.cpp - Each op of the table and its ONNX translation --------===//
//
// One switch over every op of Ops.def, without `default`: a new op does
// not compile until it says how it is exported (or why it is not). Ops
// with an ONNX operator of the same meaning name it here; the others have
// a handler in Ops*.cpp, whose comment gives the translation. Ops that
// only the backward pass, the optimizer or train mode create never reach a
// forward graph in eval mode; they are a diagnostic all the same, naming
// the op at its source line.
//
//===----------------------------------------------------------------------===//
#include "Exporter.h"

using namespace nnc;
using namespace nnc::onnx_export;

/// `Op(operands...)`: an operator of the op's meaning, with its operands
/// (NumPy broadcasting, as ONNX's) and no attributes.
static bool direct(Exporter &E, const Node &N, llvm::StringRef Op) {
  E.same(N, Op);
  return true;
}

bool onnx_export::exportNode(Exporter &E, const Node &N) {
  switch (N.Kind) {
  // Leaves are values, not nodes: graph inputs, initializers and constants
  // (Exporter.cpp).
  case OpKind::Input:
  case OpKind::Param:
  case OpKind::Buffer:
  case OpKind::Const:
    return true;
  case OpKind::Target:
    return E.unsupported(N, "a target is no input of an inference graph");
  case OpKind::State:
  case OpKind::Hyper:
    return E.unsupported(N, "it belongs to the training step");

  // One operator of the same meaning.
  case OpKind::Neg:
    return direct(E, N, "Neg");
  case OpKind::Exp:
    return direct(E, N, "Exp");
  case OpKind::Log:
    return direct(E, N, "Log");
  case OpKind::Sqrt:
    return direct(E, N, "Sqrt");
  case OpKind::Abs:
    return direct(E, N, "Abs");
  case OpKind::Sin:
    return direct(E, N, "Sin");
  case OpKind::Cos:
    return direct(E, N, "Cos");
  case OpKind::Tanh:
    return direct(E, N, "Tanh");
  case OpKind::Sigmoid:
    return direct(E, N, "Sigmoid");
  case OpKind::Relu:
    return direct(E, N, "Relu");
  case OpKind::Softplus:
    return direct(E, N, "Softplus");
  case OpKind::Erf:
    return direct(E, N, "Erf");
  case OpKind::Add:
    return direct(E, N, "Add");
  case OpKind::Sub:
    return direct(E, N, "Sub");
  case OpKind::Mul:
    return direct(E, N, "Mul");
  case OpKind::Div:
    return direct(E, N, "Div");
  case OpKind::Pow:
    return direct(E, N, "Pow");
  case OpKind::Max:
    return direct(E, N, "Max");
  case OpKind::Min:
    return direct(E, N, "Min");
  case OpKind::MatMul:
    return direct(E, N, "MatMul");

  // OpsElementwise.cpp
  case OpKind::LeakyRelu:
    return exportAlpha(E, N, "LeakyRelu");
  case OpKind::Elu:
    return exportAlpha(E, N, "Elu");
  case OpKind::Step:
    return exportStep(E, N);
  case OpKind::Sign:
    return exportSign(E, N);
  case OpKind::Gelu:
    return exportGelu(E, N);
  case OpKind::Silu:
    return exportSilu(E, N);
  case OpKind::Cast:
    return exportCast(E, N);
  case OpKind::CmpEq:
    return exportCompare(E, N, "Equal", /*Negate=*/false);
  case OpKind::CmpNe:
    return exportCompare(E, N, "Equal", /*Negate=*/true);
  case OpKind::CmpLt:
    return exportCompare(E, N, "Less", /*Negate=*/false);
  case OpKind::CmpLe:
    return exportCompare(E, N, "LessOrEqual", /*Negate=*/false);
  case OpKind::CmpGt:
    return exportCompare(E, N, "Greater", /*Negate=*/false);
  case OpKind::CmpGe:
    return exportCompare(E, N, "GreaterOrEqual", /*Negate=*/false);

  // OpsTensor.cpp
  case OpKind::ReduceSum:
    return exportReduce(E, N, "ReduceSum");
  case OpKind::ReduceMax:
    return exportReduce(E, N, "ReduceMax");
  case OpKind::ArgMax:
    return exportArgMax(E, N);
  case OpKind::ChannelSum:
    return exportChannelSum(E, N);
  case OpKind::Reshape:
    return exportReshape(E, N);
  case OpKind::Broadcast:
    return exportBroadcast(E, N);
  case OpKind::Transpose:
    return exportTranspose(E, N);
  case OpKind::Permute:
    return exportPermute(E, N);
  case OpKind::Slice:
    return exportSlice(E, N);
  case OpKind::Concat:
    return exportConcat(E, N);
  case OpKind::Softmax:
    return exportSoftmax(E, N, "Softmax");
  case OpKind::LogSoftmax:
    return exportSoftmax(E, N, "LogSoftmax");
  case OpKind::OneHot:
    return exportOneHot(E, N);

  // OpsNN.cpp
  case OpKind::Conv2d:
    return exportConv2d(E, N);
  case OpKind::MaxPool2d:
    return exportPool2d(E, N, "MaxPool");
  case OpKind::AvgPool2d:
    return exportPool2d(E, N, "AveragePool");
  case OpKind::BatchNorm:
    return exportBatchNorm(E, N);
  case OpKind::Dropout: // eval mode: the identity; users read the operand
    return true;

  // Created by the backward pass and train mode only.
  case OpKind::ArgMaxMask:
  case OpKind::Conv2dGradInput:
  case OpKind::Conv2dGradWeight:
  case OpKind::MaxPool2dGrad:
  case OpKind::AvgPool2dGrad:
    return E.unsupported(N, "it belongs to the backward pass");
  case OpKind::DropoutMask:
    return E.unsupported(N, "it draws random numbers in train mode");
  }
  return E.unsupported(N, "unknown op");
}
