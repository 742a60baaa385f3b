//===- NumericsCheck.h - Calls of the per-op non-finite check -------------===//
//
// Private to the code generator. With `--check-numerics`
// (LoweringOptions::CheckNumerics) every entry point calls the runtime's
// `nnc_check_numerics` (Runtime/Numerics.h) after each kernel, once per f32
// buffer the kernel wrote, passing the op, the value's name, its `.nn` line
// and the entry point as constant strings. Without the flag the lowering
// never creates a checker, so no call and no string is emitted.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_CODEGEN_NUMERICSCHECK_H
#define NNC_LIB_CODEGEN_NUMERICSCHECK_H

#include "nnc/Graph/Graph.h"

#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/StringMap.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include <string>

namespace nnc::codegen {

/// Emits the checks of one module.
class NumericsChecker {
public:
  /// `File` is the source file's name as the messages should show it.
  NumericsChecker(llvm::Module &M, const Graph &G, std::string File);

  /// After the kernel that wrote `N`'s value at `Ptr`, checks it (f32
  /// values only; an i32 value cannot be non-finite). `Entry` is the entry
  /// point's name as the runtime spells it (`train_step`).
  void emitCheck(llvm::IRBuilder<> &B, const Node &N, llvm::Value *Ptr,
                 llvm::StringRef Entry);

private:
  /// A private constant C string, shared by every check that uses it.
  llvm::Constant *string(llvm::StringRef S);

  llvm::Module &M;
  std::string File;
  /// The names of the graph dumps (`%h`, `%5`, `%h.1`), so that a message
  /// points at the line of `--emit=opt` that computes the value.
  llvm::DenseMap<const Node *, std::string> Names;
  llvm::StringMap<llvm::Constant *> Strings;
};

} // namespace nnc::codegen

#endif
