//===- SemaImpl.h - Internals of semantic analysis ------------------------===//
//
// The state the Sema files share: the Analyzer (one per `analyze` call), its
// scopes, the value an expression evaluates to, compile-time numbers, and
// the node-building helpers that check shapes and dtypes before appending to
// the graph. Split by concern across
//   Sema.cpp        driver, scopes, statements, fn expansion
//   Decls.cpp       types, initializers, const values, tensor literals
//   ConstExpr.cpp   compile-time integer and number expressions
//   Expr.cpp        expressions, operators, broadcasting, node builders
//   Builtins.cpp    the built-in table and argument binding
//   Lowerings.cpp   decompositions of the compound built-ins
//   Concat.cpp      concat's operand checks
//   TrainBlock.cpp  `train` block validation
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_SEMA_SEMAIMPL_H
#define NNC_LIB_SEMA_SEMAIMPL_H

#include "nnc/Sema/Sema.h"

#include <llvm/ADT/DenseSet.h>
#include <llvm/ADT/StringMap.h>
#include <llvm/ADT/StringSet.h>

#include <optional>
#include <set>
#include <string>

namespace nnc::sema {

/// A number known at compile time: a literal, a `dim`, an integer fn
/// argument, or arithmetic on those. Integers are exact (`I`); `F` always
/// holds the value as a double.
struct ConstNum {
  double F = 0;
  int64_t I = 0;
  /// The value is an exact integer held in `I`.
  bool IsInt = false;
  /// Integer arithmetic left the int64_t range; `F` approximates the value.
  bool Overflow = false;

  static ConstNum ofInt(int64_t V) { return {double(V), V, true, false}; }
  static ConstNum ofFloat(double V) { return {V, 0, false, false}; }
  /// An integer, or a float with an integral value that fits an i32.
  bool isIntegral() const;
};

/// What an expression evaluates to. Numbers stay symbolic (`Num`) until an
/// operator needs a node, so constant arithmetic like `1/255` folds and a
/// literal can become an i32 constant next to an i32 tensor.
struct Val {
  enum KindT : uint8_t { Error, Tensor, Num } Kind = Error;
  Node *N = nullptr;
  ConstNum C;

  static Val error() { return {}; }
  static Val tensor(Node *N) {
    Val V;
    V.Kind = N ? Tensor : Error;
    V.N = N;
    return V;
  }
  static Val num(ConstNum C) {
    Val V;
    V.Kind = Num;
    V.C = C;
    return V;
  }
  bool isError() const { return Kind == Error; }
};

/// A name in scope.
struct Binding {
  Val V;
  SourceLoc Loc;    ///< Of the definition, for "previous definition" notes.
  const char *What; ///< "dim", "input", "param", "binding", ...
};

struct Frame;

/// How params created while evaluating one statement are named: the
/// statement's binding (`h1`), counted so that a second param-creating fn
/// call in the same statement gets `h1.2`.
struct NameContext {
  Frame *Owner = nullptr; ///< The fn frame the statement is in (null: model).
  std::string Local;      ///< The bound name; empty for `return`.
  unsigned Calls = 0;     ///< Param-creating fn calls resolved so far.

  /// The dotted name of the binding (`h1`, `h1.a`).
  std::string base() const;
};

/// One scope: a model body or one expansion of a fn.
struct Frame {
  llvm::StringMap<Binding> Names;
  const ast::FnDecl *Fn = nullptr; ///< Null for the model body.
  SourceLoc CallLoc;               ///< Where this expansion was called.
  NameContext *Ctx = nullptr;      ///< The caller's naming context.
  std::optional<std::string> Prefix;

  /// The prefix of params made in this frame, fixed when first asked for
  /// (so fns that make no params do not consume a number).
  const std::string &prefix();
};

struct BuiltinInfo; // Builtins.h

/// A bound argument of a built-in call.
struct Arg {
  bool Given = false; ///< Written by the user (else it holds the default).
  SourceLoc Loc;
  Val V;         ///< Tensor parameters.
  int64_t I = 0; ///< Integer options (axis, stride, n, ...).
  double F = 0;  ///< Float options (alpha, margin).
  Shape Dims;    ///< `reshape` shapes (may hold one -1); lists of axes.
  /// A variadic tensor parameter: one bound argument per tensor given, in
  /// order (`V` and `Loc` above are the first's).
  std::vector<Arg> Items;
};

/// Upper bounds that keep any input from exhausting time or memory.
constexpr unsigned MaxCallDepth = 64;
constexpr size_t MaxNodes = 100000;
constexpr uint64_t MaxWork = 1000000; ///< Expressions lowered per model.
/// Once this many errors were reported, lowering stops: a fn expanded
/// 2^20 times that fails each time would otherwise keep failing for long.
constexpr unsigned MaxErrors = 50;
constexpr int64_t MaxDim = (int64_t(1) << 31) - 1;

class Analyzer {
public:
  Analyzer(const ast::File &File, DiagEngine &Diags, llvm::StringRef BaseDir)
      : File(File), Diags(Diags), BaseDir(BaseDir) {}

  std::unique_ptr<Module> run();

  //===--- Diagnostics (Sema.cpp) -----------------------------------------===//
  /// Reports an error once per (location, message): a fn expanded many
  /// times reports its own mistakes once. Inside a fn expansion a note
  /// points at the call.
  void error(SourceLoc Loc, const llvm::Twine &Msg);
  void note(SourceLoc Loc, const llvm::Twine &Msg);
  /// "; did you mean 'X'?" for the nearest of `Candidates`, or "".
  static std::string suggest(llvm::StringRef Name,
                             llvm::ArrayRef<std::string> Candidates);

  //===--- Scopes and statements (Sema.cpp) -------------------------------===//
  Frame &frame() { return *Frames.back(); }
  /// The binding of `Name` in the current frame, or null.
  const Binding *lookup(llvm::StringRef Name);
  /// Binds `Name`; a second binding is an error with a note.
  bool bind(llvm::StringRef Name, SourceLoc Loc, Val V, const char *What);
  /// The error for an unknown name, with a suggestion from the scope.
  void unknownName(llvm::StringRef Name, SourceLoc Loc);
  std::unique_ptr<Graph> analyzeModel(const ast::ModelDecl &MD);
  void analyzeStmt(const ast::Stmt &S);
  /// A user fn call, expanded inline.
  /// Step 1 (Fn.cpp): registers and checks the fn declarations.
  void collectFns();
  Val expandFn(const ast::FnDecl &Fn, const ast::CallExpr &Call);
  /// A unique param/const name inside fns (`h1.W`, then `h1.W.2`).
  std::string fnLeafName(llvm::StringRef Local);
  /// The prefix of the leaves a built-in call creates (batchnorm's
  /// buffers): the receiving binding's name, like a fn call's params
  /// (`z`, `h1`; a second such call in one statement gets `z.2`).
  std::string callLeafPrefix();
  /// `Name`, made unique among the model's leaves (`Name.2`, ...).
  std::string uniqueLeafName(std::string Name);

  //===--- Declarations (Decls.cpp) ---------------------------------------===//
  /// The type `T` spells. With `Stored`, a tensor file's element type
  /// (i64, bool, ...) is allowed too and returned there.
  std::optional<TensorType> resolveType(const ast::TypeExpr &T,
                                        FileType *Stored = nullptr);
  /// The element type alone (dims ignored), with `Stored` as above.
  std::optional<DType> resolveElementType(const ast::TypeExpr &T,
                                          FileType *Stored);
  /// Fills `N->Init` from a param initializer; false after an error.
  bool lowerInit(const ast::Expr *E, Node *N, SourceLoc DeclLoc);
  /// A tensor literal (nested lists of constant numbers) of dtype `Elem`.
  std::optional<Tensor> tensorLiteral(const ast::Expr &E, DType Elem);
  /// `load(FILE)`: the tensor named `Name` in FILE, which must have type
  /// `Want`; nullopt after an error.
  std::optional<Tensor> loadTensor(const ast::CallExpr &C,
                                   const std::string &Name,
                                   const TensorType &Want);
  Node *declareLeaf(const ast::Stmt &S);

  //===--- Compile-time numbers (ConstExpr.cpp) ---------------------------===//
  /// Evaluates a constant expression; nullopt after an error (or silently
  /// when `Quiet`).
  std::optional<ConstNum> evalConst(const ast::Expr &E, bool Quiet = false);
  /// An integer constant; `What` names it in errors ("dimension", "axis").
  std::optional<int64_t> evalInt(const ast::Expr &E, llvm::StringRef What);
  /// A dimension: a positive integer not above MaxDim.
  std::optional<int64_t> evalDim(const ast::Expr &E);
  /// A number (integer or float) constant.
  std::optional<double> evalNumber(const ast::Expr &E, llvm::StringRef What);
  /// Folds `L op R`; nullopt (after an error at `Loc`) on division by zero.
  std::optional<ConstNum> fold(ast::BinaryOp Op, ConstNum L, ConstNum R,
                               SourceLoc Loc, bool Quiet);

  //===--- Expressions and node builders (Expr.cpp) -----------------------===//
  Val lowerExpr(const ast::Expr &E);
  Val lowerCall(const ast::CallExpr &Call);
  Val lowerBinary(ast::BinaryOp Op, Val L, Val R, SourceLoc Loc);
  /// Arithmetic op `K` (add ... min) on two values: unifies dtypes (an
  /// integral number next to an i32 tensor becomes i32), then broadcasts.
  Val arith(OpKind K, Val L, Val R, SourceLoc Loc, llvm::StringRef Spelling);
  Val lowerNeg(Val V, SourceLoc Loc);
  /// A node for `V`: numbers become scalar constants of dtype `Want` (i32
  /// only for integral values; otherwise f32).
  Node *materialize(const Val &V, DType Want, SourceLoc Loc);
  /// Appends a node after checking its type with the shared shape rules
  /// (and the size cap). Null after an error.
  Node *make(OpKind K, llvm::ArrayRef<Node *> Ops, SourceLoc Loc, Attrs A = {});
  /// Appends an op whose result type is given (reshape, cast).
  Node *makeTyped(OpKind K, TensorType T, llvm::ArrayRef<Node *> Ops,
                  SourceLoc Loc);
  Node *reshape(Node *X, llvm::ArrayRef<int64_t> Dims, SourceLoc Loc);
  Node *cast(Node *X, DType To, SourceLoc Loc);
  Node *reduce(OpKind K, Node *X, int64_t Axis, bool KeepDims, SourceLoc Loc);
  Node *scalar(double V, SourceLoc Loc) { return G->scalarConst(V, Loc); }
  /// Elementwise binary op with broadcasting; errors name both types.
  Node *elementwise(OpKind K, Node *L, Node *R, SourceLoc Loc,
                    llvm::StringRef Spelling);
  Node *matmul(Node *L, Node *R, SourceLoc Loc);
  /// Checks the size cap and the expansion budget; false after an error.
  bool checkSize(const TensorType &T, SourceLoc Loc);
  /// Normalizes a (possibly negative) axis of `X`; errors name X's type.
  std::optional<int64_t> normAxis(int64_t Axis, const Node *X, SourceLoc Loc);

  //===--- Built-ins (Builtins.cpp, Lowerings.cpp) ------------------------===//
  Val lowerBuiltin(const BuiltinInfo &B, const ast::CallExpr &Call);
  /// Requires an f32 tensor argument of built-in `Fn`.
  Node *floatArg(const Arg &A, llvm::StringRef Fn);
  /// Requires any tensor argument.
  Node *tensorArg(const Arg &A, llvm::StringRef Fn);

  //===--- Train blocks (TrainBlock.cpp, TrainRecipe.cpp) -----------------===//
  void analyzeTrain(const ast::TrainDecl &T, Module &M);
  /// `schedule = constant | step(every, gamma) | cosine(warmup)`.
  bool lowerSchedule(const ast::Expr &E, ScheduleSpec &S);
  /// `augment = [random_crop(padding), hflip]`.
  bool lowerAugment(const ast::Expr &E, std::vector<AugmentSpec> &Out);
  /// `validation = f`, 0 < f < 1.
  bool lowerValidation(const ast::Expr &E, double &Fraction);
  /// `early_stop = patience`, an integer ≥ 1.
  bool lowerEarlyStop(const ast::Expr &E, int64_t &Patience);
  /// The checks between keys once all are read: augment needs image data,
  /// early_stop a validation set, a cosine warm-up fewer epochs than the
  /// run. `Keys` holds where each key was given.
  void checkRecipe(const TrainConfig &C, const llvm::StringMap<SourceLoc> &Keys,
                   const ast::TrainDecl &T);

  // State.
  const ast::File &File;
  DiagEngine &Diags;
  llvm::StringRef BaseDir;
  TensorReader Read; ///< For `load(FILE)`; may be empty.
  llvm::StringMap<const ast::FnDecl *> Fns;
  llvm::StringSet<> RecursiveFns; ///< Reported once; never expanded.
  /// Fns whose expansion reported an error. Later calls fail at once and
  /// silently: the error was reported, and a fn called 2^20 times that fails
  /// each time must not take 2^20 expansions to say so.
  llvm::DenseSet<const ast::FnDecl *> FailedFns;
  /// Models by name, with whether their analysis had errors.
  llvm::StringMap<std::pair<const ast::ModelDecl *, bool>> ModelDecls;

  Graph *G = nullptr;
  std::vector<std::unique_ptr<Frame>> Frames;
  std::vector<const ast::FnDecl *> CallStack;
  NameContext *Ctx = nullptr; ///< Of the statement being lowered.
  llvm::StringSet<> LeafNames;
  uint64_t Work = 0;
  bool Aborted = false; ///< The model blew a size cap; stop lowering.
  /// The first input/target, which fixed the batch dimension.
  std::string BatchName;
  SourceLoc BatchLoc;

private:
  std::set<std::pair<const char *, std::string>> Reported;
};

/// The arguments of a train-block call such as `sgd(lr = 0.1)`, bound by
/// position or keyword.
struct CallArgs {
  std::vector<const ast::Expr *> Exprs;
};

/// Binds `C`'s arguments to `Names` (required ones first, `NumRequired` of
/// them); an unknown keyword suggests the nearest name (TrainBlock.cpp).
/// False after an error.
bool bindArgs(Analyzer &A, const ast::CallExpr &C,
              llvm::ArrayRef<const char *> Names, unsigned NumRequired,
              CallArgs &Out);

/// A number as users write it: `3`, `0.5`, `1e-08`.
std::string formatConst(double V);

/// Finds a built-in by name (Builtins.cpp).
const BuiltinInfo *findBuiltin(llvm::StringRef Name);
/// Every built-in name, for suggestions.
std::vector<std::string> builtinNames();
/// Initializer names (zeros, uniform, ...), which are not functions.
bool isInitializerName(llvm::StringRef Name);

} // namespace nnc::sema

#endif
