//===- Parser.cpp - Recursive-descent parser for .nn files ----------------===//
//
// Grammar (docs/language.md, "Grammar (EBNF)"; `NL` is a newline token or
// `;`):
//
//   file      := (model | fn | train | NL)*
//   model     := 'model' NAME '{' body '}'
//   fn        := 'fn' NAME '(' [NAME (',' NAME)*] ')' '{' body '}'
//   train     := 'train' NAME '{' (NAME '=' expr NL)* '}'
//   body      := (stmt NL)*
//   stmt      := 'dim' NAME '=' expr
//              | ('input' | 'target') NAME ':' type
//              | ('param' | 'const') NAME ':' type '=' expr
//              | ('loss' | 'metric') NAME '=' expr
//              | 'output' NAME [':' NAME] ['=' expr]
//              | 'unbatched'
//              | 'return' expr                       (fn bodies only)
//              | NAME '=' expr
//   type      := NAME ['[' [expr (',' expr)*] ']']
//   expr      := additive [('=='|'!='|'<'|'<='|'>'|'>=') additive]
//   additive  := term (('+'|'-') term)*
//   term      := unary (('*'|'/'|'@') unary)*
//   unary     := '-' unary | power
//   power     := primary ['^' unary]                (right-associative)
//   primary   := NUMBER | STRING | 'true' | 'false' | NAME
//              | NAME '(' args ')' | '(' expr ')' | '[' [expr (',' expr)*] ']'
//   args      := positional args first, then NAME '=' expr keyword args
//
// Keywords are contextual: `model`, `fn` and `train` only mean something at
// the top level, the statement keywords only as the first word of a
// statement, and everywhere else they are ordinary names (so `const(0.1)` is
// a call and `data`, `test`, `optimizer` are plain train-block keys). Only
// `true` and `false` are reserved: they are literals wherever an expression
// may appear and cannot be declared as names. Trailing commas are accepted in
// lists, shapes, argument and parameter lists.
//
// Error handling:
//  1. Every parse function reports at most one error and returns null/false;
//     callers only propagate failure, so one mistake gives one message.
//  2. Error tokens (already reported by the lexer) fail silently.
//  3. After a failed statement the parser skips to the next newline, `;` or
//     `}` and goes on, so independent errors in one file are all reported.
//  4. Nesting of parentheses, brackets, unary minus and `^` is limited to
//     MaxDepth, so no input can exhaust the stack.
//
//===----------------------------------------------------------------------===//
#include "ParserImpl.h"

using namespace nnc;
using namespace nnc::ast;

namespace nnc::parse_detail {

std::string Parser::describe(const Token &T) {
  switch (T.Kind) {
  case TokenKind::Newline:
    return "end of line";
  case TokenKind::Eof:
    return "end of file";
  case TokenKind::Ident:
  case TokenKind::Number:
  case TokenKind::String:
  case TokenKind::Error:
    break;
  default:
    return tokenKindName(T.Kind);
  }
  // Quote the spelling, shortened so a huge literal stays one line.
  std::string Out = "'";
  llvm::raw_string_ostream OS(Out);
  OS.write_escaped(T.Text.take_front(24));
  if (T.Text.size() > 24)
    OS << "...";
  OS << '\'';
  return Out;
}

bool Parser::expectCloser(TokenKind Closer, const Token &Open) {
  if (consumeIf(Closer))
    return true;
  std::string Msg = "expected " + std::string(tokenKindName(Closer)) +
                    " to close '" + Open.Text.str() + "' at " +
                    posText(Open.Loc);
  if (atDroppedNewline())
    Diags.error(endOfPrevious(), Msg);
  else
    errorAt(tok(), Msg);
  return false;
}

void Parser::skipStatement(uint32_t StmtCol) {
  while (true) {
    if (at(TokenKind::Newline) || at(TokenKind::Semi) ||
        at(TokenKind::RBrace) || at(TokenKind::Eof))
      return;
    const Token &T = tok();
    if (T.FirstOnLine && T.is(TokenKind::Ident) && T.Loc.Col <= StmtCol &&
        Pos != StmtStartPos)
      return;
    advance();
  }
}

void Parser::skipTopLevel() {
  unsigned Braces = 0;
  while (!at(TokenKind::Eof)) {
    if (at(TokenKind::LBrace)) {
      ++Braces;
    } else if (at(TokenKind::RBrace)) {
      if (Braces <= 1) {
        advance();
        return;
      }
      --Braces;
    } else if (Braces == 0 && at(TokenKind::Newline)) {
      return;
    }
    advance();
  }
}

//===--- Top level
//----------------------------------------------------------===//

std::unique_ptr<File> Parser::parseFile() {
  auto F = std::make_unique<File>();
  while (true) {
    skipSeparators();
    if (at(TokenKind::Eof))
      break;
    StmtStartPos = Pos;
    bool Ok;
    if (tok().isIdent("model")) {
      Ok = parseModel(*F);
    } else if (tok().isIdent("fn")) {
      Ok = parseFn(*F);
    } else if (tok().isIdent("train")) {
      Ok = parseTrain(*F);
    } else {
      expected("'model', 'fn' or 'train'");
      Ok = false;
    }
    if (!Ok)
      skipTopLevel();
  }
  return F;
}

bool Parser::parseName(std::string &Name, SourceLoc &Loc,
                       llvm::StringRef What) {
  if (!at(TokenKind::Ident)) {
    expected(What);
    return false;
  }
  if (tok().isIdent("true") || tok().isIdent("false")) {
    errorAt(tok(), "'" + tok().Text + "' is a reserved word");
    return false;
  }
  Name = tok().Text.str();
  Loc = tok().Loc;
  advance();
  return true;
}

bool Parser::parseModel(File &F) {
  ModelDecl M;
  M.Loc = advance().Loc;
  if (!parseName(M.Name, M.NameLoc, "a model name"))
    return false;
  if (!at(TokenKind::LBrace)) {
    expected("'{'");
    return false;
  }
  parseBody(M.Body, /*InFn=*/false);
  F.Order.push_back({File::BlockKind::Model, (unsigned)F.Models.size()});
  F.Models.push_back(std::move(M));
  return true;
}

bool Parser::parseFn(File &F) {
  FnDecl D;
  D.Loc = advance().Loc;
  if (!parseName(D.Name, D.NameLoc, "a function name"))
    return false;
  const Token &Open = tok();
  if (!expect(TokenKind::LParen, "'('"))
    return false;
  bool Ok = parseCommaList(Open, TokenKind::RParen, [&] {
    FnParam P;
    if (!parseName(P.Name, P.Loc, "a parameter name"))
      return false;
    for (const FnParam &Prev : D.Params) {
      if (Prev.Name == P.Name) {
        Diags.error(P.Loc, "duplicate parameter '" + P.Name + "'");
        return false;
      }
    }
    D.Params.push_back(std::move(P));
    return true;
  });
  if (!Ok)
    return false;
  if (!at(TokenKind::LBrace)) {
    expected("'{'");
    return false;
  }
  parseBody(D.Body, /*InFn=*/true);
  F.Order.push_back({File::BlockKind::Fn, (unsigned)F.Fns.size()});
  F.Fns.push_back(std::move(D));
  return true;
}

bool Parser::parseTrain(File &F) {
  TrainDecl T;
  T.Loc = advance().Loc;
  if (!parseName(T.Model, T.ModelLoc, "the name of the model to train"))
    return false;
  const Token &Open = tok();
  if (!expect(TokenKind::LBrace, "'{'"))
    return false;
  while (true) {
    skipSeparators();
    if (consumeIf(TokenKind::RBrace))
      break;
    if (at(TokenKind::Eof) || atNextBlock()) {
      expectCloser(TokenKind::RBrace, Open);
      break;
    }
    uint32_t StmtCol = tok().Loc.Col;
    StmtStartPos = Pos;
    TrainEntry E;
    bool Ok = false;
    if (!at(TokenKind::Ident) || !peek().is(TokenKind::Assign)) {
      expected("'KEY = VALUE' in train block");
    } else if (parseName(E.Key, E.KeyLoc, "a key")) {
      advance(); // '='
      E.Value = parseExpr();
      Ok = E.Value != nullptr;
      if (Ok && !atStmtEnd()) {
        expected("end of line or ';' after the value");
        Ok = false;
      }
    }
    if (Ok)
      T.Entries.push_back(std::move(E));
    else
      skipStatement(StmtCol);
  }
  F.Order.push_back({File::BlockKind::Train, (unsigned)F.Trains.size()});
  F.Trains.push_back(std::move(T));
  return true;
}

//===--- Statements
//---------------------------------------------------------===//

void Parser::parseBody(std::vector<Stmt> &Body, bool InFn) {
  const Token &Open = advance(); // '{'
  while (true) {
    skipSeparators();
    if (consumeIf(TokenKind::RBrace))
      return;
    if (at(TokenKind::Eof) || atNextBlock()) {
      expectCloser(TokenKind::RBrace, Open);
      return;
    }
    uint32_t StmtCol = tok().Loc.Col;
    StmtStartPos = Pos;
    if (!parseStmt(Body, InFn)) {
      skipStatement(StmtCol);
      continue;
    }
    if (!atStmtEnd()) {
      expected("end of line or ';' after the statement");
      skipStatement(StmtCol);
    }
  }
}

bool Parser::parseStmt(std::vector<Stmt> &Body, bool InFn) {
  const Token &First = tok();
  Stmt S;
  S.Loc = First.Loc;
  if (!First.is(TokenKind::Ident)) {
    expected("a statement");
    return false;
  }

  llvm::StringRef Word = First.Text;
  // `name = expr` (also when the name is spelled like a keyword that is not
  // a statement keyword).
  auto isKeyword = [&](StmtKind &K) {
    static const std::pair<const char *, StmtKind> Keywords[] = {
        {"dim", StmtKind::Dim},       {"input", StmtKind::Input},
        {"target", StmtKind::Target}, {"param", StmtKind::Param},
        {"const", StmtKind::Const},   {"loss", StmtKind::Loss},
        {"output", StmtKind::Output}, {"metric", StmtKind::Metric},
        {"return", StmtKind::Return}, {"unbatched", StmtKind::Unbatched}};
    // `unbatched` came later than the others: `unbatched = x` stays the
    // binding it was before.
    if (First.Quoted || (Word == "unbatched" && peek().is(TokenKind::Assign)))
      return false;
    for (auto &[Spelling, Kind] : Keywords) {
      if (Word == Spelling) {
        K = Kind;
        return true;
      }
    }
    return false;
  };

  StmtKind Kind;
  if (!isKeyword(Kind)) {
    // `parm W : ...` is most likely a misspelled keyword; `x + 1` or `x`
    // alone a binding that lacks its `=`.
    if (peek().is(TokenKind::Ident) && !peek().FirstOnLine) {
      errorAt(First, "unknown statement '" + Word +
                         "' (expected dim, input, target, param, const, loss, "
                         "output, metric or 'name = expr')");
      return false;
    }
    if (!peek().is(TokenKind::Assign)) {
      advance();
      expected("'=' after '" + Word + "'");
      return false;
    }
    S.Kind = StmtKind::Let;
    if (!parseName(S.Name, S.NameLoc, "a name"))
      return false;
    advance(); // '='
    S.Value = parseExpr();
    if (!S.Value)
      return false;
    Body.push_back(std::move(S));
    return true;
  }

  S.Kind = Kind;
  advance(); // the keyword
  if (Kind == StmtKind::Unbatched) {
    Body.push_back(std::move(S));
    return true;
  }
  if (Kind == StmtKind::Return) {
    if (!InFn) {
      Diags.error(First.Loc, "'return' is only allowed inside a fn");
      return false;
    }
    S.Value = parseExpr();
    if (!S.Value)
      return false;
    Body.push_back(std::move(S));
    return true;
  }

  std::string What = "a name after '" + Word.str() + "'";
  if (!parseName(S.Name, S.NameLoc, What))
    return false;

  switch (Kind) {
  case StmtKind::Input:
  case StmtKind::Target:
  case StmtKind::Param:
  case StmtKind::Const: {
    if (!expect(TokenKind::Colon, "':' and a type after '" + S.Name + "'"))
      return false;
    S.Type = parseType();
    if (!S.Type)
      return false;
    if (Kind == StmtKind::Input || Kind == StmtKind::Target)
      break;
    if (!expect(TokenKind::Assign, Kind == StmtKind::Param
                                       ? "'=' and an initializer"
                                       : "'=' and a value"))
      return false;
    S.Value = parseExpr();
    if (!S.Value)
      return false;
    break;
  }
  case StmtKind::Output:
    // `output y : i64`: how tensor files store it (an element type only).
    if (consumeIf(TokenKind::Colon)) {
      S.Type = std::make_unique<TypeExpr>();
      if (!parseName(S.Type->DType, S.Type->Loc, "an element type such as i64"))
        return false;
    }
    if (!consumeIf(TokenKind::Assign))
      break;
    S.Value = parseExpr();
    if (!S.Value)
      return false;
    break;
  case StmtKind::Dim:
  case StmtKind::Loss:
  case StmtKind::Metric:
    if (!expect(TokenKind::Assign, "'='"))
      return false;
    S.Value = parseExpr();
    if (!S.Value)
      return false;
    break;
  case StmtKind::Let:
  case StmtKind::Return:
  case StmtKind::Unbatched:
    assert(false && "handled above");
    break;
  }
  Body.push_back(std::move(S));
  return true;
}

std::unique_ptr<TypeExpr> Parser::parseType() {
  auto T = std::make_unique<TypeExpr>();
  if (!parseName(T->DType, T->Loc, "a type such as f32[B, 10]"))
    return nullptr;
  if (!at(TokenKind::LBracket))
    return T;
  const Token &Open = advance();
  bool Ok = parseCommaList(Open, TokenKind::RBracket, [&] {
    ExprPtr Dim = parseExpr();
    if (!Dim)
      return false;
    T->Dims.push_back(std::move(Dim));
    return true;
  });
  return Ok ? std::move(T) : nullptr;
}

} // namespace nnc::parse_detail

std::unique_ptr<File> nnc::parseFile(DiagEngine &Diags, unsigned BufferId) {
  parse_detail::Parser P(Diags, BufferId);
  std::unique_ptr<File> F = P.parseFile();
  F->Path = Diags.bufferName(BufferId).str();
  F->Start = Diags.locate(Diags.bufferText(BufferId).data());
  return F;
}
