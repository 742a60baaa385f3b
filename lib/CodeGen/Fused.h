//===- Fused.h - Kernels of several nodes (the `fuse` partition) ----------===//
//
// Private to the code generator. After the `fuse` graph pass, nodes sharing
// a `Node::Kernel` id are computed by one generated function with one loop
// nest (see lib/Transforms/Fusion.cpp for the partition rules). Per entry
// point, `buildUnits` turns the nodes that entry needs into *units* — a
// fused kernel or a single node — in an order that respects every
// dependency, and says which member values leave each unit (and so need a
// buffer) and which buffers it reads (Fused.cpp). `emitFusedKernel` writes
// the function of a unit of several nodes (FusedKernel.cpp):
//
//   void @k<N>.fused.<ops>(ptr noalias %out0, ..., ptr noalias readonly %in0,
//   ...)
//
// One pointer per output that has a buffer of its own, then one per input
// buffer; an output the memory plan computes in place (over an input that
// dies in this kernel) is stored through that input's pointer. A kernel
// that tests an update's new value it stores (NonFinite.h) takes the
// entry's flag last.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_CODEGEN_FUSED_H
#define NNC_LIB_CODEGEN_FUSED_H

#include "nnc/Graph/Graph.h"

#include <llvm/ADT/STLFunctionalExtras.h>
#include <llvm/ADT/SmallPtrSet.h>
#include <llvm/ADT/SmallVector.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/Error.h>

#include <string>
#include <vector>

namespace nnc::codegen {

/// One kernel of an entry point.
struct KernelUnit {
  /// The nodes it computes, in topological order.
  std::vector<const Node *> Members;
  /// The member with a loop structure of its own (matmul, reduce, ...), if
  /// any; every other member is elementwise.
  const Node *Anchor = nullptr;
  /// The members the anchor reads through, computed on the fly.
  llvm::SmallPtrSet<const Node *, 8> Prologue;
  /// Members read outside the unit (or written to a result slot), in
  /// member order; these get buffers.
  std::vector<const Node *> Outputs;
  /// The buffers the unit reads (nodes outside it; never immediates).
  std::vector<const Node *> Inputs;
  /// Per output: the index of the input whose buffer it overwrites in
  /// place (set by the memory plan), or -1 for a buffer of its own.
  std::vector<int> InPlace;
  /// When the anchor's result is not an output, the output whose buffer
  /// holds it until the epilogue overwrites it element by element; -1 if
  /// the anchor is itself an output (or there is no anchor).
  int AnchorBuffer = -1;
  /// Per output: whether it is the new value of a param, state or buffer,
  /// whose NaNs and infinities the entry point reports (NonFinite.h); set
  /// by the entry point (empty: none is).
  std::vector<bool> Checked;

  bool isFused() const { return Members.size() > 1; }
  bool checked(unsigned OutIdx) const {
    return OutIdx < Checked.size() && Checked[OutIdx];
  }
};

/// The units of one entry point. `Order` is every node the entry needs, in
/// topological order; `HasKernel` tells which of them are computed (not
/// leaves or aliases); `IsResult` which are copied into result slots.
/// Units run in the returned order. A kernel that is illegal by
/// `planKernel` (KernelPartition.h) or cyclic kernels are an internal error:
/// the verifier rejects such partitions, and passes that rewrite the graph
/// after `fuse` drop the partition (PassManager.cpp).
llvm::Expected<std::vector<KernelUnit>>
buildUnits(llvm::ArrayRef<const Node *> Order,
           llvm::function_ref<bool(const Node *)> HasKernel,
           llvm::function_ref<bool(const Node *)> IsResult);

/// Indices of the inputs output `OutIdx` of `U` may overwrite in place:
/// inputs read only by elementwise members at the output's own index (so
/// each element is read before the same element is written) and of the
/// output's size.
llvm::SmallVector<unsigned, 2> inPlaceCandidates(const KernelUnit &U,
                                                 unsigned OutIdx);

/// FusedKernel.cpp: the function of a unit of several nodes, named `Name`.
llvm::Function *emitFusedKernel(llvm::Module &M, const KernelUnit &U,
                                const std::string &Name);

} // namespace nnc::codegen

#endif
