//===- DataParallelTest.cpp - What MPI training checks and shares ---------===//
//
// The parts of data-parallel training that need no mpirun: a Team of one
// process agrees with itself at no cost, the fingerprints the ranks compare
// at the start change with anything that would make the ranks diverge and
// with nothing else, the evaluation's shares add up to the whole, and the
// launcher's environment is read as Open MPI writes it. test/Distributed
// runs the rest under mpirun.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/DataParallel.h"
#include "nnc/Runtime/Evaluate.h"
#include "nnc/Runtime/Random.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>

using namespace nnc::rt;

namespace {

TEST(DataParallel, OneProcessIsATeamOfOne) {
  Team T(nullptr);
  EXPECT_EQ(T.rank(), 0);
  EXPECT_EQ(T.size(), 1);
  EXPECT_TRUE(T.leader());
  EXPECT_FALSE(T.distributed());
  EXPECT_FALSE(bool(T.agree(Status())));
  Status E = T.agree(Status::error("data.csv: line 3: not a number"));
  ASSERT_TRUE(bool(E));
  EXPECT_EQ(E.message(), "data.csv: line 3: not a number");
  EXPECT_FALSE(bool(T.checkSame({{"the batch size", 64, false}})));
  std::vector<double> V{1.5, -2};
  T.sumInRankOrder(V);
  EXPECT_EQ(V, (std::vector<double>{1.5, -2}));
}

TEST(DataParallel, HashBytesSeesEveryByte) {
  std::vector<uint8_t> A(1001);
  for (size_t I = 0; I < A.size(); ++I)
    A[I] = uint8_t(I * 7);
  uint64_t H = hashBytes(A.data(), A.size(), 0);
  EXPECT_EQ(H, hashBytes(A.data(), A.size(), 0));
  EXPECT_NE(H, hashBytes(A.data(), A.size(), 1));
  EXPECT_NE(H, hashBytes(A.data(), A.size() - 1, 0));
  for (size_t I :
       {size_t(0), size_t(7), size_t(8), size_t(999), size_t(1000)}) {
    std::vector<uint8_t> B = A;
    B[I] ^= 1;
    EXPECT_NE(H, hashBytes(B.data(), B.size(), 0)) << "byte " << I;
  }
  EXPECT_NE(hashBytes(nullptr, 0, 0), hashBytes(nullptr, 0, 1));
}

const int64_t DimsW[] = {2, 3}, DimsRow[] = {4, 2}, DimsB[] = {4},
              Dims5[] = {5};
const float Literal[] = {1, 2, 3, 4, 5, 6};

/// A descriptor with a literal param, an input, a target and a loss, in
/// its own storage so that a test can change any field of a copy.
struct Desc {
  nnc_slot Slots[5];
  nnc_model M{};
  std::string Name = "model";
  Desc() {
    Slots[0] = {"W", NNC_SLOT_PARAM, NNC_F32, 2, DimsW, NNC_INIT_LITERAL, 0,
                0,   Literal,        0};
    Slots[1] = {"b", NNC_SLOT_PARAM, NNC_F32, 1, DimsB, NNC_INIT_UNIFORM, -1,
                1,   nullptr,        0};
    Slots[2] = {"x", NNC_SLOT_INPUT, NNC_F32, 2, DimsRow, 0, 0, 0, nullptr, 0};
    Slots[3] = {"t", NNC_SLOT_TARGET, NNC_F32, 1, DimsB, 0, 0, 0, nullptr, 0};
    Slots[4] = {"loss", NNC_SLOT_LOSS, NNC_F32, 0, nullptr, 0, 0,
                0,      nullptr,       0};
    M.abi_version = NNC_ABI_VERSION;
    M.name = Name.c_str();
    M.batch = 4;
    M.num_slots = 5;
    M.slots = Slots;
    M.train.present = 1;
    M.train.lr = 0.1;
    M.train.epochs = 3;
  }
};

TEST(DataParallel, ModelFingerprintFollowsTheModelNotItsAddresses) {
  Desc A, B;
  std::string OtherName(A.Name); // same text, another address
  B.M.name = OtherName.c_str();
  uint64_t H = modelFingerprint(A.M);
  EXPECT_EQ(H, modelFingerprint(B.M));

  auto Differs = [&](auto Change, const char *What) {
    Desc C;
    Change(C);
    EXPECT_NE(H, modelFingerprint(C.M)) << What;
  };
  Differs([](Desc &C) { C.M.batch = 8; }, "batch");
  Differs([](Desc &C) { C.Slots[1].dims = Dims5; }, "a param's shape");
  Differs(
      [](Desc &C) {
        C.Slots[1].rank = 2; // [4] -> [4, 2]: dims must have two entries
        C.Slots[1].dims = DimsRow;
      },
      "a param's rank");
  Differs([](Desc &C) { C.Slots[1].init_b = 2; }, "an initializer");
  Differs([](Desc &C) { C.Slots[3].dtype = NNC_I32; }, "a target's dtype");
  Differs([](Desc &C) { C.Slots[2].name = "y"; }, "a slot's name");
  Differs([](Desc &C) { C.M.train.lr = 0.2; }, "the learning rate");
  Differs([](Desc &C) { C.M.train.epochs = 4; }, "the epochs");
  Differs([](Desc &C) { C.M.train.shuffle = 1; }, "shuffling");
  static float OtherLiteral[] = {1, 2, 3, 4, 5, 7};
  Differs([](Desc &C) { C.Slots[0].literal = OtherLiteral; },
          "a literal's values");
}

TEST(DataParallel, DataFingerprintFollowsEveryExample) {
  auto Make = [](float Last, int32_t Label) {
    return Dataset::fromTable({1, 2, 3, 4, 5, Last}, 2, {0, 1, Label}, {}, 1);
  };
  uint64_t H = Make(6, 2).fingerprint();
  EXPECT_EQ(H, Make(6, 2).fingerprint());
  EXPECT_NE(H, Make(6.5f, 2).fingerprint());
  EXPECT_NE(H, Make(6, 1).fingerprint());
  EXPECT_NE(H,
            Dataset::fromTable({1, 2, 3, 4}, 2, {0, 1}, {}, 1).fingerprint());
}

TEST(DataParallel, StartFingerprintFollowsWeightsAndProgress) {
  Desc D;
  auto I = ModelInstance::create(&D.M);
  ASSERT_TRUE(bool(I));
  (*I)->initParams(1);
  TrainProgress P(1, 5);
  uint64_t H = startFingerprint(**I, P);
  EXPECT_EQ(H, startFingerprint(**I, P));
  TrainProgress Later = P;
  Later.Epoch = 2;
  EXPECT_NE(H, startFingerprint(**I, Later));
  TrainProgress Shuffled = P;
  std::swap(Shuffled.Order[0], Shuffled.Order[1]);
  EXPECT_NE(H, startFingerprint(**I, Shuffled));
  float &Bias = (*I)->find("b")->f32()[3];
  float Saved = Bias;
  Bias = Saved + 1;
  EXPECT_NE(H, startFingerprint(**I, P));
  // Inputs are not where training starts.
  Bias = Saved;
  (*I)->find("x")->f32()[0] = 42;
  EXPECT_EQ(H, startFingerprint(**I, P));
}

TEST(DataParallel, RelocatedSlotsKeepTheirValues) {
  Desc D;
  auto I = ModelInstance::create(&D.M);
  ASSERT_TRUE(bool(I));
  (*I)->initParams(1);
  SlotBuffer &B = *(*I)->find("b");
  std::vector<float> Before(B.f32(), B.f32() + B.Numel);
  alignas(64) static float Elsewhere[16];
  (*I)->relocate(B, Elsewhere);
  EXPECT_EQ(B.Data, static_cast<void *>(Elsewhere));
  EXPECT_EQ((*I)->slotPointers()[1], static_cast<void *>(Elsewhere));
  EXPECT_EQ(std::vector<float>(Elsewhere, Elsewhere + 4), Before);
  // The instance frees what it allocated, not the caller's memory (a
  // sanitizer build would report a bad free here).
  I->reset();
}

/// eval_step of a model whose loss is the mean of its target rows and
/// whose metric is the mean of its inputs' first column: per-row means, as
/// the every-row evaluation needs.
void meanStep(void **Slots) {
  const float *X = static_cast<const float *>(Slots[0]);
  const float *T = static_cast<const float *>(Slots[1]);
  float SumT = 0, SumX = 0;
  for (int R = 0; R < 4; ++R) {
    SumT += T[R];
    SumX += X[2 * R];
  }
  *static_cast<float *>(Slots[2]) = SumT / 4;
  *static_cast<float *>(Slots[3]) = SumX / 4;
}

TEST(DataParallel, EvaluationSharesAddUpToTheWhole) {
  static const nnc_slot Slots[] = {
      {"x", NNC_SLOT_INPUT, NNC_F32, 2, DimsRow, 0, 0, 0, nullptr, 0},
      {"t", NNC_SLOT_TARGET, NNC_F32, 1, DimsB, 0, 0, 0, nullptr, 0},
      {"loss", NNC_SLOT_LOSS, NNC_F32, 0, nullptr, 0, 0, 0, nullptr, 0},
      {"m", NNC_SLOT_METRIC, NNC_F32, 0, nullptr, 0, 0, 0, nullptr, 0},
  };
  nnc_model M{};
  M.abi_version = NNC_ABI_VERSION;
  M.name = "means";
  M.batch = 4;
  M.num_slots = 4;
  M.slots = Slots;
  M.eval_step = meanStep;
  auto I = ModelInstance::create(&M);
  ASSERT_TRUE(bool(I));
  Expected<SampleLayout> L = sampleLayout(**I);
  ASSERT_TRUE(bool(L));
  // 11 rows: two full batches and a partial one of 3.
  std::vector<float> Inputs, Targets;
  double WantLoss = 0, WantMetric = 0;
  for (int R = 0; R < 11; ++R) {
    Inputs.insert(Inputs.end(), {float(R * R % 7), 0.5f});
    Targets.push_back(float(R) / 4);
    WantLoss += Targets.back() / 11;
    WantMetric += Inputs[2 * R] / 11;
  }
  Dataset D = Dataset::fromTable(Inputs, 2, {}, Targets, 1);
  std::vector<int64_t> Rows(4);
  EvalResult Whole = evaluate(**I, D, *L, Rows);
  EXPECT_NEAR(Whole.Loss, WantLoss, 1e-6);
  EXPECT_NEAR(Whole.Metrics[0], WantMetric, 1e-6);
  for (int64_t Parts : {2, 3, 4, 5}) {
    EvalResult Sum;
    Sum.Metrics.assign(1, 0.0);
    for (int64_t Part = 0; Part < Parts; ++Part) {
      EvalResult R = evaluateShare(**I, D, *L, Rows, Part, Parts);
      ASSERT_TRUE(R.Failure.empty());
      Sum.Loss += R.Loss;
      Sum.Metrics[0] += R.Metrics[0];
    }
    finishEvaluation(Sum, D.size(), 4);
    EXPECT_NEAR(Sum.Loss, Whole.Loss, 1e-12) << Parts << " parts";
    EXPECT_NEAR(Sum.Metrics[0], Whole.Metrics[0], 1e-12) << Parts << " parts";
    EXPECT_EQ(Sum.Examples, 11);
  }
}

/// Sets (or with null, unsets) an environment variable for one test.
void setEnv(const char *Name, const char *Value) {
  if (Value)
    ::setenv(Name, Value, 1);
  else
    ::unsetenv(Name);
}

TEST(DataParallel, LauncherEnvironment) {
  const char *Vars[] = {"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK",
                        "PMIX_RANK"};
  std::vector<std::string> Saved;
  std::vector<bool> Had;
  for (const char *V : Vars) {
    const char *Old = std::getenv(V);
    Had.push_back(Old != nullptr);
    Saved.push_back(Old ? Old : "");
    setEnv(V, nullptr);
  }
  EXPECT_FALSE(launchedByMpi());
  EXPECT_EQ(launcherRank(), 0);
  setEnv("OMPI_COMM_WORLD_SIZE", "4");
  setEnv("OMPI_COMM_WORLD_RANK", "3");
  EXPECT_TRUE(launchedByMpi());
  EXPECT_EQ(launcherRank(), 3);
  setEnv("OMPI_COMM_WORLD_SIZE", nullptr);
  setEnv("OMPI_COMM_WORLD_RANK", nullptr);
  setEnv("PMIX_RANK", "2");
  EXPECT_TRUE(launchedByMpi());
  EXPECT_EQ(launcherRank(), 2);
  for (size_t K = 0; K < std::size(Vars); ++K)
    setEnv(Vars[K], Had[K] ? Saved[K].c_str() : nullptr);
}

} // namespace
