//===- Schedule.cpp - Learning-rate schedules -----------------------------===//
//
// Each factor is computed in double with the operations in the order that
// docs/runtime.md's PyTorch lambdas use (`math.cos`, `**` and true division
// are the same libm calls and IEEE operations), so a Python script gets the
// same rates bit for bit; the rate is rounded to the f32 `lr` slot only
// when it is set.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Schedule.h"

#include <cmath>
#include <string>

namespace nnc::rt {

Expected<LrSchedule> LrSchedule::fromSpec(const nnc_train_spec &Spec) {
  LrSchedule S;
  if (!Spec.present)
    return S;
  auto Bad = [](const std::string &Why) {
    return Status::error("invalid model descriptor: " + Why);
  };
  switch (Spec.schedule) {
  case NNC_SCHEDULE_CONSTANT:
    return S;
  case NNC_SCHEDULE_STEP:
    if (Spec.schedule_every < 1 || !(Spec.schedule_gamma > 0))
      return Bad(
          "step schedule with every = " + std::to_string(Spec.schedule_every) +
          ", gamma = " + std::to_string(Spec.schedule_gamma));
    S.Kind = NNC_SCHEDULE_STEP;
    S.Every = Spec.schedule_every;
    S.Gamma = Spec.schedule_gamma;
    return S;
  case NNC_SCHEDULE_COSINE:
    if (Spec.schedule_warmup < 0)
      return Bad("cosine schedule with warmup = " +
                 std::to_string(Spec.schedule_warmup));
    S.Kind = NNC_SCHEDULE_COSINE;
    S.Warmup = Spec.schedule_warmup;
    return S;
  }
  return Bad("schedule kind " + std::to_string(Spec.schedule));
}

double LrSchedule::factor(int64_t Step, int64_t StepsPerEpoch,
                          int64_t Epochs) const {
  switch (Kind) {
  case NNC_SCHEDULE_CONSTANT:
    return 1.0;
  case NNC_SCHEDULE_STEP: {
    int64_t Epoch = StepsPerEpoch > 0 ? Step / StepsPerEpoch : 0;
    return std::pow(Gamma, double(Epoch / Every));
  }
  case NNC_SCHEDULE_COSINE: {
    int64_t W = Warmup * StepsPerEpoch, T = Epochs * StepsPerEpoch;
    if (Step < W)
      return double(Step + 1) / double(W);
    // A run shorter than the warm-up never gets here (Step < T <= W).
    if (T <= W)
      return 1.0;
    return 0.5 * (1.0 + std::cos(M_PI * double(Step - W) / double(T - W)));
  }
  }
  return 1.0;
}

} // namespace nnc::rt
