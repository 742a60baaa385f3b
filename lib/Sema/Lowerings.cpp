//===- Lowerings.cpp - Decompositions of the compound built-ins -----------===//
//
// The losses, convolutions and shape functions (reshape, flatten) among the
// built-ins in terms of the primitive ops. Each lowering first checks its
// operands (errors name both types), then builds the nodes; the rule is the
// comment above each function and is listed in docs/language.md
// ("Decompositions"). Keeping losses decomposed means the autodiff and code
// generator only ever see primitives.
//
//===----------------------------------------------------------------------===//
#include "Builtins.h"

#include "nnc/Graph/ShapeRules.h"

using namespace nnc;
using namespace nnc::sema;

namespace {

/// A small builder bound to one call: every node gets the call's location.
struct B {
  Analyzer &A;
  SourceLoc Loc;
  Node *op(OpKind K, Node *X, Attrs At = {}) { return A.make(K, {X}, Loc, At); }
  Node *op(OpKind K, Node *X, Node *Y) { return A.make(K, {X, Y}, Loc); }
  Node *num(double V) { return A.scalar(V, Loc); }
  Node *sumAll(Node *X) {
    return A.reduce(OpKind::ReduceSum, X, ALL_AXES, false, Loc);
  }
};

std::string both(const Node *X, const Node *Y) {
  return formatType(X->Type) + " and " + formatType(Y->Type);
}

} // namespace

/// cross_entropy(s, y), s : f32[B, C]
///   y : i32[B]     -> mul (reduce_sum (mul (one_hot y, C), (log_softmax s))),
///   -1/B y : f32[B, C]  -> mul (reduce_sum (mul y, (log_softmax s))), -1/B
/// i.e. the mean over rows of -sum_j t_ij log softmax(s_i)_j, with t the
/// one-hot rows for integer labels.
Val sema::lowerCrossEntropy(Analyzer &A, const ast::CallExpr &C,
                            llvm::ArrayRef<Arg> Args) {
  Node *S = A.tensorArg(Args[0], C.Callee);
  Node *Y = A.tensorArg(Args[1], C.Callee);
  if (!S || !Y)
    return Val::error();
  bool Logits = S->dtype() == DType::F32 && S->Type.rank() == 2;
  bool Labels = Logits && Y->dtype() == DType::I32 && Y->Type.rank() == 1 &&
                Y->Type.Dims[0] == S->Type.Dims[0];
  bool Targets = Logits && Y->Type == S->Type;
  if (!Labels && !Targets) {
    A.error(C.CalleeLoc,
            "'cross_entropy' needs logits f32[B, C] with labels i32[B] or "
            "targets f32[B, C], but got " +
                both(S, Y));
    return Val::error();
  }
  B Bd{A, C.Loc};
  Node *LogP = Bd.op(OpKind::LogSoftmax, S, Attrs{.Axis = 1});
  Node *T = Y;
  if (Labels)
    T = Bd.op(OpKind::OneHot, Y, Attrs{.Size = S->Type.Dims[1]});
  Node *Sum = Bd.sumAll(Bd.op(OpKind::Mul, T, LogP));
  return Val::tensor(Bd.op(OpKind::Mul, Sum, Bd.num(-1.0 / S->Type.Dims[0])));
}

/// binary_cross_entropy(p, t), p and t of one f32 shape, n elements:
///   -> mul (reduce_sum (add (mul t, max(log p, -100)),
///                           (mul (sub 1, t), max(log (sub 1, p), -100)))),
///                           -1/n
/// The logs are clamped below at -100 as PyTorch does, so p = 0 or 1 gives a
/// finite loss.
Val sema::lowerBinaryCrossEntropy(Analyzer &A, const ast::CallExpr &C,
                                  llvm::ArrayRef<Arg> Args) {
  Node *P = A.tensorArg(Args[0], C.Callee);
  Node *T = A.tensorArg(Args[1], C.Callee);
  if (!P || !T)
    return Val::error();
  if (P->dtype() != DType::F32 || P->Type != T->Type) {
    A.error(C.CalleeLoc, "'binary_cross_entropy' needs probabilities and "
                         "targets of the same f32 type, but got " +
                             both(P, T));
    return Val::error();
  }
  B Bd{A, C.Loc};
  Node *LogP = Bd.op(OpKind::Max, Bd.op(OpKind::Log, P), Bd.num(-100));
  Node *Log1mP =
      Bd.op(OpKind::Max, Bd.op(OpKind::Log, Bd.op(OpKind::Sub, Bd.num(1), P)),
            Bd.num(-100));
  Node *Pos = Bd.op(OpKind::Mul, T, LogP);
  Node *Neg = Bd.op(OpKind::Mul, Bd.op(OpKind::Sub, Bd.num(1), T), Log1mP);
  Node *Sum = Bd.sumAll(Bd.op(OpKind::Add, Pos, Neg));
  return Val::tensor(
      Bd.op(OpKind::Mul, Sum, Bd.num(-1.0 / P->Type.numElements())));
}

/// mse(y, t), y and t of one f32 shape, n elements:
///   -> mul (reduce_sum (mul d, d)), 1/n   with d = sub y, t
Val sema::lowerMse(Analyzer &A, const ast::CallExpr &C,
                   llvm::ArrayRef<Arg> Args) {
  Node *Y = A.tensorArg(Args[0], C.Callee);
  Node *T = A.tensorArg(Args[1], C.Callee);
  if (!Y || !T)
    return Val::error();
  // No broadcasting: mse(f32[4, 1], f32[4]) would silently compare every
  // prediction with every target.
  if (Y->dtype() != DType::F32 || Y->Type != T->Type) {
    A.error(C.CalleeLoc, "'mse' needs predictions and targets of the same f32 "
                         "type, but got " +
                             both(Y, T));
    return Val::error();
  }
  B Bd{A, C.Loc};
  Node *D = Bd.op(OpKind::Sub, Y, T);
  Node *Sum = Bd.sumAll(Bd.op(OpKind::Mul, D, D));
  return Val::tensor(
      Bd.op(OpKind::Mul, Sum, Bd.num(1.0 / Y->Type.numElements())));
}

/// hinge(s, y, margin), s : f32[B, C], y : i32[B]:
///   h = one_hot y, C
///   m = max (add (sub s, (reduce_sum (mul s, h) {axis = 1, keepdims})),
///   margin), 0
///   -> mul (reduce_sum (mul m, (sub 1, h))), 1/B
/// i.e. the mean over rows of sum_{j != y_i} max(0, s_ij - s_iy_i + margin).
Val sema::lowerHinge(Analyzer &A, const ast::CallExpr &C,
                     llvm::ArrayRef<Arg> Args) {
  Node *S = A.tensorArg(Args[0], C.Callee);
  Node *Y = A.tensorArg(Args[1], C.Callee);
  if (!S || !Y)
    return Val::error();
  if (S->dtype() != DType::F32 || S->Type.rank() != 2 ||
      Y->dtype() != DType::I32 || Y->Type.rank() != 1 ||
      Y->Type.Dims[0] != S->Type.Dims[0]) {
    A.error(C.CalleeLoc, "'hinge' needs scores f32[B, C] and labels i32[B], "
                         "but got " +
                             both(S, Y));
    return Val::error();
  }
  B Bd{A, C.Loc};
  Node *H = Bd.op(OpKind::OneHot, Y, Attrs{.Size = S->Type.Dims[1]});
  Node *Correct = A.reduce(OpKind::ReduceSum, Bd.op(OpKind::Mul, S, H), 1,
                           /*KeepDims=*/true, C.Loc);
  Node *Margin =
      Bd.op(OpKind::Add, Bd.op(OpKind::Sub, S, Correct), Bd.num(Args[2].F));
  Node *Viol = Bd.op(OpKind::Max, Margin, Bd.num(0));
  Node *Others = Bd.op(OpKind::Mul, Viol, Bd.op(OpKind::Sub, Bd.num(1), H));
  return Val::tensor(
      Bd.op(OpKind::Mul, Bd.sumAll(Others), Bd.num(1.0 / S->Type.Dims[0])));
}

/// Checks stride >= 1 and padding >= 0 of a window op.
static bool checkWindow(Analyzer &A, const Arg &Stride, const Arg *Padding,
                        int64_t StrideValue) {
  if (StrideValue < 1 || StrideValue > MaxDim) {
    A.error(Stride.Loc, "stride must be a positive integer, but it is " +
                            llvm::Twine(StrideValue));
    return false;
  }
  if (Padding && (Padding->I < 0 || Padding->I > MaxDim)) {
    A.error(Padding->Loc, "padding must be a non-negative integer, but it is " +
                              llvm::Twine(Padding->I));
    return false;
  }
  return true;
}

/// conv2d(x, w, stride, padding) -> conv2d, after checking x : [N, C, H, W],
/// w : [K, C, R, S] and a non-empty output.
static Node *conv2d(Analyzer &A, const ast::CallExpr &C, Node *X, Node *W,
                    int64_t Stride, int64_t Padding, llvm::StringRef Name) {
  if (X->Type.Dims[1] != W->Type.Dims[1]) {
    A.error(C.CalleeLoc, "'" + Name + "' channel counts differ: the input " +
                             formatType(X->Type) + " has " +
                             llvm::Twine(X->Type.Dims[1]) + ", the kernel " +
                             formatType(W->Type) + " has " +
                             llvm::Twine(W->Type.Dims[1]));
    return nullptr;
  }
  for (unsigned D : {2u, 3u})
    if (!windowOutputSize(X->Type.Dims[D], W->Type.Dims[D], Stride, Padding)) {
      A.error(C.CalleeLoc, "'" + Name + "' output would be empty: kernel " +
                               formatType(W->Type) + " does not fit input " +
                               formatType(X->Type) + " with padding " +
                               llvm::Twine(Padding));
      return nullptr;
    }
  Attrs At;
  At.Stride = Stride;
  At.Padding = Padding;
  return A.make(OpKind::Conv2d, {X, W}, C.Loc, At);
}

Val sema::lowerConv2d(Analyzer &A, const ast::CallExpr &C,
                      llvm::ArrayRef<Arg> Args) {
  Node *X = A.floatArg(Args[0], C.Callee);
  Node *W = A.floatArg(Args[1], C.Callee);
  if (!X || !W || !checkWindow(A, Args[2], &Args[3], Args[2].I))
    return Val::error();
  if (X->Type.rank() != 4 || W->Type.rank() != 4) {
    A.error(C.CalleeLoc, "'conv2d' needs an input [N, C, H, W] and a kernel "
                         "[K, C, R, S], but got " +
                             both(X, W));
    return Val::error();
  }
  return Val::tensor(conv2d(A, C, X, W, Args[2].I, Args[3].I, "conv2d"));
}

/// conv1d(x : [N, C, L], w : [K, C, R], stride, padding):
///   x4 = reshape x to [N, C, 1, L]  (after zero-padding L, see below)
///   -> reshape (conv2d x4, (reshape w to [K, C, 1, R]) {padding = 0}) to [N,
///   K, L']
/// conv2d pads both spatial axes alike, so padding is applied to L alone as
/// a product with a constant 0/1 matrix: [N*C, L] @ P[L, L + 2p].
Val sema::lowerConv1d(Analyzer &A, const ast::CallExpr &C,
                      llvm::ArrayRef<Arg> Args) {
  Node *X = A.floatArg(Args[0], C.Callee);
  Node *W = A.floatArg(Args[1], C.Callee);
  if (!X || !W || !checkWindow(A, Args[2], &Args[3], Args[2].I))
    return Val::error();
  if (X->Type.rank() != 3 || W->Type.rank() != 3) {
    A.error(C.CalleeLoc, "'conv1d' needs an input [N, C, L] and a kernel "
                         "[K, C, R], but got " +
                             both(X, W));
    return Val::error();
  }
  int64_t N = X->Type.Dims[0], Ch = X->Type.Dims[1], L = X->Type.Dims[2];
  int64_t K = W->Type.Dims[0], R = W->Type.Dims[2], Pad = Args[3].I;
  Node *Padded = X;
  if (Pad > 0) {
    int64_t Lp = L + 2 * Pad;
    if (L * Lp > (int64_t(1) << 24)) {
      A.error(Args[3].Loc, "'conv1d' padding is supported for sequences of "
                           "up to 4096 elements");
      return Val::error();
    }
    Tensor P(TensorType(DType::F32, {L, Lp}));
    for (int64_t I = 0; I < L; ++I)
      P.set(I * Lp + I + Pad, 1.0);
    Node *Rows = A.reshape(X, {N * Ch, L}, C.Loc);
    Node *Shifted =
        A.make(OpKind::MatMul, {Rows, A.G->constant(P, C.Loc)}, C.Loc);
    Padded = A.reshape(Shifted, {N, Ch, Lp}, C.Loc);
    L = Lp;
  }
  Node *X4 = A.reshape(Padded, {N, Ch, 1, L}, C.Loc);
  Node *W4 = A.reshape(W, {K, W->Type.Dims[1], 1, R}, C.Loc);
  if (!X4 || !W4)
    return Val::error();
  Node *Y = conv2d(A, C, X4, W4, Args[2].I, 0, "conv1d");
  if (!Y)
    return Val::error();
  return Val::tensor(A.reshape(Y, {N, K, Y->Type.Dims[3]}, C.Loc));
}

/// maxpool2d / avgpool2d(x : [N, C, H, W], size, stride = size) -> the op.
static Val lowerPool(Analyzer &A, const ast::CallExpr &C,
                     llvm::ArrayRef<Arg> Args, OpKind K) {
  Node *X = A.floatArg(Args[0], C.Callee);
  if (!X)
    return Val::error();
  int64_t Size = Args[1].I;
  int64_t Stride = Args[2].Given ? Args[2].I : Size;
  if (Size < 1 || Size > MaxDim) {
    A.error(Args[1].Loc, "pool size must be a positive integer, but it is " +
                             llvm::Twine(Size));
    return Val::error();
  }
  if (!checkWindow(A, Args[2], nullptr, Stride))
    return Val::error();
  if (X->Type.rank() != 4) {
    A.error(Args[0].Loc, "'" + C.Callee +
                             "' needs an input [N, C, H, W], "
                             "but got " +
                             formatType(X->Type));
    return Val::error();
  }
  for (unsigned D : {2u, 3u})
    if (!windowOutputSize(X->Type.Dims[D], Size, Stride, 0)) {
      A.error(C.CalleeLoc, "'" + C.Callee + "' window of size " +
                               llvm::Twine(Size) + " does not fit input " +
                               formatType(X->Type));
      return Val::error();
    }
  Attrs At;
  At.Size = Size;
  At.Stride = Stride;
  return Val::tensor(A.make(K, {X}, C.Loc, At));
}

Val sema::lowerMaxPool2d(Analyzer &A, const ast::CallExpr &C,
                         llvm::ArrayRef<Arg> Args) {
  return lowerPool(A, C, Args, OpKind::MaxPool2d);
}

Val sema::lowerAvgPool2d(Analyzer &A, const ast::CallExpr &C,
                         llvm::ArrayRef<Arg> Args) {
  return lowerPool(A, C, Args, OpKind::AvgPool2d);
}

/// reshape(x, [d0, ...]) -> reshape; one -1 is inferred from the count.
Val sema::lowerReshape(Analyzer &A, const ast::CallExpr &C,
                       llvm::ArrayRef<Arg> Args) {
  Node *X = A.tensorArg(Args[0], C.Callee);
  if (!X)
    return Val::error();
  Shape Dims = Args[1].Dims;
  int64_t Known = 1;
  int Infer = -1;
  for (size_t I = 0; I < Dims.size(); ++I) {
    if (Dims[I] == -1) {
      if (Infer >= 0) {
        A.error(Args[1].Loc, "only one dimension of a reshape may be -1");
        return Val::error();
      }
      Infer = I;
      continue;
    }
    Known *= Dims[I]; // Each dim is at most 2^31 and the count checked below.
    if (Known > MaxTensorElements) {
      A.error(Args[1].Loc,
              "reshape target " + formatShape(Dims) + " is too large");
      return Val::error();
    }
  }
  int64_t Total = X->Type.numElements();
  if (Infer >= 0) {
    if (Total % Known != 0) {
      A.error(C.CalleeLoc, "cannot reshape " + formatType(X->Type) + " to " +
                               formatShape(Dims) + ": " + llvm::Twine(Total) +
                               " elements do not divide into rows of " +
                               llvm::Twine(Known));
      return Val::error();
    }
    Dims[Infer] = Total / Known;
    Known = Total;
  }
  if (Known != Total) {
    A.error(C.CalleeLoc, "cannot reshape " + formatType(X->Type) + " to " +
                             formatShape(Dims) + ": element counts " +
                             llvm::Twine(Total) + " and " + llvm::Twine(Known) +
                             " differ");
    return Val::error();
  }
  return Val::tensor(A.reshape(X, Dims, C.Loc));
}

/// flatten(x) -> reshape x to [d0, d1 * d2 * ...]
Val sema::lowerFlatten(Analyzer &A, const ast::CallExpr &C,
                       llvm::ArrayRef<Arg> Args) {
  Node *X = A.tensorArg(Args[0], C.Callee);
  if (!X)
    return Val::error();
  if (X->Type.isScalar()) {
    A.error(Args[0].Loc, "'flatten' needs a tensor of rank 1 or more, but "
                         "got " +
                             formatType(X->Type));
    return Val::error();
  }
  int64_t D0 = X->Type.Dims[0];
  return Val::tensor(A.reshape(X, {D0, X->Type.numElements() / D0}, C.Loc));
}

//===----------------------------------------------------------------------===//
// Mode-dependent built-ins
//===----------------------------------------------------------------------===//

/// batchnorm(x, gamma, beta, momentum, eps) -> batchnorm x, gamma, beta,
/// running_mean, running_var: one mode-dependent node whose running
/// statistics are two buffers created here, named after the receiving
/// binding (`z.running_mean`, `z.running_var`) and starting at 0 and 1.
/// specializeModes gives it its train- and eval-mode arithmetic.
Val sema::lowerBatchNorm(Analyzer &A, const ast::CallExpr &C,
                         llvm::ArrayRef<Arg> Args) {
  Node *X = A.floatArg(Args[0], C.Callee);
  Node *Gamma = A.floatArg(Args[1], C.Callee);
  Node *Beta = A.floatArg(Args[2], C.Callee);
  if (!X || !Gamma || !Beta)
    return Val::error();
  if (X->Type.rank() < 2) {
    A.error(Args[0].Loc, "'batchnorm' normalizes axis 1 of a tensor [N, C] "
                         "or [N, C, H, W], but x is " +
                             formatType(X->Type));
    return Val::error();
  }
  int64_t Channels = X->Type.Dims[1];
  for (unsigned I : {1u, 2u}) {
    const Node *P = I == 1 ? Gamma : Beta;
    if (P->Type.rank() != 1 || P->Type.Dims[0] != Channels) {
      A.error(Args[I].Loc, "'batchnorm' of x " + formatType(X->Type) +
                               " needs " + (I == 1 ? "gamma" : "beta") +
                               " of shape [" + std::to_string(Channels) +
                               "] (axis 1 of x, the channels), but it is " +
                               formatType(P->Type));
      return Val::error();
    }
  }
  if (X->Type.numElements() == Channels) {
    A.error(Args[0].Loc, "'batchnorm' of x " + formatType(X->Type) +
                             " has one value per channel; training needs "
                             "more to compute a variance");
    return Val::error();
  }
  double Momentum = Args[3].F, Eps = Args[4].F;
  if (Momentum < 0 || Momentum > 1) {
    A.error(Args[3].Loc, "'batchnorm' momentum must be in [0, 1], but it is " +
                             formatConst(Momentum));
    return Val::error();
  }
  if (Eps < 0) {
    A.error(Args[4].Loc, "'batchnorm' eps must be non-negative, but it is " +
                             formatConst(Eps));
    return Val::error();
  }
  std::string Prefix = A.callLeafPrefix();
  if (!Prefix.empty())
    Prefix += ".";
  auto Buffer = [&](const char *Name, InitSpec::KindT Init) {
    Node *B = A.G->create(OpKind::Buffer, Gamma->Type, {}, C.CalleeLoc);
    B->Name = A.uniqueLeafName(Prefix + Name);
    B->Init.Kind = Init;
    A.G->Buffers.push_back(B);
    return B;
  };
  Node *Mean = Buffer("running_mean", InitSpec::Zeros);
  Node *Var = Buffer("running_var", InitSpec::Ones);
  Attrs At;
  At.Rate = Momentum;
  At.Eps = Eps;
  return Val::tensor(
      A.make(OpKind::BatchNorm, {X, Gamma, Beta, Mean, Var}, C.Loc, At));
}

/// dropout(x, p) -> dropout x {rate = p}: specializeModes makes it x times
/// a random mask in train mode and x itself in eval mode.
Val sema::lowerDropout(Analyzer &A, const ast::CallExpr &C,
                       llvm::ArrayRef<Arg> Args) {
  Node *X = A.floatArg(Args[0], C.Callee);
  if (!X)
    return Val::error();
  double P = Args[1].F;
  if (P < 0 || P >= 1) {
    A.error(Args[1].Loc,
            "'dropout' p must be in [0, 1), but it is " + formatConst(P));
    return Val::error();
  }
  Attrs At;
  At.Rate = P;
  return Val::tensor(A.make(OpKind::Dropout, {X}, C.Loc, At));
}
