//===- KernelDispatch.cpp - The function that computes each kernel --------===//
//
// Kernels are separate internal `noinline` functions, shared by the entry
// points, so that the optimizer sees each loop nest once (not once per
// entry point), which keeps compile time low, and so that their `noalias`
// arguments carry the no-overlap facts the vectorizer needs. A single
// node's kernel is built by KernelBuilder and the op-group files; the
// dispatch below sends elementwise ops to Elementwise.cpp by their class
// and every other op through one switch over the ops with a kernel of
// their own (KernelOp, Op.h), without `default`, so that a new such op
// makes the compiler point here.
//
//===----------------------------------------------------------------------===//
#include "KernelDispatch.h"

#include "KernelBuilder.h"

using namespace llvm;
using namespace nnc;
using namespace nnc::codegen;

/// The kernel of node `KB.node()`: elementwise ops by their class, every
/// other op by the one switch over the ops with a kernel of their own.
void codegen::emitKernelBody(KernelBuilder &KB) {
  OpKind K = KB.node().Kind;
  assert(!isLeafOp(K) && "leaves have no kernel");
  if (isElementwise(K))
    return emitElementwise(KB);
  switch (*kernelOp(K)) {
  case KernelOp::Reshape: // materialized only when it cannot alias
  case KernelOp::Broadcast:
  case KernelOp::Transpose:
  case KernelOp::Permute:
  case KernelOp::Slice:
    return emitElementwise(KB);
  case KernelOp::Concat:
    return emitConcat(KB);
  case KernelOp::ReduceSum:
    return emitReduce(KB, /*IsMax=*/false);
  case KernelOp::ReduceMax:
    return emitReduce(KB, /*IsMax=*/true);
  case KernelOp::ArgMax:
    return emitArgMax(KB, /*Mask=*/false);
  case KernelOp::ArgMaxMask:
    return emitArgMax(KB, /*Mask=*/true);
  case KernelOp::Softmax:
    return emitSoftmax(KB, /*Log=*/false);
  case KernelOp::LogSoftmax:
    return emitSoftmax(KB, /*Log=*/true);
  case KernelOp::MatMul:
    return emitMatMul(KB);
  case KernelOp::OneHot:
    return emitOneHot(KB);
  case KernelOp::Conv2d:
    return emitConv2d(KB);
  case KernelOp::Conv2dGradInput:
    return emitConv2dGradInput(KB);
  case KernelOp::Conv2dGradWeight:
    return emitConv2dGradWeight(KB);
  case KernelOp::MaxPool2d:
    return emitPool(KB, /*IsMax=*/true);
  case KernelOp::AvgPool2d:
    return emitPool(KB, /*IsMax=*/false);
  case KernelOp::MaxPool2dGrad:
    return emitMaxPoolGrad(KB);
  case KernelOp::AvgPool2dGrad:
    return emitAvgPoolGrad(KB);
  case KernelOp::ChannelSum:
    return emitChannelSum(KB);
  case KernelOp::DropoutMask:
    return emitDropoutMask(KB);
  }
  llvm_unreachable("unknown op kind");
}

bool codegen::storesAreChecked(const Node &N) {
  OpKind K = N.Kind;
  if (isElementwise(K))
    return true;
  switch (*kernelOp(K)) {
  case KernelOp::Reshape:
  case KernelOp::Broadcast:
  case KernelOp::Transpose:
  case KernelOp::Permute:
  case KernelOp::Slice:
  case KernelOp::Concat:
    return true;
  case KernelOp::ReduceSum:
  case KernelOp::ReduceMax:
  case KernelOp::ArgMax:
  case KernelOp::ArgMaxMask:
  case KernelOp::Softmax:
  case KernelOp::LogSoftmax:
  case KernelOp::MatMul:
  case KernelOp::OneHot:
  case KernelOp::Conv2d:
  case KernelOp::Conv2dGradInput:
  case KernelOp::Conv2dGradWeight:
  case KernelOp::MaxPool2d:
  case KernelOp::AvgPool2d:
  case KernelOp::MaxPool2dGrad:
  case KernelOp::AvgPool2dGrad:
  case KernelOp::ChannelSum:
  case KernelOp::DropoutMask:
    return false;
  }
  llvm_unreachable("unknown op kind");
}

bool codegen::kernelChecksOutput(const KernelUnit &U, unsigned OutIdx) {
  if (!U.checked(OutIdx))
    return false;
  const Node *N = U.Outputs[OutIdx];
  // A fused kernel's epilogue tests what it stores; its anchor, and a
  // single node, as their emitters do.
  if (U.isFused() && N != U.Anchor)
    return true;
  return storesAreChecked(*N);
}

bool codegen::kernelReportsNonFinite(const KernelUnit &U) {
  for (unsigned I = 0; I < U.Outputs.size(); ++I)
    if (kernelChecksOutput(U, I))
      return true;
  return false;
}

Function *KernelTable::kernelFor(const KernelUnit &U) {
  return U.isFused() ? fusedKernel(U)
                     : nodeKernel(U.Members[0], kernelReportsNonFinite(U));
}

Function *KernelTable::fusedKernel(const KernelUnit &U) {
  // Entry points may need different outputs of one kernel (grad stops at
  // the gradient, train_step goes on to the update) or plan it in place
  // differently; each variant is its own function.
  std::string Key;
  auto Add = [&](char Tag, const Node *N) {
    Key += Tag + std::to_string(Position.lookup(N));
  };
  for (const Node *N : U.Members)
    Add('m', N);
  for (unsigned I = 0; I < U.Outputs.size(); ++I) {
    Add('o', U.Outputs[I]);
    Key += "p" + std::to_string(U.InPlace[I]);
    if (kernelChecksOutput(U, I))
      Key += "c";
  }
  for (const Node *N : U.Inputs)
    Add('i', N);
  Function *&F = FusedKernels[Key];
  if (F)
    return F;
  std::string Name =
      ("k" + Twine(Position.lookup(U.Members[0])) + ".fused").str();
  for (const Node *N : U.Members)
    Name += "." + opSpelling(N->Kind).str();
  for (const Node *N : U.Outputs)
    if (!N->Name.empty()) {
      Name += "." + N->Name;
      break;
    }
  F = emitFusedKernel(M, U, Name);
  return F;
}

Function *KernelTable::nodeKernel(const Node *N, bool ReportsNonFinite) {
  Function *&F = NodeKernels[{N, ReportsNonFinite}];
  if (F)
    return F;
  KernelAttrs Attrs;
  unsigned NumArgs = 1;
  for (const Node *Op : N->Operands)
    if (!isImmediate(Op))
      Attrs.ReadOnly.push_back(NumArgs++);
  std::string Name =
      ("k" + Twine(Position.lookup(N)) + "." + opSpelling(N->Kind)).str();
  if (!N->Name.empty())
    Name += "." + N->Name;
  // The variant that reports non-finite values has the flag last.
  F = createKernelFunction(M, Name, NumArgs + ReportsNonFinite, Attrs);
  KernelBuilder KB(F, *N, ReportsNonFinite);
  emitKernelBody(KB);
  KB.finish();
  return F;
}
