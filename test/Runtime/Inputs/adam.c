/* adam.c - A hand-written model implementing the nnc ABI (ModelABI.h):
 * linear regression y = x @ W + b trained by Adam, plus a "ballast" param
 * of BALLAST values pulled towards zero by an L2 term. Adam gives it the
 * richest optimizer state there is (two moments per param and a step
 * counter), which exact resume must carry over bit for bit; the ballast
 * makes checkpoints as large as a test needs, so that a save takes long
 * enough to be interrupted.
 *
 *   loss = mean((y - t)^2) + L2 * mean(ballast^2)
 *
 * Build flags: -DDATA="path.csv" (columns x0,x1,t, with a header),
 * -DBALLAST=N (default 16), -DEPOCHS=N, -DBATCH=B.
 */
#include "nnc/Runtime/Callbacks.h"

#include <math.h>
#include <stddef.h>

#ifndef BATCH
#define BATCH 4
#endif
#ifndef EPOCHS
#define EPOCHS 10
#endif
#ifndef BALLAST
#define BALLAST 16
#endif
#define L2 0.01f

enum {
  X,
  T,
  W,
  Bias,
  Ballast,
  MW,
  VW,
  MB,
  VB,
  MBal,
  VBal,
  STEP,
  LR,
  BETA1,
  BETA2,
  EPS,
  Y,
  LOSS,
  GW,
  GB,
  GBal,
  NUM_SLOTS
};

static const int64_t DimsX[] = {BATCH, 2}, DimsT[] = {BATCH, 1},
                     DimsW[] = {2, 1}, DimsB[] = {1}, DimsY[] = {BATCH, 1},
                     DimsBal[] = {BALLAST};

static const nnc_slot Slots[NUM_SLOTS] = {
    [X] = {"x", NNC_SLOT_INPUT, NNC_F32, 2, DimsX},
    [T] = {"t", NNC_SLOT_TARGET, NNC_F32, 2, DimsT},
    [W] = {"W", NNC_SLOT_PARAM, NNC_F32, 2, DimsW, NNC_INIT_GLOROT_UNIFORM},
    [Bias] = {"b", NNC_SLOT_PARAM, NNC_F32, 1, DimsB, NNC_INIT_ZEROS},
    [Ballast] = {"ballast", NNC_SLOT_PARAM, NNC_F32, 1, DimsBal,
                 NNC_INIT_NORMAL, 0, 1},
    [MW] = {"W.m", NNC_SLOT_STATE, NNC_F32, 2, DimsW},
    [VW] = {"W.v", NNC_SLOT_STATE, NNC_F32, 2, DimsW},
    [MB] = {"b.m", NNC_SLOT_STATE, NNC_F32, 1, DimsB},
    [VB] = {"b.v", NNC_SLOT_STATE, NNC_F32, 1, DimsB},
    [MBal] = {"ballast.m", NNC_SLOT_STATE, NNC_F32, 1, DimsBal},
    [VBal] = {"ballast.v", NNC_SLOT_STATE, NNC_F32, 1, DimsBal},
    [STEP] = {"adam.t", NNC_SLOT_STATE, NNC_F32, 0, NULL},
    [LR] = {"lr", NNC_SLOT_HYPER, NNC_F32, 0, NULL},
    [BETA1] = {"beta1", NNC_SLOT_HYPER, NNC_F32, 0, NULL},
    [BETA2] = {"beta2", NNC_SLOT_HYPER, NNC_F32, 0, NULL},
    [EPS] = {"eps", NNC_SLOT_HYPER, NNC_F32, 0, NULL},
    [Y] = {"y", NNC_SLOT_OUTPUT, NNC_F32, 2, DimsY},
    [LOSS] = {"loss", NNC_SLOT_LOSS, NNC_F32, 0, NULL},
    [GW] = {"grad.W", NNC_SLOT_GRAD, NNC_F32, 2, DimsW},
    [GB] = {"grad.b", NNC_SLOT_GRAD, NNC_F32, 1, DimsB},
    [GBal] = {"grad.ballast", NNC_SLOT_GRAD, NNC_F32, 1, DimsBal},
};

#define F(S) ((float *)Slot[S])

static void forward(void **Slot) {
  for (int I = 0; I < BATCH; ++I)
    F(Y)[I] = F(X)[2 * I] * F(W)[0] + F(X)[2 * I + 1] * F(W)[1] + F(Bias)[0];
}

/* d/dy mean((y - t)^2) = 2 (y - t) / B; d/dballast L2 mean(ballast^2) =
 * 2 L2 ballast / BALLAST. */
static void lossAndGrad(void **Slot, float *GradW, float *GradB,
                        float *GradBal) {
  forward(Slot);
  float L = 0, G0 = 0, G1 = 0, G2 = 0;
  for (int I = 0; I < BATCH; ++I) {
    float D = F(Y)[I] - F(T)[I];
    L += D * D;
    float Dy = 2 * D / BATCH;
    G0 += Dy * F(X)[2 * I];
    G1 += Dy * F(X)[2 * I + 1];
    G2 += Dy;
  }
  float Reg = 0;
  for (int K = 0; K < BALLAST; ++K) {
    Reg += F(Ballast)[K] * F(Ballast)[K];
    GradBal[K] = 2 * L2 * F(Ballast)[K] / BALLAST;
  }
  F(LOSS)[0] = L / BATCH + L2 * Reg / BALLAST;
  GradW[0] = G0;
  GradW[1] = G1;
  GradB[0] = G2;
}

/* p -= lr * mhat / (sqrt(vhat) + eps), with PyTorch's bias corrections. */
static void adamUpdate(void **Slot, float *P, float *M, float *V,
                       const float *G, int N) {
  float B1 = F(BETA1)[0], B2 = F(BETA2)[0], T_ = F(STEP)[0];
  float C1 = 1 - powf(B1, T_), C2 = 1 - powf(B2, T_);
  for (int K = 0; K < N; ++K) {
    M[K] = B1 * M[K] + (1 - B1) * G[K];
    V[K] = B2 * V[K] + (1 - B2) * G[K] * G[K];
    P[K] -= F(LR)[0] * (M[K] / C1) / (sqrtf(V[K] / C2) + F(EPS)[0]);
  }
}

static float GradBalBuf[BALLAST];

/* Nonzero when one of P[0..N) is a NaN or an infinity: what an update
 * entry returns about the values it wrote (ModelABI.h). */
static int32_t nonFinite(const float *P, int N) {
  int32_t Bad = 0;
  for (int K = 0; K < N; ++K)
    Bad |= !isfinite(P[K]);
  return Bad;
}

static int32_t trainStep(void **Slot) {
  float GW_[2], GB_[1];
  lossAndGrad(Slot, GW_, GB_, GradBalBuf);
  F(STEP)[0] += 1;
  adamUpdate(Slot, F(W), F(MW), F(VW), GW_, 2);
  adamUpdate(Slot, F(Bias), F(MB), F(VB), GB_, 1);
  adamUpdate(Slot, F(Ballast), F(MBal), F(VBal), GradBalBuf, BALLAST);
  return nonFinite(F(W), 2) | nonFinite(F(Bias), 1) |
         nonFinite(F(Ballast), BALLAST) | nonFinite(F(MW), 2) |
         nonFinite(F(VW), 2) | nonFinite(F(MB), 1) | nonFinite(F(VB), 1) |
         nonFinite(F(MBal), BALLAST) | nonFinite(F(VBal), BALLAST) |
         nonFinite(F(STEP), 1);
}

static void evalStep(void **Slot) {
  float GW_[2], GB_[1];
  lossAndGrad(Slot, GW_, GB_, GradBalBuf);
}

static void gradStep(void **Slot) { lossAndGrad(Slot, F(GW), F(GB), F(GBal)); }

static const int64_t Cols01[] = {0, 1}, Col2[] = {2};

const nnc_model nnc_model_desc = {
    .abi_version = NNC_ABI_VERSION,
    .name = "adam",
    .batch = BATCH,
    .num_slots = NUM_SLOTS,
    .slots = Slots,
    .train =
        {
            .present = 1,
#ifdef DATA
            .data = {.kind = 2,
                     .path = DATA,
                     .num_input_cols = 2,
                     .num_target_cols = 1,
                     .input_cols = Cols01,
                     .target_cols = Col2,
                     .header = 1},
#endif
            .optimizer = 1,
            .lr = 0.05,
            .beta1 = 0.9,
            .beta2 = 0.999,
            .eps = 1e-8,
            .epochs = EPOCHS,
            .shuffle = 1,
            .seed = 5,
        },
    .train_step = trainStep,
    .eval_step = evalStep,
    .predict = forward,
    .grad = gradStep,
};

int main(int argc, char **argv) {
  return nnc_main(&nnc_model_desc, argc, argv);
}
