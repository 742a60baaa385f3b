//===- CheckpointTest.cpp - Unit tests of checkpoints and numerics --------===//
//
// What exact resume rests on, pinned down from C++: the PRNG state survives
// its text form bit for bit (including a pending normal deviate), a
// checkpoint round-trips every slot and the progress, plain weights leave
// the progress alone, and the non-finite scan finds the first bad slot in
// slot order. The lit tests in test/Runtime exercise the same through the
// command line.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Checkpoint.h"
#include "nnc/Runtime/Model.h"
#include "nnc/Runtime/Random.h"
#include "nnc/Runtime/TensorFile.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <unistd.h>

using namespace nnc::rt;

namespace {

TEST(RuntimeRandom, StateRoundTripContinuesTheStream) {
  Rng A(42);
  for (int I = 0; I < 5; ++I)
    (void)A.next();
  // An odd number of normals leaves a spare deviate pending.
  (void)A.normal();
  std::string Text = A.saveState();
  std::optional<Rng> B = Rng::fromState(Text);
  ASSERT_TRUE(B.has_value()) << Text;
  EXPECT_EQ(B->saveState(), Text);
  EXPECT_EQ(A.normal(), B->normal()); // The spare.
  for (int I = 0; I < 100; ++I)
    EXPECT_EQ(A.next(), B->next());
  EXPECT_EQ(A.below(1000), B->below(1000));
  // Without a spare the last field is "-".
  Rng C(7);
  EXPECT_EQ(C.saveState().substr(C.saveState().size() - 2), " -");
}

TEST(RuntimeRandom, RejectsMalformedState) {
  const char *Bad[] = {
      "",
      "0123456789abcdef",
      "0123456789abcdef 0123456789abcdef 0123456789abcdef 0123456789abcdef",
      "0123456789abcdef 0123456789abcdef 0123456789abcdef 0123456789abcdeX -",
      "0123456789ABCDEF 0123456789abcdef 0123456789abcdef 0123456789abcdef -",
      "0123456789abcdef 0123456789abcdef 0123456789abcdef 0123456789abcdef "
      "-x",
      "0000000000000000 0000000000000000 0000000000000000 0000000000000000 -",
  };
  for (const char *S : Bad)
    EXPECT_FALSE(Rng::fromState(S).has_value()) << S;
}

// A model with one param of each interesting kind and an optimizer state
// slot; no entry points are needed to save and load.
const int64_t DimsW[] = {2, 3}, DimsB[] = {3};
const nnc_slot Slots[] = {
    {"W", NNC_SLOT_PARAM, NNC_F32, 2, DimsW, NNC_INIT_UNIFORM, -1, 1, nullptr,
     0},
    {"b", NNC_SLOT_PARAM, NNC_F32, 1, DimsB, NNC_INIT_ZEROS, 0, 0, nullptr, 0},
    {"W.velocity", NNC_SLOT_STATE, NNC_F32, 2, DimsW, 0, 0, 0, nullptr, 0},
    {"grad.W", NNC_SLOT_GRAD, NNC_F32, 2, DimsW, 0, 0, 0, nullptr, 0},
    {"n", NNC_SLOT_STATE, NNC_I32, 0, nullptr, 0, 0, 0, nullptr, 0},
};
/// A descriptor of batch 1 with these slots and no entry points.
template <size_t N>
nnc_model modelWith(const char *Name, const nnc_slot (&With)[N]) {
  nnc_model M{};
  M.abi_version = NNC_ABI_VERSION;
  M.name = Name;
  M.batch = 1;
  M.num_slots = int32_t(N);
  M.slots = With;
  return M;
}

class RuntimeCheckpoint : public ::testing::Test {
protected:
  void SetUp() override {
    Dir = std::filesystem::temp_directory_path() /
          ("nnc-ckpt-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(Dir);
    std::filesystem::create_directories(Dir);
  }
  void TearDown() override { std::filesystem::remove_all(Dir); }
  std::string path(const char *Name) { return (Dir / Name).string(); }
  std::filesystem::path Dir;
  nnc_model Model = modelWith("ckpt", Slots);
};

TEST_F(RuntimeCheckpoint, RoundTripsSlotsAndProgress) {
  auto A = ModelInstance::create(&Model);
  ASSERT_TRUE(bool(A));
  (*A)->initParams(3);
  (*A)->find("W.velocity")->f32()[4] = 0.125f;
  (*A)->find("n")->i32()[0] = 17;
  TrainProgress P(3, 5);
  P.Epoch = 4;
  for (int I = 0; I < 9; ++I)
    (void)P.ShuffleRng.next();
  P.Order = {3, 1, 4, 0, 2};
  P.BestValLoss = 0.1 + 0.2; // not a short decimal: must round-trip exactly
  std::string File = path("w.st");
  ASSERT_FALSE(saveCheckpoint(**A, File, P));

  auto B = ModelInstance::create(&Model);
  ASSERT_TRUE(bool(B));
  TrainProgress Q(99, 5);
  bool Resumed = false;
  std::string Note;
  Status S = loadCheckpoint(**B, File, Q, Resumed, Note);
  ASSERT_FALSE(S) << S.message();
  EXPECT_TRUE(Resumed);
  EXPECT_TRUE(Note.empty());
  EXPECT_EQ(Q.Epoch, 4);
  EXPECT_EQ(Q.Seed, 3u); // the checkpoint's, not the 99 Q started with
  EXPECT_EQ(Q.BestValLoss, 0.1 + 0.2);
  EXPECT_EQ(Q.Order, P.Order);
  EXPECT_EQ(Q.ShuffleRng.next(), P.ShuffleRng.next());
  for (const char *Name : {"W", "b", "W.velocity", "n"}) {
    SlotBuffer *X = (*A)->find(Name), *Y = (*B)->find(Name);
    EXPECT_EQ(std::memcmp(X->Data, Y->Data, X->bytes()), 0) << Name;
  }
  // Gradients are not part of a checkpoint.
  Expected<TensorFile> F = readTensorFile(File);
  ASSERT_TRUE(bool(F));
  EXPECT_EQ(F->find("grad.W"), nullptr);
  EXPECT_NE(F->find("state.W.velocity"), nullptr);
  EXPECT_EQ(F->Metadata.at("epoch"), "4");
  EXPECT_EQ(F->Metadata.at("seed"), "3");
  Expected<std::optional<uint64_t>> Seed = checkpointSeed(*F);
  ASSERT_TRUE(bool(Seed));
  EXPECT_EQ(Seed->value_or(0), 3u);
}

TEST_F(RuntimeCheckpoint, SeedAndBestLossAreOptionalButChecked) {
  auto A = ModelInstance::create(&Model);
  ASSERT_TRUE(bool(A));
  TrainProgress P(12345678901234567890ull, 2);
  P.Epoch = 1;
  std::string File = path("w.st");
  ASSERT_FALSE(saveCheckpoint(**A, File, P));
  Expected<TensorFile> F = readTensorFile(File);
  ASSERT_TRUE(bool(F));
  // No best loss yet (infinity): not recorded, and read back as infinity.
  EXPECT_EQ(F->Metadata.count("best_val_loss"), 0u);
  TrainProgress Q(1, 2);
  Q.BestValLoss = 5;
  bool Resumed;
  std::string Note;
  ASSERT_FALSE(loadCheckpoint(**A, *F, Q, Resumed, Note));
  EXPECT_EQ(Q.Seed, 12345678901234567890ull);
  EXPECT_TRUE(std::isinf(Q.BestValLoss));
  // A checkpoint of an earlier version has no seed: the run keeps its own.
  F->Metadata.erase("seed");
  TrainProgress R(6, 2);
  ASSERT_FALSE(loadCheckpoint(**A, *F, R, Resumed, Note));
  EXPECT_EQ(R.Seed, 6u);
  EXPECT_FALSE(checkpointSeed(*F)->has_value());
  // Plain weights have no seed to offer even when the metadata says one.
  TensorFile Plain = *F;
  Plain.Metadata = {{"seed", "4"}};
  EXPECT_FALSE(checkpointSeed(Plain)->has_value());
  // Malformed values are errors naming the key.
  for (auto [Key, Value] :
       {std::pair{"seed", "-3"}, std::pair{"seed", "18446744073709551616"},
        std::pair{"best_val_loss", "nan"},
        std::pair{"best_val_loss", "0.5x"}}) {
    TensorFile Bad = *F;
    Bad.Metadata["seed"] = "1";
    Bad.Metadata[Key] = Value;
    Status S = loadCheckpoint(**A, Bad, R, Resumed, Note);
    ASSERT_TRUE(bool(S)) << Key << "=" << Value;
    EXPECT_NE(S.message().find("'" + std::string(Key) + "' is '" + Value),
              std::string::npos)
        << S.message();
  }
}

TEST_F(RuntimeCheckpoint, PlainWeightsLeaveTheProgressAlone) {
  auto A = ModelInstance::create(&Model);
  ASSERT_TRUE(bool(A));
  (*A)->initParams(1);
  std::string File = path("plain.st");
  ASSERT_FALSE((*A)->saveWeights(File, /*WithState=*/false));
  TrainProgress Q(5, 4), Fresh(5, 4);
  bool Resumed = true;
  std::string Note;
  ASSERT_FALSE(loadCheckpoint(**A, File, Q, Resumed, Note));
  EXPECT_FALSE(Resumed);
  EXPECT_EQ(Q.Epoch, 0);
  EXPECT_EQ(Q.Order, (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(Q.ShuffleRng.next(), Fresh.ShuffleRng.next());
}

TEST_F(RuntimeCheckpoint, AnotherDataSetSizeRestartsTheOrder) {
  auto A = ModelInstance::create(&Model);
  ASSERT_TRUE(bool(A));
  TrainProgress P(2, 3);
  P.Epoch = 2;
  P.Order = {2, 0, 1};
  std::string File = path("w.st");
  ASSERT_FALSE(saveCheckpoint(**A, File, P));
  TrainProgress Q(2, 6);
  bool Resumed;
  std::string Note;
  ASSERT_FALSE(loadCheckpoint(**A, File, Q, Resumed, Note));
  EXPECT_TRUE(Resumed);
  EXPECT_EQ(Q.Epoch, 2);
  EXPECT_EQ(Q.Order, (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_NE(Note.find("covers 3 examples, but the training set has 6"),
            std::string::npos)
      << Note;
}

TEST_F(RuntimeCheckpoint, FindsTheFirstNonFiniteSlot) {
  auto A = ModelInstance::create(&Model);
  ASSERT_TRUE(bool(A));
  ModelInstance &I = **A;
  EXPECT_EQ(I.firstNonFinite(), nullptr);
  // GRAD slots are not what a training step writes: not scanned.
  I.find("grad.W")->f32()[5] = std::numeric_limits<float>::infinity();
  EXPECT_EQ(I.firstNonFinite(), nullptr);
  I.find("W.velocity")->f32()[0] = -std::numeric_limits<float>::infinity();
  EXPECT_EQ(weightsKey(*I.firstNonFinite()), "state.W.velocity");
  I.find("b")->f32()[2] = std::nanf("");
  EXPECT_EQ(weightsKey(*I.firstNonFinite()), "b");
  // The largest finite float is finite; I32 slots are never scanned.
  SlotBuffer *W = I.find("W");
  W->f32()[0] = std::numeric_limits<float>::max();
  EXPECT_TRUE(allFinite(*W));
  EXPECT_TRUE(allFinite(*I.find("n")));
}

// The scan is split in pieces over the thread pool: a bad value deep in a
// large slot is found, and the first bad slot in slot order is reported
// whichever piece finishes first.
TEST(RuntimeNonFinite, FindsValuesInEveryPieceOfLargeSlots) {
  static const int64_t Big[] = {100003};
  static const nnc_slot BigSlots[] = {
      {"A", NNC_SLOT_PARAM, NNC_F32, 1, Big, NNC_INIT_ZEROS, 0, 0, nullptr, 0},
      {"B", NNC_SLOT_STATE, NNC_F32, 1, Big, 0, 0, 0, nullptr, 0},
  };
  nnc_model M = modelWith("big", BigSlots);
  auto I = ModelInstance::create(&M);
  ASSERT_TRUE(bool(I));
  EXPECT_EQ((*I)->firstNonFinite(), nullptr);
  for (int64_t At :
       {int64_t(0), int64_t(32767), int64_t(32768), int64_t(100002)}) {
    (*I)->find("B")->f32()[At] = std::nanf("");
    ASSERT_NE((*I)->firstNonFinite(), nullptr) << At;
    EXPECT_EQ((*I)->firstNonFinite()->name(), std::string_view("B")) << At;
    (*I)->find("B")->f32()[At] = 0;
  }
  (*I)->find("B")->f32()[7] = std::numeric_limits<float>::infinity();
  (*I)->find("A")->f32()[99999] = -std::numeric_limits<float>::infinity();
  EXPECT_EQ((*I)->firstNonFinite()->name(), std::string_view("A"));
}

// A slot refused after others were allocated: the error names it quoted
// (escaped, cut), and the slots before it are freed with the instance
// (LeakSanitizer in .ci/sanitize; the fuzzer's input
// slot-refused-after-allocations).
TEST(RuntimeModel, RefusedSlotIsQuotedAndEarlierSlotsFreed) {
  static const int64_t Dims[] = {16};
  static const std::string Long = "\x1b" + std::string(200, 'x');
  const nnc_slot Slots[] = {
      {"a", NNC_SLOT_PARAM, NNC_F32, 1, Dims, NNC_INIT_ZEROS, 0, 0, nullptr, 0},
      {"b", NNC_SLOT_PARAM, NNC_F32, 1, Dims, NNC_INIT_ZEROS, 0, 0, nullptr, 0},
      {Long.c_str(), NNC_SLOT_PARAM, nnc_dtype(99), 1, Dims, NNC_INIT_ZEROS, 0,
       0, nullptr, 0},
  };
  nnc_model M = modelWith("refused", Slots);
  auto I = ModelInstance::create(&M);
  ASSERT_FALSE(bool(I));
  std::string Message = I.takeError().message();
  EXPECT_EQ(Message.rfind("invalid model descriptor: slot '", 0), 0u)
      << Message;
  EXPECT_EQ(Message.find('\x1b'), std::string::npos) << Message;
  EXPECT_LT(Message.size(), 150u) << Message;
  EXPECT_NE(Message.find("has dtype 99"), std::string::npos) << Message;
}

} // namespace
