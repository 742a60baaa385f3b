//===- Passes.h - Factories and registry of the graph passes --------------===//
//
// One factory per pass (one .cpp per pass in lib/Transforms), expanded from
// the registry Passes.def, plus name lookup for `--passes=`.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TRANSFORMS_PASSES_H
#define NNC_TRANSFORMS_PASSES_H

#include "nnc/Transforms/Pass.h"

#include <llvm/ADT/StringRef.h>

#include <memory>
#include <string>
#include <vector>

namespace nnc {

#define NNC_PASS(Spelling, Factory, Summary) std::unique_ptr<Pass> Factory();
#include "nnc/Transforms/Passes.def"

/// A registry entry.
struct PassInfo {
  llvm::StringRef Name;
  llvm::StringRef Summary;
  std::unique_ptr<Pass> (*Create)();
};

/// Every registered pass, in Passes.def order.
llvm::ArrayRef<PassInfo> registeredPasses();
/// The pass named `Name`, or null.
std::unique_ptr<Pass> createPassByName(llvm::StringRef Name);
/// "simplify, constfold, cse, dce": for error messages.
std::string registeredPassNames();

} // namespace nnc

#endif
