//===- ParserImpl.h - The parser class, shared by its two .cpp files ------===//
//
// Internal to lib/Parse: the recursive-descent Parser is split by concern
// into Parser.cpp (blocks, statements, recovery) and ParseExpr.cpp
// (expressions); both implement the class declared here. See Parser.cpp for
// the grammar and the error-handling rules.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_PARSE_PARSERIMPL_H
#define NNC_LIB_PARSE_PARSERIMPL_H

#include "nnc/Parse/Lexer.h"
#include "nnc/Parse/Parser.h"

#include <llvm/ADT/Twine.h>

#include <algorithm>
#include <deque>
#include <string>

namespace nnc::parse_detail {

using namespace nnc::ast;

/// Deep enough for any real model, shallow enough that recursion through
/// the seven expression levels stays far below the default stack size.
constexpr unsigned MaxDepth = 256;

inline std::string posText(SourceLoc Loc) {
  return std::to_string(Loc.Line) + ":" + std::to_string(Loc.Col);
}

class Parser {
public:
  Parser(DiagEngine &Diags, unsigned BufferId)
      : Diags(Diags), Lex(Diags, BufferId) {}

  std::unique_ptr<File> parseFile();

private:
  //===--- Token stream ---------------------------------------------------===//
  // Tokens are lexed on demand so that lexical and syntax errors come out
  // in source order. A deque keeps references to earlier tokens (an
  // opening bracket, a callee) valid while more are appended.
  const Token &tokenAt(size_t I) {
    while (Tokens.size() <= I &&
           (Tokens.empty() || !Tokens.back().is(TokenKind::Eof)))
      Tokens.push_back(Lex.next());
    return Tokens[std::min(I, Tokens.size() - 1)];
  }
  const Token &tok() { return tokenAt(Pos); }
  const Token &peek(unsigned N = 1) { return tokenAt(Pos + N); }
  bool at(TokenKind K) { return tok().is(K); }
  /// Eof is never consumed, so `tok()` is always valid.
  const Token &advance() {
    const Token &T = tok();
    if (!T.is(TokenKind::Eof))
      ++Pos;
    return T;
  }
  bool consumeIf(TokenKind K) {
    if (!at(K))
      return false;
    advance();
    return true;
  }
  /// At statement level (outside the parser's own brackets), a token that
  /// starts a line also ends the statement before it: the lexer only drops
  /// that newline after an unclosed `(` or `[` it cannot know about.
  bool atStmtEnd() {
    return at(TokenKind::Newline) || at(TokenKind::Semi) ||
           at(TokenKind::RBrace) || at(TokenKind::Eof) || tok().FirstOnLine;
  }
  /// A missing `}` shows up as the next block starting (`model NAME` at
  /// the start of a line); blocks stop there so the next one still parses.
  bool atNextBlock() {
    return tok().FirstOnLine &&
           (tok().isIdent("model") || tok().isIdent("fn") ||
            tok().isIdent("train")) &&
           peek().is(TokenKind::Ident);
  }
  /// True at a line break the lexer dropped although the parser has no
  /// bracket open (after an unclosed `(` earlier): expressions end here.
  bool atHiddenLineBreak() { return ParenDepth == 0 && tok().FirstOnLine; }
  void skipSeparators() {
    while (at(TokenKind::Newline) || at(TokenKind::Semi))
      advance();
  }

  //===--- Diagnostics ----------------------------------------------------===//
  /// Reports `Msg` at `T`, unless `T` is an Error token the lexer reported.
  void errorAt(const Token &T, const llvm::Twine &Msg) {
    if (!T.is(TokenKind::Error))
      Diags.error(T.Loc, Msg);
  }
  /// "expected X" at the current token, naming what was found instead.
  void expected(const llvm::Twine &What) {
    if (atDroppedNewline()) {
      Diags.error(endOfPrevious(), "expected " + What + ", found end of line");
      return;
    }
    errorAt(tok(), "expected " + What + ", found " + describe(tok()));
  }
  /// The current token starts a line but no Newline token precedes it: the
  /// lexer dropped the line break inside a bracket.
  bool atDroppedNewline() {
    return tok().FirstOnLine && Pos > 0 && Pos != StmtStartPos &&
           !Tokens[Pos - 1].is(TokenKind::Newline);
  }
  /// Just after the previous token (which never spans lines), where an
  /// error about a dropped line break belongs.
  SourceLoc endOfPrevious() const {
    const Token &Prev = Tokens[Pos - 1];
    SourceLoc Loc = Prev.Loc;
    // A `quoted name`'s text leaves out its two backquotes.
    size_t Width = Prev.Text.size() + (Prev.Quoted ? 2 : 0);
    Loc.Ptr = llvm::SMLoc::getFromPointer(Prev.Loc.Ptr.getPointer() + Width);
    Loc.Col += Width;
    return Loc;
  }
  static std::string describe(const Token &T);
  /// Consumes `K` or reports "expected ..." and returns false.
  bool expect(TokenKind K, const llvm::Twine &What) {
    if (consumeIf(K))
      return true;
    expected(What);
    return false;
  }
  /// Consumes the closer of a bracket opened by `Open`, or reports
  /// "expected ')' to close '(' at L:C".
  bool expectCloser(TokenKind Closer, const Token &Open);

  //===--- Recovery -------------------------------------------------------===//
  /// Skips to the end of the statement that started at column `StmtCol`
  /// (not past a `}`). Inside an unclosed bracket there are no newline
  /// tokens, so a line starting with a name at or left of `StmtCol` is
  /// taken as the next statement.
  void skipStatement(uint32_t StmtCol);
  /// Skips a whole broken top-level construct, including a `{ ... }` body.
  void skipTopLevel();

  //===--- Grammar --------------------------------------------------------===//
  bool parseModel(File &F);
  bool parseFn(File &F);
  bool parseTrain(File &F);
  /// `{ stmt* }`; `InFn` allows `return`. Reports its own errors and always
  /// leaves the parser after the block (or at Eof).
  void parseBody(std::vector<Stmt> &Body, bool InFn);
  bool parseStmt(std::vector<Stmt> &Body, bool InFn);
  bool parseName(std::string &Name, SourceLoc &Loc, llvm::StringRef What);
  std::unique_ptr<TypeExpr> parseType();

  /// An expression and its height in nodes. Heights are tracked so that a
  /// long flat chain such as `1+1+...+1`, which needs no recursion to parse,
  /// still cannot build a tree deep enough to overflow the recursive
  /// walks of later stages.
  struct Parsed {
    ExprPtr E;
    unsigned Height = 0;
  };
  ExprPtr parseExpr() { return parseComparison().E; }
  Parsed parseComparison();
  Parsed parseAdditive();
  Parsed parseTerm();
  Parsed parseUnary();
  Parsed parsePower();
  Parsed parsePrimary();
  Parsed parseCall();
  Parsed parseList();
  /// Builds `L Op R`, or reports that the tree got too deep.
  Parsed makeBinary(const Token &Op, BinaryOp Kind, Parsed L, Parsed R);
  void tooDeep(const Token &At) {
    errorAt(At, "expression is nested too deeply");
  }
  /// Parses `elem (',' elem)* [',']` up to `Closer`, consuming it.
  template <typename Fn>
  bool parseCommaList(const Token &Open, TokenKind Closer, Fn ParseElem);

  DiagEngine &Diags;
  Lexer Lex;
  std::deque<Token> Tokens;
  size_t Pos = 0;
  /// Where the statement being parsed began (recovery never stops there).
  size_t StmtStartPos = 0;
  /// Brackets the parser has opened and not yet closed.
  unsigned ParenDepth = 0;
  unsigned Depth = 0;
};

/// RAII nesting counter; `ok()` is false (and reported once) beyond
/// MaxDepth.
class DepthGuard {
public:
  explicit DepthGuard(unsigned &Depth) : Depth(Depth) { ++Depth; }
  ~DepthGuard() { --Depth; }
  bool ok() const { return Depth <= MaxDepth; }

private:
  unsigned &Depth;
};

template <typename Fn>
bool Parser::parseCommaList(const Token &Open, TokenKind Closer, Fn ParseElem) {
  ++ParenDepth;
  while (!at(Closer)) {
    if (!ParseElem()) {
      --ParenDepth;
      return false;
    }
    if (!consumeIf(TokenKind::Comma))
      break;
  }
  --ParenDepth;
  return expectCloser(Closer, Open);
}

} // namespace nnc::parse_detail

#endif
