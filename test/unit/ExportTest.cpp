//===- ExportTest.cpp - The ONNX exporter on hand-built graphs ------------===//
//
// The lit tests (test/Export) export `.nn` models and check them with
// Python's onnx.checker and by importing them back. Here, what no `.nn`
// file reaches: every op of the table either has a translation or is a
// located diagnostic (backward, optimizer and train-mode ops never occur
// in a forward graph); the ModelProto's fields as the protobuf classes
// read them back; and a weight the caller did not supply.
//
//===----------------------------------------------------------------------===//
#include "nnc/Export/Onnx.h"

#include <llvm/Support/MemoryBuffer.h>
#include <onnx/onnx_pb.h>

#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <set>

using namespace nnc;

namespace {

TensorType f32(llvm::ArrayRef<int64_t> Dims) {
  return TensorType(DType::F32, Dims);
}

/// model m { input x : f32[4, 3]; param W : f32[3, 2]; output y = x @ W }
struct Model {
  Graph G{"m"};
  Node *X, *W, *Y;
  WeightBits Weights;

  Model() {
    X = leaf(OpKind::Input, f32({4, 3}), "x", G.Inputs);
    W = leaf(OpKind::Param, f32({3, 2}), "W", G.Params);
    Y = G.create(OpKind::MatMul, f32({4, 2}), {X, W});
    Y->Name = "y";
    G.Outputs.push_back({"y", Y, {}});
    G.BatchSize = 4;
    for (int I = 0; I < 6; ++I)
      Weights[W].push_back(std::bit_cast<uint32_t>(float(I) / 4));
  }
  Node *leaf(OpKind K, TensorType T, const char *Name,
             std::vector<Node *> &List) {
    Node *N = G.create(K, std::move(T), {});
    N->Name = Name;
    List.push_back(N);
    return N;
  }
};

/// Exports `G`; the diagnostics go to `Err`.
std::optional<onnx::ModelProto> exportModel(const Graph &G,
                                            const WeightBits &Weights,
                                            std::string &Err,
                                            DiagEngine *Engine = nullptr) {
  llvm::raw_string_ostream OS(Err);
  DiagEngine Own(OS);
  DiagEngine &Diags = Engine ? *Engine : Own;
  OnnxExportOptions Options;
  Options.Source = "m.nn";
  Options.ProducerVersion = "9.9.9";
  std::optional<std::string> Bytes = exportOnnx(G, Weights, Options, Diags);
  if (!Bytes)
    return std::nullopt;
  onnx::ModelProto M;
  if (!M.ParseFromString(*Bytes))
    return std::nullopt;
  return M;
}

TEST(Export, ModelFieldsAndInitializers) {
  Model M;
  std::string Err;
  auto P = exportModel(M.G, M.Weights, Err);
  ASSERT_TRUE(P) << Err;
  EXPECT_EQ(P->ir_version(), OnnxExportIrVersion);
  ASSERT_EQ(P->opset_import_size(), 1);
  EXPECT_EQ(P->opset_import(0).domain(), "");
  EXPECT_EQ(P->opset_import(0).version(), OnnxExportOpset);
  EXPECT_EQ(P->producer_name(), "nnc");
  EXPECT_EQ(P->producer_version(), "9.9.9");
  const onnx::GraphProto &G = P->graph();
  EXPECT_EQ(G.name(), "m");
  ASSERT_EQ(G.input_size(), 1);
  EXPECT_EQ(G.input(0).name(), "x");
  const auto &XT = G.input(0).type().tensor_type();
  EXPECT_EQ(XT.elem_type(), onnx::TensorProto::FLOAT);
  ASSERT_EQ(XT.shape().dim_size(), 2);
  EXPECT_EQ(XT.shape().dim(0).dim_value(), 4);
  EXPECT_EQ(XT.shape().dim(1).dim_value(), 3);
  ASSERT_EQ(G.output_size(), 1);
  EXPECT_EQ(G.output(0).name(), "y");
  ASSERT_EQ(G.node_size(), 1);
  EXPECT_EQ(G.node(0).op_type(), "MatMul");
  EXPECT_EQ(G.node(0).input(0), "x");
  EXPECT_EQ(G.node(0).input(1), "W");
  EXPECT_EQ(G.node(0).output(0), "y");
  // The weights' bits, little-endian, as raw data.
  ASSERT_EQ(G.initializer_size(), 1);
  const onnx::TensorProto &W = G.initializer(0);
  EXPECT_EQ(W.name(), "W");
  EXPECT_EQ(W.data_type(), onnx::TensorProto::FLOAT);
  ASSERT_EQ(W.raw_data().size(), 24u);
  float Back[6];
  std::memcpy(Back, W.raw_data().data(), 24);
  for (int I = 0; I < 6; ++I)
    EXPECT_EQ(Back[I], float(I) / 4);
}

TEST(Export, MissingWeightIsAnError) {
  Model M;
  std::string Err;
  EXPECT_FALSE(exportModel(M.G, WeightBits(), Err));
  EXPECT_NE(Err.find("no value for 'W' f32[3, 2] among the weights"),
            std::string::npos)
      << Err;
}

TEST(Export, UnsupportedOpsAreLocatedDiagnostics) {
  // A forward graph never holds these; the exporter names each one at its
  // source line all the same, every one of them in one run.
  Model M;
  std::string Err;
  llvm::raw_string_ostream OS(Err);
  DiagEngine Diags(OS);
  const char *Text = "model m {\n  y = whatever(x)\n  z = other(x)\n}\n";
  unsigned Id = Diags.addBuffer(llvm::MemoryBuffer::getMemBuffer(Text, "m.nn"));
  const char *Start = Diags.bufferText(Id).data();
  Node *Key = M.leaf(OpKind::Hyper, TensorType::scalar(DType::I32),
                     "dropout_key", M.G.Hypers);
  Attrs A;
  A.Rate = 0.5;
  Node *Mask = M.G.create(OpKind::DropoutMask, f32({4, 2}), {Key},
                          Diags.locate(Start + 16), A);
  Node *Z = M.G.create(OpKind::Mul, f32({4, 2}), {M.Y, Mask});
  Attrs Pool;
  Pool.Size = Pool.Stride = 1;
  Node *Img = M.G.create(OpKind::Reshape, f32({4, 2, 1, 1}), {Z});
  Node *Grad = M.G.create(OpKind::AvgPool2dGrad, f32({4, 2, 1, 1}), {Img},
                          Diags.locate(Start + 34), Pool);
  M.G.Outputs = {{"g", Grad, {}}};
  EXPECT_FALSE(exportModel(M.G, M.Weights, Err, &Diags));
  EXPECT_EQ(Diags.errorCount(), 3u) << Err;
  EXPECT_NE(Err.find("m.nn:2:7: error: op 'dropout_mask' has no ONNX "
                     "equivalent (it draws random numbers in train mode), "
                     "so model 'm' cannot be exported"),
            std::string::npos)
      << Err;
  EXPECT_NE(Err.find("op 'hyper' has no ONNX equivalent (it belongs to the "
                     "training step)"),
            std::string::npos)
      << Err;
  EXPECT_NE(Err.find("m.nn:3:7: error: op 'avgpool2d_grad' has no ONNX "
                     "equivalent (it belongs to the backward pass)"),
            std::string::npos)
      << Err;
}

TEST(Export, EveryOpTranslatesOrIsADiagnostic) {
  // Each op of the table alone, on f32[1, 1, 1, 1] operands, as the one
  // output: the exporter translates it or names it, and never crashes. The
  // ops it names are exactly those no forward graph in eval mode holds.
  std::set<std::string> Refused;
  for (unsigned K = 0; K < NumOpKinds; ++K) {
    OpKind Kind = OpKind(K);
    Graph G("m");
    TensorType T = f32({1, 1, 1, 1});
    std::vector<Node *> Ops;
    int Arity = opNumOperands(Kind);
    for (int I = 0; I < (Arity < 0 ? 2 : Arity); ++I) {
      Node *In = G.create(OpKind::Input, T, {});
      In->Name = std::string(1, char('a' + I));
      G.Inputs.push_back(In);
      Ops.push_back(In);
    }
    Attrs A;
    A.Size = A.Stride = 1;
    A.Perm = packPerm(std::array<int64_t, 4>{0, 1, 2, 3}.data(), 4);
    Node *N = G.create(Kind, T, Ops, {}, A);
    N->Name.assign(1, 'n'); // (= "n" trips GCC 12's -Wrestrict)
    if (Kind == OpKind::Target)
      G.Targets.push_back(N);
    G.Outputs.push_back({"n", N, {}});
    WeightBits Weights;
    if (Kind == OpKind::Param || Kind == OpKind::Buffer) {
      (Kind == OpKind::Param ? G.Params : G.Buffers).push_back(N);
      Weights[N] = {0};
    }
    if (Kind == OpKind::Const)
      N->Value = Tensor(T);
    std::string Err;
    if (!exportModel(G, Weights, Err))
      Refused.insert(opSpelling(Kind).str());
  }
  std::set<std::string> Expected = {"target",
                                    "state",
                                    "hyper",
                                    "argmax_mask",
                                    "conv2d_grad_input",
                                    "conv2d_grad_weight",
                                    "maxpool2d_grad",
                                    "avgpool2d_grad",
                                    "dropout_mask"};
  EXPECT_EQ(Refused, Expected);
}

} // namespace
