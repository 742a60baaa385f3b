//===- Sema.h - From AST to typed graphs ----------------------------------===//
//
// Semantic analysis turns a parsed File into a Module (Graph/Module.h): one
// Graph per `model` (names resolved, `fn` calls expanded, every value shape-
// and dtype-checked with NumPy broadcasting, built-ins decomposed into the
// primitive ops of Ops.def as docs/language.md states) and one TrainConfig per
// `train` block (validated, paths resolved against the `.nn` file's folder).
// Errors go to the DiagEngine; analysis continues past independent errors.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_SEMA_SEMA_H
#define NNC_SEMA_SEMA_H

#include "nnc/Graph/Module.h"
#include "nnc/Parse/AST.h"
#include "nnc/Support/Diagnostics.h"

#include <memory>

namespace nnc {

/// Checks `File` and builds its graphs. Returns null if any error was
/// reported. `BaseDir` is the folder relative data paths resolve against.
std::unique_ptr<Module> analyze(const ast::File &File, DiagEngine &Diags,
                                llvm::StringRef BaseDir);

} // namespace nnc

#endif
