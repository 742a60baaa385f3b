//===- Diagnostics.cpp - User-facing error reporting ----------------------===//
//
// Thin layer over llvm::SourceMgr: it owns the source buffers, turns
// pointers into line/column, and prints caret diagnostics.
//
//===----------------------------------------------------------------------===//
#include "nnc/Support/Diagnostics.h"

#include <llvm/Support/MemoryBuffer.h>

using namespace nnc;

unsigned DiagEngine::addBuffer(std::unique_ptr<llvm::MemoryBuffer> Buffer) {
  return SM.AddNewSourceBuffer(std::move(Buffer), llvm::SMLoc());
}

llvm::StringRef DiagEngine::bufferText(unsigned Id) const {
  return SM.getMemoryBuffer(Id)->getBuffer();
}

llvm::StringRef DiagEngine::bufferName(unsigned Id) const {
  return SM.getMemoryBuffer(Id)->getBufferIdentifier();
}

SourceLoc DiagEngine::locate(const char *Ptr) const {
  SourceLoc Loc;
  Loc.Ptr = llvm::SMLoc::getFromPointer(Ptr);
  if (!SM.FindBufferContainingLoc(Loc.Ptr))
    return SourceLoc();
  auto [Line, Col] = SM.getLineAndColumn(Loc.Ptr);
  Loc.Line = Line;
  Loc.Col = Col;
  return Loc;
}

void DiagEngine::report(SourceLoc Loc, llvm::SourceMgr::DiagKind Kind,
                        const llvm::Twine &Msg) {
  if (Kind == llvm::SourceMgr::DK_Error) {
    ++NumErrors;
    if (NumErrors == ErrorLimit + 1)
      OS << "error: too many errors, stopping\n";
    if (NumErrors > ErrorLimit)
      return;
  } else if (NumErrors > ErrorLimit) {
    return;
  }
  if (!Loc.Ptr.isValid() || !SM.FindBufferContainingLoc(Loc.Ptr)) {
    const char *Prefix = Kind == llvm::SourceMgr::DK_Error     ? "error: "
                         : Kind == llvm::SourceMgr::DK_Warning ? "warning: "
                         : Kind == llvm::SourceMgr::DK_Remark  ? "remark: "
                                                               : "note: ";
    OS << "nnc: " << Prefix << Msg << "\n";
    return;
  }
  SM.PrintMessage(OS, Loc.Ptr, Kind, Msg, {}, {}, /*ShowColors=*/false);
}

void DiagEngine::error(SourceLoc Loc, const llvm::Twine &Msg) {
  report(Loc, llvm::SourceMgr::DK_Error, Msg);
}
void DiagEngine::warning(SourceLoc Loc, const llvm::Twine &Msg) {
  report(Loc, llvm::SourceMgr::DK_Warning, Msg);
}
void DiagEngine::note(SourceLoc Loc, const llvm::Twine &Msg) {
  report(Loc, llvm::SourceMgr::DK_Note, Msg);
}
void DiagEngine::remark(SourceLoc Loc, const llvm::Twine &Msg) {
  report(Loc, llvm::SourceMgr::DK_Remark, Msg);
}
void DiagEngine::error(const llvm::Twine &Msg) {
  report(SourceLoc(), llvm::SourceMgr::DK_Error, Msg);
}
