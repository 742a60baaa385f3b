//===- CheckGrad.cpp - Gradient check against finite differences ----------===//
//
// Algorithm:
//  1. Draw the leaves (randomLeaves): params by their initializers, so the
//     check runs where training starts; inputs and targets at random.
//  2. Evaluate the loss and every gradient once, with the reference
//     evaluator's per-op kernels, over just the nodes they depend on.
//  3. For each param, pick the elements to compare (all of a small param,
//     else a seeded random sample) and for each element evaluate the loss at
//     w + h and w - h. Only the nodes downstream of that param are
//     re-evaluated; everything else is reused from step 2.
//  4. Compare analytic and numeric values element by element and keep the
//     worst absolute and relative error per param. Params whose gradient
//     passes a `sign` (straight-through, not a derivative) are skipped.
// Any point can be checked (checkModelGradients): the driver reads
// --load/--inputs files into step 1's leaves, and writes step 2's values
// (referenceGradients) for --out.
//
//===----------------------------------------------------------------------===//
#include "nnc/Autodiff/CheckGrad.h"
#include "nnc/Autodiff/Autodiff.h"
#include "nnc/Autodiff/Modes.h"

#include <llvm/ADT/DenseSet.h>
#include <llvm/ADT/STLExtras.h>
#include <llvm/Support/Format.h>

#include <algorithm>
#include <cassert>
#include <cmath>

using namespace nnc;

namespace {

/// splitmix64: tiny, seedable, and the same on every platform (the standard
/// distributions are not), so `--seed` reproduces a check exactly.
class Rng {
public:
  explicit Rng(uint64_t Seed) : State(Seed) {}
  uint64_t next() {
    uint64_t Z = (State += 0x9e3779b97f4a7c15ull);
    Z = (Z ^ (Z >> 30)) * 0xbf58476d1ce4e5b9ull;
    Z = (Z ^ (Z >> 27)) * 0x94d049bb133111ebull;
    return Z ^ (Z >> 31);
  }
  /// Uniform in [0, 1).
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }
  double uniform(double Lo, double Hi) { return Lo + (Hi - Lo) * uniform(); }
  /// Standard normal (Box-Muller).
  double normal() {
    double U = 1.0 - uniform(); // (0, 1]: log(U) is finite
    return std::sqrt(-2.0 * std::log(U)) * std::cos(2 * M_PI * uniform());
  }
  uint64_t below(uint64_t N) { return next() % N; }

private:
  uint64_t State;
};

/// fan_in and fan_out as PyTorch computes them: [in, out] for a matrix,
/// [K, C, R, S] -> (C*R*S, K*R*S) for a convolution kernel.
std::pair<double, double> fans(llvm::ArrayRef<int64_t> Dims) {
  if (Dims.empty())
    return {1, 1};
  if (Dims.size() == 1)
    return {double(Dims[0]), double(Dims[0])};
  double Receptive = 1;
  for (int64_t D : Dims.drop_front(2))
    Receptive *= double(D);
  if (Dims.size() == 2)
    return {double(Dims[0]), double(Dims[1])};
  return {double(Dims[1]) * Receptive, double(Dims[0]) * Receptive};
}

EvalTensor initialValue(const Node &P, Rng &R) {
  EvalTensor T = EvalTensor::zeros(P.Type);
  const InitSpec &I = P.Init;
  auto Fill = [&](auto Draw) {
    for (double &V : T.Data)
      V = Draw();
  };
  auto [FanIn, FanOut] = fans(P.dims());
  switch (I.Kind) {
  case InitSpec::Zeros:
    break;
  case InitSpec::Ones:
    Fill([] { return 1.0; });
    break;
  case InitSpec::Constant:
    Fill([&] { return I.A; });
    break;
  case InitSpec::Uniform:
    Fill([&] { return R.uniform(I.A, I.B); });
    break;
  case InitSpec::Normal:
    Fill([&] { return I.A + I.B * R.normal(); });
    break;
  case InitSpec::GlorotUniform: {
    double Limit = std::sqrt(6.0 / (FanIn + FanOut));
    Fill([&] { return R.uniform(-Limit, Limit); });
    break;
  }
  case InitSpec::HeNormal: {
    double Std = std::sqrt(2.0 / FanIn);
    Fill([&] { return Std * R.normal(); });
    break;
  }
  case InitSpec::Literal:
    if (I.Value.numElements() == T.numElements())
      T = toEval(I.Value);
    T.Type = P.Type;
    break;
  }
  return T;
}

/// The number of classes an i32 leaf holds: the size of a one_hot that
/// reads it (through reshapes, broadcasts and casts), else 2.
int64_t classCount(const Graph &G, const Node *Leaf) {
  llvm::DenseSet<const Node *> Reached{Leaf};
  for (const auto &N : G.nodes()) {
    if (!llvm::any_of(N->Operands,
                      [&](const Node *Op) { return Reached.count(Op); }))
      continue;
    if (N->Kind == OpKind::OneHot)
      return std::max<int64_t>(N->A.Size, 1);
    if (N->Kind == OpKind::Reshape || N->Kind == OpKind::Broadcast ||
        N->Kind == OpKind::Cast)
      Reached.insert(N.get());
  }
  return 2;
}

/// Evaluates nodes one op at a time, so a finite difference re-evaluates
/// only what a perturbed param feeds.
class ConeEvaluator {
public:
  ConeEvaluator(const Graph &G, const EvalValues &Leaves) : Leaves(Leaves) {
    for (const auto &N : G.nodes())
      Order.push_back(N.get());
  }

  /// The nodes `Roots` depend on, in topological order.
  std::vector<const Node *> cone(llvm::ArrayRef<const Node *> Roots) const {
    llvm::DenseSet<const Node *> In(Roots.begin(), Roots.end());
    for (const Node *N : llvm::reverse(Order))
      if (In.count(N))
        for (const Node *Op : N->Operands)
          In.insert(Op);
    std::vector<const Node *> Result;
    for (const Node *N : Order)
      if (In.count(N))
        Result.push_back(N);
    return Result;
  }

  /// The nodes of `Cone` that depend on `Source`, in order.
  static std::vector<const Node *> downstream(llvm::ArrayRef<const Node *> Cone,
                                              const Node *Source) {
    llvm::DenseSet<const Node *> Reached{Source};
    std::vector<const Node *> Result;
    for (const Node *N : Cone)
      if (llvm::any_of(N->Operands,
                       [&](const Node *Op) { return Reached.count(Op); })) {
        Reached.insert(N);
        Result.push_back(N);
      }
    return Result;
  }

  /// Evaluates `Nodes` in order into `Into`; operands are read from `Into`
  /// first, then from `Base`, then from the leaves.
  void run(llvm::ArrayRef<const Node *> Nodes, EvalValues &Into,
           const EvalValues *Base = nullptr) const {
    for (const Node *N : Nodes) {
      if (N->isLeaf() && N->Kind != OpKind::Const) {
        auto It = Leaves.find(N);
        assert(It != Leaves.end() && "leaf without a value");
        Into[N] = It->second;
        continue;
      }
      llvm::SmallVector<const EvalTensor *, 2> Ops;
      for (const Node *Op : N->Operands)
        Ops.push_back(lookup(Op, Into, Base));
      Into[N] = evaluateOp(*N, Ops);
    }
  }

private:
  const EvalTensor *lookup(const Node *N, const EvalValues &Into,
                           const EvalValues *Base) const {
    if (auto It = Into.find(N); It != Into.end())
      return &It->second;
    if (Base)
      if (auto It = Base->find(N); It != Base->end())
        return &It->second;
    auto It = Leaves.find(N);
    assert(It != Leaves.end() && "operand evaluated out of order");
    return &It->second;
  }

  const EvalValues &Leaves;
  std::vector<const Node *> Order;
};

/// The elements of a param to compare.
std::vector<int64_t> sampleElements(int64_t Count, unsigned Max, Rng &R) {
  std::vector<int64_t> All(Count);
  for (int64_t I = 0; I < Count; ++I)
    All[I] = I;
  if (Count <= int64_t(Max))
    return All;
  // A partial Fisher-Yates shuffle: Max distinct elements, then in order so
  // the table does not depend on the draw order.
  for (unsigned I = 0; I < Max; ++I)
    std::swap(All[I], All[I + R.below(Count - I)]);
  All.resize(Max);
  llvm::sort(All);
  return All;
}

/// Step 2: the loss and every gradient, over just the nodes they depend on.
EvalValues lossAndGradients(const ConeEvaluator &Eval, const Graph &G) {
  assert(G.Loss && G.Grads.size() == G.Params.size() &&
         "evaluate the gradients of a differentiated graph");
  std::vector<const Node *> Roots{G.Loss};
  Roots.insert(Roots.end(), G.Grads.begin(), G.Grads.end());
  EvalValues Values;
  Eval.run(Eval.cone(Roots), Values);
  return Values;
}

} // namespace

ReferenceGradients nnc::referenceGradients(const Graph &G,
                                           const EvalValues &Leaves) {
  EvalValues Values = lossAndGradients(ConeEvaluator(G, Leaves), G);
  ReferenceGradients R;
  R.Loss = Values[G.Loss];
  for (const Node *D : G.Grads)
    R.Grads.push_back(Values[D]);
  return R;
}

EvalValues nnc::randomLeaves(const Graph &G, uint64_t Seed) {
  Rng R(Seed);
  EvalValues Leaves;
  auto Data = [&](const Node *N, bool IsTarget) {
    EvalTensor T = EvalTensor::zeros(N->Type);
    if (N->dtype() == DType::I32) {
      int64_t C = classCount(G, N);
      for (double &V : T.Data)
        V = double(R.below(uint64_t(C)));
    } else {
      for (double &V : T.Data)
        V = IsTarget ? R.uniform(0.05, 0.95) : R.normal();
    }
    Leaves[N] = std::move(T);
  };
  for (const Node *P : G.Params)
    Leaves[P] = initialValue(*P, R);
  for (const Node *N : G.Inputs)
    Data(N, /*IsTarget=*/false);
  for (const Node *N : G.Targets)
    Data(N, /*IsTarget=*/true);
  // Optimizer leaves play no part in the loss or the gradients, but give
  // them values so that the whole graph can be evaluated.
  for (const Node *N : G.States)
    Leaves[N] = EvalTensor::zeros(N->Type);
  // Key 0 fixes every dropout mask, so the loss is a function of the
  // params that finite differences can check.
  for (const Node *N : G.Hypers)
    Leaves[N] = EvalTensor::zeros(N->Type);
  for (const Node *N : G.Buffers)
    Leaves[N] = initialValue(*N, R);
  return Leaves;
}

std::vector<ParamGradCheck> nnc::checkGradients(const Graph &G,
                                                const EvalValues &Leaves,
                                                const GradCheckOptions &Opts) {
  ConeEvaluator Eval(G, Leaves);
  EvalValues Base = lossAndGradients(Eval, G);
  std::vector<const Node *> LossCone = Eval.cone({G.Loss});

  Rng R(Opts.Seed ^ 0x5eedc4ec4ull);
  std::vector<ParamGradCheck> Checks;
  for (size_t PI = 0; PI < G.Params.size(); ++PI) {
    const Node *P = G.Params[PI];
    ParamGradCheck Check;
    Check.Param = P;
    if (gradientPassesThroughSign(G, P)) {
      Check.Status = ParamGradCheck::StraightThrough;
      Checks.push_back(Check);
      continue;
    }
    const EvalTensor &Analytic = Base[G.Grads[PI]];
    std::vector<const Node *> Affected = ConeEvaluator::downstream(LossCone, P);
    bool LossDepends = G.Loss == P || llvm::is_contained(Affected, G.Loss);
    // The loss at the point where element I of P is moved by Delta.
    auto LossAt = [&](int64_t I, double Delta) {
      if (!LossDepends)
        return Base[G.Loss].Data[0];
      EvalValues Moved;
      EvalTensor W = Leaves.find(P)->second;
      W.Data[I] += Delta;
      Moved[P] = std::move(W);
      Eval.run(Affected, Moved, &Base);
      return Moved[G.Loss].Data[0];
    };
    const EvalTensor &W = Leaves.find(P)->second;
    for (int64_t I :
         sampleElements(W.numElements(), Opts.MaxElementsPerParam, R)) {
      double H = Opts.Step * std::max(1.0, std::fabs(W.Data[I]));
      double Numeric = (LossAt(I, H) - LossAt(I, -H)) / (2 * H);
      double A = Analytic.Data[I];
      double AbsErr = std::fabs(A - Numeric);
      double Scale =
          std::max({std::fabs(A), std::fabs(Numeric), Opts.AbsFloor});
      double RelErr = AbsErr / Scale;
      // NaN-aware: a NaN error is never "within tolerance".
      if (!(AbsErr <= Check.MaxAbsErr))
        Check.MaxAbsErr = AbsErr;
      if (!(RelErr <= Check.MaxRelErr))
        Check.MaxRelErr = RelErr;
      if (!(RelErr <= Opts.RelTol))
        Check.Status = ParamGradCheck::Failed;
      ++Check.Elements;
    }
    Checks.push_back(Check);
  }
  return Checks;
}

void nnc::printGradCheck(const Graph &G, llvm::ArrayRef<ParamGradCheck> Checks,
                         llvm::raw_ostream &OS) {
  struct Row {
    std::string Cells[5];
  };
  std::vector<Row> Rows;
  Rows.push_back({{"param", "shape", "max-abs-err", "max-rel-err", "status"}});
  auto Sci = [](double V) {
    std::string S;
    llvm::raw_string_ostream(S) << llvm::format("%.2e", V);
    return S;
  };
  unsigned Failed = 0, Compared = 0, Skipped = 0;
  for (const ParamGradCheck &C : Checks) {
    Row R;
    R.Cells[0] = C.Param->Name;
    R.Cells[1] = formatType(C.Param->Type);
    switch (C.Status) {
    case ParamGradCheck::Ok:
    case ParamGradCheck::Failed:
      R.Cells[2] = Sci(C.MaxAbsErr);
      R.Cells[3] = Sci(C.MaxRelErr);
      R.Cells[4] = C.Status == ParamGradCheck::Ok ? "ok" : "FAILED";
      Failed += C.Status == ParamGradCheck::Failed;
      ++Compared;
      break;
    case ParamGradCheck::StraightThrough:
      R.Cells[2] = R.Cells[3] = "-";
      R.Cells[4] = "straight-through (sign)";
      ++Skipped;
      break;
    }
    Rows.push_back(R);
  }
  size_t Width[4] = {0, 0, 0, 0};
  for (const Row &R : Rows)
    for (unsigned I = 0; I < 4; ++I)
      Width[I] = std::max(Width[I], R.Cells[I].size());
  OS << "gradient check of model '" << G.name() << "'";
  if (!G.LossName.empty())
    OS << ", loss '" << G.LossName << "'";
  OS << "\n";
  for (const Row &R : Rows) {
    for (unsigned I = 0; I < 4; ++I)
      OS << llvm::left_justify(R.Cells[I], Width[I]) << "  ";
    OS << R.Cells[4] << "\n";
  }
  auto Params = [](unsigned N) {
    return std::to_string(N) + (N == 1 ? " param" : " params");
  };
  if (Failed)
    OS << "FAILED: " << Failed << " of " << Params(Compared)
       << " differ from finite differences";
  else
    OS << "passed: " << Params(Compared)
       << (Compared == 1 ? " matches" : " match") << " finite differences";
  if (Skipped)
    OS << "; " << Skipped << " straight-through (sign), not compared";
  OS << "\n";
}

bool nnc::checkModelGradients(const Graph &G, const EvalValues &Leaves,
                              const GradCheckOptions &Opts,
                              llvm::raw_ostream &OS) {
  std::vector<ParamGradCheck> Checks = checkGradients(G, Leaves, Opts);
  printGradCheck(G, Checks, OS);
  return llvm::none_of(Checks, [](const ParamGradCheck &C) {
    return C.Status == ParamGradCheck::Failed;
  });
}

bool nnc::checkModuleGradients(Module &M, DiagEngine &Diags,
                               const GradCheckOptions &Opts,
                               llvm::raw_ostream &OS) {
  if (llvm::none_of(M.Models, [](const auto &G) { return G->Loss; })) {
    OS << "no model has a loss: nothing to check\n";
    return true;
  }
  specializeModes(M); // gradients are a train-mode notion
  bool Ok = true;
  for (const auto &G : M.Models) {
    if (!G->Loss)
      continue;
    if (!differentiate(*G, Diags)) {
      Ok = false;
      continue;
    }
    Ok &= checkModelGradients(*G, randomLeaves(*G, Opts.Seed), Opts, OS);
  }
  return Ok;
}
