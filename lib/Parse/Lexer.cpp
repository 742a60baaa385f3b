//===- Lexer.cpp - Tokenizer for .nn source -------------------------------===//
//
// A hand-written scanner over the raw bytes of a buffer. It never reads past
// the buffer's end (embedded NULs are ordinary stray bytes), reports each
// lexical error once and keeps going, and also implements `--emit=tokens`.
//
//===----------------------------------------------------------------------===//
#include "nnc/Parse/Lexer.h"
#include "nnc/Parse/Parser.h"

#include <llvm/ADT/StringExtras.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>

using namespace nnc;

const char *nnc::tokenKindName(TokenKind K) {
  switch (K) {
  case TokenKind::Ident:
    return "ident";
  case TokenKind::Number:
    return "number";
  case TokenKind::String:
    return "string";
  case TokenKind::Newline:
    return "newline";
  case TokenKind::Eof:
    return "eof";
  case TokenKind::Error:
    return "error";
  case TokenKind::LParen:
    return "'('";
  case TokenKind::RParen:
    return "')'";
  case TokenKind::LBracket:
    return "'['";
  case TokenKind::RBracket:
    return "']'";
  case TokenKind::LBrace:
    return "'{'";
  case TokenKind::RBrace:
    return "'}'";
  case TokenKind::Comma:
    return "','";
  case TokenKind::Colon:
    return "':'";
  case TokenKind::Semi:
    return "';'";
  case TokenKind::Assign:
    return "'='";
  case TokenKind::EqEq:
    return "'=='";
  case TokenKind::NotEq:
    return "'!='";
  case TokenKind::Less:
    return "'<'";
  case TokenKind::LessEq:
    return "'<='";
  case TokenKind::Greater:
    return "'>'";
  case TokenKind::GreaterEq:
    return "'>='";
  case TokenKind::Plus:
    return "'+'";
  case TokenKind::Minus:
    return "'-'";
  case TokenKind::Star:
    return "'*'";
  case TokenKind::Slash:
    return "'/'";
  case TokenKind::At:
    return "'@'";
  case TokenKind::Caret:
    return "'^'";
  }
  return "?";
}

static bool isIdentStart(char C) { return llvm::isAlpha(C) || C == '_'; }
static bool isIdentChar(char C) { return llvm::isAlnum(C) || C == '_'; }

/// Characters that can begin some token or separator; a maximal run of
/// anything else is one stray-character error.
static bool startsToken(char C) {
  return isIdentStart(C) || llvm::isDigit(C) ||
         llvm::StringRef(" \t\r\n#\"`.()[]{},:;=!<>+-*/@^").contains(C);
}

Lexer::Lexer(DiagEngine &Diags, unsigned BufferId) : Diags(Diags) {
  llvm::StringRef Text = Diags.bufferText(BufferId);
  Cur = Text.begin();
  End = Text.end();
  LineStart = Cur;
}

SourceLoc Lexer::locAt(const char *P) const {
  SourceLoc Loc;
  Loc.Ptr = llvm::SMLoc::getFromPointer(P);
  Loc.Line = Line;
  Loc.Col = static_cast<uint32_t>(P - LineStart) + 1;
  return Loc;
}

Token Lexer::make(TokenKind K, const char *Start) const {
  Token T;
  T.Kind = K;
  T.Text = llvm::StringRef(Start, Cur - Start);
  T.Loc = locAt(Start);
  return T;
}

void Lexer::skipBlanks() {
  while (Cur != End) {
    char C = *Cur;
    if (C == ' ' || C == '\t' || C == '\r' || C == '\f' || C == '\v') {
      ++Cur;
    } else if (C == '#') {
      while (Cur != End && *Cur != '\n')
        ++Cur;
    } else if (C == '\n' && BracketDepth > 0) {
      // A line break inside ( ) or [ ] continues the statement.
      ++Cur;
      ++Line;
      LineStart = Cur;
      LineFresh = true;
    } else {
      return;
    }
  }
}

Token Lexer::next() {
  skipBlanks();
  bool First = LineFresh;
  Token T = lexToken();
  T.FirstOnLine = First;
  LineFresh = T.is(TokenKind::Newline);
  return T;
}

Token Lexer::lexToken() {
  const char *Start = Cur;
  if (Cur == End)
    return make(TokenKind::Eof, Start);

  char C = *Cur++;
  auto Two = [&](char Second, TokenKind IfTwo, TokenKind IfOne) {
    if (Cur != End && *Cur == Second) {
      ++Cur;
      return make(IfTwo, Start);
    }
    return make(IfOne, Start);
  };
  switch (C) {
  case '\n': {
    Token T = make(TokenKind::Newline, Start);
    ++Line;
    LineStart = Cur;
    return T;
  }
  case '(':
    ++BracketDepth;
    return make(TokenKind::LParen, Start);
  case '[':
    ++BracketDepth;
    return make(TokenKind::LBracket, Start);
  case ')':
  case ']':
    // An unmatched closer is the parser's error; never underflow here.
    if (BracketDepth > 0)
      --BracketDepth;
    return make(C == ')' ? TokenKind::RParen : TokenKind::RBracket, Start);
  case '{':
    BracketDepth = 0;
    return make(TokenKind::LBrace, Start);
  case '}':
    BracketDepth = 0;
    return make(TokenKind::RBrace, Start);
  case ',':
    return make(TokenKind::Comma, Start);
  case ':':
    return make(TokenKind::Colon, Start);
  case ';':
    return make(TokenKind::Semi, Start);
  case '+':
    return make(TokenKind::Plus, Start);
  case '-':
    return make(TokenKind::Minus, Start);
  case '*':
    return make(TokenKind::Star, Start);
  case '/':
    return make(TokenKind::Slash, Start);
  case '@':
    return make(TokenKind::At, Start);
  case '^':
    return make(TokenKind::Caret, Start);
  case '=':
    return Two('=', TokenKind::EqEq, TokenKind::Assign);
  case '<':
    return Two('=', TokenKind::LessEq, TokenKind::Less);
  case '>':
    return Two('=', TokenKind::GreaterEq, TokenKind::Greater);
  case '!':
    if (Cur != End && *Cur == '=') {
      ++Cur;
      return make(TokenKind::NotEq, Start);
    }
    Cur = Start;
    return lexStray(Start);
  case '"':
    return lexString(Start);
  case '`':
    return lexQuotedName(Start);
  case '.':
    if (Cur != End && llvm::isDigit(*Cur))
      return lexNumber(Start);
    Cur = Start;
    return lexStray(Start);
  default:
    break;
  }
  if (llvm::isDigit(C))
    return lexNumber(Start);
  if (isIdentStart(C)) {
    while (Cur != End && isIdentChar(*Cur))
      ++Cur;
    return make(TokenKind::Ident, Start);
  }
  Cur = Start;
  return lexStray(Start);
}

/// digits [ '.' digits* ] [ (e|E) [+-] digits ]   or   '.' digits [exponent]
Token Lexer::lexNumber(const char *Start) {
  Cur = Start;
  bool IsInteger = true;
  while (Cur != End && llvm::isDigit(*Cur))
    ++Cur;
  if (Cur != End && *Cur == '.') {
    IsInteger = false;
    ++Cur;
    while (Cur != End && llvm::isDigit(*Cur))
      ++Cur;
  }
  bool BadExponent = false;
  if (Cur != End && (*Cur == 'e' || *Cur == 'E')) {
    IsInteger = false;
    ++Cur;
    if (Cur != End && (*Cur == '+' || *Cur == '-'))
      ++Cur;
    if (Cur == End || !llvm::isDigit(*Cur))
      BadExponent = true;
    while (Cur != End && llvm::isDigit(*Cur))
      ++Cur;
  }
  Token T = make(TokenKind::Number, Start);
  T.IsInteger = IsInteger;
  if (BadExponent) {
    Diags.error(T.Loc, "expected digits in the exponent of '" + T.Text + "'");
    T.Kind = TokenKind::Error;
    return T;
  }
  // strtod needs a terminated string; the token may end at the buffer's end.
  std::string Spelling = T.Text.str();
  errno = 0;
  T.NumValue = std::strtod(Spelling.c_str(), nullptr);
  // Long integers are fine (sema checks dimension ranges); only a value
  // that is not a finite double is unusable.
  if (!std::isfinite(T.NumValue)) {
    Diags.error(T.Loc, "number '" + T.Text + "' is out of range");
    T.Kind = TokenKind::Error;
  }
  return T;
}

Token Lexer::lexString(const char *Start) {
  std::string Value;
  while (true) {
    if (Cur == End || *Cur == '\n') {
      Token T = make(TokenKind::String, Start);
      Diags.error(T.Loc, "unterminated string");
      // An Error token: the parser must not add "expected ..." to this.
      T.Kind = TokenKind::Error;
      return T;
    }
    char C = *Cur++;
    if (C == '"')
      break;
    if (C != '\\') {
      Value += C;
      continue;
    }
    if (Cur != End && (*Cur == '"' || *Cur == '\\')) {
      Value += *Cur++;
      continue;
    }
    // Report the escape and keep the backslash, so the string still ends
    // where the user meant it to.
    const char *EscStart = Cur - 1;
    if (Cur == End || *Cur == '\n') {
      Token T = make(TokenKind::Error, Start);
      Diags.error(T.Loc, "unterminated string");
      return T;
    }
    std::string Esc(1, *Cur);
    if (!llvm::isPrint(*Cur))
      Esc = llvm::utohexstr((unsigned char)*Cur, false, 2).insert(0, 1, 'x');
    Diags.error(locAt(EscStart), "unknown escape '\\" + Esc +
                                     "' in string (only \\\" and \\\\ "
                                     "are allowed)");
    Value += '\\';
  }
  Token T = make(TokenKind::String, Start);
  T.StrValue = std::move(Value);
  return T;
}

/// `name`: any printable characters but a backquote (bytes of UTF-8
/// included), so that names from other tools (ONNX's `input.1`,
/// `onnx::Gemm_7`) stay names in `.nn` source (docs/language.md, "Lexical
/// rules").
Token Lexer::lexQuotedName(const char *Start) {
  auto Printable = [](char C) {
    return (C >= ' ' && C != '`' && C != 0x7f) ||
           static_cast<unsigned char>(C) >= 0x80;
  };
  while (Cur != End && Printable(*Cur))
    ++Cur;
  if (Cur == End || *Cur == '\n') {
    Token T = make(TokenKind::Error, Start);
    Diags.error(T.Loc, "unterminated `name`");
    return T;
  }
  if (*Cur != '`') {
    // Skip the rest of the name, so its end starts no new one.
    while (Cur != End && *Cur != '`' && *Cur != '\n')
      ++Cur;
    if (Cur != End && *Cur == '`')
      ++Cur;
    Token T = make(TokenKind::Error, Start);
    Diags.error(T.Loc, "a `name` may not contain control characters");
    return T;
  }
  ++Cur;
  Token T = make(TokenKind::Ident, Start);
  T.Text = T.Text.drop_front().drop_back();
  T.Quoted = true;
  if (T.Text.empty()) {
    Diags.error(T.Loc, "empty `name`");
    T.Kind = TokenKind::Error;
  }
  return T;
}

Token Lexer::lexStray(const char *Start) {
  // One error for a whole run of unusable bytes (e.g. a UTF-8 sequence or a
  // block of binary data), not one per byte.
  Cur = Start + 1;
  while (Cur != End && !startsToken(*Cur))
    ++Cur;
  Token T = make(TokenKind::Error, Start);
  unsigned char C = static_cast<unsigned char>(*Start);
  if (llvm::isPrint(C))
    Diags.error(T.Loc,
                "unexpected character '" + std::string(1, char(C)) + "'");
  else
    Diags.error(T.Loc, "unexpected byte 0x" + llvm::utohexstr(C >> 4) +
                           llvm::utohexstr(C & 0xF));
  return T;
}

std::vector<Token> nnc::tokenize(DiagEngine &Diags, unsigned BufferId) {
  Lexer L(Diags, BufferId);
  std::vector<Token> Tokens;
  do
    Tokens.push_back(L.next());
  while (!Tokens.back().is(TokenKind::Eof));
  return Tokens;
}

void nnc::printTokens(DiagEngine &Diags, unsigned BufferId,
                      llvm::raw_ostream &OS) {
  Lexer L(Diags, BufferId);
  while (true) {
    Token T = L.next();
    OS << T.Loc.Line << ':' << T.Loc.Col << ' ' << tokenKindName(T.Kind);
    if (!T.is(TokenKind::Newline) && !T.is(TokenKind::Eof)) {
      // Printable text as written (so string tokens read as in the source);
      // only bytes a terminal cannot show are escaped.
      OS << (T.Quoted ? " '`" : " '");
      for (char C : T.Text) {
        if (llvm::isPrint(C))
          OS << C;
        else
          OS << "\\x" << llvm::hexdigit((unsigned char)C >> 4, true)
             << llvm::hexdigit(C & 15, true);
      }
      OS << (T.Quoted ? "`'" : "'");
    }
    OS << '\n';
    if (T.is(TokenKind::Eof))
      return;
  }
}
