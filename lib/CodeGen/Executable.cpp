//===- Executable.cpp - Linking a model object into an executable ---------===//
//
// The system C compiler drives the link because it knows the platform's
// startup files and library paths; we only add the runtime archive and the
// libraries the runtime needs (C++ standard library, libpng for `show
// --images`, zlib for gzip'd IDX files and for libpng, libm), and ask for
// LLVM's linker (lld) when the machine has one, which is faster. The link
// writes a temporary file next to the destination and renames it, so a
// failed or interrupted link never leaves a half-written executable under
// the requested name.
//
//===----------------------------------------------------------------------===//
#include "nnc/CodeGen/Executable.h"

#include <llvm/ADT/SmallString.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/Program.h>

#include <optional>

using namespace llvm;
using namespace nnc;

#ifndef NNC_RUNTIME_LIB
#define NNC_RUNTIME_LIB ""
#endif

Expected<std::string> nnc::findRuntimeLibrary(const char *Argv0) {
  std::vector<std::string> Tried;
  std::string Exe =
      sys::fs::getMainExecutable(Argv0, (void *)&findRuntimeLibrary);
  if (!Exe.empty()) {
    StringRef Dir = sys::path::parent_path(Exe);
    // The build tree (tools/nnc/nnc -> lib/Runtime/), then an install
    // prefix (bin/nnc -> lib/).
    for (const char *Rel :
         {"../../lib/Runtime", "../lib/Runtime", "../lib", "."}) {
      SmallString<256> P(Dir);
      sys::path::append(P, Rel, "libnncRuntime.a");
      sys::path::remove_dots(P, /*remove_dot_dot=*/true);
      if (sys::fs::exists(P))
        return std::string(P);
      Tried.push_back(std::string(P));
    }
  }
  if (*NNC_RUNTIME_LIB) {
    if (sys::fs::exists(NNC_RUNTIME_LIB))
      return std::string(NNC_RUNTIME_LIB);
    Tried.push_back(NNC_RUNTIME_LIB);
  }
  std::string Msg = "cannot find the runtime library libnncRuntime.a (looked "
                    "at";
  for (const std::string &T : Tried)
    Msg += " " + T;
  return createStringError(Msg + ")");
}

Error nnc::linkExecutable(ArrayRef<std::string> ObjectFiles,
                          StringRef RuntimeLib, StringRef ExePath) {
  ErrorOr<std::string> CC = sys::findProgramByName("cc");
  if (!CC)
    return createStringError("cannot link: no C compiler `cc` on the PATH");

  SmallString<256> Temp;
  SmallString<256> Model(ExePath);
  Model += ".tmp-%%%%%%";
  if (std::error_code EC = sys::fs::createUniqueFile(Model, Temp))
    return createStringError("cannot create '%s': %s", Model.c_str(),
                             EC.message().c_str());
  // Quiet: stderr goes nowhere (the retry speaks for both).
  std::optional<StringRef> Quiet[] = {std::nullopt, std::nullopt,
                                      StringRef("")};
  auto Link = [&](bool Gold, std::string &ErrMsg) {
    std::vector<StringRef> Args = {*CC};
    if (Gold)
      Args.push_back("-fuse-ld=gold");
    Args.insert(Args.end(), ObjectFiles.begin(), ObjectFiles.end());
    Args.insert(Args.end(),
                {RuntimeLib, "-lstdc++", "-lpng", "-lz", "-lm", "-o", Temp});
    return sys::ExecuteAndWait(*CC, Args, std::nullopt,
                               Gold ? ArrayRef(Quiet) : std::nullopt, 0, 0,
                               &ErrMsg);
  };
  // GNU gold when it is installed (binutils has it): it links resnet.nn in
  // 0.087 s where LLVM's lld 14 takes 0.12 s (most of it loading libLLVM)
  // and the default GNU ld 0.22 s (Zen 5, with the `cc` driver). If that
  // link fails, the default linker links again and its messages are the
  // ones shown.
  std::string ErrMsg;
  int RC = 1;
  if (sys::findProgramByName("ld.gold"))
    RC = Link(/*Gold=*/true, ErrMsg);
  if (RC != 0) {
    ErrMsg.clear();
    RC = Link(/*Gold=*/false, ErrMsg);
  }
  if (RC != 0) {
    sys::fs::remove(Temp);
    return createStringError("linking '%s' failed%s%s", ExePath.str().c_str(),
                             ErrMsg.empty() ? "" : ": ", ErrMsg.c_str());
  }
  if (std::error_code EC = sys::fs::rename(Temp, ExePath)) {
    sys::fs::remove(Temp);
    return createStringError("cannot write '%s': %s", ExePath.str().c_str(),
                             EC.message().c_str());
  }
  return Error::success();
}
