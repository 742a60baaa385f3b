/* probe.c - A hand-written model implementing the nnc ABI (ModelABI.h)
 * whose numbers show what the runtime fed it, for the tests of learning-
 * rate schedules, validation, early stopping, augmentation and evaluation:
 *   train_step  the loss is the `lr` slot (so an epoch's mean loss is the
 *               mean rate of its steps), the param c grows by it (c is the
 *               f32 sum of every rate so far), and the param s by lr times
 *               the batch's inputs summed over its rows (so s depends on
 *               every rate, every row and every augmented pixel);
 *               `mean_x` as below;
 *   eval_step   the loss is the batch mean of (x - c)^2 and the metric
 *               `mean_x` the batch mean of x (each row's first value):
 *               means of per-row terms, as docs/runtime.md ("Evaluation")
 *               assumes.
 * With PROBE_DIE_AT=K in the environment, the process exits with status 3
 * at its K-th train_step (from 0): an interruption at a known point, for
 * the tests of exact resume.
 *
 * Data: CSV rows x,t (-DDATA, -DTEST; t is read and ignored), or IDX
 * images of NIN pixels with labels (-DIMAGES, -DLABELS; the labels feed
 * the f32 target as numbers).
 * Build flags: -DBATCH, -DEPOCHS, -DLR, -DSEED, -DSHUFFLE=0/1,
 * -DSCHEDULE=0/1/2 (constant, step, cosine) with -DEVERY, -DGAMMA,
 * -DWARMUP, -DVALIDATION=f, -DEARLY_STOP=patience, -DNIN, and
 * -DCROP=P / -DHFLIP for `augment = [random_crop(padding = P), hflip]`.
 */
#include "nnc/Runtime/Callbacks.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#ifndef BATCH
#define BATCH 4
#endif
#ifndef EPOCHS
#define EPOCHS 4
#endif
#ifndef LR
#define LR 0.1
#endif
#ifndef SEED
#define SEED 7
#endif
#ifndef SHUFFLE
#define SHUFFLE 1
#endif
#ifndef SCHEDULE
#define SCHEDULE 0
#endif
#ifndef EVERY
#define EVERY 1
#endif
#ifndef GAMMA
#define GAMMA 0.1
#endif
#ifndef WARMUP
#define WARMUP 0
#endif
#ifndef VALIDATION
#define VALIDATION 0
#endif
#ifndef EARLY_STOP
#define EARLY_STOP 0
#endif
#ifndef NIN
#define NIN 1
#endif

enum { X, T, C, S, LRATE, LOSS, MEANX, NUM_SLOTS };

static const int64_t DimsX[] = {BATCH, NIN}, DimsT[] = {BATCH, 1},
                     DimsC[] = {1}, DimsS[] = {NIN};

static const nnc_slot Slots[NUM_SLOTS] = {
    [X] = {"x", NNC_SLOT_INPUT, NNC_F32, 2, DimsX},
    [T] = {"t", NNC_SLOT_TARGET, NNC_F32, 2, DimsT},
    [C] = {"c", NNC_SLOT_PARAM, NNC_F32, 1, DimsC, NNC_INIT_ZEROS},
    [S] = {"s", NNC_SLOT_PARAM, NNC_F32, 1, DimsS, NNC_INIT_ZEROS},
    [LRATE] = {"lr", NNC_SLOT_HYPER, NNC_F32, 0, NULL},
    [LOSS] = {"loss", NNC_SLOT_LOSS, NNC_F32, 0, NULL},
    [MEANX] = {"mean_x", NNC_SLOT_METRIC, NNC_F32, 0, NULL},
};

#define F(S) ((float *)Slot[S])

static float meanX(void **Slot) {
  float Sum = 0;
  for (int I = 0; I < BATCH; ++I)
    Sum += F(X)[I * NIN];
  return Sum / BATCH;
}

static long Steps;

/* Returns whether a new param value is a NaN or an infinity (ModelABI.h). */
static int32_t trainStep(void **Slot) {
  const char *DieAt = getenv("PROBE_DIE_AT");
  if (DieAt && Steps++ == atol(DieAt))
    _exit(3);
  F(LOSS)[0] = F(LRATE)[0];
  F(MEANX)[0] = meanX(Slot);
  F(C)[0] += F(LRATE)[0];
  int32_t Bad = !isfinite(F(C)[0]);
  for (int J = 0; J < NIN; ++J) {
    float Sum = 0;
    for (int I = 0; I < BATCH; ++I)
      Sum += F(X)[I * NIN + J];
    F(S)[J] += F(LRATE)[0] * Sum;
    Bad |= !isfinite(F(S)[J]);
  }
  return Bad;
}

static void evalStep(void **Slot) {
  float L = 0;
  for (int I = 0; I < BATCH; ++I) {
    float D = F(X)[I * NIN] - F(C)[0];
    L += D * D;
  }
  F(LOSS)[0] = L / BATCH;
  F(MEANX)[0] = meanX(Slot);
}

static const int64_t Col0[] = {0}, Col1[] = {1};

#if defined(CROP) && defined(HFLIP)
static const nnc_augment Augments[] = {{NNC_AUGMENT_RANDOM_CROP, CROP},
                                       {NNC_AUGMENT_HFLIP, 0}};
#elif defined(CROP)
static const nnc_augment Augments[] = {{NNC_AUGMENT_RANDOM_CROP, CROP}};
#elif defined(HFLIP)
static const nnc_augment Augments[] = {{NNC_AUGMENT_HFLIP, 0}};
#endif

const nnc_model nnc_model_desc = {
    .abi_version = NNC_ABI_VERSION,
    .name = "probe",
    .batch = BATCH,
    .num_slots = NUM_SLOTS,
    .slots = Slots,
    .train =
        {
            .present = 1,
#ifdef IMAGES
            .data = {.kind = 1,
                     .images = IMAGES,
                     .labels = LABELS,
                     .scale = 1.0 / 255},
#else
            .data = {.kind = 2,
                     .path = DATA,
                     .num_input_cols = 1,
                     .num_target_cols = 1,
                     .input_cols = Col0,
                     .target_cols = Col1},
#endif
#ifdef TEST
            .test = {.kind = 2,
                     .path = TEST,
                     .num_input_cols = 1,
                     .num_target_cols = 1,
                     .input_cols = Col0,
                     .target_cols = Col1},
#endif
            .optimizer = 0,
            .lr = LR,
            .epochs = EPOCHS,
            .shuffle = SHUFFLE,
            .seed = SEED,
            .schedule = SCHEDULE,
            .schedule_every = EVERY,
            .schedule_gamma = GAMMA,
            .schedule_warmup = WARMUP,
            .validation = VALIDATION,
            .early_stop = EARLY_STOP,
#if defined(CROP) || defined(HFLIP)
            .num_augments = sizeof(Augments) / sizeof(Augments[0]),
            .augments = Augments,
#endif
        },
    .train_step = trainStep,
    .eval_step = evalStep,
};

int main(int argc, char **argv) {
  return nnc_main(&nnc_model_desc, argc, argv);
}
