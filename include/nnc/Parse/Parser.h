//===- Parser.h - Lexer and parser entry points ---------------------------===//
//
// The front end's public face. The parser is recursive descent over the
// tokens of one buffer registered with the DiagEngine; it recovers at
// statement boundaries so that one run reports several syntax errors, and it
// limits nesting depth so that no input can exhaust the stack.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_PARSE_PARSER_H
#define NNC_PARSE_PARSER_H

#include "nnc/Parse/AST.h"
#include "nnc/Support/Diagnostics.h"

#include <llvm/Support/raw_ostream.h>

#include <memory>

namespace nnc {

/// Parses buffer `BufferId`. Always returns a File (possibly partial);
/// check `Diags.hadErrors()` before using it.
std::unique_ptr<ast::File> parseFile(DiagEngine &Diags, unsigned BufferId);

/// `--emit=tokens`: one token per line, "LINE:COL KIND 'TEXT'".
void printTokens(DiagEngine &Diags, unsigned BufferId, llvm::raw_ostream &OS);

/// `--emit=ast`: an indented tree, one node per line with its LINE:COL.
void printAST(const ast::File &File, llvm::raw_ostream &OS);

} // namespace nnc

#endif
