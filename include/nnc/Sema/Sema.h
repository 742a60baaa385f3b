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

#include <llvm/Support/Error.h>

#include <functional>
#include <memory>

namespace nnc {

/// Reads the tensor `Name` from the tensor file at `Path` (already resolved
/// against the `.nn` file's folder) for a `load(FILE)` initializer
/// (docs/language.md, "Initializers"): f32 or i32 data. Sema does not read
/// files itself (the safetensors reader is the runtime's; the driver joins
/// the two, docs/design.md "Layering"). An error names the file and the
/// reason.
using TensorReader = std::function<llvm::Expected<Tensor>(
    llvm::StringRef Path, llvm::StringRef Name)>;

/// Checks `File` and builds its graphs. Returns null if any error was
/// reported. `BaseDir` is the folder relative data paths resolve against;
/// `Read` reads the tensors of `load(...)` initializers (without it, they
/// are an error).
std::unique_ptr<Module> analyze(const ast::File &File, DiagEngine &Diags,
                                llvm::StringRef BaseDir,
                                TensorReader Read = nullptr);

} // namespace nnc

#endif
