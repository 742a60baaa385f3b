//===- Lexer.h - Tokenizer for .nn source ---------------------------------===//
//
// Turns one buffer registered with the DiagEngine into tokens
// (docs/language.md, "Lexical rules"). Lexical errors (stray characters,
// unterminated strings, unknown escapes, malformed or out-of-range numbers) are
// reported once, at their position, and lexing continues, so the parser always
// sees a well-formed stream that ends in Eof.
//
// Line breaks inside `( )` and `[ ]` are dropped here rather than in the
// parser, so that `--emit=tokens` shows exactly the newlines that end
// statements. A `{` or `}` resets that bracket depth: braces never occur
// inside brackets, so an unclosed `(` cannot swallow the rest of the file.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_PARSE_LEXER_H
#define NNC_PARSE_LEXER_H

#include "nnc/Parse/Token.h"
#include "nnc/Support/Diagnostics.h"

#include <vector>

namespace nnc {

class Lexer {
public:
  /// Lexes buffer `BufferId` of `Diags`.
  Lexer(DiagEngine &Diags, unsigned BufferId);

  /// The next token; after the end of the buffer, Eof forever.
  Token next();

private:
  Token lexToken();
  /// Skips blanks and comments, but not line breaks.
  void skipBlanks();
  SourceLoc locAt(const char *P) const;
  Token make(TokenKind K, const char *Start) const;
  Token lexNumber(const char *Start);
  Token lexString(const char *Start);
  Token lexQuotedName(const char *Start);
  Token lexStray(const char *Start);

  DiagEngine &Diags;
  const char *Cur;
  const char *End;
  /// Start of the current line and its 1-based number, for SourceLocs
  /// without a SourceMgr lookup per token.
  const char *LineStart;
  uint32_t Line = 1;
  /// Open `(` and `[` not yet closed; newlines inside them are skipped.
  unsigned BracketDepth = 0;
  /// No token has been produced yet on the current line.
  bool LineFresh = true;
};

/// Lexes the whole buffer; the last token is Eof.
std::vector<Token> tokenize(DiagEngine &Diags, unsigned BufferId);

} // namespace nnc

#endif
