/* linreg.c - A hand-written model implementing the nnc ABI (ModelABI.h):
 * linear regression y = x @ W + b with the MSE loss, trained by SGD with
 * momentum (so it has optimizer STATE and two HYPER slots). It stands in
 * for generated code so that the runtime is tested on its own.
 *
 * Build flags: -DDATA="path.csv" (train data, columns x0,x1,t),
 * -DTEST="path.csv" (optional test set), -DHEADER=0/1, -DEPOCHS=N, -DBATCH=B.
 */
#include "nnc/Runtime/Callbacks.h"

#include <math.h>
#include <stddef.h>

#ifndef BATCH
#define BATCH 4
#endif
#ifndef EPOCHS
#define EPOCHS 20
#endif
#ifndef HEADER
#define HEADER 1
#endif

enum { X, T, W, Bias, VW, VB, LR, MOM, Y, LOSS, GW, GB, NUM_SLOTS };

static const int64_t DimsX[] = {BATCH, 2}, DimsT[] = {BATCH, 1},
                     DimsW[] = {2, 1}, DimsB[] = {1}, DimsY[] = {BATCH, 1};

static const nnc_slot Slots[NUM_SLOTS] = {
    [X] = {"x", NNC_SLOT_INPUT, NNC_F32, 2, DimsX},
    [T] = {"t", NNC_SLOT_TARGET, NNC_F32, 2, DimsT},
    [W] = {"W", NNC_SLOT_PARAM, NNC_F32, 2, DimsW, NNC_INIT_GLOROT_UNIFORM},
    [Bias] = {"b", NNC_SLOT_PARAM, NNC_F32, 1, DimsB, NNC_INIT_ZEROS},
    [VW] = {"W.velocity", NNC_SLOT_STATE, NNC_F32, 2, DimsW},
    [VB] = {"b.velocity", NNC_SLOT_STATE, NNC_F32, 1, DimsB},
    [LR] = {"lr", NNC_SLOT_HYPER, NNC_F32, 0, NULL},
    [MOM] = {"momentum", NNC_SLOT_HYPER, NNC_F32, 0, NULL},
    [Y] = {"y", NNC_SLOT_OUTPUT, NNC_F32, 2, DimsY},
    [LOSS] = {"mse", NNC_SLOT_LOSS, NNC_F32, 0, NULL},
    [GW] = {"grad.W", NNC_SLOT_GRAD, NNC_F32, 2, DimsW},
    [GB] = {"grad.b", NNC_SLOT_GRAD, NNC_F32, 1, DimsB},
};

#define F(S) ((float *)Slot[S])

static void forward(void **Slot) {
  for (int I = 0; I < BATCH; ++I)
    F(Y)[I] = F(X)[2 * I] * F(W)[0] + F(X)[2 * I + 1] * F(W)[1] + F(Bias)[0];
}

/* loss = mean((y - t)^2); d/dy = 2 (y - t) / B. */
static void lossAndGrad(void **Slot, float *GradW, float *GradB) {
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
  F(LOSS)[0] = L / BATCH;
  GradW[0] = G0;
  GradW[1] = G1;
  GradB[0] = G2;
}

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
  lossAndGrad(Slot, GW_, GB_);
  float Lr = F(LR)[0], Mom = F(MOM)[0];
  for (int K = 0; K < 2; ++K) {
    F(VW)[K] = Mom * F(VW)[K] + GW_[K];
    F(W)[K] -= Lr * F(VW)[K];
  }
  F(VB)[0] = Mom * F(VB)[0] + GB_[0];
  F(Bias)[0] -= Lr * F(VB)[0];
  return nonFinite(F(W), 2) | nonFinite(F(Bias), 1) | nonFinite(F(VW), 2) |
         nonFinite(F(VB), 1);
}

static void evalStep(void **Slot) {
  float GW_[2], GB_[1];
  lossAndGrad(Slot, GW_, GB_);
}

static void gradStep(void **Slot) { lossAndGrad(Slot, F(GW), F(GB)); }

static const int64_t Cols01[] = {0, 1}, Col2[] = {2};

const nnc_model nnc_model_desc = {
    .abi_version = NNC_ABI_VERSION,
    .name = "linreg",
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
                     .header = HEADER},
#endif
#ifdef TEST
            .test = {.kind = 2,
                     .path = TEST,
                     .num_input_cols = 2,
                     .num_target_cols = 1,
                     .input_cols = Cols01,
                     .target_cols = Col2,
                     .header = HEADER},
#endif
            .optimizer = 0,
            .lr = 0.05,
            .momentum = 0.5,
            .epochs = EPOCHS,
            .shuffle = 1,
            .seed = 7,
        },
    .train_step = trainStep,
    .eval_step = evalStep,
    .predict = forward,
    .grad = gradStep,
};

int main(int argc, char **argv) {
  return nnc_main(&nnc_model_desc, argc, argv);
}
