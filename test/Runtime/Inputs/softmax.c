/* softmax.c - A hand-written softmax classifier implementing the nnc ABI
 * (ModelABI.h): logits = x @ W + b, cross-entropy loss against i32 labels
 * (or, with -DONEHOT, f32 one-hot rows), an `accuracy` metric, plain SGD.
 * It stands in for generated code so that the runtime's IDX and CSV
 * loaders, metrics and predict/grad commands are tested on their own.
 *
 * Build flags: -DNIN=784 -DNCLS=10 -DBATCH=100 -DEPOCHS=1;
 * data: -DIMAGES=".." -DLABELS=".." (IDX) or -DCSV=".." (columns: NIN
 * inputs, then the label); -DTIMAGES/-DTLABELS or -DTCSV for a test set.
 */
#include "nnc/Runtime/Callbacks.h"

#include <math.h>
#include <stddef.h>

#ifndef NIN
#define NIN 784
#endif
#ifndef NCLS
#define NCLS 10
#endif
#ifndef BATCH
#define BATCH 100
#endif
#ifndef EPOCHS
#define EPOCHS 1
#endif

enum { X, T, W, Bias, LR, PROBS, LOSS, ACC, GW, GB, NUM_SLOTS };

static const int64_t DimsX[] = {BATCH, NIN}, DimsT[] = {BATCH, NCLS},
                     DimsW[] = {NIN, NCLS}, DimsB[] = {NCLS},
                     DimsP[] = {BATCH, NCLS};

#ifdef ONEHOT
#define TARGET_TYPE NNC_F32
#define TARGET_RANK 2
#else
#define TARGET_TYPE NNC_I32
#define TARGET_RANK 1
#endif

static const nnc_slot Slots[NUM_SLOTS] = {
    [X] = {"x", NNC_SLOT_INPUT, NNC_F32, 2, DimsX},
    [T] = {"t", NNC_SLOT_TARGET, TARGET_TYPE, TARGET_RANK, DimsT},
    [W] = {"W", NNC_SLOT_PARAM, NNC_F32, 2, DimsW, NNC_INIT_NORMAL, 0, 0.01},
    [Bias] = {"b", NNC_SLOT_PARAM, NNC_F32, 1, DimsB, NNC_INIT_ZEROS},
    [LR] = {"lr", NNC_SLOT_HYPER, NNC_F32, 0, NULL},
    [PROBS] = {"probs", NNC_SLOT_OUTPUT, NNC_F32, 2, DimsP},
    [LOSS] = {"loss", NNC_SLOT_LOSS, NNC_F32, 0, NULL},
    [ACC] = {"accuracy", NNC_SLOT_METRIC, NNC_F32, 0, NULL},
    [GW] = {"grad.W", NNC_SLOT_GRAD, NNC_F32, 2, DimsW},
    [GB] = {"grad.b", NNC_SLOT_GRAD, NNC_F32, 1, DimsB},
};

#define F(S) ((float *)Slot[S])

static void forward(void **Slot) {
  for (int I = 0; I < BATCH; ++I) {
    float *P = F(PROBS) + I * NCLS;
    const float *Xi = F(X) + I * NIN;
    float Max = -INFINITY;
    for (int C = 0; C < NCLS; ++C) {
      float Z = F(Bias)[C];
      for (int K = 0; K < NIN; ++K)
        Z += Xi[K] * F(W)[K * NCLS + C];
      P[C] = Z;
      Max = Z > Max ? Z : Max;
    }
    float Sum = 0;
    for (int C = 0; C < NCLS; ++C)
      Sum += P[C] = expf(P[C] - Max);
    for (int C = 0; C < NCLS; ++C)
      P[C] /= Sum;
  }
}

static int label(void **Slot, int I) {
#ifdef ONEHOT
  for (int C = 0; C < NCLS; ++C)
    if (F(T)[I * NCLS + C] == 1.0f)
      return C;
  return 0;
#else
  return ((int32_t *)Slot[T])[I];
#endif
}

/* loss = mean_i -log p_i[y_i]; d logits = (p - onehot(y)) / B. */
static void lossAndGrad(void **Slot, float *GradW, float *GradB) {
  forward(Slot);
  float L = 0, Correct = 0;
  if (GradW)
    for (int K = 0; K < NIN * NCLS; ++K)
      GradW[K] = 0;
  if (GradB)
    for (int C = 0; C < NCLS; ++C)
      GradB[C] = 0;
  for (int I = 0; I < BATCH; ++I) {
    const float *P = F(PROBS) + I * NCLS;
    int Y = label(Slot, I), Best = 0;
    for (int C = 1; C < NCLS; ++C)
      if (P[C] > P[Best])
        Best = C;
    Correct += Best == Y;
    L -= logf(P[Y] > 1e-30f ? P[Y] : 1e-30f);
    if (!GradW)
      continue;
    const float *Xi = F(X) + I * NIN;
    for (int C = 0; C < NCLS; ++C) {
      float D = (P[C] - (C == Y)) / BATCH;
      GradB[C] += D;
      for (int K = 0; K < NIN; ++K)
        GradW[K * NCLS + C] += D * Xi[K];
    }
  }
  F(LOSS)[0] = L / BATCH;
  F(ACC)[0] = Correct / BATCH;
}

static float GradWBuf[NIN * NCLS], GradBBuf[NCLS];

/* Returns whether a new param value is a NaN or an infinity (ModelABI.h). */
static int32_t trainStep(void **Slot) {
  lossAndGrad(Slot, GradWBuf, GradBBuf);
  float Lr = F(LR)[0];
  int32_t Bad = 0;
  for (int K = 0; K < NIN * NCLS; ++K) {
    F(W)[K] -= Lr * GradWBuf[K];
    Bad |= !isfinite(F(W)[K]);
  }
  for (int C = 0; C < NCLS; ++C) {
    F(Bias)[C] -= Lr * GradBBuf[C];
    Bad |= !isfinite(F(Bias)[C]);
  }
  return Bad;
}

static void evalStep(void **Slot) { lossAndGrad(Slot, NULL, NULL); }
static void gradStep(void **Slot) { lossAndGrad(Slot, F(GW), F(GB)); }

const nnc_model nnc_model_desc = {
    .abi_version = NNC_ABI_VERSION,
    .name = "softmax",
    .batch = BATCH,
    .num_slots = NUM_SLOTS,
    .slots = Slots,
    .train =
        {
            .present = 1,
#if defined(IMAGES)
            .data = {.kind = 1,
                     .images = IMAGES,
                     .labels = LABELS,
                     .scale = 1.0 / 255},
#elif defined(CSV)
            .data = {.kind = 2, .path = CSV},
#endif
#if defined(TIMAGES)
            .test = {.kind = 1,
                     .images = TIMAGES,
                     .labels = TLABELS,
                     .scale = 1.0 / 255},
#elif defined(TCSV)
            .test = {.kind = 2, .path = TCSV},
#endif
            .optimizer = 0,
            .lr = 0.1,
            .epochs = EPOCHS,
            .shuffle = 1,
            .seed = 3,
        },
    .train_step = trainStep,
    .eval_step = evalStep,
    .predict = forward,
    .grad = gradStep,
};

int main(int argc, char **argv) {
  return nnc_main(&nnc_model_desc, argc, argv);
}
