//===- NumericsTest.cpp - The --check-numerics record and generated calls -===//
//
// The runtime half: only the first non-finite value is recorded, its kind
// is spelled nan/inf/-inf, and taking the message clears the record. The
// generated half: a graph lowered with LoweringOptions::CheckNumerics and
// run in the JIT reports the op that produced the first NaN (not the ops
// computed from it), and a graph lowered without the flag calls nothing.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Numerics.h"
#include "nnc/CodeGen/CodeGen.h"
#include "nnc/Graph/ShapeRules.h"
#include "nnc/JIT/JIT.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

using namespace nnc;

namespace {

TEST(Numerics, FirstFailureWinsAndIsCleared) {
  EXPECT_EQ(rt::takeNumericsFailure(), "");
  float Clean[3] = {1, -2, 0};
  nnc_check_numerics(Clean, 3, "add", "%0", "m.nn", 3, "predict");
  EXPECT_EQ(rt::takeNumericsFailure(), "");

  float Inf[2] = {0, -std::numeric_limits<float>::infinity()};
  float NaN[1] = {std::nanf("")};
  nnc_check_numerics(Inf, 2, "exp", "%h", "m.nn", 7, "train_step");
  nnc_check_numerics(NaN, 1, "log", "%1", "m.nn", 8, "train_step");
  EXPECT_EQ(rt::takeNumericsFailure(),
            "non-finite value (-inf) in 'exp' (%h) at m.nn:7 during "
            "train_step");
  EXPECT_EQ(rt::takeNumericsFailure(), "");

  nnc_check_numerics(NaN, 1, "log", "%1", "", 0, "grad");
  EXPECT_EQ(rt::takeNumericsFailure(),
            "non-finite value (nan) in 'log' (%1) during grad");
  // Elements past `count` are not read.
  nnc_check_numerics(NaN, 0, "log", "%1", "m.nn", 8, "grad");
  EXPECT_EQ(rt::takeNumericsFailure(), "");
}

/// predict(x) = exp(log(x)) on f32[4]: a negative x makes log's output NaN.
std::unique_ptr<Graph> logExpGraph() {
  auto G = std::make_unique<Graph>("numerics");
  TensorType T(DType::F32, {4});
  Node *X = G->create(OpKind::Input, T, {});
  X->Name = "x";
  G->Inputs.push_back(X);
  Node *L = G->create(OpKind::Log, T, {X}, SourceLoc{{}, 5, 3});
  Node *E = G->create(OpKind::Exp, T, {L}, SourceLoc{{}, 6, 3});
  E->Name = "y";
  G->Outputs.push_back({"y", E, {}});
  return G;
}

/// Lowers and runs predict on `X`; returns the recorded failure.
std::string runPredict(const Graph &G, bool Check, std::vector<float> X,
                       std::string *IR = nullptr) {
  auto Ctx = std::make_unique<llvm::LLVMContext>();
  LoweringOptions LO;
  LO.CheckNumerics = Check;
  LO.SourceName = "t.nn";
  auto M = lowerGraph(G, nullptr, *Ctx, LO);
  if (!M) {
    ADD_FAILURE() << llvm::toString(M.takeError());
    return "";
  }
  if (IR) {
    llvm::raw_string_ostream OS(*IR);
    (*M)->print(OS, nullptr);
  }
  TargetOptions TO;
  TO.OptLevel = 2;
  auto J = ModelJIT::create(std::move(*M), std::move(Ctx), TO,
                            rt::callbackSymbols());
  if (!J) {
    ADD_FAILURE() << llvm::toString(J.takeError());
    return "";
  }
  const nnc_model &Model = *(*J)->model();
  std::vector<void *> Slots;
  for (int I = 0; I < Model.num_slots; ++I) {
    int64_t N = 1;
    for (int D = 0; D < Model.slots[I].rank; ++D)
      N *= Model.slots[I].dims[D];
    size_t Bytes = (size_t(N) * 4 + 63) / 64 * 64;
    Slots.push_back(std::aligned_alloc(64, Bytes ? Bytes : 64));
    if (Model.slots[I].role == NNC_SLOT_INPUT)
      std::memcpy(Slots.back(), X.data(), X.size() * 4);
  }
  Model.predict(Slots.data());
  for (void *P : Slots)
    std::free(P);
  return rt::takeNumericsFailure();
}

TEST(Numerics, GeneratedChecksNameTheFirstBadOp) {
  std::unique_ptr<Graph> G = logExpGraph();
  EXPECT_EQ(runPredict(*G, /*Check=*/true, {1, 2, 3, 4}), "");
  EXPECT_EQ(runPredict(*G, /*Check=*/true, {1, 2, -3, 4}),
            "non-finite value (nan) in 'log' (%0) at t.nn:5 during predict");
  // exp(log(0)) = 0, but log(0) = -inf already.
  EXPECT_EQ(runPredict(*G, /*Check=*/true, {1, 0, 3, 4}),
            "non-finite value (-inf) in 'log' (%0) at t.nn:5 during predict");
}

TEST(Numerics, NoFlagNoCalls) {
  std::unique_ptr<Graph> G = logExpGraph();
  std::string IR;
  EXPECT_EQ(runPredict(*G, /*Check=*/false, {1, 2, -3, 4}, &IR), "");
  EXPECT_EQ(IR.find("nnc_check_numerics"), std::string::npos);
  IR.clear();
  runPredict(*G, /*Check=*/true, {1, 2, 3, 4}, &IR);
  EXPECT_NE(IR.find("nnc_check_numerics"), std::string::npos);
}

} // namespace
