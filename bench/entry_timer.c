/* entry_timer.c - times one entry point of a compiled nnc model.
 *
 * Linked with the object of `nnc MODEL.nn --emit=obj` and the runtime, it
 * fills every slot with small pseudo-random values (labels with 0), calls
 * the chosen entry (`predict`, `train_step` or `grad`) a few times to warm
 * up, then repeatedly for at least MIN_SECONDS and prints the median
 * seconds per call of several timed rounds. The benchmark (bench/bench.py)
 * uses it for the GEMM micro-benchmark and for inference throughput, where
 * the executable's file I/O would drown the kernel time.
 *
 * The model object's own main() calls nnc_main(&nnc_model_desc, ...); this
 * file provides that nnc_main, so the runtime's command line is not linked.
 *
 * usage: entry_timer predict|train_step|grad [MIN_SECONDS]
 */
#include "nnc/Runtime/Callbacks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec T;
  clock_gettime(CLOCK_MONOTONIC, &T);
  return (double)T.tv_sec + 1e-9 * (double)T.tv_nsec;
}

static int cmp(const void *A, const void *B) {
  double X = *(const double *)A, Y = *(const double *)B;
  return (X > Y) - (X < Y);
}

/* train_step returns its non-finite flag (ModelABI.h), which is not
 * timed apart: it is called through this wrapper. */
static nnc_update_entry TrainStep;
static void trainStep(void **Slots) { (void)TrainStep(Slots); }

int nnc_main(const nnc_model *M, int argc, char **argv) {
  const char *Which = argc > 1 ? argv[1] : "predict";
  double MinSeconds = argc > 2 ? atof(argv[2]) : 0.3;
  TrainStep = M->train_step;
  nnc_entry E = !strcmp(Which, "train_step") ? (TrainStep ? trainStep : NULL)
                : !strcmp(Which, "grad")     ? M->grad
                                             : M->predict;
  if (!E) {
    fprintf(stderr, "entry_timer: the model has no %s entry\n", Which);
    return 1;
  }
  void **Slots = calloc((size_t)M->num_slots, sizeof(void *));
  unsigned Seed = 12345;
  for (int I = 0; I < M->num_slots; ++I) {
    const nnc_slot *S = &M->slots[I];
    size_t N = 1;
    for (int D = 0; D < S->rank; ++D)
      N *= (size_t)S->dims[D];
    size_t Bytes = (N * 4 + 63) / 64 * 64;
    Slots[I] = aligned_alloc(64, Bytes ? Bytes : 64);
    if (S->dtype == NNC_I32) {
      memset(Slots[I], 0, Bytes);
      continue;
    }
    float *F = Slots[I];
    for (size_t J = 0; J < N; ++J) {
      Seed = Seed * 1103515245u + 12345u;
      F[J] = (float)((Seed >> 9) & 0xffff) / 65536.0f * 0.02f - 0.01f;
    }
    if (S->role == NNC_SLOT_HYPER)
      F[0] = 1e-6f; /* a tiny learning rate keeps training steps finite */
  }
  for (int I = 0; I < 3; ++I)
    E(Slots);
  /* Calls per round: enough for ~MIN_SECONDS / 5. */
  double T0 = now();
  E(Slots);
  double One = now() - T0;
  long Calls = (long)(MinSeconds / 5 / (One > 1e-7 ? One : 1e-7)) + 1;
  double Rounds[5];
  for (int R = 0; R < 5; ++R) {
    double Start = now();
    for (long C = 0; C < Calls; ++C)
      E(Slots);
    Rounds[R] = (now() - Start) / (double)Calls;
  }
  qsort(Rounds, 5, sizeof(double), cmp);
  printf("%.9f\n", Rounds[2]);
  return 0;
}
