//===- ConstFold.cpp - Evaluate nodes whose operands are all constants ----===//
//
// Constant folding through the reference evaluator, so a folded value is by
// construction what the interpreter (the project's oracle) computes.
//
// Algorithm:
//   1. Walk the live nodes in topological order. A value is *known* when it
//      is a Const or a broadcast of a known value; Input, Target, Param,
//      State and Hyper are never known (they are set at run time).
//   2. Skip leaves, impure ops (a random draw is not a constant), nodes
//      with an unknown operand, and `broadcast` of a
//      known value: a broadcast of a constant is the compact form of a
//      constant tensor (the splat), and materializing it would only grow
//      the program.
//   3. Splat rule: an elementwise op whose operands are all splats (every
//      element equal) is computed once on the scalars and becomes a splat
//      of the result, whatever the tensor size; a slice or transpose of a
//      splat is a splat of the same scalar.
//   4. Otherwise, if the result and the work stay under the limits
//      (MaxFoldElements, MaxFoldWork), evaluate the op with `evaluateOp`
//      on the operand values, round the result to the node's dtype
//      (f32 or i32), and replace the node by a new Const. Too big: keep the
//      node and say why in a remark.
//   5. Users later in the walk see the new Const as an operand, so chains
//      fold in one run; nodes made dead are left for dce.
//
//===----------------------------------------------------------------------===//
#include "RewriteUtil.h"

#include "nnc/Graph/Evaluator.h"
#include "nnc/Graph/Printer.h"
#include "nnc/Transforms/Passes.h"

#include <llvm/ADT/DenseMap.h>

using namespace nnc;
using namespace nnc::transforms;

namespace {

/// Largest constant folding creates (4 MiB of f32): bigger results would
/// bloat the executable more than computing them at run time costs.
constexpr int64_t MaxFoldElements = int64_t(1) << 20;
/// Largest amount of arithmetic (multiply-adds) spent on one fold, so that
/// compile time stays well under a second per node.
constexpr int64_t MaxFoldWork = int64_t(1) << 26;

class ConstFoldPass : public Pass {
public:
  ConstFoldPass() : Pass("constfold") {}
  bool run(Graph &G) override;

private:
  /// The value of a known node (step 1), or null if it is unknown or too
  /// big to materialize.
  const EvalTensor *valueOf(const Node *N);
  bool foldSplat(Graph &G, Node &N);
  bool foldFull(Graph &G, Node &N);

  llvm::DenseMap<const Node *, EvalTensor> Values;
};

bool isKnown(const Node *N) {
  while (N->Kind == OpKind::Broadcast)
    N = N->operand(0);
  return N->Kind == OpKind::Const;
}

/// A bound on the multiply-adds of evaluating `N`: matmul and convolutions
/// reduce over an inner dimension; everything else touches each operand
/// and result element a small number of times.
int64_t foldWork(const Node &N) {
  int64_t Out = N.Type.numElements();
  if (N.Kind == OpKind::MatMul)
    return Out * N.operand(0)->dims().back();
  if (N.Kind == OpKind::Conv2d || N.Kind == OpKind::Conv2dGradInput ||
      N.Kind == OpKind::Conv2dGradWeight) {
    // Every output element sums over at most a whole operand.
    int64_t Inner = 1;
    for (const Node *Op : N.Operands)
      Inner = std::max(Inner, Op->Type.numElements());
    return Out > MaxFoldWork / Inner ? MaxFoldWork + 1 : Out * Inner;
  }
  int64_t Work = Out;
  for (const Node *Op : N.Operands)
    Work += Op->Type.numElements();
  return Work;
}

/// "0.25", or "a f32[2, 2] constant".
std::string describeConst(const Node &C) {
  if (C.isScalarConst())
    return describeNode(C);
  return "a " + formatType(C.Type) + " constant";
}

} // namespace

const EvalTensor *ConstFoldPass::valueOf(const Node *N) {
  if (auto It = Values.find(N); It != Values.end())
    return &It->second;
  if (N->Type.numElements() > MaxFoldElements)
    return nullptr;
  if (N->Kind == OpKind::Const)
    return &(Values[N] = toEval(N->Value));
  if (N->Kind != OpKind::Broadcast || !isKnown(N))
    return nullptr;
  const EvalTensor *In = valueOf(N->operand(0));
  if (!In)
    return nullptr;
  EvalTensor V = evaluateOp(*N, {In});
  return &(Values[N] = std::move(V));
}

// before: %r = OP (splat a), (splat b) : T
// after:  %r = broadcast (OP a, b) : T     (or the scalar itself for T = [])
// before: %r = slice (splat a) : T         (any index remap)
// after:  %r = broadcast a : T
bool ConstFoldPass::foldSplat(Graph &G, Node &N) {
  bool Remap = isIndexRemap(N.Kind);
  if (!isElementwise(N.Kind) && !Remap)
    return false;
  llvm::SmallVector<EvalTensor, 2> Scalars;
  for (const Node *Op : N.Operands) {
    std::optional<double> S = splatValue(Op);
    if (!S)
      return false;
    Scalars.push_back({TensorType::scalar(Op->dtype()), {*S}});
  }
  // Evaluate the op on scalars: a copy of N typed as a scalar. A remap
  // moves elements that are all equal: the scalar itself.
  Node Scalar(N.Kind, TensorType::scalar(N.dtype()), {}, N.Loc);
  Scalar.A = N.A;
  llvm::SmallVector<const EvalTensor *, 2> Ptrs;
  for (const EvalTensor &S : Scalars)
    Ptrs.push_back(&S);
  Tensor R = fromEval(Remap ? Scalars[0] : evaluateOp(Scalar, Ptrs));
  Node *C = makeScalar(G, R.at(0), N.dtype(), N);
  Node *New =
      N.Type.isScalar() ? C : makeNode(G, OpKind::Broadcast, N.Type, {C}, N);
  remark(N, "folded " + opSpelling(N.Kind) + " to " +
                (N.Type.isScalar() ? describeNode(*C)
                                   : "a broadcast of " + describeNode(*C)));
  replaceNode(G, &N, New);
  count("nodes folded to constants");
  return true;
}

// before: %r = OP %c1, %c2 : T          (every operand a constant)
// after:  %r = const [...] : T          (evaluateOp, rounded to T's dtype)
bool ConstFoldPass::foldFull(Graph &G, Node &N) {
  if (N.Type.numElements() > MaxFoldElements || foldWork(N) > MaxFoldWork) {
    if (remarkOnce(N, "kept " + opSpelling(N.Kind) + " of constants: its " +
                          formatType(N.Type) + " result is too big to fold"))
      count("folds refused (too big)");
    return false;
  }
  llvm::SmallVector<const EvalTensor *, 2> Ops;
  for (const Node *Op : N.Operands) {
    const EvalTensor *V = valueOf(Op);
    if (!V) {
      if (remarkOnce(N, "kept " + opSpelling(N.Kind) +
                            ": an operand is too big to evaluate"))
        count("folds refused (too big)");
      return false;
    }
    Ops.push_back(V);
  }
  Node *C = G.constant(fromEval(evaluateOp(N, Ops)), N.Loc);
  C->Role = N.Role;
  remark(N, "folded " + opSpelling(N.Kind) + " to " + describeConst(*C));
  replaceNode(G, &N, C);
  count("nodes folded to constants");
  return true;
}

bool ConstFoldPass::run(Graph &G) {
  Values.clear();
  llvm::DenseSet<const Node *> Live = liveSet(G);
  bool Changed = false;
  for (Node *N : nodeOrder(G)) {
    if (N->isLeaf() || isImpure(N->Kind) || !Live.count(N))
      continue;
    if (N->Kind == OpKind::Broadcast && isKnown(N))
      continue; // step 2: already a splat (or a broadcast constant)
    if (!llvm::all_of(N->Operands, isKnown))
      continue;
    if (foldSplat(G, *N) || foldFull(G, *N))
      Changed = true;
  }
  if (Changed)
    G.topoSort();
  Values.clear();
  return Changed;
}

std::unique_ptr<Pass> nnc::createConstFoldPass() {
  return std::make_unique<ConstFoldPass>();
}
