//===- KernelDispatch.h - The function that computes each kernel ----------===//
//
// Private to the code generator. Every unit an entry point runs (Fused.h)
// is one call of an internal kernel function, and entry points share them:
// `KernelTable` creates each function the first time a unit needs it. A
// single node's kernel is `@k<N>.<op>[.<name>]`, its body chosen by
// `emitKernelBody` (elementwise ops by their class, the others by one
// switch over KernelOp); a fused kernel is `@k<N>.fused.<ops>[.<name>]`
// (FusedKernel.cpp), one function per variant (which members an entry
// point stores, which outputs it computes in place). `k<N>` is the position
// of the unit's first node in the graph.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_CODEGEN_KERNELDISPATCH_H
#define NNC_LIB_CODEGEN_KERNELDISPATCH_H

#include "Fused.h"

#include <llvm/ADT/DenseMap.h>
#include <llvm/IR/Module.h>

#include <map>
#include <string>

namespace nnc::codegen {

class KernelBuilder;

/// The body of `KB.node()`'s own kernel, by its op; fused kernels call it
/// for their anchor.
void emitKernelBody(KernelBuilder &KB);

/// True when the kernel of `N` (alone, or as a fused kernel's anchor)
/// tests the values it stores when asked (KernelBuilder::noteStored):
/// elementwise ops, copies and concat. Any other kernel's new value of a
/// param is tested by a pass over its buffer (NonFinite.h).
bool storesAreChecked(const Node &N);

/// True when the kernel of `U` itself tests output `OutIdx`, a checked one
/// (KernelUnit::Checked): an epilogue member of a fused kernel, or the
/// result of a kernel whose stores are checked.
bool kernelChecksOutput(const KernelUnit &U, unsigned OutIdx);

/// True when the kernel of `U` tests some output itself, and so takes the
/// entry's non-finite flag as its last argument.
bool kernelReportsNonFinite(const KernelUnit &U);

/// The kernel functions of one module.
class KernelTable {
public:
  /// `Position` numbers the graph's nodes, for the kernels' names.
  KernelTable(llvm::Module &M,
              const llvm::DenseMap<const Node *, unsigned> &Position)
      : M(M), Position(Position) {}

  /// The function that computes `U`. A single node's takes its result
  /// buffer, then one buffer per operand that is not an immediate
  /// (KernelBuilder.h); a fused kernel's is laid out in Fused.h. Both take
  /// the entry's non-finite flag last when kernelReportsNonFinite(U).
  llvm::Function *kernelFor(const KernelUnit &U);

private:
  llvm::Function *nodeKernel(const Node *N, bool ReportsNonFinite);
  llvm::Function *fusedKernel(const KernelUnit &U);

  llvm::Module &M;
  const llvm::DenseMap<const Node *, unsigned> &Position;
  /// By node, and whether the kernel reports non-finite values.
  std::map<std::pair<const Node *, bool>, llvm::Function *> NodeKernels;
  /// By variant: members, outputs with their in-place inputs, inputs.
  std::map<std::string, llvm::Function *> FusedKernels;
};

} // namespace nnc::codegen

#endif
