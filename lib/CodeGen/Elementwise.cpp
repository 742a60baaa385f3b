//===- Elementwise.cpp - Kernels of elementwise and data-movement ops -----===//
//
// Every elementwise op (unary, binary, compare, cast) and every copy
// (broadcast, transpose, a reshape that must be materialized) is one loop
// nest over the result shape in which each operand is read through strides:
//
//   out[i0, ..., ik] = f(a[i0*sa0 + ... + ik*sak], b[...])
//
// A broadcast operand has stride 0 along the dims it is stretched over, a
// transposed one has its strides swapped, a sliced one keeps its own strides
// and starts at its offset. Before emitting the loops, dims of
// size 1 are dropped and adjacent dims that are contiguous in every operand
// are merged, so a same-shape op is a single unit-stride loop and `x + b`
// with a bias row is two loops whose inner one is unit-stride in all three
// buffers — the shape the vectorizer handles best.
//
// concat, which picks its source by index, is one block copy per operand
// and outer index instead: unit-stride loops the vectorizer takes whole.
//
// The scalar math is written to be stable in f32: tanh and sigmoid go
// through exp(-|x|) (never overflows), softplus is max(x, 0) + log1p(e^-|x|)
// with an accurate log1p.
//
//===----------------------------------------------------------------------===//
#include "KernelBuilder.h"
#include "Strides.h"

#include <llvm/IR/Intrinsics.h>

#include <numbers>

using namespace llvm;
using namespace nnc;
using namespace nnc::codegen;

namespace {

/// Converts an i32 value to f32 for float-only math.
Value *asFloat(KernelBuilder &KB, Value *V) {
  if (V->getType()->isFloatTy())
    return V;
  return KB.builder().CreateSIToFP(V, KB.builder().getFloatTy());
}

Value *select01(KernelBuilder &KB, Value *Cond, DType T, double IfTrue,
                double IfFalse) {
  return KB.builder().CreateSelect(Cond, KB.constOf(T, IfTrue),
                                   KB.constOf(T, IfFalse));
}

/// log(1 + e) accurate for tiny e (the classic u = 1 + e correction).
Value *log1p(KernelBuilder &KB, Value *E) {
  IRBuilder<> &B = KB.builder();
  Value *U = B.CreateFAdd(KB.f32(1), E);
  Value *Corrected =
      B.CreateFDiv(B.CreateFMul(KB.intrinsic(Intrinsic::log, U), E),
                   B.CreateFSub(U, KB.f32(1)));
  return B.CreateSelect(B.CreateFCmpOEQ(U, KB.f32(1)), E, Corrected);
}

/// erf(x) for |x| < 0.5 by its odd Taylor series
///   2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1)),  n = 0..6,
/// which keeps full relative precision near 0 (the tail is below 1e-9).
Value *erfSmall(KernelBuilder &KB, Value *X) {
  IRBuilder<> &B = KB.builder();
  constexpr int Terms = 7;
  double C[Terms], Factorial = 1;
  for (int N = 0; N < Terms; ++N) {
    Factorial *= N ? N : 1;
    C[N] = 2 * std::numbers::inv_sqrtpi * (N % 2 ? -1 : 1) /
           (Factorial * (2 * N + 1));
  }
  Value *X2 = B.CreateFMul(X, X), *P = KB.f32(C[Terms - 1]);
  for (int N = Terms - 2; N >= 0; --N)
    P = B.CreateFAdd(B.CreateFMul(P, X2), KB.f32(C[N]));
  return B.CreateFMul(X, P);
}

/// erfc(a) for a >= 0 with relative error below 1.2e-7 (the Chebyshev
/// fit `erfcc` of Numerical Recipes, 2nd ed., section 6.2):
///   t = 1 / (1 + a/2),  erfc(a) = t exp(-a^2 + P(t)).
/// It stays accurate where erfc is tiny, which 1 - erf(a) would not.
Value *erfcNonNegative(KernelBuilder &KB, Value *A) {
  IRBuilder<> &B = KB.builder();
  static const double P[] = {-1.26551223, 1.00002368, 0.37409196,  0.09678418,
                             -0.18628806, 0.27886807, -1.13520398, 1.48851587,
                             -0.82215223, 0.17087277};
  Value *T = B.CreateFDiv(
      KB.f32(1), B.CreateFAdd(KB.f32(1), B.CreateFMul(KB.f32(0.5), A)));
  Value *Poly = KB.f32(P[9]);
  for (int I = 8; I >= 0; --I)
    Poly = B.CreateFAdd(B.CreateFMul(Poly, T), KB.f32(P[I]));
  Value *Exponent = B.CreateFSub(Poly, B.CreateFMul(A, A));
  return B.CreateFMul(T, KB.intrinsic(Intrinsic::exp, Exponent));
}

/// erf(x): the series near 0, else sign(x) (1 - erfc(|x|)).
Value *erf(KernelBuilder &KB, Value *X) {
  IRBuilder<> &B = KB.builder();
  Value *A = KB.intrinsic(Intrinsic::fabs, X);
  Value *Far = B.CreateBinaryIntrinsic(
      Intrinsic::copysign, B.CreateFSub(KB.f32(1), erfcNonNegative(KB, A)), X);
  return B.CreateSelect(B.CreateFCmpOLT(A, KB.f32(0.5)), erfSmall(KB, X), Far);
}

/// erfc(z) for any z: 1 - erf(z) near 0 (no cancellation there, erfc is
/// about 1), else the fit, mirrored as 2 - erfc(-z) below 0.
Value *erfc(KernelBuilder &KB, Value *Z) {
  IRBuilder<> &B = KB.builder();
  Value *A = KB.intrinsic(Intrinsic::fabs, Z);
  Value *Tail = erfcNonNegative(KB, A);
  Value *Far = B.CreateSelect(B.CreateFCmpOLT(Z, KB.f32(0)),
                              B.CreateFSub(KB.f32(2), Tail), Tail);
  Value *Near = B.CreateFSub(KB.f32(1), erfSmall(KB, Z));
  return B.CreateSelect(B.CreateFCmpOLT(A, KB.f32(0.5)), Near, Far);
}

/// sigmoid(x) without overflow: with e = e^-|x|, 1/(1+e) for x >= 0 and
/// e/(1+e) otherwise.
Value *sigmoid(KernelBuilder &KB, Value *X) {
  IRBuilder<> &B = KB.builder();
  Value *E = KB.intrinsic(Intrinsic::exp,
                          B.CreateFNeg(KB.intrinsic(Intrinsic::fabs, X)));
  Value *Pos = B.CreateFDiv(KB.f32(1), B.CreateFAdd(KB.f32(1), E));
  return B.CreateSelect(B.CreateFCmpOGE(X, KB.f32(0)), Pos,
                        B.CreateFMul(E, Pos));
}

/// Converts an f32 result back to the node's dtype (saturating for i32).
Value *fromFloat(KernelBuilder &KB, Value *V, DType To) {
  if (To == DType::F32)
    return V;
  IRBuilder<> &B = KB.builder();
  // fptosi.sat: NaN -> 0, out-of-range clamps; never poison.
  return B.CreateIntrinsic(Intrinsic::fptosi_sat,
                           {B.getInt32Ty(), B.getFloatTy()}, {V});
}

/// Integer division must not trap: x/0 = 0 and x/-1 = -x (no overflow).
Value *safeIntDiv(KernelBuilder &KB, Value *X, Value *Y) {
  IRBuilder<> &B = KB.builder();
  Value *Zero = B.getInt32(0), *MinusOne = B.getInt32(-1);
  Value *Special =
      B.CreateOr(B.CreateICmpEQ(Y, Zero), B.CreateICmpEQ(Y, MinusOne));
  Value *Q = B.CreateSDiv(X, B.CreateSelect(Special, B.getInt32(1), Y));
  Q = B.CreateSelect(B.CreateICmpEQ(Y, MinusOne), B.CreateSub(Zero, X), Q);
  return B.CreateSelect(B.CreateICmpEQ(Y, Zero), Zero, Q);
}

/// The predicate of a comparison op for operands of dtype `T`.
CmpInst::Predicate predicate(CmpInst::Predicate IntP, CmpInst::Predicate FloatP,
                             DType T) {
  return T == DType::I32 ? IntP : FloatP;
}

} // namespace

Value *codegen::emitScalarOp(KernelBuilder &KB, ArrayRef<Value *> Args) {
  return emitScalarOp(KB, KB.node(), Args);
}

Value *codegen::emitScalarOp(KernelBuilder &KB, const Node &N,
                             ArrayRef<Value *> Args) {
  IRBuilder<> &B = KB.builder();
  DType T = N.operand(0)->dtype();
  bool Int = T == DType::I32;
  Value *X = Args[0];
  Value *Y = Args.size() > 1 ? Args[1] : nullptr;
  // Float-only math on an i32 operand runs in f32 and converts back.
  Value *F = asFloat(KB, X);
  Value *Zero = KB.f32(0), *One = KB.f32(1);
  auto Done = [&](Value *R) { return fromFloat(KB, R, N.dtype()); };
  auto ExpNegAbs = [&] {
    return KB.intrinsic(Intrinsic::exp,
                        B.CreateFNeg(KB.intrinsic(Intrinsic::fabs, F)));
  };
  using P = CmpInst::Predicate;
  std::optional<P> Cmp;
  std::optional<ScalarOp> Op = scalarOp(N.Kind);
  assert(Op && "not an elementwise op");
  switch (*Op) {
  case ScalarOp::Neg:
    return Int ? B.CreateSub(B.getInt32(0), X) : B.CreateFNeg(X);
  case ScalarOp::Abs:
    if (Int)
      return B.CreateSelect(B.CreateICmpSLT(X, B.getInt32(0)),
                            B.CreateSub(B.getInt32(0), X), X);
    return KB.intrinsic(Intrinsic::fabs, X);
  case ScalarOp::Exp:
    return Done(KB.intrinsic(Intrinsic::exp, F));
  case ScalarOp::Log:
    return Done(KB.intrinsic(Intrinsic::log, F));
  case ScalarOp::Sqrt:
    return Done(KB.intrinsic(Intrinsic::sqrt, F));
  case ScalarOp::Sin:
    return Done(KB.intrinsic(Intrinsic::sin, F));
  case ScalarOp::Cos:
    return Done(KB.intrinsic(Intrinsic::cos, F));
  case ScalarOp::Tanh: {
    // tanh(x) = sign(x) * (1 - t) / (1 + t), t = e^(-2|x|) in (0, 1].
    Value *E = KB.intrinsic(
        Intrinsic::exp,
        B.CreateFMul(KB.f32(-2), KB.intrinsic(Intrinsic::fabs, F)));
    Value *R = B.CreateFDiv(B.CreateFSub(One, E), B.CreateFAdd(One, E));
    return Done(B.CreateBinaryIntrinsic(Intrinsic::copysign, R, F));
  }
  case ScalarOp::Sigmoid:
    return Done(sigmoid(KB, F));
  case ScalarOp::Silu:
    return Done(B.CreateFMul(F, sigmoid(KB, F)));
  case ScalarOp::Relu:
    return Done(B.CreateSelect(B.CreateFCmpOGT(F, Zero), F, Zero));
  case ScalarOp::Softplus: {
    // softplus(x) = max(x, 0) + log1p(e^-|x|): no overflow for large |x|.
    Value *Pos = B.CreateSelect(B.CreateFCmpOGT(F, Zero), F, Zero);
    return Done(B.CreateFAdd(Pos, log1p(KB, ExpNegAbs())));
  }
  case ScalarOp::LeakyRelu:
    return Done(B.CreateSelect(B.CreateFCmpOGT(F, Zero), F,
                               B.CreateFMul(KB.f32(N.A.Alpha), F)));
  case ScalarOp::Elu: {
    Value *Neg = B.CreateFMul(
        KB.f32(N.A.Alpha), B.CreateFSub(KB.intrinsic(Intrinsic::exp, F), One));
    return Done(B.CreateSelect(B.CreateFCmpOGT(F, Zero), F, Neg));
  }
  case ScalarOp::Step:
    return Done(select01(KB, B.CreateFCmpOGT(F, Zero), DType::F32, 1, 0));
  case ScalarOp::Sign:
    return Done(select01(KB, B.CreateFCmpOGT(F, Zero), DType::F32, 1, -1));
  case ScalarOp::Erf:
    return Done(erf(KB, F));
  case ScalarOp::Gelu: {
    // x Phi(x) = x erfc(-x / sqrt 2) / 2: erfc keeps Phi's relative
    // precision where it is tiny (x far below 0), 1 + erf(x) would not.
    Value *Z = B.CreateFMul(F, KB.f32(-1 / std::numbers::sqrt2));
    return Done(B.CreateFMul(B.CreateFMul(KB.f32(0.5), F), erfc(KB, Z)));
  }
  case ScalarOp::Cast:
    if (T == N.dtype())
      return X;
    return N.dtype() == DType::F32 ? F : fromFloat(KB, X, DType::I32);
  case ScalarOp::Add:
    return KB.add(T, X, Y);
  case ScalarOp::Sub:
    return Int ? B.CreateSub(X, Y) : B.CreateFSub(X, Y);
  case ScalarOp::Mul:
    return KB.mul(T, X, Y);
  case ScalarOp::Div:
    return Int ? safeIntDiv(KB, X, Y) : B.CreateFDiv(X, Y);
  case ScalarOp::Pow:
    return Done(B.CreateBinaryIntrinsic(Intrinsic::pow, F, asFloat(KB, Y)));
  case ScalarOp::Max: // ties keep the first operand
    return B.CreateSelect(Int ? B.CreateICmpSGE(X, Y) : B.CreateFCmpOGE(X, Y),
                          X, Y);
  case ScalarOp::Min:
    return B.CreateSelect(Int ? B.CreateICmpSLE(X, Y) : B.CreateFCmpOLE(X, Y),
                          X, Y);
  case ScalarOp::CmpEq:
    Cmp = predicate(P::ICMP_EQ, P::FCMP_OEQ, T);
    break;
  case ScalarOp::CmpNe:
    Cmp = predicate(P::ICMP_NE, P::FCMP_UNE, T);
    break;
  case ScalarOp::CmpLt:
    Cmp = predicate(P::ICMP_SLT, P::FCMP_OLT, T);
    break;
  case ScalarOp::CmpLe:
    Cmp = predicate(P::ICMP_SLE, P::FCMP_OLE, T);
    break;
  case ScalarOp::CmpGt:
    Cmp = predicate(P::ICMP_SGT, P::FCMP_OGT, T);
    break;
  case ScalarOp::CmpGe:
    Cmp = predicate(P::ICMP_SGE, P::FCMP_OGE, T);
    break;
  }
  assert(Cmp && "comparison without a predicate");
  return select01(KB, B.CreateCmp(*Cmp, X, Y), DType::F32, 1, 0);
}

void codegen::emitElementwise(KernelBuilder &KB) {
  const Node &N = KB.node();
  ArrayRef<int64_t> OutDims = N.dims();
  if (N.Type.numElements() == 0)
    return;
  StridedNest Nest;
  Nest.Dims.assign(OutDims.begin(), OutDims.end());
  Nest.Strides.push_back(contiguousStrides(OutDims));
  SmallVector<unsigned, 2> Buffered; // operands read through a pointer
  SmallVector<int64_t, 2> Bases;     // and the element each reads first
  for (unsigned I = 0; I < N.Operands.size(); ++I) {
    const Node *Op = N.operand(I);
    if (isImmediate(Op))
      continue;
    Buffered.push_back(I);
    Bases.push_back(0);
    if (N.Kind == OpKind::Transpose) {
      // out[r, c] = x[c, r]
      assert(Op->Type.rank() == 2 && "transpose of a non-matrix");
      Nest.Strides.push_back({1, Op->dims()[1]});
    } else if (N.Kind == OpKind::Permute) {
      // out[i0, ..., in] = x at index i_k along axis Perm[k]
      SmallVector<int64_t, 4> Own = contiguousStrides(Op->dims()), Read;
      for (unsigned K = 0; K < OutDims.size(); ++K)
        Read.push_back(Own[permAxis(N.A.Perm, K)]);
      Nest.Strides.push_back(Read);
    } else if (N.Kind == OpKind::Slice) {
      // out[..., j, ...] = x[..., Offset + j, ...]
      Nest.Strides.push_back(contiguousStrides(Op->dims()));
      Bases.back() = N.A.Offset * Nest.Strides.back()[N.A.Axis];
    } else if (N.Kind == OpKind::Reshape) {
      Nest.Strides.push_back(contiguousStrides(OutDims)); // same order
    } else {
      Nest.Strides.push_back(broadcastStrides(Op->dims(), OutDims));
    }
  }
  Nest.simplify();
  if (Nest.Dims.empty()) { // a single element
    Nest.Dims.push_back(1);
    for (auto &S : Nest.Strides)
      S.push_back(0);
  }

  bool IsCopy = opClass(N.Kind) == OpClass::Shape;
  // One element, at the nest's indices `IVs`.
  auto EmitElement = [&](KernelBuilder &K, ArrayRef<Value *> IVs) {
    SmallVector<Value *, 2> Args;
    unsigned Next = 0;
    for (unsigned I = 0; I < N.Operands.size(); ++I) {
      if (isImmediate(N.operand(I))) {
        Args.push_back(K.loadOperand(I, K.i64(0)));
        continue;
      }
      assert(Buffered[Next] == I);
      Args.push_back(K.loadOperand(
          I, linearIndex(K, IVs, Nest.Strides[1 + Next], Bases[Next])));
      ++Next;
    }
    Value *R = IsCopy ? Args[0] : emitScalarOp(K, Args);
    K.noteStored(R);
    K.store(R, K.out(), linearIndex(K, IVs, Nest.Strides[0]));
  };
  // A large one runs on the threads, in pieces of its outermost loop.
  ArrayRef<int64_t> Inner = ArrayRef<int64_t>(Nest.Dims).drop_front();
  emitOverRange(KB, "rows", Nest.Dims[0], N.Type.numElements(),
                [&](KernelBuilder &K, Value *Lo, Value *Hi) {
                  K.forLoop(Lo, Hi, [&](Value *I0) {
                    K.forEach(Inner, [&](ArrayRef<Value *> Rest) {
                      SmallVector<Value *, 4> IVs{I0};
                      IVs.append(Rest.begin(), Rest.end());
                      EmitElement(K, IVs);
                    });
                  });
                });
}

void codegen::emitConcat(KernelBuilder &KB) {
  // The result is [Outer, Len, Inner] around the axis, operand I is
  // [Outer, Len_I, Inner]: for each outer index, operand I's contiguous
  // block of Len_I * Inner elements goes to the result's row at Start_I *
  // Inner, Start_I the lengths before it.
  const Node &N = KB.node();
  ArrayRef<int64_t> Dims = N.dims();
  int64_t Axis = N.A.Axis, Outer = 1, Inner = 1;
  for (int64_t D = 0; D < Axis; ++D)
    Outer *= Dims[D];
  for (int64_t D = Axis + 1; D < int64_t(Dims.size()); ++D)
    Inner *= Dims[D];
  IRBuilder<> &B = KB.builder();
  int64_t Row = Dims[Axis] * Inner, Start = 0;
  for (unsigned I = 0; I < N.Operands.size(); ++I) {
    int64_t Block = N.operand(I)->dims()[Axis] * Inner;
    KB.forRange(Outer, [&](Value *O) {
      Value *From = B.CreateMul(O, KB.i64(Block));
      Value *To = B.CreateMul(O, KB.i64(Row));
      if (Start)
        To = B.CreateAdd(To, KB.i64(Start));
      KB.forRange(Block, [&](Value *J) {
        // One instruction per statement: the IR's order must not depend on
        // the host compiler's order of evaluating arguments.
        Value *Dst = B.CreateAdd(To, J);
        Value *V = KB.loadOperand(I, B.CreateAdd(From, J));
        KB.noteStored(V);
        KB.store(V, KB.out(), Dst);
      });
    });
    Start += Block;
  }
}
