//===- Diagnostics.h - User-facing error reporting ------------------------===//
//
// One engine for every user error of the compiler. Messages print as
//
//   FILE:LINE:COL: error: MESSAGE
//   <the source line>
//          ^
//
// through llvm::SourceMgr. Stages report and keep going where that makes
// sense (several independent errors per run); the driver checks
// `hadErrors()` between stages and exits with status 1. Compiler bugs are
// asserts, never diagnostics.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_SUPPORT_DIAGNOSTICS_H
#define NNC_SUPPORT_DIAGNOSTICS_H

#include "nnc/Support/SourceLoc.h"

#include <llvm/ADT/StringRef.h>
#include <llvm/ADT/Twine.h>
#include <llvm/Support/SourceMgr.h>
#include <llvm/Support/raw_ostream.h>

#include <memory>

namespace nnc {

class DiagEngine {
public:
  /// Diagnostics go to `OS` (stderr by default).
  explicit DiagEngine(llvm::raw_ostream &OS = llvm::errs()) : OS(OS) {}

  /// Registers a buffer and returns its id. The engine owns the buffer; all
  /// SourceLocs into it stay valid while the engine lives.
  unsigned addBuffer(std::unique_ptr<llvm::MemoryBuffer> Buffer);

  /// The buffer registered under `Id`.
  llvm::StringRef bufferText(unsigned Id) const;
  llvm::StringRef bufferName(unsigned Id) const;

  /// Builds a SourceLoc for a pointer into a registered buffer.
  SourceLoc locate(const char *Ptr) const;

  void error(SourceLoc Loc, const llvm::Twine &Msg);
  void warning(SourceLoc Loc, const llvm::Twine &Msg);
  void note(SourceLoc Loc, const llvm::Twine &Msg);
  /// An optimization remark (`-Rpass=NAME`): what a pass did or refused
  /// to do at `Loc`. Never counts as an error.
  void remark(SourceLoc Loc, const llvm::Twine &Msg);
  /// An error that belongs to no source position (e.g. a missing file).
  void error(const llvm::Twine &Msg);

  unsigned errorCount() const { return NumErrors; }
  bool hadErrors() const { return NumErrors != 0; }

  /// Stops reporting after this many errors (a file of garbage should not
  /// print a million lines). A final "too many errors" line is printed once.
  void setErrorLimit(unsigned Limit) { ErrorLimit = Limit; }

  llvm::SourceMgr &sourceMgr() { return SM; }

private:
  void report(SourceLoc Loc, llvm::SourceMgr::DiagKind Kind,
              const llvm::Twine &Msg);

  llvm::SourceMgr SM;
  llvm::raw_ostream &OS;
  unsigned NumErrors = 0;
  unsigned ErrorLimit = 50;
};

} // namespace nnc

#endif
