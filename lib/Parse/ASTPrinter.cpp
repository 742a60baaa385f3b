//===- ASTPrinter.cpp - `--emit=ast`
//---------------------------------------===//
//
// Prints a File as an indented tree, one node per line, two spaces per
// level, each line ending in the node's `@LINE:COL`:
//
//   model xor @1:1                      blocks: model NAME, fn NAME(P, ...),
//     dim B @2:3                                train MODEL
//       number 4 @2:11                  statements: KIND NAME (Let prints as
//     input x : f32[B, 2] @3:3            "let"), with ": TYPE" inline
//     let h @9:3                        expressions: number TEXT, string "S",
//       call sigmoid @9:7                 bool V, name N, list, unary -,
//         binary + @9:17                  binary OP, call F; keyword
//           binary @ @9:15                arguments as "kwarg K" above
//             name x @9:7                 their value
//             name W1 @9:17
//   train xor @16:1
//     key epochs @19:3
//       number 5000 @19:15
//
// Binary operators are located at the operator. Type shapes print inline
// (`f32[B, 16 * 4]`, nested operators parenthesized) because they are
// usually single names or numbers. The layout is a test surface: keep it
// stable.
//
//===----------------------------------------------------------------------===//
#include "nnc/Parse/Parser.h"

using namespace nnc;
using namespace nnc::ast;

namespace {

class ASTPrinter {
public:
  explicit ASTPrinter(llvm::raw_ostream &OS) : OS(OS) {}

  void printModel(const ModelDecl &M);
  void printFn(const FnDecl &F);
  void printTrain(const TrainDecl &T);

private:
  void printStmt(const Stmt &S, unsigned Indent);
  void printExpr(const Expr &E, unsigned Indent);
  /// Compact one-line form, for shapes.
  void printInline(const Expr &E, bool Nested);
  void printString(llvm::StringRef S) {
    OS << '"';
    OS.write_escaped(S, /*UseHexEscapes=*/true);
    OS << '"';
  }
  void at(SourceLoc Loc) { OS << " @" << Loc.Line << ':' << Loc.Col << '\n'; }
  llvm::raw_ostream &indent(unsigned N) { return OS.indent(2 * N); }

  llvm::raw_ostream &OS;
};

void ASTPrinter::printModel(const ModelDecl &M) {
  OS << "model " << M.Name;
  at(M.Loc);
  for (const Stmt &S : M.Body)
    printStmt(S, 1);
}

void ASTPrinter::printFn(const FnDecl &F) {
  OS << "fn " << F.Name << '(';
  for (size_t I = 0; I < F.Params.size(); ++I)
    OS << (I ? ", " : "") << F.Params[I].Name;
  OS << ')';
  at(F.Loc);
  for (const Stmt &S : F.Body)
    printStmt(S, 1);
}

void ASTPrinter::printTrain(const TrainDecl &T) {
  OS << "train " << T.Model;
  at(T.Loc);
  for (const TrainEntry &E : T.Entries) {
    indent(1) << "key " << E.Key;
    at(E.KeyLoc);
    printExpr(*E.Value, 2);
  }
}

void ASTPrinter::printStmt(const Stmt &S, unsigned Indent) {
  indent(Indent) << (S.Kind == StmtKind::Let ? "let" : stmtKindName(S.Kind));
  if (S.Kind != StmtKind::Return && S.Kind != StmtKind::Unbatched)
    OS << ' ' << S.Name;
  if (S.Type) {
    OS << " : " << S.Type->DType;
    if (!S.Type->Dims.empty()) {
      OS << '[';
      for (size_t I = 0; I < S.Type->Dims.size(); ++I) {
        if (I)
          OS << ", ";
        printInline(*S.Type->Dims[I], /*Nested=*/false);
      }
      OS << ']';
    }
  }
  at(S.Loc);
  if (S.Value)
    printExpr(*S.Value, Indent + 1);
}

void ASTPrinter::printExpr(const Expr &E, unsigned Indent) {
  indent(Indent);
  switch (E.Kind) {
  case ExprKind::Number:
    OS << "number " << static_cast<const NumberExpr &>(E).Text;
    at(E.Loc);
    return;
  case ExprKind::String:
    OS << "string ";
    printString(static_cast<const StringExpr &>(E).Value);
    at(E.Loc);
    return;
  case ExprKind::Bool:
    OS << "bool "
       << (static_cast<const BoolExpr &>(E).Value ? "true" : "false");
    at(E.Loc);
    return;
  case ExprKind::Name:
    OS << "name " << static_cast<const NameExpr &>(E).Name;
    at(E.Loc);
    return;
  case ExprKind::List:
    OS << "list";
    at(E.Loc);
    for (const ExprPtr &Elem : static_cast<const ListExpr &>(E).Elements)
      printExpr(*Elem, Indent + 1);
    return;
  case ExprKind::Unary:
    OS << "unary -";
    at(E.Loc);
    printExpr(*static_cast<const UnaryExpr &>(E).Operand, Indent + 1);
    return;
  case ExprKind::Binary: {
    const auto &B = static_cast<const BinaryExpr &>(E);
    OS << "binary " << binaryOpSpelling(B.Op);
    at(E.Loc);
    printExpr(*B.LHS, Indent + 1);
    printExpr(*B.RHS, Indent + 1);
    return;
  }
  case ExprKind::Call: {
    const auto &C = static_cast<const CallExpr &>(E);
    OS << "call " << C.Callee;
    at(E.Loc);
    for (const ExprPtr &A : C.Args)
      printExpr(*A, Indent + 1);
    for (const KeywordArg &K : C.Kwargs) {
      indent(Indent + 1) << "kwarg " << K.Name;
      at(K.Loc);
      printExpr(*K.Value, Indent + 2);
    }
    return;
  }
  }
}

void ASTPrinter::printInline(const Expr &E, bool Nested) {
  switch (E.Kind) {
  case ExprKind::Number:
    OS << static_cast<const NumberExpr &>(E).Text;
    return;
  case ExprKind::String:
    printString(static_cast<const StringExpr &>(E).Value);
    return;
  case ExprKind::Bool:
    OS << (static_cast<const BoolExpr &>(E).Value ? "true" : "false");
    return;
  case ExprKind::Name:
    OS << static_cast<const NameExpr &>(E).Name;
    return;
  case ExprKind::List: {
    OS << '[';
    const auto &L = static_cast<const ListExpr &>(E);
    for (size_t I = 0; I < L.Elements.size(); ++I) {
      if (I)
        OS << ", ";
      printInline(*L.Elements[I], /*Nested=*/false);
    }
    OS << ']';
    return;
  }
  case ExprKind::Unary:
    OS << '-';
    printInline(*static_cast<const UnaryExpr &>(E).Operand, /*Nested=*/true);
    return;
  case ExprKind::Binary: {
    const auto &B = static_cast<const BinaryExpr &>(E);
    if (Nested)
      OS << '(';
    printInline(*B.LHS, /*Nested=*/true);
    OS << ' ' << binaryOpSpelling(B.Op) << ' ';
    printInline(*B.RHS, /*Nested=*/true);
    if (Nested)
      OS << ')';
    return;
  }
  case ExprKind::Call: {
    const auto &C = static_cast<const CallExpr &>(E);
    OS << C.Callee << '(';
    bool First = true;
    for (const ExprPtr &A : C.Args) {
      OS << (First ? "" : ", ");
      First = false;
      printInline(*A, /*Nested=*/false);
    }
    for (const KeywordArg &K : C.Kwargs) {
      OS << (First ? "" : ", ") << K.Name << " = ";
      First = false;
      printInline(*K.Value, /*Nested=*/false);
    }
    OS << ')';
    return;
  }
  }
}

} // namespace

void nnc::printAST(const File &F, llvm::raw_ostream &OS) {
  ASTPrinter P(OS);
  for (auto [Kind, Index] : F.Order) {
    switch (Kind) {
    case File::BlockKind::Model:
      P.printModel(F.Models[Index]);
      break;
    case File::BlockKind::Fn:
      P.printFn(F.Fns[Index]);
      break;
    case File::BlockKind::Train:
      P.printTrain(F.Trains[Index]);
      break;
    }
  }
}
