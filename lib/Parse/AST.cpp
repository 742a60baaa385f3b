//===- AST.cpp - Names of AST enumerators ---------------------------------===//
//
// The spellings shared by the AST printer and by later stages' diagnostics
// ("binary '@'", "in 'param' declaration"), kept in one place so that dumps
// and messages agree.
//
//===----------------------------------------------------------------------===//
#include "nnc/Parse/AST.h"

using namespace nnc::ast;

const char *nnc::ast::binaryOpSpelling(BinaryOp Op) {
  switch (Op) {
  case BinaryOp::Add:
    return "+";
  case BinaryOp::Sub:
    return "-";
  case BinaryOp::Mul:
    return "*";
  case BinaryOp::Div:
    return "/";
  case BinaryOp::MatMul:
    return "@";
  case BinaryOp::Pow:
    return "^";
  case BinaryOp::Eq:
    return "==";
  case BinaryOp::Ne:
    return "!=";
  case BinaryOp::Lt:
    return "<";
  case BinaryOp::Le:
    return "<=";
  case BinaryOp::Gt:
    return ">";
  case BinaryOp::Ge:
    return ">=";
  }
  return "?";
}

const char *nnc::ast::stmtKindName(StmtKind K) {
  switch (K) {
  case StmtKind::Dim:
    return "dim";
  case StmtKind::Input:
    return "input";
  case StmtKind::Target:
    return "target";
  case StmtKind::Param:
    return "param";
  case StmtKind::Const:
    return "const";
  case StmtKind::Let:
    return "binding";
  case StmtKind::Loss:
    return "loss";
  case StmtKind::Output:
    return "output";
  case StmtKind::Metric:
    return "metric";
  case StmtKind::Return:
    return "return";
  case StmtKind::Unbatched:
    return "unbatched";
  }
  return "?";
}
