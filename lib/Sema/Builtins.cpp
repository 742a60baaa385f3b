//===- Builtins.cpp - The built-in table and argument binding -------------===//
//
// One table row per built-in of docs/language.md ("Built-in functions"):
// parameters with kinds and defaults, and a lowering. Binding a call:
//   1. positional arguments fill the non-keyword-only parameters in order
//      (too many is an arity error); a variadic tensor parameter, the last
//      positional one, takes all that remain (`concat(a, b, c)`);
//   2. keywords fill options by name (tensors are positional only); an
//      unknown keyword lists the valid ones, a repeated one is an error;
//   3. a missing required parameter, or fewer tensors than a variadic
//      parameter needs, is an arity error;
//   4. tensors are lowered, options evaluated as compile-time constants
//      (a non-constant axis is an error), defaults fill the rest;
//   5. the row's lowering builds the nodes.
// Simple built-ins map to one primitive op; the decompositions below and in
// Lowerings.cpp each carry one comment stating the rule (docs/language.md
// lists them all).
//
//===----------------------------------------------------------------------===//
#include "Builtins.h"

#include <llvm/ADT/StringExtras.h>

using namespace nnc;
using namespace nnc::sema;

Node *Analyzer::tensorArg(const Arg &A, llvm::StringRef Fn) {
  return materialize(A.V, DType::F32, A.Loc);
}

Node *Analyzer::floatArg(const Arg &A, llvm::StringRef Fn) {
  Node *N = tensorArg(A, Fn);
  if (N && N->dtype() != DType::F32) {
    error(A.Loc,
          "'" + Fn + "' needs an f32 tensor, but got " + formatType(N->Type));
    return nullptr;
  }
  return N;
}

//===----------------------------------------------------------------------===//
// Simple lowerings
//===----------------------------------------------------------------------===//

namespace {

/// The primitive op of a one-operand elementwise built-in.
template <OpKind K>
Val lowerUnary(Analyzer &A, const ast::CallExpr &C, llvm::ArrayRef<Arg> Args) {
  // Ops.def says which also work on i32 (abs); the others are f32 only.
  Node *X = acceptsInt(K) ? A.tensorArg(Args[0], C.Callee)
                          : A.floatArg(Args[0], C.Callee);
  return Val::tensor(A.make(K, {X}, C.Loc));
}

/// leaky_relu(x, alpha) and elu(x, alpha): the primitive with its slope.
template <OpKind K>
Val lowerAlpha(Analyzer &A, const ast::CallExpr &C, llvm::ArrayRef<Arg> Args) {
  Attrs At;
  At.Alpha = Args[1].F;
  return Val::tensor(A.make(K, {A.floatArg(Args[0], C.Callee)}, C.Loc, At));
}

/// square(x) -> mul x, x
Val lowerSquare(Analyzer &A, const ast::CallExpr &C, llvm::ArrayRef<Arg> Args) {
  return A.arith(OpKind::Mul, Args[0].V, Args[0].V, C.Loc, "square");
}

/// pow(x, c) -> pow x, c (the operator `^`)
Val lowerPow(Analyzer &A, const ast::CallExpr &C, llvm::ArrayRef<Arg> Args) {
  return A.lowerBinary(ast::BinaryOp::Pow, Args[0].V, Args[1].V, C.Loc);
}

/// clip(x, lo, hi) -> min (max x, lo), hi
/// Ties send the gradient to the first operand, so it flows where
/// lo <= x <= hi, as torch.clamp's does; lo > hi gives hi everywhere, as
/// there.
Val lowerClip(Analyzer &A, const ast::CallExpr &C, llvm::ArrayRef<Arg> Args) {
  Val Low = A.arith(OpKind::Max, Args[0].V,
                    Val::num(ConstNum::ofFloat(Args[1].F)), C.Loc, C.Callee);
  return A.arith(OpKind::Min, Low, Val::num(ConstNum::ofFloat(Args[2].F)),
                 C.Loc, C.Callee);
}

/// The axis argument (Args[I]) normalized, or ALL_AXES when not given.
std::optional<int64_t> axisOf(Analyzer &A, llvm::ArrayRef<Arg> Args, unsigned I,
                              const Node *X) {
  if (!Args[I].Given)
    return ALL_AXES;
  return A.normAxis(Args[I].I, X, Args[I].Loc);
}

/// sum(x[, axis]) -> reduce_sum
Val lowerSum(Analyzer &A, const ast::CallExpr &C, llvm::ArrayRef<Arg> Args) {
  Node *X = A.tensorArg(Args[0], C.Callee);
  if (!X)
    return Val::error();
  auto Axis = axisOf(A, Args, 1, X);
  if (!Axis)
    return Val::error();
  return Val::tensor(
      A.reduce(OpKind::ReduceSum, X, *Axis, Args[2].I != 0, C.Loc));
}

/// mean(x[, axis]) -> mul (reduce_sum x), 1/n  (n: the reduced count; an
/// i32 x is cast to f32 first)
Val lowerMean(Analyzer &A, const ast::CallExpr &C, llvm::ArrayRef<Arg> Args) {
  Node *X = A.cast(A.tensorArg(Args[0], C.Callee), DType::F32, C.Loc);
  if (!X)
    return Val::error();
  auto Axis = axisOf(A, Args, 1, X);
  if (!Axis)
    return Val::error();
  int64_t N = *Axis == ALL_AXES ? X->Type.numElements() : X->Type.Dims[*Axis];
  Node *S = A.reduce(OpKind::ReduceSum, X, *Axis, Args[2].I != 0, C.Loc);
  return Val::tensor(A.make(OpKind::Mul, {S, A.scalar(1.0 / N, C.Loc)}, C.Loc));
}

/// max(x[, axis]) -> reduce_max;  max(a, b) -> max a, b
/// min(x[, axis]) -> neg (reduce_max (neg x));  min(a, b) -> min a, b
template <bool IsMax>
Val lowerMaxMin(Analyzer &A, const ast::CallExpr &C, llvm::ArrayRef<Arg> Args) {
  if (Args[1].Given) {
    if (Args[2].Given || Args[3].Given) {
      A.error(Args[2].Given ? Args[2].Loc : Args[3].Loc,
              "'" + C.Callee +
                  "' of two tensors is elementwise and takes no 'axis' or "
                  "'keepdims'");
      return Val::error();
    }
    return A.arith(IsMax ? OpKind::Max : OpKind::Min, Args[0].V, Args[1].V,
                   C.Loc, C.Callee);
  }
  Node *X = A.tensorArg(Args[0], C.Callee);
  if (!X)
    return Val::error();
  auto Axis = axisOf(A, Args, 2, X);
  if (!Axis)
    return Val::error();
  bool Keep = Args[3].I != 0;
  if (IsMax)
    return Val::tensor(A.reduce(OpKind::ReduceMax, X, *Axis, Keep, C.Loc));
  Node *Neg = A.make(OpKind::Neg, {X}, C.Loc);
  Node *M = A.reduce(OpKind::ReduceMax, Neg, *Axis, Keep, C.Loc);
  return Val::tensor(A.make(OpKind::Neg, {M}, C.Loc));
}

/// argmax(x[, axis]) -> argmax (i32)
Val lowerArgMax(Analyzer &A, const ast::CallExpr &C, llvm::ArrayRef<Arg> Args) {
  Node *X = A.tensorArg(Args[0], C.Callee);
  if (!X)
    return Val::error();
  auto Axis = axisOf(A, Args, 1, X);
  if (!Axis)
    return Val::error();
  return Val::tensor(A.reduce(OpKind::ArgMax, X, *Axis, Args[2].I != 0, C.Loc));
}

/// transpose(x) -> transpose (2-D only)
Val lowerTranspose(Analyzer &A, const ast::CallExpr &C,
                   llvm::ArrayRef<Arg> Args) {
  Node *X = A.tensorArg(Args[0], C.Callee);
  if (!X)
    return Val::error();
  if (X->Type.rank() != 2) {
    A.error(Args[0].Loc,
            "'transpose' needs a 2-D tensor, but got " + formatType(X->Type));
    return Val::error();
  }
  return Val::tensor(A.make(OpKind::Transpose, {X}, C.Loc));
}

/// softmax(x, axis) / log_softmax(x, axis) -> the primitive op
template <OpKind K>
Val lowerSoftmax(Analyzer &A, const ast::CallExpr &C,
                 llvm::ArrayRef<Arg> Args) {
  Node *X = A.floatArg(Args[0], C.Callee);
  if (!X)
    return Val::error();
  if (X->Type.isScalar()) {
    A.error(Args[0].Loc, "'" + C.Callee +
                             "' needs a tensor of rank 1 or "
                             "more, but got " +
                             formatType(X->Type));
    return Val::error();
  }
  auto Axis = A.normAxis(Args[1].I, X, Args[1].Given ? Args[1].Loc : C.Loc);
  if (!Axis)
    return Val::error();
  Attrs At;
  At.Axis = *Axis;
  return Val::tensor(A.make(K, {X}, C.Loc, At));
}

/// one_hot(labels, n) -> one_hot {size = n} (labels i32)
Val lowerOneHot(Analyzer &A, const ast::CallExpr &C, llvm::ArrayRef<Arg> Args) {
  Node *Y = Args[0].V.Kind == Val::Num
                ? A.materialize(Args[0].V, DType::I32, Args[0].Loc)
                : A.tensorArg(Args[0], C.Callee);
  if (!Y)
    return Val::error();
  if (Y->dtype() != DType::I32) {
    A.error(Args[0].Loc,
            "'one_hot' needs i32 labels, but got " + formatType(Y->Type));
    return Val::error();
  }
  if (Args[1].I <= 0 || Args[1].I > MaxDim) {
    A.error(Args[1].Loc, "the number of classes must be a positive "
                         "dimension, but it is " +
                             llvm::Twine(Args[1].I));
    return Val::error();
  }
  Attrs At;
  At.Size = Args[1].I;
  return Val::tensor(A.make(OpKind::OneHot, {Y}, C.Loc, At));
}

using P = BuiltinParam;
using K = ParamKind;

/// Shorthands for the table.
P tensor(const char *Name) { return {Name, K::Tensor, true}; }
P optInt(const char *Name, double Default = 0, bool KwOnly = false) {
  return {Name, K::Int, false, Default, KwOnly};
}
P reqInt(const char *Name) { return {Name, K::Int, true}; }
/// Every remaining positional argument, at least `Min` tensors.
P tensors(const char *Name, unsigned Min) {
  return {Name, K::Tensor, true, 0, false, Min};
}
P reqFloat(const char *Name) { return {Name, K::Float, true}; }
P optFloat(const char *Name, double Default) {
  return {Name, K::Float, false, Default};
}
P keepDims(bool KwOnly = false) {
  return {"keepdims", K::Bool, false, 0, KwOnly};
}

const std::vector<BuiltinInfo> &table() {
  static const std::vector<BuiltinInfo> Table = {
      // elementwise
      {"exp", {tensor("x")}, lowerUnary<OpKind::Exp>},
      {"log", {tensor("x")}, lowerUnary<OpKind::Log>},
      {"sqrt", {tensor("x")}, lowerUnary<OpKind::Sqrt>},
      {"abs", {tensor("x")}, lowerUnary<OpKind::Abs>},
      {"sin", {tensor("x")}, lowerUnary<OpKind::Sin>},
      {"cos", {tensor("x")}, lowerUnary<OpKind::Cos>},
      {"tanh", {tensor("x")}, lowerUnary<OpKind::Tanh>},
      {"sigmoid", {tensor("x")}, lowerUnary<OpKind::Sigmoid>},
      {"relu", {tensor("x")}, lowerUnary<OpKind::Relu>},
      {"softplus", {tensor("x")}, lowerUnary<OpKind::Softplus>},
      {"step", {tensor("x")}, lowerUnary<OpKind::Step>},
      {"sign", {tensor("x")}, lowerUnary<OpKind::Sign>},
      {"erf", {tensor("x")}, lowerUnary<OpKind::Erf>},
      {"gelu", {tensor("x")}, lowerUnary<OpKind::Gelu>},
      {"silu", {tensor("x")}, lowerUnary<OpKind::Silu>},
      {"square", {tensor("x")}, lowerSquare},
      {"floor", {tensor("x")}, lowerRounding<0>},
      {"ceil", {tensor("x")}, lowerRounding<1>},
      {"round", {tensor("x")}, lowerRounding<2>},
      {"leaky_relu",
       {tensor("x"), optFloat("alpha", 0.01)},
       lowerAlpha<OpKind::LeakyRelu>},
      {"elu", {tensor("x"), optFloat("alpha", 1.0)}, lowerAlpha<OpKind::Elu>},
      {"pow", {tensor("x"), tensor("c")}, lowerPow},
      {"clip", {tensor("x"), reqFloat("lo"), reqFloat("hi")}, lowerClip},
      // max/min: one tensor reduces, two are elementwise.
      {"max",
       {tensor("a"),
        {"b", K::Tensor, false},
        optInt("axis", 0, true),
        keepDims(true)},
       lowerMaxMin<true>},
      {"min",
       {tensor("a"),
        {"b", K::Tensor, false},
        optInt("axis", 0, true),
        keepDims(true)},
       lowerMaxMin<false>},
      // reductions
      {"sum", {tensor("x"), optInt("axis"), keepDims()}, lowerSum},
      {"mean", {tensor("x"), optInt("axis"), keepDims()}, lowerMean},
      {"argmax", {tensor("x"), optInt("axis"), keepDims()}, lowerArgMax},
      // shape
      {"transpose", {tensor("x")}, lowerTranspose},
      {"reshape", {tensor("x"), {"shape", K::Shape, true}}, lowerReshape},
      {"flatten", {tensor("x")}, lowerFlatten},
      {"concat", {tensors("tensors", 2), optInt("axis", 0, true)}, lowerConcat},
      {"slice",
       {tensor("x"), reqInt("axis"), reqInt("start"), reqInt("end")},
       lowerSlice},
      {"permute", {tensor("x"), {"axes", K::Ints, true}}, lowerPermute},
      {"full", {{"shape", K::Ints, true}, reqFloat("value")}, lowerFull},
      {"broadcast", {tensor("x"), {"shape", K::Ints, true}}, lowerBroadcast},
      {"f32", {tensor("x")}, lowerCastTo<DType::F32>},
      {"i32", {tensor("x")}, lowerCastTo<DType::I32>},
      // classification
      {"softmax",
       {tensor("x"), optInt("axis", -1)},
       lowerSoftmax<OpKind::Softmax>},
      {"log_softmax",
       {tensor("x"), optInt("axis", -1)},
       lowerSoftmax<OpKind::LogSoftmax>},
      {"one_hot", {tensor("labels"), reqInt("n")}, lowerOneHot},
      // losses
      {"cross_entropy",
       {tensor("logits"), tensor("labels")},
       lowerCrossEntropy},
      {"binary_cross_entropy",
       {tensor("p"), tensor("t")},
       lowerBinaryCrossEntropy},
      {"mse", {tensor("y"), tensor("t")}, lowerMse},
      {"hinge",
       {tensor("scores"), tensor("labels"), optFloat("margin", 1)},
       lowerHinge},
      // convolution
      {"conv2d",
       {tensor("x"), tensor("w"), optInt("stride", 1), optInt("padding", 0)},
       lowerConv2d},
      {"conv1d",
       {tensor("x"), tensor("w"), optInt("stride", 1), optInt("padding", 0)},
       lowerConv1d},
      {"maxpool2d",
       {tensor("x"), optInt("size", 2), optInt("stride")},
       lowerMaxPool2d},
      {"avgpool2d",
       {tensor("x"), optInt("size", 2), optInt("stride")},
       lowerAvgPool2d},
      // normalization
      {"batchnorm",
       {tensor("x"), tensor("gamma"), tensor("beta"), optFloat("momentum", 0.1),
        optFloat("eps", 1e-5)},
       lowerBatchNorm},
      {"dropout", {tensor("x"), optFloat("p", 0.5)}, lowerDropout},
  };
  return Table;
}

/// No upper bound on the positional arguments (a variadic parameter).
constexpr unsigned Unbounded = ~0u;

/// "1 argument", "1 to 2 arguments", "at least 2 arguments".
std::string arityText(unsigned Min, unsigned Max) {
  bool AtLeast = Max == Unbounded;
  std::string S = (AtLeast ? "at least " : "") + std::to_string(Min);
  if (Max != Min && !AtLeast)
    S += " to " + std::to_string(Max);
  return S + ((AtLeast ? Min : Max) == 1 ? " argument" : " arguments");
}

} // namespace

const BuiltinInfo *sema::findBuiltin(llvm::StringRef Name) {
  for (const BuiltinInfo &B : table())
    if (Name == B.Name)
      return &B;
  return nullptr;
}

std::vector<std::string> sema::builtinNames() {
  std::vector<std::string> Names;
  for (const BuiltinInfo &B : table())
    Names.push_back(B.Name);
  return Names;
}

Val Analyzer::lowerBuiltin(const BuiltinInfo &B, const ast::CallExpr &Call) {
  std::vector<Arg> Args(B.Params.size());
  std::vector<const ast::Expr *> Exprs(B.Params.size(), nullptr);
  unsigned MaxPositional = 0, MinRequired = 0;
  std::optional<size_t> Variadic; // the variadic parameter, if any
  for (size_t I = 0; I < B.Params.size(); ++I) {
    const BuiltinParam &P = B.Params[I];
    MaxPositional += !P.KeywordOnly;
    MinRequired += P.isVariadic() ? P.MinItems : P.Required;
    if (P.isVariadic())
      Variadic = I;
  }
  if (Variadic)
    MaxPositional = Unbounded;
  auto Arity = [&] {
    error(Call.CalleeLoc, "'" + Call.Callee + "' takes " +
                              arityText(MinRequired, MaxPositional) + ", but " +
                              llvm::Twine(Call.Args.size()) +
                              (Call.Args.size() == 1 ? " was" : " were") +
                              " given");
    return Val::error();
  };
  // 1. Positional arguments; the variadic parameter takes the rest.
  if (Call.Args.size() > MaxPositional)
    return Arity();
  std::vector<const ast::Expr *> Items;
  for (size_t I = 0; I < Call.Args.size(); ++I) {
    if (Variadic && I >= *Variadic)
      Items.push_back(Call.Args[I].get());
    else
      Exprs[I] = Call.Args[I].get();
  }
  if (!Items.empty())
    Exprs[*Variadic] = Items[0];
  // 2. Keywords.
  bool Bad = false;
  for (const ast::KeywordArg &K : Call.Kwargs) {
    auto It = llvm::find_if(B.Params, [&](const BuiltinParam &P) {
      return P.Kind != ParamKind::Tensor && K.Name == P.Name;
    });
    if (It == B.Params.end()) {
      std::vector<std::string> Valid;
      for (const BuiltinParam &P : B.Params)
        if (P.Kind != ParamKind::Tensor)
          Valid.push_back(P.Name);
      error(K.Loc,
            Valid.empty()
                ? "'" + Call.Callee + "' takes no keyword arguments"
                : "unknown keyword '" + K.Name + "' for '" + Call.Callee +
                      "' (valid keywords: " + llvm::join(Valid, ", ") + ")");
      Bad = true;
      continue;
    }
    const ast::Expr *&Slot = Exprs[It - B.Params.begin()];
    if (Slot) {
      error(K.Loc, "argument '" + K.Name + "' of '" + Call.Callee +
                       "' is given twice");
      Bad = true;
      continue;
    }
    Slot = K.Value.get();
  }
  // 3. Required parameters.
  if (Variadic && Items.size() < B.Params[*Variadic].MinItems)
    return Arity();
  for (size_t I = 0; I < B.Params.size(); ++I)
    if (B.Params[I].Required && !Exprs[I]) {
      if (Call.Args.size() < MinRequired && !Bad)
        return Arity();
      error(Call.CalleeLoc, "missing argument '" +
                                llvm::Twine(B.Params[I].Name) + "' of '" +
                                Call.Callee + "'");
      return Val::error();
    }
  // 4. Values.
  for (size_t I = 0; I < B.Params.size(); ++I) {
    const BuiltinParam &P = B.Params[I];
    Arg &A = Args[I];
    A.I = int64_t(P.Default);
    A.F = P.Default;
    const ast::Expr *E = Exprs[I];
    if (!E)
      continue;
    A.Given = true;
    A.Loc = E->Loc;
    switch (P.Kind) {
    case ParamKind::Tensor:
      if (P.isVariadic()) {
        for (const ast::Expr *Item : Items) {
          A.Items.push_back({/*Given=*/true, Item->Loc, lowerExpr(*Item)});
          Bad |= A.Items.back().V.isError();
        }
        A.V = A.Items[0].V;
        break;
      }
      A.V = lowerExpr(*E);
      Bad |= A.V.isError();
      break;
    case ParamKind::Int:
      if (auto V = evalInt(*E, P.Name))
        A.I = *V;
      else
        Bad = true;
      break;
    case ParamKind::Float:
      if (auto V = evalNumber(*E, P.Name))
        A.F = *V;
      else
        Bad = true;
      break;
    case ParamKind::Bool:
      if (E->Kind == ast::ExprKind::Bool) {
        A.I = static_cast<const ast::BoolExpr &>(*E).Value;
      } else {
        error(E->Loc, "'" + llvm::Twine(P.Name) + "' must be true or false");
        Bad = true;
      }
      break;
    case ParamKind::Ints: {
      if (E->Kind != ast::ExprKind::List) {
        error(E->Loc, "expected a list of integers such as [0, 2, 1]");
        Bad = true;
        break;
      }
      for (const ast::ExprPtr &D :
           static_cast<const ast::ListExpr &>(*E).Elements) {
        std::optional<int64_t> V = evalInt(*D, "axis");
        Bad |= !V;
        A.Dims.push_back(V.value_or(0));
      }
      break;
    }
    case ParamKind::Shape: {
      if (E->Kind != ast::ExprKind::List) {
        error(E->Loc, "expected a shape such as [4, 3]");
        Bad = true;
        break;
      }
      for (const ast::ExprPtr &D :
           static_cast<const ast::ListExpr &>(*E).Elements) {
        std::optional<int64_t> V = evalInt(*D, "dimension");
        if (V && (*V == 0 || *V < -1 || *V > MaxDim)) {
          error(D->Loc, "reshape dimensions must be positive (or -1 for one "
                        "inferred dimension), but this is " +
                            llvm::Twine(*V));
          V.reset();
        }
        Bad |= !V;
        A.Dims.push_back(V.value_or(1));
      }
      // An empty list is a valid target: a one-element tensor to a scalar.
      break;
    }
    }
  }
  if (Bad)
    return Val::error();
  // 5. Build.
  return B.Lower(*this, Call, Args);
}
