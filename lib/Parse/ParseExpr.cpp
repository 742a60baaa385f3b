//===- ParseExpr.cpp - Expressions of the .nn language --------------------===//
//
// The expression half of the recursive-descent parser (docs/language.md,
// "Expressions" and the `expr` rules of its grammar): comparisons
// (non-associative) < `+ -` < `* / @` < unary `-` < `^` (right-associative,
// exponent may be negated) < calls and primaries. Every recursive path passes
// through parseUnary, which bounds the nesting depth; binary chains are built
// in loops and bounded by tree height.
//
//===----------------------------------------------------------------------===//
#include "ParserImpl.h"

namespace nnc::parse_detail {

Parser::Parsed Parser::makeBinary(const Token &Op, BinaryOp Kind, Parsed L,
                                  Parsed R) {
  unsigned Height = 1 + std::max(L.Height, R.Height);
  if (Height > MaxDepth) {
    tooDeep(Op);
    return {};
  }
  return {std::make_unique<BinaryExpr>(Op.Loc, Kind, std::move(L.E),
                                       std::move(R.E)),
          Height};
}

static bool comparisonOp(TokenKind K, BinaryOp &Op) {
  switch (K) {
  case TokenKind::EqEq:
    Op = BinaryOp::Eq;
    return true;
  case TokenKind::NotEq:
    Op = BinaryOp::Ne;
    return true;
  case TokenKind::Less:
    Op = BinaryOp::Lt;
    return true;
  case TokenKind::LessEq:
    Op = BinaryOp::Le;
    return true;
  case TokenKind::Greater:
    Op = BinaryOp::Gt;
    return true;
  case TokenKind::GreaterEq:
    Op = BinaryOp::Ge;
    return true;
  default:
    return false;
  }
}

/// Comparisons are non-associative: `a < b < c` means nothing useful (it
/// would compare a 0/1 result with c), so it is an error, as in Rust.
Parser::Parsed Parser::parseComparison() {
  Parsed LHS = parseAdditive();
  BinaryOp Op;
  if (!LHS.E || atHiddenLineBreak() || !comparisonOp(tok().Kind, Op))
    return LHS;
  const Token &OpTok = advance();
  Parsed RHS = parseAdditive();
  if (!RHS.E)
    return {};
  BinaryOp Next;
  if (!atHiddenLineBreak() && comparisonOp(tok().Kind, Next)) {
    errorAt(tok(), "comparison operators cannot be chained");
    return {};
  }
  return makeBinary(OpTok, Op, std::move(LHS), std::move(RHS));
}

Parser::Parsed Parser::parseAdditive() {
  Parsed LHS = parseTerm();
  while (LHS.E && !atHiddenLineBreak() &&
         (at(TokenKind::Plus) || at(TokenKind::Minus))) {
    const Token &Op = advance();
    Parsed RHS = parseTerm();
    if (!RHS.E)
      return {};
    LHS = makeBinary(Op, Op.is(TokenKind::Plus) ? BinaryOp::Add : BinaryOp::Sub,
                     std::move(LHS), std::move(RHS));
  }
  return LHS;
}

Parser::Parsed Parser::parseTerm() {
  Parsed LHS = parseUnary();
  while (LHS.E && !atHiddenLineBreak() &&
         (at(TokenKind::Star) || at(TokenKind::Slash) || at(TokenKind::At))) {
    const Token &Op = advance();
    BinaryOp Kind = Op.is(TokenKind::Star)    ? BinaryOp::Mul
                    : Op.is(TokenKind::Slash) ? BinaryOp::Div
                                              : BinaryOp::MatMul;
    Parsed RHS = parseUnary();
    if (!RHS.E)
      return {};
    LHS = makeBinary(Op, Kind, std::move(LHS), std::move(RHS));
  }
  return LHS;
}

/// Every recursive path of the expression grammar (parentheses, brackets,
/// call arguments, `-` chains, `^` chains) passes through here, so this is
/// the one place that bounds the recursion.
Parser::Parsed Parser::parseUnary() {
  DepthGuard Guard(Depth);
  if (!Guard.ok()) {
    tooDeep(tok());
    return {};
  }
  if (!at(TokenKind::Minus))
    return parsePower();
  const Token &Op = advance();
  Parsed Operand = parseUnary();
  if (!Operand.E)
    return {};
  // -x^2 is -(x^2): the operand already holds the power.
  return {std::make_unique<UnaryExpr>(Op.Loc, std::move(Operand.E)),
          Operand.Height + 1};
}

/// `a ^ b ^ c` is `a ^ (b ^ c)`, and the exponent may carry its own sign,
/// so `2 ^ -1` is `2 ^ (-1)`.
Parser::Parsed Parser::parsePower() {
  Parsed Base = parsePrimary();
  if (!Base.E || atHiddenLineBreak() || !at(TokenKind::Caret))
    return Base;
  const Token &Op = advance();
  Parsed Exponent = parseUnary();
  if (!Exponent.E)
    return {};
  return makeBinary(Op, BinaryOp::Pow, std::move(Base), std::move(Exponent));
}

Parser::Parsed Parser::parsePrimary() {
  const Token &T = tok();
  if (atHiddenLineBreak() && Pos != StmtStartPos) {
    expected("an expression");
    return {};
  }
  switch (T.Kind) {
  case TokenKind::Number:
    advance();
    return {std::make_unique<NumberExpr>(T.Loc, T.NumValue, T.IsInteger,
                                         T.Text.str()),
            1};
  case TokenKind::String:
    advance();
    return {std::make_unique<StringExpr>(T.Loc, T.StrValue), 1};
  case TokenKind::Ident:
    if (T.isIdent("true") || T.isIdent("false")) {
      advance();
      return {std::make_unique<BoolExpr>(T.Loc, T.Text == "true"), 1};
    }
    if (peek().is(TokenKind::LParen))
      return parseCall();
    advance();
    return {std::make_unique<NameExpr>(T.Loc, T.Text.str()), 1};
  case TokenKind::LParen: {
    advance();
    ++ParenDepth;
    Parsed Inner = parseComparison();
    --ParenDepth;
    if (!Inner.E || !expectCloser(TokenKind::RParen, T))
      return {};
    return Inner;
  }
  case TokenKind::LBracket:
    return parseList();
  default:
    expected("an expression");
    return {};
  }
}

Parser::Parsed Parser::parseCall() {
  const Token &Callee = advance();
  const Token &Open = advance(); // '('
  auto Call = std::make_unique<CallExpr>(Callee.Loc, Callee.Text.str());
  unsigned Height = 0;
  bool Ok = parseCommaList(Open, TokenKind::RParen, [&] {
    if (at(TokenKind::Ident) && peek().is(TokenKind::Assign)) {
      KeywordArg K;
      K.Name = tok().Text.str();
      K.Loc = tok().Loc;
      for (const KeywordArg &Prev : Call->Kwargs) {
        if (Prev.Name == K.Name) {
          errorAt(tok(), "duplicate keyword argument '" + K.Name + "'");
          return false;
        }
      }
      advance(); // name
      advance(); // '='
      Parsed V = parseComparison();
      if (!V.E)
        return false;
      Height = std::max(Height, V.Height);
      K.Value = std::move(V.E);
      Call->Kwargs.push_back(std::move(K));
      return true;
    }
    if (!Call->Kwargs.empty()) {
      errorAt(tok(), "positional argument after keyword argument");
      return false;
    }
    Parsed A = parseComparison();
    if (!A.E)
      return false;
    Height = std::max(Height, A.Height);
    Call->Args.push_back(std::move(A.E));
    return true;
  });
  if (!Ok)
    return {};
  return {std::move(Call), Height + 1};
}

Parser::Parsed Parser::parseList() {
  const Token &Open = advance(); // '['
  std::vector<ExprPtr> Elements;
  unsigned Height = 0;
  bool Ok = parseCommaList(Open, TokenKind::RBracket, [&] {
    Parsed E = parseComparison();
    if (!E.E)
      return false;
    Height = std::max(Height, E.Height);
    Elements.push_back(std::move(E.E));
    return true;
  });
  if (!Ok)
    return {};
  return {std::make_unique<ListExpr>(Open.Loc, std::move(Elements)),
          Height + 1};
}

} // namespace nnc::parse_detail
