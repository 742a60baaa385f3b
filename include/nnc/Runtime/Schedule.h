//===- Schedule.h - The learning rate of every training step ---*- C++ -*-===//
//
// `schedule = ...` of the train block (docs/runtime.md, "Learning-rate
// schedules") as a pure function of the global step: step t (0-based,
// counted over the whole run) trains with rate lr0 · f(t), where lr0 is the
// optimizer's `lr` (or --lr) and f depends only on t, the steps per epoch
// and the run's total epochs. Nothing about it is saved in a checkpoint: a
// resumed run recomputes the same rates from its global step.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_SCHEDULE_H
#define NNC_RUNTIME_SCHEDULE_H

#include "nnc/Runtime/ModelABI.h"
#include "nnc/Runtime/Status.h"

#include <cstdint>

namespace nnc::rt {

/// A learning-rate schedule.
struct LrSchedule {
  nnc_schedule_kind Kind = NNC_SCHEDULE_CONSTANT;
  int64_t Every = 1;  ///< step: epochs between two decays.
  double Gamma = 0.1; ///< step: the factor of each decay.
  int64_t Warmup = 0; ///< cosine: epochs of linear warm-up.

  /// The schedule of a train spec (constant without a train block); an
  /// unknown kind or an impossible argument is an invalid descriptor.
  static Expected<LrSchedule> fromSpec(const nnc_train_spec &Spec);

  /// f(t) for step `Step` of a run of `Epochs` epochs of `StepsPerEpoch`
  /// steps each:
  ///   constant: 1
  ///   step:     Gamma ^ ⌊epoch / Every⌋, epoch = ⌊t / S⌋ (0-based)
  ///   cosine:   (t + 1) / W                        when t < W = Warmup · S
  ///             ½ (1 + cos(π (t − W) / (T − W)))   else, T = Epochs · S
  double factor(int64_t Step, int64_t StepsPerEpoch, int64_t Epochs) const;
};

} // namespace nnc::rt

#endif
