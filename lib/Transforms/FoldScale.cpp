//===- FoldScale.cpp - Moving a per-channel scale onto the weights --------===//
//
// A product whose every output channel is multiplied by its own factor
// equals the product with each channel's weights multiplied by it:
//
//   mul (conv2d x, w), s      -> conv2d x, (mul w, reshape s to [K, 1, 1, 1])
//       s : [1, K, 1, 1] (or [K, 1, 1]), the result [N, K, H, W]
//   mul (matmul x, W), s      -> matmul x, (mul W, reshape s to [1, N])
//       s : [1, N] (or [N]), the result [M, N]
//
// (either operand order of the mul). This is how eval-mode batchnorm,
// `x * scale + shift` with scale = gamma / sqrt(running_var + eps) along
// axis 1, folds into the conv or linear layer before it: the scale then
// costs K·C·R·S multiplies on the weights instead of one per output
// element, and the layer's result feeds the shift directly. Only a product
// with no other user is rewritten, so no value is computed twice; values
// change by a rounding (the product is scaled before the sum instead of
// after it).
//
//===----------------------------------------------------------------------===//
#include "RewriteUtil.h"

#include "nnc/Transforms/Passes.h"

using namespace nnc;
using namespace nnc::transforms;

namespace {

class FoldScalePass : public Pass {
public:
  FoldScalePass() : Pass("fold-scale") {}
  bool run(Graph &G) override;
};

/// The shape the weights' factor must take for a product `P` scaled by
/// `S`: [K, 1, 1, 1] for conv2d, [1, N] for matmul; nullopt when `S` is
/// not one factor per output channel of `P`.
std::optional<Shape> weightFactorShape(const Node *P, const Node *S) {
  llvm::ArrayRef<int64_t> R = P->dims(), F = S->dims();
  if (S->dtype() != DType::F32 || F.size() > R.size())
    return std::nullopt;
  // The channel axis: 1 of [N, K, H, W], 1 of [M, N].
  unsigned Channel = 1;
  if (P->Kind == OpKind::MatMul && R.size() != 2)
    return std::nullopt;
  // S, right-aligned against the result: 1 everywhere but the channel
  // axis, which is the channel count.
  unsigned Lead = R.size() - F.size();
  for (unsigned I = 0; I < R.size(); ++I) {
    int64_t D = I < Lead ? 1 : F[I - Lead];
    if (D != (I == Channel ? R[I] : 1))
      return std::nullopt;
  }
  if (P->Kind == OpKind::MatMul)
    return Shape{1, R[1]};
  return Shape{R[1], 1, 1, 1};
}

} // namespace

bool FoldScalePass::run(Graph &G) {
  llvm::DenseSet<const Node *> Live = liveSet(G);
  llvm::DenseSet<const Node *> Results = G.resultValues();
  llvm::DenseMap<const Node *, unsigned> Uses;
  for (const auto &N : G.nodes())
    if (Live.count(N.get()))
      for (const Node *Op : N->Operands)
        ++Uses[Op];
  bool Changed = false;
  for (Node *N : nodeOrder(G)) {
    if (N->Kind != OpKind::Mul || !Live.count(N))
      continue;
    for (unsigned I = 0; I < 2; ++I) {
      Node *P = N->operand(I), *S = N->operand(1 - I);
      if ((P->Kind != OpKind::Conv2d && P->Kind != OpKind::MatMul) ||
          P->Type != N->Type || Uses.lookup(P) != 1 || Results.count(P))
        continue;
      std::optional<Shape> FS = weightFactorShape(P, S);
      if (!FS)
        continue;
      Node *W = P->operand(1);
      // A 1-D right operand of matmul is a column: no channel axis to scale.
      if (W->Type.rank() != FS->size())
        continue;
      Node *Factor =
          makeNode(G, OpKind::Reshape, TensorType(DType::F32, *FS), {S}, *N);
      Node *Scaled = makeNode(G, OpKind::Mul, W->Type, {W, Factor}, *N);
      Node *Folded =
          makeNode(G, P->Kind, P->Type, {P->operand(0), Scaled}, *P, P->A);
      remark(*N, "folded the per-channel scale into the weights of " +
                     describeNode(*P));
      count("scales folded into weights");
      replaceNode(G, N, Folded);
      Changed = true;
      break;
    }
  }
  if (Changed)
    G.topoSort();
  return Changed;
}

std::unique_ptr<Pass> nnc::createFoldScalePass() {
  return std::make_unique<FoldScalePass>();
}
