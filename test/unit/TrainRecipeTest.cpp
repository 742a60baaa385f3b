//===- TrainRecipeTest.cpp - Schedules, validation split, augmentation ----===//
//
// The runtime pieces of a train block's recipe, pinned down where lit can
// only see their effects: the schedule factors at chosen steps, the
// validation split's counts and determinism, and the pixels an augmented
// batch receives (Dataset::fillBatch), transform by transform.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Dataset.h"
#include "nnc/Runtime/Schedule.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <vector>

using namespace nnc::rt;

namespace {

TEST(RuntimeSchedule, Factors) {
  LrSchedule Constant;
  EXPECT_EQ(Constant.factor(123, 10, 20), 1.0);

  LrSchedule Step;
  Step.Kind = NNC_SCHEDULE_STEP;
  Step.Every = 2;
  Step.Gamma = 0.5;
  // 3 steps per epoch: epochs 0-1 (t < 6) at 1, epochs 2-3 at 0.5, ...
  EXPECT_EQ(Step.factor(0, 3, 10), 1.0);
  EXPECT_EQ(Step.factor(5, 3, 10), 1.0);
  EXPECT_EQ(Step.factor(6, 3, 10), 0.5);
  EXPECT_EQ(Step.factor(12, 3, 10), 0.25);

  LrSchedule Cosine;
  Cosine.Kind = NNC_SCHEDULE_COSINE;
  Cosine.Warmup = 1;
  // 4 steps per epoch, 4 epochs: T = 16, W = 4.
  EXPECT_EQ(Cosine.factor(0, 4, 4), 0.25);
  EXPECT_EQ(Cosine.factor(3, 4, 4), 1.0);
  EXPECT_EQ(Cosine.factor(4, 4, 4), 1.0);
  EXPECT_DOUBLE_EQ(Cosine.factor(10, 4, 4), 0.5);
  EXPECT_DOUBLE_EQ(Cosine.factor(15, 4, 4),
                   0.5 * (1 + std::cos(M_PI * 11 / 12)));
  // A run no longer than the warm-up is all warm-up.
  EXPECT_EQ(Cosine.factor(2, 4, 1), 0.75);
}

TEST(RuntimeSchedule, FromSpec) {
  nnc_train_spec Spec{};
  Spec.present = 1;
  Spec.schedule = NNC_SCHEDULE_STEP;
  Spec.schedule_every = 3;
  Spec.schedule_gamma = 0.2;
  Expected<LrSchedule> S = LrSchedule::fromSpec(Spec);
  ASSERT_TRUE(bool(S));
  EXPECT_EQ(S->Kind, NNC_SCHEDULE_STEP);
  EXPECT_EQ(S->Every, 3);
  Spec.schedule_every = 0;
  EXPECT_FALSE(bool(LrSchedule::fromSpec(Spec)));
  Spec.schedule = 9;
  Expected<LrSchedule> Bad = LrSchedule::fromSpec(Spec);
  ASSERT_FALSE(bool(Bad));
  EXPECT_NE(Bad.takeError().message().find("schedule kind 9"),
            std::string::npos);
}

TEST(RuntimeValidation, SplitsRoundedDeterministicallyBySeed) {
  std::vector<int64_t> Train, Held, Train2, Held2;
  // 0.25 · 10 = 2.5 rounds up to 3.
  splitValidation(10, 0.25, 7, Train, Held);
  EXPECT_EQ(Held.size(), 3u);
  EXPECT_EQ(Train.size(), 7u);
  EXPECT_TRUE(std::is_sorted(Held.begin(), Held.end()));
  EXPECT_TRUE(std::is_sorted(Train.begin(), Train.end()));
  std::set<int64_t> All(Train.begin(), Train.end());
  All.insert(Held.begin(), Held.end());
  EXPECT_EQ(All.size(), 10u);
  splitValidation(10, 0.25, 7, Train2, Held2);
  EXPECT_EQ(Held, Held2);
  EXPECT_EQ(Train, Train2);
  // Another seed holds out other rows (for some seed; the draws are fixed).
  bool Differs = false;
  for (uint64_t Seed = 8; Seed < 12 && !Differs; ++Seed) {
    splitValidation(10, 0.25, Seed, Train2, Held2);
    Differs = Held2 != Held;
  }
  EXPECT_TRUE(Differs);
  splitValidation(10, 0.04, 7, Train, Held);
  EXPECT_TRUE(Held.empty());
  EXPECT_EQ(Train.size(), 10u);
}

/// One 3×4 image plane per example (bytes 1..12, row-major), a layout of
/// batch `B` with an f32 input of 12 values and an i32 label.
class RuntimeAugmentBatch : public ::testing::Test {
protected:
  static constexpr int64_t H = 3, W = 4, B = 8;

  void SetUp() override { makeLayout(1); }

  void makeLayout(int64_t Planes, float Scale = 1.0f) {
    Numel = Planes * H * W;
    InDims = {B, Numel};
    InDesc = {"x", NNC_SLOT_INPUT, NNC_F32, 2, InDims.data()};
    TgtDesc = {"y", NNC_SLOT_TARGET, NNC_I32, 1, InDims.data()};
    In.assign(size_t(B * Numel), -1.0f);
    Tgt.assign(size_t(B), -1);
    InSlot = {&InDesc, In.data(), B * Numel};
    TgtSlot = {&TgtDesc, Tgt.data(), B};
    L.Input = &InSlot;
    L.Target = &TgtSlot;
    L.InputNumel = Numel;
    L.TargetNumel = 1;
    std::vector<uint8_t> Pixels;
    for (int64_t K = 0; K < Numel; ++K)
      Pixels.push_back(uint8_t(K + 1));
    std::vector<int64_t> Shape = {H, W};
    if (Planes > 1)
      Shape.insert(Shape.begin(), Planes);
    D = Dataset::fromImages(Pixels, Shape, Scale, {3});
  }

  /// The B examples at positions First.. of `Epoch` (all of image 0).
  std::vector<std::vector<float>> batch(int64_t First, int64_t Epoch = 1,
                                        uint64_t Seed = 5) {
    std::vector<int64_t> Rows(size_t(B), 0);
    BatchAugment A{&List, Seed, Epoch, First};
    D.fillBatch(Rows.data(), B, L, &A);
    std::vector<std::vector<float>> Out;
    for (int64_t I = 0; I < B; ++I)
      Out.emplace_back(In.begin() + I * Numel, In.begin() + (I + 1) * Numel);
    return Out;
  }

  /// The first plane after random_crop at offset (DY, DX) with padding P
  /// and then, with `Flip`, hflip.
  static std::vector<float> expected(int64_t P, int64_t DY, int64_t DX,
                                     bool Flip) {
    std::vector<float> Out;
    for (int64_t Y = 0; Y < H; ++Y)
      for (int64_t X = 0; X < W; ++X) {
        int64_t CX = Flip ? W - 1 - X : X;
        int64_t SY = Y + DY - P, SX = CX + DX - P;
        bool Inside = SY >= 0 && SY < H && SX >= 0 && SX < W;
        Out.push_back(Inside ? float(SY * W + SX + 1) : 0.0f);
      }
    return Out;
  }

  std::vector<Augmentation> List;
  Dataset D;
  SampleLayout L;
  int64_t Numel = 0;
  std::vector<int64_t> InDims;
  nnc_slot InDesc{}, TgtDesc{};
  std::vector<float> In;
  std::vector<int32_t> Tgt;
  SlotBuffer InSlot, TgtSlot;
};

TEST_F(RuntimeAugmentBatch, NoneWithoutAList) {
  std::vector<int64_t> Rows(size_t(B), 0);
  D.fillBatch(Rows.data(), B, L);
  EXPECT_EQ(std::vector<float>(In.begin(), In.begin() + Numel),
            expected(0, 0, 0, false));
  EXPECT_EQ(Tgt[0], 3);
}

TEST_F(RuntimeAugmentBatch, HFlipMirrorsAboutHalfTheExamples) {
  List = {{NNC_AUGMENT_HFLIP, 0}};
  int Flipped = 0, Total = 0;
  for (int64_t First = 0; First < 400; First += B)
    for (const std::vector<float> &Img : batch(First)) {
      bool IsFlip = Img == expected(0, 0, 0, true);
      EXPECT_TRUE(IsFlip || Img == expected(0, 0, 0, false));
      Flipped += IsFlip;
      ++Total;
    }
  EXPECT_GT(Flipped, Total * 4 / 10);
  EXPECT_LT(Flipped, Total * 6 / 10);
  // The label is untouched.
  EXPECT_EQ(Tgt[B - 1], 3);
}

TEST_F(RuntimeAugmentBatch, RandomCropShiftsWithinThePaddingAndZeroFills) {
  List = {{NNC_AUGMENT_RANDOM_CROP, 1}};
  std::map<std::pair<int64_t, int64_t>, int> Seen;
  for (int64_t First = 0; First < 720; First += B)
    for (const std::vector<float> &Img : batch(First)) {
      bool Found = false;
      for (int64_t DY = 0; DY <= 2 && !Found; ++DY)
        for (int64_t DX = 0; DX <= 2 && !Found; ++DX)
          if (Img == expected(1, DY, DX, false)) {
            ++Seen[{DY, DX}];
            Found = true;
          }
      EXPECT_TRUE(Found);
    }
  // All nine offsets, each about 80 times of 720.
  EXPECT_EQ(Seen.size(), 9u);
  for (auto &[Offset, Count] : Seen)
    EXPECT_GT(Count, 40) << Offset.first << "," << Offset.second;
}

TEST_F(RuntimeAugmentBatch, CropThenFlipInListOrder) {
  List = {{NNC_AUGMENT_RANDOM_CROP, 2}, {NNC_AUGMENT_HFLIP, 0}};
  std::set<std::tuple<int64_t, int64_t, bool>> Seen;
  for (int64_t First = 0; First < 1600; First += B)
    for (const std::vector<float> &Img : batch(First)) {
      bool Found = false;
      for (int64_t DY = 0; DY <= 4; ++DY)
        for (int64_t DX = 0; DX <= 4; ++DX)
          for (bool Flip : {false, true})
            if (!Found && Img == expected(2, DY, DX, Flip)) {
              Seen.insert({DY, DX, Flip});
              Found = true;
            }
      EXPECT_TRUE(Found);
    }
  EXPECT_EQ(Seen.size(), 50u);
}

TEST_F(RuntimeAugmentBatch, DrawsDependOnSeedEpochAndPositionOnly) {
  List = {{NNC_AUGMENT_RANDOM_CROP, 1}, {NNC_AUGMENT_HFLIP, 0}};
  auto A = batch(16, 2, 5);
  // The same key gives the same pixels, whatever came before.
  (void)batch(0, 1, 9);
  EXPECT_EQ(batch(16, 2, 5), A);
  // A position is a position: the example at 17 is the same when the
  // batch starts at 17.
  EXPECT_EQ(batch(17, 2, 5)[0], A[1]);
  // Another epoch or seed draws anew (some of 8 examples differ).
  EXPECT_NE(batch(16, 3, 5), A);
  EXPECT_NE(batch(16, 2, 6), A);
}

TEST_F(RuntimeAugmentBatch, PlanesMoveTogetherAndScaleApplies) {
  makeLayout(2, 0.5f);
  List = {{NNC_AUGMENT_RANDOM_CROP, 1}, {NNC_AUGMENT_HFLIP, 0}};
  int Zeros = 0;
  for (const std::vector<float> &Img : batch(0)) {
    // Plane 1 holds plane 0's bytes + 12, zeros where plane 0's are; all
    // scaled by ½.
    for (int64_t K = 0; K < H * W; ++K) {
      float P0 = Img[size_t(K)], P1 = Img[size_t(H * W + K)];
      EXPECT_EQ(P1, P0 == 0 ? 0.0f : P0 + 6) << K;
      EXPECT_EQ(P0 * 2, std::floor(P0 * 2)) << K;
      Zeros += P0 == 0;
    }
  }
  EXPECT_GT(Zeros, 0);
}

TEST(RuntimeAugment, ChecksDataAndSpec) {
  Dataset Flat = Dataset::fromImages({1, 2, 3, 4}, {4}, 1.0f, {0});
  Status S = Flat.checkAugmentable("img");
  ASSERT_TRUE(bool(S));
  EXPECT_NE(S.message().find("the images of img are [4]"), std::string::npos)
      << S.message();
  Dataset Table = Dataset::fromTable({1, 2}, 2, {0}, {}, 1);
  ASSERT_TRUE(bool(Table.checkAugmentable("t.csv")));
  Dataset Images = Dataset::fromImages({1, 2, 3, 4}, {2, 2}, 1.0f, {0});
  EXPECT_FALSE(bool(Images.checkAugmentable("img")));

  nnc_augment Twice[] = {{NNC_AUGMENT_HFLIP, 0}, {NNC_AUGMENT_HFLIP, 0}};
  nnc_augment Negative[] = {{NNC_AUGMENT_RANDOM_CROP, -1}};
  nnc_augment Unknown[] = {{7, 0}};
  for (nnc_augment *List : {Twice, Negative, Unknown}) {
    nnc_train_spec Spec{};
    Spec.present = 1;
    Spec.num_augments = List == Twice ? 2 : 1;
    Spec.augments = List;
    EXPECT_FALSE(bool(augmentationsFromSpec(Spec)));
  }
  nnc_augment Good[] = {{NNC_AUGMENT_RANDOM_CROP, 4}, {NNC_AUGMENT_HFLIP, 0}};
  nnc_train_spec Spec{};
  Spec.present = 1;
  Spec.num_augments = 2;
  Spec.augments = Good;
  Expected<std::vector<Augmentation>> A = augmentationsFromSpec(Spec);
  ASSERT_TRUE(bool(A));
  ASSERT_EQ(A->size(), 2u);
  EXPECT_EQ((*A)[0].Padding, 4);
  EXPECT_EQ((*A)[1].Kind, NNC_AUGMENT_HFLIP);
}

} // namespace
