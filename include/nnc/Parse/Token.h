//===- Token.h - Tokens of the .nn language -------------------------------===//
//
// The lexer's output. A token keeps its exact source spelling (for dumps and
// diagnostics) and its location; numbers and strings also carry their
// decoded value so that the parser never re-reads source text.
//
// Keywords are not token kinds: `model`, `dim`, `true`, ... are lexed as
// identifiers and the parser gives them meaning by position (see Parser.cpp),
// which keeps `const(0.1)` a call and lets train-block keys such as `data`
// or `test` be ordinary names.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_PARSE_TOKEN_H
#define NNC_PARSE_TOKEN_H

#include "nnc/Support/SourceLoc.h"

#include <llvm/ADT/StringRef.h>

#include <cstdint>
#include <string>

namespace nnc {

enum class TokenKind : uint8_t {
  Ident,   ///< [A-Za-z_][A-Za-z0-9_]*, keywords included, or `any name`.
  Number,  ///< 12, 0.5, 1e-3, .5
  String,  ///< "..." with \" and \\ escapes.
  Newline, ///< A line break outside ( ) and [ ]: ends a statement.
  Eof,
  /// A run of characters that starts no token. The lexer has already
  /// reported it, so the parser fails on it silently.
  Error,
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Comma,
  Colon,
  Semi,
  Assign,
  EqEq,
  NotEq,
  Less,
  LessEq,
  Greater,
  GreaterEq,
  Plus,
  Minus,
  Star,
  Slash,
  At,
  Caret,
};

/// The name `--emit=tokens` prints: "ident", "number", ... for tokens with
/// varying text, the quoted spelling ("'('", "'=='") for punctuation.
const char *tokenKindName(TokenKind K);

struct Token {
  TokenKind Kind = TokenKind::Eof;
  /// The exact source spelling (empty for Eof, "\n" for Newline).
  llvm::StringRef Text;
  SourceLoc Loc;
  /// Number: the value (may be inf for out-of-range literals, which the
  /// lexer has reported).
  double NumValue = 0;
  /// Number: written without '.' or an exponent.
  bool IsInteger = false;
  /// String: the contents with escapes resolved.
  std::string StrValue;
  /// Ident: written between backquotes (`input.1`); `Text` is then the
  /// name inside them, and the name is never a keyword.
  bool Quoted = false;
  /// Nothing but blanks and comments precede it on its line. The parser's
  /// recovery uses this to find statement starts after an unclosed `(`,
  /// when the lexer has (wrongly) dropped the newlines in between.
  bool FirstOnLine = false;

  bool is(TokenKind K) const { return Kind == K; }
  /// An identifier spelled `Name` (how the parser recognizes keywords).
  bool isIdent(llvm::StringRef Name) const {
    return Kind == TokenKind::Ident && !Quoted && Text == Name;
  }
};

} // namespace nnc

#endif
