//===- Printer.cpp - The text form of a graph -----------------------------===//
//
// `--emit=graph|grad|opt` print a graph as one line per node in graph order,
// then the interface (loss, outputs, metrics, grads, updates):
//
//   graph xor {
//     %x = input : f32[4, 2]                          # line 4
//     %0 = matmul %x, %W1 : f32[4, 2]                 # line 11
//     %mse = mul %5, 0.25 : f32[]                     # line 15
//     %h = relu %3 : f32[4, 2]                        # line 12, kernel 2
//     loss %mse
//   }
//
// Once `fuse` has run, the comment also names each node's kernel (loop
// nest); nodes sharing a kernel number are fused. Scalar constants have no
// line; they are spelled inline as numbers. The
// naming and formatting rules live in PrintUtil so the DOT writer shares them.
//
//===----------------------------------------------------------------------===//
#include "PrintUtil.h"

#include "nnc/Graph/Printer.h"

#include <llvm/ADT/StringExtras.h>
#include <llvm/ADT/StringSet.h>
#include <llvm/ADT/Twine.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>

using namespace nnc;
using namespace nnc::detail;

//===----------------------------------------------------------------------===//
// Shared naming and formatting (PrintUtil.h)
//===----------------------------------------------------------------------===//

std::string nnc::spellName(llvm::StringRef Name) {
  // Dotted names (`h1.W`, `d.W1`) read as they are; anything else that is
  // no identifier is quoted as `.nn` source quotes it (`input.1` stays, a
  // name `0` from ONNX becomes `0`, distinct from the temporary %0).
  bool Plain = !Name.empty() && (llvm::isAlpha(Name[0]) || Name[0] == '_') &&
               llvm::all_of(Name, [](char C) {
                 return llvm::isAlnum(C) || C == '_' || C == '.';
               });
  return Plain ? Name.str() : "`" + Name.str() + "`";
}

NodeNamer::NodeNamer(const Graph &G) {
  llvm::StringSet<> Used;
  unsigned NextNumber = 0;
  for (const auto &NPtr : G.nodes()) {
    const Node &N = *NPtr;
    if (!hasOwnLine(N))
      continue;
    if (N.Name.empty()) {
      // Numbers cannot clash with names: those that are no identifiers
      // are quoted.
      Names[&N] = (llvm::Twine("%") + llvm::Twine(NextNumber++)).str();
      continue;
    }
    std::string Name = N.Name;
    for (unsigned Suffix = 1; Used.contains(Name); ++Suffix)
      Name = N.Name + "." + std::to_string(Suffix);
    Used.insert(Name);
    Names[&N] = "%" + spellName(Name);
  }
}

std::string NodeNamer::ref(const Node *N) const {
  if (!N)
    return "%<null>";
  if (N->isScalarConst())
    return formatLiteral(N->Value);
  auto It = Names.find(N);
  if (It == Names.end())
    return "%<foreign>";
  return It->second;
}

std::string detail::formatNumber(double V) {
  // Every value in a graph is an f32 (or an i32, exact in f32 up to 2^24),
  // so the shortest f32 spelling is both short and faithful.
  char Buf[64];
  auto [End, Ec] = std::to_chars(Buf, Buf + sizeof(Buf), float(V));
  if (Ec != std::errc())
    return "?";
  return std::string(Buf, End);
}

/// Largest literal or value printed in full; bigger ones are elided
/// (literals) or summarized (values).
static constexpr int64_t MaxWholeElements = 16;

std::string
detail::formatNested(llvm::ArrayRef<int64_t> Dims,
                     llvm::function_ref<std::string(int64_t)> Elem) {
  if (Dims.empty())
    return Elem(0);
  std::string S;
  int64_t Next = 0;
  std::function<void(unsigned)> Emit = [&](unsigned Dim) {
    S += '[';
    for (int64_t I = 0; I < Dims[Dim]; ++I) {
      if (I)
        S += ", ";
      if (Dim + 1 == Dims.size())
        S += Elem(Next++);
      else
        Emit(Dim + 1);
    }
    S += ']';
  };
  Emit(0);
  return S;
}

std::string detail::formatLiteral(const Tensor &T) {
  int64_t Available =
      int64_t(T.Type.Elem == DType::F32 ? T.F.size() : T.I.size());
  int64_t Count = std::min(T.Type.numElements(), Available);
  auto Elem = [&](int64_t I) {
    return T.Type.Elem == DType::I32 ? std::to_string(T.I[I])
                                     : formatNumber(T.F[I]);
  };
  if (T.Type.isScalar())
    return Count == 1 ? Elem(0) : "[]";
  if (Count > MaxWholeElements || Count != T.Type.numElements()) {
    // Too long (or malformed) for nesting to help: a flat, elided list.
    std::string S = "[";
    for (int64_t I = 0; I < std::min(Count, MaxWholeElements); ++I)
      S += (I ? ", " : "") + Elem(I);
    return S + (Count > 0 ? ", ...]" : "...]");
  }
  return formatNested(T.Type.Dims, Elem);
}

std::string detail::formatInit(const InitSpec &I) {
  switch (I.Kind) {
  case InitSpec::Zeros:
    return "zeros";
  case InitSpec::Ones:
    return "ones";
  case InitSpec::Constant:
    return "const(" + formatNumber(I.A) + ")";
  case InitSpec::Uniform:
    return "uniform(" + formatNumber(I.A) + ", " + formatNumber(I.B) + ")";
  case InitSpec::Normal:
    return "normal(" + formatNumber(I.A) + ", " + formatNumber(I.B) + ")";
  case InitSpec::GlorotUniform:
    return "glorot_uniform";
  case InitSpec::HeNormal:
    return "he_normal";
  case InitSpec::Literal:
    return formatLiteral(I.Value);
  }
  return "?";
}

std::string detail::formatAttrs(const Node &N) {
  unsigned Mask = opAttrMask(N.Kind);
  std::string S;
  auto Add = [&](const std::string &Item) {
    S += (S.empty() ? "{" : ", ") + Item;
  };
  if (Mask & ATTR_AXIS)
    Add("axis = " +
        (N.A.Axis == ALL_AXES ? std::string("all") : std::to_string(N.A.Axis)));
  if ((Mask & ATTR_KEEPDIMS) && N.A.KeepDims)
    Add("keepdims");
  if (Mask & ATTR_SIZE)
    Add("size = " + std::to_string(N.A.Size));
  if (Mask & ATTR_STRIDE)
    Add("stride = " + std::to_string(N.A.Stride));
  if (Mask & ATTR_PADDING)
    Add("padding = " + std::to_string(N.A.Padding));
  if (Mask & ATTR_ALPHA)
    Add("alpha = " + formatNumber(N.A.Alpha));
  if (Mask & ATTR_OFFSET)
    Add("offset = " + std::to_string(N.A.Offset));
  if (Mask & ATTR_RATE)
    Add("rate = " + formatNumber(N.A.Rate));
  if (Mask & ATTR_EPS)
    Add("eps = " + formatNumber(N.A.Eps));
  if (Mask & ATTR_STREAM)
    Add("stream = " + std::to_string(N.A.Stream));
  if (Mask & ATTR_PERM) {
    std::string P = "perm = [";
    for (unsigned K = 0; K < N.Type.rank(); ++K)
      P += (K ? ", " : "") + std::to_string(permAxis(N.A.Perm, K));
    Add(P + "]");
  }
  return S.empty() ? S : S + "}";
}

std::string detail::formatOp(const Node &N, const NodeNamer &Names) {
  std::string S = opSpelling(N.Kind).str();
  if (N.Kind == OpKind::Param)
    S.append(" ").append(formatInit(N.Init));
  else if (N.Kind == OpKind::Const)
    S.append(" ").append(formatLiteral(N.Value));
  for (unsigned I = 0; I < N.Operands.size(); ++I)
    S.append(I ? ", " : " ").append(Names.ref(N.Operands[I]));
  std::string Attrs = formatAttrs(N);
  if (!Attrs.empty())
    S.append(" ").append(Attrs);
  return S;
}

//===----------------------------------------------------------------------===//
// printGraph
//===----------------------------------------------------------------------===//

/// Column (0-based) where the `# line N` comment starts: column 51 1-based.
static constexpr size_t LineCommentColumn = 50;

void nnc::printGraph(const Graph &G, llvm::raw_ostream &OS,
                     NodeValueText Value) {
  NodeNamer Names(G);
  OS << "graph " << G.name() << " {\n";
  bool InBackward = false, InUpdate = false;
  for (const auto &NPtr : G.nodes()) {
    const Node &N = *NPtr;
    if (!hasOwnLine(N))
      continue;
    if (N.Role == NodeRole::Backward && !InBackward) {
      OS << "  # backward\n";
      InBackward = true;
    }
    if (N.Role == NodeRole::Update && !InUpdate) {
      OS << "  # update\n";
      InUpdate = true;
    }
    std::string Line = "  " + Names.ref(&N) + " = " + formatOp(N, Names) +
                       " : " + formatType(N.Type);
    // `: TYPE = VALUE`, as a param is declared in `.nn`.
    if (std::string V = Value ? Value(N) : ""; !V.empty())
      Line += " = " + V;
    // After `fuse`, the kernel (loop nest) that computes the node: nodes
    // sharing a number are fused.
    std::string Comment;
    if (N.Loc.isValid())
      Comment = "line " + std::to_string(N.Loc.Line);
    if (N.Kernel >= 0)
      Comment += (Comment.empty() ? "" : ", ") + std::string("kernel ") +
                 std::to_string(N.Kernel);
    if (!Comment.empty()) {
      size_t Pad = Line.size() + 2 <= LineCommentColumn
                       ? LineCommentColumn - Line.size()
                       : 2;
      Line.append(Pad, ' ');
      Line += "# " + Comment;
    }
    OS << Line << '\n';
  }
  if (G.Loss)
    OS << "  loss " << Names.ref(G.Loss) << '\n';
  for (const NamedValue &V : G.Outputs)
    OS << "  output " << spellName(V.Name) << " = " << Names.ref(V.Value)
       << '\n';
  for (const NamedValue &V : G.Metrics)
    OS << "  metric " << spellName(V.Name) << " = " << Names.ref(V.Value)
       << '\n';
  for (size_t I = 0; I < G.Grads.size(); ++I) {
    std::string Name = I < G.Params.size() && G.Params[I]
                           ? G.Params[I]->Name
                           : "<param " + std::to_string(I) + ">";
    OS << "  grad " << Name << " = " << Names.ref(G.Grads[I]) << '\n';
  }
  for (const Update &U : G.Updates)
    OS << "  update " << Names.ref(U.Target) << " <- " << Names.ref(U.NewValue)
       << '\n';
  OS << "}\n";
}

std::string nnc::describeNode(const Node &N) {
  if (N.isScalarConst()) {
    // The shortest f32 spelling, as the graph printer writes numbers.
    char Buf[32];
    auto [End, Ec] =
        std::to_chars(Buf, Buf + sizeof(Buf), float(N.scalarValue()));
    return Ec == std::errc() ? std::string(Buf, End) : "?";
  }
  if (!N.Name.empty())
    return "%" + spellName(N.Name);
  return opSpelling(N.Kind).str();
}

/// A computed number with 6 significant digits (`%.6g`, as `EXE show`
/// prints them); i32 values exactly.
static std::string formatValueNumber(double V, DType Elem) {
  char Buf[32];
  // A zero's sign (0 * -3 is -0) tells a reader nothing but looks wrong.
  if (V == 0)
    V = 0;
  if (Elem == DType::I32 && std::isfinite(V))
    std::snprintf(Buf, sizeof(Buf), "%.0f", V);
  else
    std::snprintf(Buf, sizeof(Buf), "%.6g", V);
  return Buf;
}

std::string nnc::formatValue(const EvalTensor &V) {
  int64_t Count = V.numElements();
  if (int64_t(V.Data.size()) != Count)
    return "?";
  if (Count <= MaxWholeElements)
    return formatNested(V.Type.Dims, [&](int64_t I) {
      return formatValueNumber(V.Data[I], V.Type.Elem);
    });
  // Too many numbers to read: a summary. The shape is the node's type,
  // printed next to it. A NaN anywhere shows in all three, rather than
  // being skipped by the comparisons.
  double Min = V.Data[0], Max = V.Data[0], Sum = 0;
  bool NaN = false;
  for (double X : V.Data) {
    NaN |= std::isnan(X);
    Min = std::min(Min, X);
    Max = std::max(Max, X);
    Sum += X;
  }
  if (NaN)
    Min = Max = Sum = std::numeric_limits<double>::quiet_NaN();
  auto Num = [](double X) { return formatValueNumber(X, DType::F32); };
  return "{min " + Num(Min) + ", mean " + Num(Sum / double(Count)) + ", max " +
         Num(Max) + "}";
}
