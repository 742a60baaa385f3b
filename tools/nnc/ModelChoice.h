//===- ModelChoice.h - Which model of a file a command acts on ------------===//
//
// A `.nn` file may define several models. Commands that act on one (an
// executable, `nnc run`, `--emit=llvm`, `--emit=grad --values`) pick it the
// same way, so that `--model` means the same thing everywhere.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TOOLS_MODELCHOICE_H
#define NNC_TOOLS_MODELCHOICE_H

#include "nnc/Graph/Module.h"
#include "nnc/Support/Diagnostics.h"

#include <llvm/ADT/StringRef.h>

namespace nnc {

/// The model named `Name` (`--model`), else the one with a `train` block,
/// else the only one. Reports an error (naming `Input`, the `.nn` file, or
/// at the file's start when it defines no model at all) and
/// returns null when there is no such model or the choice is ambiguous.
Graph *chooseModel(Module &M, llvm::StringRef Name, llvm::StringRef Input,
                   DiagEngine &Diags);

} // namespace nnc

#endif
