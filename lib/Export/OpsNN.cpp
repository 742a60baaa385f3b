//===- OpsNN.cpp - Convolutions, pools and batchnorm ----------------------===//
//
// The translations (NCHW throughout, as in nnc):
//   conv2d(x, w)   Conv: `kernel_shape` from w, `strides` [s, s], `pads`
//                  [p, p, p, p], no bias, one group
//   maxpool2d      MaxPool, `kernel_shape` [k, k], `strides` [s, s], no
//   avgpool2d      padding (AveragePool: the mean of the whole window)
//   batchnorm      BatchNormalization in inference mode: the running
//                  statistics, `epsilon`, and ONNX's `momentum` (the weight
//                  of the running value, 1 - nnc's momentum, which only
//                  training would use)
//
//===----------------------------------------------------------------------===//
#include "Exporter.h"

using namespace nnc;
using namespace nnc::onnx_export;

bool onnx_export::exportConv2d(Exporter &E, const Node &N) {
  llvm::ArrayRef<int64_t> W = N.operand(1)->dims();
  int64_t S = N.A.Stride, P = N.A.Padding;
  onnx::NodeProto &C = E.same(N, "Conv");
  setInts(C, "kernel_shape", {W[2], W[3]});
  setInts(C, "strides", {S, S});
  setInts(C, "pads", {P, P, P, P});
  return true;
}

bool onnx_export::exportPool2d(Exporter &E, const Node &N, llvm::StringRef Op) {
  int64_t K = N.A.Size, S = N.A.Stride;
  onnx::NodeProto &P = E.same(N, Op);
  setInts(P, "kernel_shape", {K, K});
  setInts(P, "strides", {S, S});
  return true;
}

bool onnx_export::exportBatchNorm(Exporter &E, const Node &N) {
  // Operands: x, gamma, beta, running_mean, running_var — ONNX's X, scale,
  // B, input_mean, input_var.
  onnx::NodeProto &B = E.same(N, "BatchNormalization");
  setFloat(B, "epsilon", float(N.A.Eps));
  setFloat(B, "momentum", float(1 - N.A.Rate));
  return true;
}
