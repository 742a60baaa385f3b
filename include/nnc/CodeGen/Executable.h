//===- Executable.h - Linking a model object into an executable -----------===//
//
// `nnc FILE.nn -o EXE` writes the model's object code to temporary files
// (one per part it was compiled in, ParallelCodeGen.h) and links them with
// the runtime library through the system C compiler:
//
//   cc [-fuse-ld=lld] MODEL.0.o MODEL.1.o libnncRuntime.a -lstdc++ -lpng
//      -lz -lm -o EXE
//
// (lld when `ld.lld` is on the PATH, since it links faster).
// The runtime library is looked up next to the running nnc first (the build
// tree layout), then at the path configured when nnc was built.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_CODEGEN_EXECUTABLE_H
#define NNC_CODEGEN_EXECUTABLE_H

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include <string>

namespace nnc {

/// The path of libnncRuntime.a, or an error saying where it was looked for.
/// `Argv0` is the driver's argv[0] (used to find the nnc executable).
llvm::Expected<std::string> findRuntimeLibrary(const char *Argv0);

/// Links `ObjectFiles` with `RuntimeLib` into `ExePath`. The executable
/// appears under its final name only when the link succeeded.
llvm::Error linkExecutable(llvm::ArrayRef<std::string> ObjectFiles,
                           llvm::StringRef RuntimeLib, llvm::StringRef ExePath);

} // namespace nnc

#endif
