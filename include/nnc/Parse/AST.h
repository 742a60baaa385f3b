//===- AST.h - Abstract syntax tree of a .nn file -------------------------===//
//
// The parser's output, close to the source: a File holds `model`, `fn` and
// `train` blocks in source order. Every node carries the SourceLoc of its
// first token (for binary operators: of the operator), so that semantic
// errors point at the text. Sema turns a model into a Graph; nothing here
// knows about shapes.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_PARSE_AST_H
#define NNC_PARSE_AST_H

#include "nnc/Support/SourceLoc.h"

#include <memory>
#include <string>
#include <vector>

namespace nnc::ast {

//===--- Expressions ------------------------------------------------------===//

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprKind : uint8_t {
  Number, ///< 12, 0.5, 1e-3, .5
  String, ///< "xor.csv"
  Bool,   ///< true, false
  Name,   ///< x, W1, B
  List,   ///< [a, b, ...] (tensor literals, axis lists, shapes)
  Unary,  ///< -x
  Binary, ///< a + b, a @ b, a ^ b, a < b, ...
  Call,   ///< f(a, b, k = v)
};

enum class BinaryOp : uint8_t {
  Add,
  Sub,
  Mul,
  Div,
  MatMul,
  Pow,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
};

/// "+", "@", "==", ...
const char *binaryOpSpelling(BinaryOp Op);

struct Expr {
  ExprKind Kind;
  SourceLoc Loc;

  explicit Expr(ExprKind Kind, SourceLoc Loc) : Kind(Kind), Loc(Loc) {}
  virtual ~Expr() = default;
};

struct NumberExpr : Expr {
  double Value;
  /// Written without '.', 'e' or 'E' (so usable as a dimension or an axis).
  bool IsInteger;
  /// The source text, for exact dumps and integer overflow checks.
  std::string Text;
  NumberExpr(SourceLoc Loc, double Value, bool IsInteger, std::string Text)
      : Expr(ExprKind::Number, Loc), Value(Value), IsInteger(IsInteger),
        Text(std::move(Text)) {}
};

struct StringExpr : Expr {
  std::string Value; ///< Escapes already resolved.
  StringExpr(SourceLoc Loc, std::string Value)
      : Expr(ExprKind::String, Loc), Value(std::move(Value)) {}
};

struct BoolExpr : Expr {
  bool Value;
  BoolExpr(SourceLoc Loc, bool Value)
      : Expr(ExprKind::Bool, Loc), Value(Value) {}
};

struct NameExpr : Expr {
  std::string Name;
  NameExpr(SourceLoc Loc, std::string Name)
      : Expr(ExprKind::Name, Loc), Name(std::move(Name)) {}
};

struct ListExpr : Expr {
  std::vector<ExprPtr> Elements;
  ListExpr(SourceLoc Loc, std::vector<ExprPtr> Elements)
      : Expr(ExprKind::List, Loc), Elements(std::move(Elements)) {}
};

struct UnaryExpr : Expr { ///< Only negation exists.
  ExprPtr Operand;
  UnaryExpr(SourceLoc Loc, ExprPtr Operand)
      : Expr(ExprKind::Unary, Loc), Operand(std::move(Operand)) {}
};

struct BinaryExpr : Expr {
  BinaryOp Op;
  ExprPtr LHS, RHS;
  BinaryExpr(SourceLoc Loc, BinaryOp Op, ExprPtr LHS, ExprPtr RHS)
      : Expr(ExprKind::Binary, Loc), Op(Op), LHS(std::move(LHS)),
        RHS(std::move(RHS)) {}
};

struct KeywordArg {
  std::string Name;
  SourceLoc Loc; ///< Of the keyword.
  ExprPtr Value;
};

struct CallExpr : Expr {
  std::string Callee; ///< May be a keyword spelled as a call: `const(0.1)`.
  SourceLoc CalleeLoc;
  std::vector<ExprPtr> Args;
  std::vector<KeywordArg> Kwargs;
  CallExpr(SourceLoc Loc, std::string Callee)
      : Expr(ExprKind::Call, Loc), Callee(std::move(Callee)), CalleeLoc(Loc) {}
};

//===--- Types ------------------------------------------------------------===//

/// `f32[B, 784]`, `i32[B]`, `f32` (scalar), `i64[3]`.
struct TypeExpr {
  /// "f32", "i32", or a file's element type such as "i64" (sema checks
  /// which are allowed where).
  std::string DType;
  SourceLoc Loc;
  /// Each entry an integer expression (literal, dim name, fn argument).
  std::vector<ExprPtr> Dims;
};

//===--- Statements -------------------------------------------------------===//

enum class StmtKind : uint8_t {
  Dim,       ///< dim B = 64
  Input,     ///< input x : f32[B, 2]
  Target,    ///< target t : i32[B]
  Param,     ///< param W : f32[2, 2] = uniform(-1, 1)
  Const,     ///< const K : f32[3] = [1, 2, 3]
  Let,       ///< name = expr
  Loss,      ///< loss name = expr
  Output,    ///< output name  |  output name = expr
  Metric,    ///< metric name = expr
  Return,    ///< return expr (fn bodies only)
  Unbatched, ///< unbatched (inputs taken whole, no batch dimension)
};

/// "dim", "input", ..., "binding" for Let.
const char *stmtKindName(StmtKind K);

struct Stmt {
  StmtKind Kind;
  SourceLoc Loc;    ///< Of the statement's first token.
  std::string Name; ///< Declared/bound name (empty for Return).
  SourceLoc NameLoc;
  /// Input/Target/Param/Const; Output when written `output y : i64` (an
  /// element type alone, no dims).
  std::unique_ptr<TypeExpr> Type;
  /// Dim: the size. Param: the initializer. Const: the literal.
  /// Let/Loss/Metric/Return: the expression. Output: the expression, or
  /// null for `output name`.
  ExprPtr Value;
};

//===--- Top-level blocks -------------------------------------------------===//

struct ModelDecl {
  std::string Name;
  SourceLoc Loc, NameLoc;
  std::vector<Stmt> Body;
};

struct FnParam {
  std::string Name;
  SourceLoc Loc;
};

struct FnDecl {
  std::string Name;
  SourceLoc Loc, NameLoc;
  std::vector<FnParam> Params;
  std::vector<Stmt> Body;
};

/// `key = value` inside a train block.
struct TrainEntry {
  std::string Key;
  SourceLoc KeyLoc;
  ExprPtr Value;
};

struct TrainDecl {
  std::string Model; ///< The model it trains.
  SourceLoc Loc, ModelLoc;
  std::vector<TrainEntry> Entries;
};

struct File {
  std::string Path;
  /// The file's first byte (line 1, column 1, even when the file is
  /// empty): where errors about the file as a whole point.
  SourceLoc Start;
  std::vector<ModelDecl> Models;
  std::vector<FnDecl> Fns;
  std::vector<TrainDecl> Trains;
  /// Source order of the blocks: (kind, index into its vector), for dumps.
  enum class BlockKind : uint8_t { Model, Fn, Train };
  std::vector<std::pair<BlockKind, unsigned>> Order;
};

} // namespace nnc::ast

#endif
