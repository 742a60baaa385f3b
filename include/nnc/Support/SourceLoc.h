//===- SourceLoc.h - A position in a .nn source file ----------------------===//
//
// Every token, AST node and graph node carries a SourceLoc so that errors
// found at any stage point back at the user's text, and so that graph dumps
// can say which `.nn` line a node came from. The pointer feeds llvm::SourceMgr
// (caret diagnostics); line and column are cached so that printers need no
// SourceMgr.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_SUPPORT_SOURCELOC_H
#define NNC_SUPPORT_SOURCELOC_H

#include <llvm/Support/SMLoc.h>

#include <cstdint>

namespace nnc {

struct SourceLoc {
  llvm::SMLoc Ptr;   ///< Into the buffer owned by the DiagEngine's SourceMgr.
  uint32_t Line = 0; ///< 1-based; 0 means "no location".
  uint32_t Col = 0;  ///< 1-based, in bytes.

  bool isValid() const { return Line != 0; }
};

} // namespace nnc

#endif
