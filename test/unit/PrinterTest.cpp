//===- PrinterTest.cpp - Text dump, DOT and verifier of the graph IR ------===//
//
// The text dump is the test surface of every graph stage, so its exact shape
// is pinned here on hand-built graphs: naming (named, numbered, duplicate),
// scalar constants inline, attributes, sections and the interface. The
// verifier is fed one broken graph per rule and must name the violation.
//
//===----------------------------------------------------------------------===//
#include "nnc/Graph/Printer.h"
#include "nnc/Graph/ShapeRules.h"
#include "nnc/Graph/Verifier.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace nnc;

namespace {

TensorType f32(llvm::ArrayRef<int64_t> Dims) {
  return TensorType(DType::F32, Dims);
}
TensorType i32(llvm::ArrayRef<int64_t> Dims) {
  return TensorType(DType::I32, Dims);
}
SourceLoc line(uint32_t L) { return SourceLoc{llvm::SMLoc(), L, 1}; }

std::string print(const Graph &G) {
  std::string S;
  llvm::raw_string_ostream OS(S);
  printGraph(G, OS);
  return S;
}

std::string printDot(const Graph &G) {
  std::string S;
  llvm::raw_string_ostream OS(S);
  printGraphDot(G, OS);
  return S;
}

/// The first lines of examples/xor.nn, built by hand.
struct XorGraph {
  Graph G{"xor"};
  Node *X, *T, *W1, *B1, *K, *Mm, *Sum, *H, *Mse;

  XorGraph() {
    X = G.create(OpKind::Input, f32({4, 2}), {}, line(4));
    X->Name = "x";
    T = G.create(OpKind::Target, f32({4, 2}), {}, line(5));
    T->Name = "t";
    W1 = G.create(OpKind::Param, f32({2, 2}), {}, line(7));
    W1->Name = "W1";
    W1->Init.Kind = InitSpec::Uniform;
    W1->Init.A = -1;
    W1->Init.B = 1;
    B1 = G.create(OpKind::Param, f32({2}), {}, line(8));
    B1->Name = "b1";
    Tensor KV(f32({2, 2}));
    KV.F = {1, 0, 0, 1};
    K = G.constant(KV, line(9));
    K->Name = "K";
    Mm = G.create(OpKind::MatMul, f32({4, 2}), {X, W1}, line(11));
    Sum = G.create(OpKind::Add, f32({4, 2}), {Mm, B1}, line(11));
    H = G.create(OpKind::Sigmoid, f32({4, 2}), {Sum}, line(11));
    H->Name = "h";
    Node *D = G.create(OpKind::Sub, f32({4, 2}), {H, T}, line(15));
    Node *Sq = G.create(OpKind::Mul, f32({4, 2}), {D, D}, line(15));
    Attrs All;
    All.Axis = ALL_AXES;
    Node *Red = G.create(OpKind::ReduceSum, f32({}), {Sq}, line(15), All);
    Node *Quarter = G.scalarConst(0.125, line(15));
    Mse = G.create(OpKind::Mul, f32({}), {Red, Quarter}, line(15));
    Mse->Name = "mse";
    G.Inputs = {X};
    G.Targets = {T};
    G.Params = {W1, B1};
    G.Loss = Mse;
    G.LossName = "mse";
    G.Outputs.push_back({"y", H, {}});
  }
};

TEST(Printer, XorForward) {
  XorGraph X;
  EXPECT_EQ(print(X.G),
            "graph xor {\n"
            "  %x = input : f32[4, 2]                          # line 4\n"
            "  %t = target : f32[4, 2]                         # line 5\n"
            "  %W1 = param uniform(-1, 1) : f32[2, 2]          # line 7\n"
            "  %b1 = param zeros : f32[2]                      # line 8\n"
            "  %K = const [[1, 0], [0, 1]] : f32[2, 2]         # line 9\n"
            "  %0 = matmul %x, %W1 : f32[4, 2]                 # line 11\n"
            "  %1 = add %0, %b1 : f32[4, 2]                    # line 11\n"
            "  %h = sigmoid %1 : f32[4, 2]                     # line 11\n"
            "  %2 = sub %h, %t : f32[4, 2]                     # line 15\n"
            "  %3 = mul %2, %2 : f32[4, 2]                     # line 15\n"
            "  %4 = reduce_sum %3 {axis = all} : f32[]         # line 15\n"
            "  %mse = mul %4, 0.125 : f32[]                    # line 15\n"
            "  loss %mse\n"
            "  output y = %h\n"
            "}\n");
  EXPECT_EQ(verifyGraph(X.G), "");
}

TEST(Printer, NumbersAreShortestRoundTrip) {
  Graph G("n");
  Node *X = G.create(OpKind::Input, f32({}), {});
  X->Name = "x";
  Node *Last = X;
  for (double V : {0.25, 2.0, 1e-8, -1.0, 0.1})
    Last = G.create(OpKind::Mul, f32({}), {Last, G.scalarConst(V)});
  std::string S = print(G);
  EXPECT_NE(S.find("%0 = mul %x, 0.25 : f32[]\n"), std::string::npos) << S;
  EXPECT_NE(S.find("%1 = mul %0, 2 : f32[]\n"), std::string::npos) << S;
  EXPECT_NE(S.find("%2 = mul %1, 1e-08 : f32[]\n"), std::string::npos) << S;
  EXPECT_NE(S.find("%3 = mul %2, -1 : f32[]\n"), std::string::npos) << S;
  EXPECT_NE(S.find("%4 = mul %3, 0.1 : f32[]\n"), std::string::npos) << S;
}

TEST(Printer, DuplicateNamesGetSuffixes) {
  Graph G("d");
  Node *A = G.create(OpKind::Input, f32({2}), {});
  A->Name = std::string("a"); // move: dodges a GCC 12 -Wrestrict false positive
  Node *B = G.create(OpKind::Exp, f32({2}), {A});
  B->Name = std::string("a");
  Node *C = G.create(OpKind::Exp, f32({2}), {B});
  C->Name = std::string("a");
  G.create(OpKind::Neg, f32({2}), {C});
  EXPECT_EQ(print(G), "graph d {\n"
                      "  %a = input : f32[2]\n"
                      "  %a.1 = exp %a : f32[2]\n"
                      "  %a.2 = exp %a.1 : f32[2]\n"
                      "  %0 = neg %a.2 : f32[2]\n"
                      "}\n");
}

TEST(Printer, Attributes) {
  Graph G("a");
  Node *X = G.create(OpKind::Input, f32({1, 1, 6, 6}), {});
  X->Name = "x";
  Node *W = G.create(OpKind::Param, f32({2, 1, 3, 3}), {});
  W->Name = "w";
  W->Init.Kind = InitSpec::HeNormal;
  Attrs Conv;
  Conv.Stride = 2;
  Conv.Padding = 1;
  Node *C = G.create(OpKind::Conv2d, f32({1, 2, 3, 3}), {X, W}, {}, Conv);
  Attrs Pool;
  Pool.Size = 2;
  Pool.Stride = 2;
  G.create(OpKind::MaxPool2d, f32({1, 1, 3, 3}), {X}, {}, Pool);
  Attrs Leaky;
  Leaky.Alpha = 0.01;
  G.create(OpKind::LeakyRelu, f32({1, 2, 3, 3}), {C}, {}, Leaky);
  Attrs Keep;
  Keep.Axis = 1;
  Keep.KeepDims = true;
  G.create(OpKind::ReduceMax, f32({1, 1, 3, 3}), {C}, {}, Keep);
  Attrs Soft;
  Soft.Axis = 3;
  G.create(OpKind::Softmax, f32({1, 2, 3, 3}), {C}, {}, Soft);
  Node *L = G.create(OpKind::Input, i32({4}), {});
  L->Name = "l";
  Attrs Classes;
  Classes.Size = 10;
  G.create(OpKind::OneHot, f32({4, 10}), {L}, {}, Classes);
  std::string S = print(G);
  EXPECT_NE(S.find("%w = param he_normal : f32[2, 1, 3, 3]\n"),
            std::string::npos)
      << S;
  EXPECT_NE(S.find("%0 = conv2d %x, %w {stride = 2, padding = 1} : "
                   "f32[1, 2, 3, 3]\n"),
            std::string::npos)
      << S;
  EXPECT_NE(S.find("%1 = maxpool2d %x {size = 2, stride = 2} : "),
            std::string::npos)
      << S;
  EXPECT_NE(S.find("%2 = leaky_relu %0 {alpha = 0.01} : "), std::string::npos)
      << S;
  EXPECT_NE(S.find("%3 = reduce_max %0 {axis = 1, keepdims} : "),
            std::string::npos)
      << S;
  EXPECT_NE(S.find("%4 = softmax %0 {axis = 3} : "), std::string::npos) << S;
  EXPECT_NE(S.find("%5 = one_hot %l {size = 10} : f32[4, 10]\n"),
            std::string::npos)
      << S;
  EXPECT_EQ(verifyGraph(G), "");
}

TEST(Printer, InitializersAndLongLiterals) {
  Graph G("i");
  auto AddParam = [&](const char *Name, InitSpec::KindT Kind, double A,
                      double B) {
    Node *P = G.create(OpKind::Param, f32({2}), {});
    P->Name = Name;
    P->Init.Kind = Kind;
    P->Init.A = A;
    P->Init.B = B;
    return P;
  };
  AddParam("a", InitSpec::Ones, 0, 0);
  AddParam("b", InitSpec::Constant, 0.1, 0);
  AddParam("c", InitSpec::Normal, 0, 0.1);
  AddParam("d", InitSpec::GlorotUniform, 0, 0);
  Node *E = AddParam("e", InitSpec::Literal, 0, 0);
  E->Init.Value = Tensor(f32({2}));
  E->Init.Value.F = {1.5, -2};
  Tensor Big(i32({20}));
  for (int I = 0; I < 20; ++I)
    Big.I[I] = I;
  G.constant(Big);
  std::string S = print(G);
  EXPECT_NE(S.find("%a = param ones : f32[2]\n"), std::string::npos) << S;
  EXPECT_NE(S.find("%b = param const(0.1) : f32[2]\n"), std::string::npos) << S;
  EXPECT_NE(S.find("%c = param normal(0, 0.1) : f32[2]\n"), std::string::npos)
      << S;
  EXPECT_NE(S.find("%d = param glorot_uniform : f32[2]\n"), std::string::npos)
      << S;
  EXPECT_NE(S.find("%e = param [1.5, -2] : f32[2]\n"), std::string::npos) << S;
  EXPECT_NE(S.find("%0 = const [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, "
                   "13, 14, 15, ...] : i32[20]\n"),
            std::string::npos)
      << S;
  EXPECT_EQ(verifyGraph(G), "");
}

TEST(Printer, SectionsAndTrainingInterface) {
  XorGraph X;
  Graph &G = X.G;
  Node *DW = G.create(OpKind::Mul, f32({2, 2}), {X.W1, X.W1});
  DW->Name = "d.W1";
  DW->Role = NodeRole::Backward;
  Node *DB = G.create(OpKind::Neg, f32({2}), {X.B1});
  DB->Role = NodeRole::Backward;
  Node *Lr = G.create(OpKind::Hyper, f32({}), {});
  Lr->Name = "lr";
  Node *M = G.create(OpKind::State, f32({2, 2}), {});
  M->Name = "m.W1";
  Node *Step = G.create(OpKind::Mul, f32({2, 2}), {DW, Lr});
  Step->Role = NodeRole::Update;
  Node *NewW = G.create(OpKind::Sub, f32({2, 2}), {X.W1, Step});
  NewW->Role = NodeRole::Update;
  G.Hypers = {Lr};
  G.States = {M};
  G.Grads = {DW, DB};
  G.Updates.push_back({X.W1, NewW});
  G.Metrics.push_back({"acc", X.Mse, {}});
  std::string S = print(G);
  std::string Tail = "  # backward\n"
                     "  %d.W1 = mul %W1, %W1 : f32[2, 2]\n"
                     "  %5 = neg %b1 : f32[2]\n"
                     "  %lr = hyper : f32[]\n"
                     "  %m.W1 = state : f32[2, 2]\n"
                     "  # update\n"
                     "  %6 = mul %d.W1, %lr : f32[2, 2]\n"
                     "  %7 = sub %W1, %6 : f32[2, 2]\n"
                     "  loss %mse\n"
                     "  output y = %h\n"
                     "  metric acc = %mse\n"
                     "  grad W1 = %d.W1\n"
                     "  grad b1 = %5\n"
                     "  update %W1 <- %7\n"
                     "}\n";
  ASSERT_GE(S.size(), Tail.size());
  EXPECT_EQ(S.substr(S.size() - Tail.size()), Tail) << S;
  EXPECT_EQ(verifyGraph(G), "");
}

TEST(Printer, LongLineKeepsTwoSpacesBeforeComment) {
  Graph G("l");
  Node *X =
      G.create(OpKind::Input, f32({1000000, 1000000, 1000000}), {}, line(3));
  X->Name = "a_rather_long_input_name_that_fills_the_line";
  EXPECT_EQ(print(G), "graph l {\n"
                      "  %a_rather_long_input_name_that_fills_the_line = "
                      "input : f32[1000000, 1000000, 1000000]  # line 3\n"
                      "}\n");
}

//===----------------------------------------------------------------------===//
// DOT
//===----------------------------------------------------------------------===//

TEST(Dot, RecordsEdgesAndInterface) {
  XorGraph X;
  Node *DW = X.G.create(OpKind::Neg, f32({2, 2}), {X.W1});
  DW->Role = NodeRole::Backward;
  X.G.Grads = {DW, X.B1};
  std::string S = printDot(X.G);
  EXPECT_EQ(S.rfind("digraph \"xor\" {\n", 0), 0u) << S;
  EXPECT_NE(S.find("node [shape=record, fontname=\"monospace\"]"),
            std::string::npos);
  // Records escape braces; the scalar constant is inline, not a node.
  EXPECT_NE(S.find("n4 [label=\"{%K | const [[1, 0], [0, 1]] | f32[2, 2]}\""),
            std::string::npos)
      << S;
  EXPECT_NE(S.find("reduce_sum %3 \\{axis = all\\}"), std::string::npos) << S;
  EXPECT_NE(S.find("mul %4, 0.125"), std::string::npos) << S;
  EXPECT_EQ(S.find("n11 "), std::string::npos) << S; // the 0.125 const
  EXPECT_NE(S.find("n0 -> n5\n"), std::string::npos) << S;
  EXPECT_NE(S.find("n2 -> n13 [color=red]"), std::string::npos) << S;
  EXPECT_NE(S.find("fillcolor=lightsalmon"), std::string::npos) << S;
  EXPECT_NE(S.find("i0 [shape=ellipse, label=\"loss mse\"]"), std::string::npos)
      << S;
  EXPECT_NE(S.find("n12 -> i0"), std::string::npos) << S;
  EXPECT_NE(S.find("n13 -> i2"), std::string::npos) << S; // grad W1
  EXPECT_EQ(S.substr(S.size() - 2), "}\n");
}

//===----------------------------------------------------------------------===//
// Values (--emit=grad --values)
//===----------------------------------------------------------------------===//

EvalTensor value(TensorType T, std::vector<double> Data) {
  return {std::move(T), std::move(Data)};
}

TEST(Values, WholeUpTo16ElementsThenSummarized) {
  EXPECT_EQ(formatValue(value(f32({}), {0.123456789})), "0.123457");
  EXPECT_EQ(formatValue(value(f32({2, 2}), {0.5, 1, 2, -3})),
            "[[0.5, 1], [2, -3]]");
  // -0 prints as 0; i32 values exactly, even past 6 digits.
  EXPECT_EQ(formatValue(value(f32({2}), {-0.0, 1e-8})), "[0, 1e-08]");
  EXPECT_EQ(formatValue(value(i32({2}), {1234567, -2})), "[1234567, -2]");
  EXPECT_EQ(formatValue(value(f32({0, 3}), {})), "[]");
  std::vector<double> Sixteen(16, 1.0), Seventeen(17, 1.0);
  Seventeen[3] = -2;
  Seventeen[9] = 4.25;
  EXPECT_EQ(formatValue(value(f32({16}), Sixteen)).size(), 16 * 3u);
  EXPECT_EQ(formatValue(value(f32({17}), Seventeen)),
            "{min -2, mean 1.01471, max 4.25}");
}

TEST(Values, NonFiniteSummaries) {
  std::vector<double> V(20, 1.0);
  V[5] = std::numeric_limits<double>::infinity();
  EXPECT_EQ(formatValue(value(f32({20}), V)), "{min 1, mean inf, max inf}");
  V[7] = std::nan("");
  EXPECT_EQ(formatValue(value(f32({20}), V)), "{min nan, mean nan, max nan}");
}

TEST(Values, HookAnnotatesTextAndDot) {
  XorGraph X;
  auto Value = [&](const Node &N) -> std::string {
    if (&N == X.H)
      return "[[0.5, 0.25], [1, 2], [3, 4], [5, 6]]";
    return &N == X.Mse ? "0.125" : "";
  };
  std::string S;
  llvm::raw_string_ostream OS(S);
  printGraph(X.G, OS, Value);
  EXPECT_NE(
      S.find("  %mse = mul %4, 0.125 : f32[] = 0.125            # line 15\n"),
      std::string::npos)
      << S;
  EXPECT_NE(S.find("  %x = input : f32[4, 2]                          # line "
                   "4\n"),
            std::string::npos)
      << S;
  std::string D;
  llvm::raw_string_ostream DOS(D);
  printGraphDot(X.G, DOS, Value);
  EXPECT_NE(D.find("{%mse | mul %4, 0.125 | f32[] | 0.125}"), std::string::npos)
      << D;
  // Wrapped at ", " to the record's widest row (24 at least), a trailing
  // comma ending each broken line.
  EXPECT_NE(D.find("{%h | sigmoid %1 | f32[4, 2] | [[0.5, 0.25], [1, 2],\\n"
                   "[3, 4], [5, 6]]}"),
            std::string::npos)
      << D;
  EXPECT_NE(D.find("{%x | input | f32[4, 2]}"), std::string::npos) << D;
}

//===----------------------------------------------------------------------===//
// Verifier
//===----------------------------------------------------------------------===//

TEST(Verifier, OperandCount) {
  Graph G("v");
  Node *X = G.create(OpKind::Input, f32({2}), {});
  Node *E = G.create(OpKind::Exp, f32({2}), {X});
  E->Operands.push_back(X);
  EXPECT_NE(verifyGraph(G).find("takes 1 operands, has 2"), std::string::npos)
      << verifyGraph(G);
}

TEST(Verifier, LeafWithOperand) {
  Graph G("v");
  Node *X = G.create(OpKind::Input, f32({2}), {});
  Node *Y = G.create(OpKind::Input, f32({2}), {});
  Y->Operands.push_back(X);
  EXPECT_NE(verifyGraph(G).find("a leaf has no operands"), std::string::npos);
}

TEST(Verifier, ForeignOperandAndOrder) {
  Graph Other("o");
  Node *Foreign = Other.create(OpKind::Input, f32({2}), {});
  Graph G("v");
  Node *X = G.create(OpKind::Input, f32({2}), {});
  Node *A = G.create(OpKind::Exp, f32({2}), {X});
  Node *B = G.create(OpKind::Neg, f32({2}), {X});
  A->Operands[0] = B;
  EXPECT_NE(verifyGraph(G).find("comes after its user"), std::string::npos);
  A->Operands[0] = Foreign;
  EXPECT_NE(verifyGraph(G).find("not a node of this graph"), std::string::npos);
}

TEST(Verifier, ShapeRules) {
  Graph G("v");
  Node *X = G.create(OpKind::Input, f32({4, 2}), {});
  X->Name = "x";
  Node *W = G.create(OpKind::Input, f32({3, 1}), {});
  Node *M = G.create(OpKind::MatMul, f32({4, 1}), {X, W});
  EXPECT_NE(verifyGraph(G).find("inner dimensions 2 and 3 differ"),
            std::string::npos)
      << verifyGraph(G);
  W->Type = f32({2, 1});
  EXPECT_EQ(verifyGraph(G), "");
  M->Type = f32({4, 2});
  EXPECT_NE(verifyGraph(G).find("should give f32[4, 1], not f32[4, 2]"),
            std::string::npos)
      << verifyGraph(G);
}

TEST(Verifier, DtypeRules) {
  Graph G("v");
  Node *L = G.create(OpKind::Input, i32({4}), {});
  G.create(OpKind::Exp, i32({4}), {L});
  EXPECT_NE(verifyGraph(G).find("exp needs f32 operands, got i32[4]"),
            std::string::npos)
      << verifyGraph(G);
}

TEST(Verifier, ConstValueMustMatchType) {
  Graph G("v");
  Node *C = G.scalarConst(1.0);
  C->Value = Tensor(f32({2}));
  EXPECT_NE(verifyGraph(G).find("the constant has type f32[2]"),
            std::string::npos)
      << verifyGraph(G);
}

TEST(Verifier, LossMustBeScalar) {
  XorGraph X;
  X.G.Loss = X.H;
  EXPECT_NE(verifyGraph(X.G).find("loss %h must be a scalar, not f32[4, 2]"),
            std::string::npos)
      << verifyGraph(X.G);
}

TEST(Verifier, GradsMatchParams) {
  XorGraph X;
  X.G.Grads = {X.W1};
  EXPECT_NE(verifyGraph(X.G).find("1 grads for 2 params"), std::string::npos);
  X.G.Grads = {X.W1, X.W1};
  EXPECT_NE(verifyGraph(X.G).find("grad b1 has type f32[2, 2]"),
            std::string::npos)
      << verifyGraph(X.G);
}

TEST(Verifier, UpdateTypes) {
  XorGraph X;
  X.G.Updates.push_back({X.W1, X.B1});
  EXPECT_NE(verifyGraph(X.G).find("update %W1: new value %b1 has type f32[2]"),
            std::string::npos)
      << verifyGraph(X.G);
  X.G.Updates.back() = {X.X, X.X};
  EXPECT_NE(
      verifyGraph(X.G).find("only params, state and buffers can be updated"),
      std::string::npos);
}

TEST(Verifier, InterfaceKinds) {
  XorGraph X;
  X.G.Inputs.push_back(X.T);
  EXPECT_NE(verifyGraph(X.G).find("input %t is a target node, not input"),
            std::string::npos)
      << verifyGraph(X.G);
}

//===----------------------------------------------------------------------===//
// Shape rules used directly (as semantic analysis does)
//===----------------------------------------------------------------------===//

std::string why(OpKind K, std::vector<TensorType> Ops, Attrs A = {}) {
  std::string Why;
  auto T = inferResultType(K, Ops, A, Why);
  return T ? formatType(*T) : "error: " + Why;
}

TEST(ShapeRules, Inference) {
  Attrs Axis1;
  Axis1.Axis = 1;
  Attrs Keep = Axis1;
  Keep.KeepDims = true;
  Attrs All;
  All.Axis = ALL_AXES;
  Attrs AllKeep = All;
  AllKeep.KeepDims = true;
  EXPECT_EQ(why(OpKind::Add, {f32({4, 1}), f32({3})}), "f32[4, 3]");
  EXPECT_EQ(why(OpKind::CmpLt, {i32({4}), i32({})}), "f32[4]");
  EXPECT_EQ(why(OpKind::ReduceSum, {f32({4, 3})}, Axis1), "f32[4]");
  EXPECT_EQ(why(OpKind::ReduceSum, {f32({4, 3})}, Keep), "f32[4, 1]");
  EXPECT_EQ(why(OpKind::ReduceMax, {f32({4, 3})}, All), "f32[]");
  EXPECT_EQ(why(OpKind::ReduceMax, {f32({4, 3})}, AllKeep), "f32[1, 1]");
  EXPECT_EQ(why(OpKind::ArgMax, {f32({4, 3})}, Axis1), "i32[4]");
  EXPECT_EQ(why(OpKind::Transpose, {f32({4, 3})}), "f32[3, 4]");
  Attrs Conv;
  Conv.Stride = 2;
  Conv.Padding = 1;
  EXPECT_EQ(why(OpKind::Conv2d, {f32({2, 3, 7, 6}), f32({5, 3, 3, 2})}, Conv),
            "f32[2, 5, 4, 4]");
  Attrs Pool;
  Pool.Size = 2;
  Pool.Stride = 2;
  EXPECT_EQ(why(OpKind::AvgPool2d, {f32({1, 2, 5, 4})}, Pool),
            "f32[1, 2, 2, 2]");
  Attrs Ten;
  Ten.Size = 10;
  EXPECT_EQ(why(OpKind::OneHot, {i32({4})}, Ten), "f32[4, 10]");
  EXPECT_EQ(why(OpKind::Add, {f32({4, 2}), f32({3})}),
            "error: add of f32[4, 2] and f32[3]: shapes do not broadcast");
  Attrs Axis2;
  Axis2.Axis = 2;
  EXPECT_EQ(why(OpKind::Softmax, {f32({4, 3})}, Axis2),
            "error: softmax over axis 2 of f32[4, 3]: axis out of range");
  EXPECT_EQ(why(OpKind::Conv2d, {f32({1, 2, 4, 4}), f32({1, 3, 3, 3})}),
            "error: conv2d of f32[1, 2, 4, 4] and f32[1, 3, 3, 3]: input has "
            "2 channels but the weight expects 3");
  EXPECT_EQ(why(OpKind::OneHot, {f32({4})}, Ten),
            "error: one_hot of f32[4]: labels must be i32");
}

TEST(ShapeRules, NodeTypedOps) {
  std::string Why;
  Attrs None;
  EXPECT_TRUE(
      checkResultType(OpKind::Reshape, {f32({4, 3})}, None, f32({2, 6}), Why));
  EXPECT_FALSE(
      checkResultType(OpKind::Reshape, {f32({4, 3})}, None, f32({5}), Why));
  EXPECT_EQ(Why, "reshape of f32[4, 3] to f32[5]: element counts differ");
  EXPECT_TRUE(
      checkResultType(OpKind::Broadcast, {f32({3})}, None, f32({4, 3}), Why));
  EXPECT_FALSE(
      checkResultType(OpKind::Broadcast, {f32({4, 3})}, None, f32({3}), Why));
  EXPECT_TRUE(checkResultType(OpKind::Cast, {f32({4})}, None, i32({4}), Why));
  EXPECT_FALSE(
      checkResultType(OpKind::Cast, {f32({4})}, None, i32({2, 2}), Why));
  Attrs Conv;
  Conv.Stride = 2;
  // dy [1,1,2,2] from x [1,1,5,5] or [1,1,6,6] with a 3x3 kernel: both legal.
  EXPECT_TRUE(checkResultType(OpKind::Conv2dGradInput,
                              {f32({1, 1, 2, 2}), f32({1, 1, 3, 3})}, Conv,
                              f32({1, 1, 5, 5}), Why));
  EXPECT_TRUE(checkResultType(OpKind::Conv2dGradInput,
                              {f32({1, 1, 2, 2}), f32({1, 1, 3, 3})}, Conv,
                              f32({1, 1, 6, 6}), Why));
  EXPECT_FALSE(checkResultType(OpKind::Conv2dGradInput,
                               {f32({1, 1, 2, 2}), f32({1, 1, 3, 3})}, Conv,
                               f32({1, 1, 7, 7}), Why));
  EXPECT_TRUE(checkResultType(OpKind::Conv2dGradWeight,
                              {f32({1, 1, 5, 5}), f32({1, 4, 2, 2})}, Conv,
                              f32({4, 1, 3, 3}), Why));
  EXPECT_FALSE(checkResultType(OpKind::Hyper, {}, None, f32({2}), Why));
  EXPECT_FALSE(inferResultType(OpKind::Reshape, {f32({4})}, None, Why));
}

} // namespace
