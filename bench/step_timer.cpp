//===- step_timer.cpp - CPU time of a training step and its check ---------===//
//
// Linked with the object of `nnc MODEL.nn --emit=obj` and the runtime, it
// times what `train` does per step besides loading the batch: train_step,
// then the check for non-finite values (docs/runtime.md, "Numerical
// safety") — the scan of every param, state and buffer slot when the step
// says it wrote a non-finite value (ABI 7), or after every step (older
// ABIs, whose entries say nothing; the file builds against either, to
// compare them). The slots hold the params drawn with seed 1, the train
// block's hyperparameters, and one batch of pseudo-random inputs in
// [0, 1) with labels below 10, so a step stays finite.
//
// It prints the process CPU seconds per step of each of ROUNDS rounds of
// STEPS steps, the minimum first. Run it with NNC_NUM_THREADS=1 for one
// core's time, and alternate builds to compare them on a loaded machine.
//
// usage: step_timer [STEPS [ROUNDS [always]]]   (always: scan after every
//        step whatever the step says, to time the scan itself)
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Callbacks.h"
#include "nnc/Runtime/Model.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string_view>
#include <vector>

using namespace nnc::rt;

static double cpuSeconds() {
  timespec T;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &T);
  return double(T.tv_sec) + 1e-9 * double(T.tv_nsec);
}

/// One step and its check, as Train.cpp runs them (with `Always`, the
/// scan runs anyway); true when the check found a non-finite value.
static bool step(const nnc_model &M, ModelInstance &I, bool Always) {
#if NNC_ABI_VERSION >= 7
  bool Scan = M.train_step(I.slotPointers()) != 0 || Always;
#else
  M.train_step(I.slotPointers());
  bool Scan = true || Always;
#endif
  return Scan && I.firstNonFinite();
}

extern "C" int nnc_main(const nnc_model *M, int argc, char **argv) {
  long Steps = argc > 1 ? std::atol(argv[1]) : 200;
  int Rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  bool Always = argc > 3 && std::string_view(argv[3]) == "always";
  if (!M->train_step) {
    std::fprintf(stderr, "step_timer: the model has no train_step\n");
    return 1;
  }
  auto Made = ModelInstance::create(M);
  if (!Made) {
    std::fprintf(stderr, "step_timer: %s\n",
                 Made.takeError().message().c_str());
    return 1;
  }
  ModelInstance &I = **Made;
  I.initParams(1);
  if (Status S = I.setHypers(M->train, M->train.lr)) {
    std::fprintf(stderr, "step_timer: %s\n", S.message().c_str());
    return 1;
  }
  unsigned Seed = 12345;
  for (nnc_slot_role Role : {NNC_SLOT_INPUT, NNC_SLOT_TARGET})
    for (SlotBuffer *S : I.withRole(Role))
      for (int64_t K = 0; K < S->Numel; ++K) {
        Seed = Seed * 1103515245u + 12345u;
        if (S->type() == DType::F32)
          S->f32()[K] = float((Seed >> 9) & 0xffff) / 65536.0f;
        else
          S->i32()[K] = int32_t((Seed >> 16) % 10);
      }
  for (int K = 0; K < 20; ++K) // warm up
    step(*M, I, Always);
  std::vector<double> PerStep;
  for (int R = 0; R < Rounds; ++R) {
    double Start = cpuSeconds();
    for (long K = 0; K < Steps; ++K) {
      I.setDropoutKey(1, K);
      if (step(*M, I, Always)) {
        std::fprintf(stderr, "step_timer: a step went non-finite\n");
        return 1;
      }
    }
    PerStep.push_back((cpuSeconds() - Start) / double(Steps));
  }
  std::sort(PerStep.begin(), PerStep.end());
  for (double S : PerStep)
    std::printf("%.9f ", S);
  std::printf("\n");
  return 0;
}
