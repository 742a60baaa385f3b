//===- Augment.cpp - Random crops and flips of training images ------------===//
//
// `augment = [...]` (docs/runtime.md, "Augmentation") transforms each image
// of a training batch while it is converted into the input slot:
//   1. the example's generator is seeded with counterKey(seed ^ augment
//      stream, epoch, position in the epoch), and each augmentation of the
//      list draws from it in list order: random_crop two offsets
//      dy, dx in [0, 2P] (Lemire's bounded integers), hflip one bit (the top
//      bit of the next word);
//   2. every output pixel (y, x) is traced back through the list, last
//      augmentation first, to the source pixel it shows: random_crop reads
//      the zero-padded image at (y + dy − P, x + dx − P), so a coordinate
//      that leaves the image shows a zero; hflip reads (y, W − 1 − x);
//   3. the source byte is scaled like any other pixel.
// Both transforms act on each axis separately, so a pixel's source row
// depends on y only and its column on x only. Every plane (channel) of an
// image moves alike.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Dataset.h"
#include "nnc/Runtime/Random.h"

#include <array>

namespace nnc::rt {

/// The augmentation stream's constant, xor-ed into the run's seed.
static constexpr uint64_t AugmentStream = 0x6175676d656e74ULL; // "augment"

Expected<std::vector<Augmentation>>
augmentationsFromSpec(const nnc_train_spec &Spec) {
  std::vector<Augmentation> List;
  if (!Spec.present || Spec.num_augments == 0)
    return List;
  auto Bad = [](const std::string &Why) {
    return Status::error("invalid model descriptor: " + Why);
  };
  if (Spec.num_augments < 0 || !Spec.augments)
    return Bad("no augment list");
  for (int32_t K = 0; K < Spec.num_augments; ++K) {
    const nnc_augment &A = Spec.augments[K];
    if (A.kind != NNC_AUGMENT_RANDOM_CROP && A.kind != NNC_AUGMENT_HFLIP)
      return Bad("augmentation kind " + std::to_string(A.kind));
    if (A.padding < 0 || A.padding > (int64_t(1) << 30))
      return Bad("random_crop padding " + std::to_string(A.padding));
    for (const Augmentation &Prev : List)
      if (Prev.Kind == A.kind)
        return Bad("augmentation kind " + std::to_string(A.kind) + " twice");
    List.push_back({nnc_augment_kind(A.kind), A.padding});
  }
  return List;
}

Status Dataset::checkAugmentable(const std::string &Where) const {
  if (Pixels.empty())
    return Status::error("augment applies to images, but " + Where +
                         " is not IDX data");
  if (ImageShape.size() < 2)
    return Status::error("augment needs images with a height and a width, "
                         "but the images of " +
                         Where + " are " + shapeString(ImageShape));
  return Status();
}

namespace {

/// One example's draws for one augmentation of the list.
struct Draw {
  int64_t DY = 0, DX = 0; ///< random_crop offsets in [0, 2P].
  bool Flip = false;      ///< hflip.
};

/// At most one of each kind (augmentationsFromSpec checks it).
constexpr size_t MaxAugmentations = 2;

} // namespace

void Dataset::fillAugmented(int64_t Row, int64_t I, const SampleLayout &L,
                            const BatchAugment &Aug, int64_t Position) const {
  const std::vector<Augmentation> &List = *Aug.List;
  // 1. The draws.
  Rng R(counterKey(Aug.Seed ^ AugmentStream, uint64_t(Aug.Epoch),
                   uint64_t(Position)));
  std::array<Draw, MaxAugmentations> Draws;
  for (size_t K = 0; K < List.size(); ++K) {
    if (List[K].Kind == NNC_AUGMENT_RANDOM_CROP) {
      uint64_t Span = uint64_t(2 * List[K].Padding + 1);
      Draws[K].DY = int64_t(R.below(Span));
      Draws[K].DX = int64_t(R.below(Span));
    } else {
      Draws[K].Flip = (R.next() >> 63) != 0;
    }
  }
  // 2. The source coordinate along one axis (`IsX`: the width) of output
  // coordinate C, or -1 in the zero border.
  int64_t H = ImageShape[ImageShape.size() - 2], W = ImageShape.back();
  auto Source = [&](int64_t C, bool IsX) -> int64_t {
    int64_t Size = IsX ? W : H;
    for (size_t K = List.size(); K-- > 0;) {
      if (List[K].Kind == NNC_AUGMENT_RANDOM_CROP) {
        C += (IsX ? Draws[K].DX : Draws[K].DY) - List[K].Padding;
        if (C < 0 || C >= Size)
          return -1;
      } else if (IsX && Draws[K].Flip) {
        C = W - 1 - C;
      }
    }
    return C;
  };
  // 3. The pixels, plane by plane.
  bool InF32 = L.Input->type() == DType::F32;
  float *DstF = L.Input->f32() + I * InputNumel;
  int32_t *DstI = L.Input->i32() + I * InputNumel;
  const uint8_t *Src = Pixels.data() + Row * InputNumel;
  int64_t Planes = InputNumel / (H * W);
  for (int64_t Y = 0; Y < H; ++Y) {
    int64_t SY = Source(Y, /*IsX=*/false);
    for (int64_t X = 0; X < W; ++X) {
      int64_t SX = SY < 0 ? -1 : Source(X, /*IsX=*/true);
      for (int64_t P = 0; P < Planes; ++P) {
        uint8_t V = SX < 0 ? 0 : Src[(P * H + SY) * W + SX];
        int64_t At = (P * H + Y) * W + X;
        if (InF32)
          DstF[At] = float(V) * Scale;
        else
          DstI[At] = V;
      }
    }
  }
}

} // namespace nnc::rt
