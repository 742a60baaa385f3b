/*===- ModelABI.h - The contract between generated code and the runtime ---===*
 *
 * A compiled model is an object file that defines one `nnc_model` (below)
 * under the symbol `nnc_model_desc`; the runtime library (linked into every
 * executable, and into `nnc` itself for `nnc run`) reads it and does the
 * rest: command line, data loading, parameter initialization, the epoch
 * loop, tensor files.
 *
 * Every tensor the generated code reads or writes is a *slot*: a buffer the
 * runtime allocates once (64-byte aligned, dense, row-major) from the slot's
 * dtype and shape. Each entry point takes the array of all slot pointers, in
 * slot order, and touches only the slots its role says:
 *
 *   entry         reads                         writes
 *   train_step    param state buffer hyper      param state buffer loss
 *                 input target                  metric
 *   eval_step     param buffer input target     loss metric
 *   predict       param buffer input            output
 *   grad          param buffer hyper input      loss grad
 *                 target
 *   train_grad    param buffer hyper input      loss metric grad buffer
 *                 target
 *   apply_update  param state hyper grad        param state
 *
 * train_step, grad and train_grad run the model in train mode, eval_step
 * and predict in eval mode (batchnorm, dropout); grad leaves the buffers
 * unchanged. train_grad followed by apply_update is train_step cut where
 * the gradients are complete, so that data-parallel training can average
 * them across processes in between (docs/distributed.md).
 *
 * The three entries that write params, state or buffers (train_step,
 * train_grad, apply_update) return whether they wrote a NaN or an infinity
 * into one of those slots: nonzero if some value they wrote there is not
 * finite, zero if every one is. The runtime scans the slots for the name of
 * the first non-finite one only when told so (docs/runtime.md, "Numerical
 * safety"), so the flag must cover every write; a hand-written model may
 * always return 1 (the runtime then scans after every step).
 *
 * Plain C so that the generated code's side is simple to emit with LLVM.
 *
 *===----------------------------------------------------------------------===*/
#ifndef NNC_RUNTIME_MODELABI_H
#define NNC_RUNTIME_MODELABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NNC_ABI_VERSION 7

enum nnc_dtype { NNC_F32 = 0, NNC_I32 = 1 };

/* How tensor files store an input or output whose values the model
 * computes as its dtype (mirrors nnc::FileType): NATIVE is the dtype
 * itself; the floating types and BOOL (0/1) are computed in f32, the
 * integer types in i32 (`input x : i64[3]`, docs/language.md). */
enum nnc_file_dtype {
  NNC_FILE_NATIVE = 0,
  NNC_FILE_F64 = 1,
  NNC_FILE_F16 = 2,
  NNC_FILE_BF16 = 3,
  NNC_FILE_I64 = 4,
  NNC_FILE_I16 = 5,
  NNC_FILE_I8 = 6,
  NNC_FILE_U8 = 7,
  NNC_FILE_U16 = 8,
  NNC_FILE_U32 = 9,
  NNC_FILE_U64 = 10,
  NNC_FILE_BOOL = 11
};

enum nnc_slot_role {
  NNC_SLOT_PARAM = 0,  /* trainable; initialized by `init` (see nnc_init) */
  NNC_SLOT_STATE = 1,  /* optimizer state; zero-initialized, saved with W */
  NNC_SLOT_HYPER = 2,  /* scalar set by the runtime: "lr" (f32), and
                          "dropout_key" (i32, every training step) */
  NNC_SLOT_INPUT = 3,  /* one batch of inputs (first dim = batch) */
  NNC_SLOT_TARGET = 4, /* one batch of targets */
  NNC_SLOT_OUTPUT = 5, /* `output` values */
  NNC_SLOT_LOSS = 6,   /* the scalar loss */
  NNC_SLOT_METRIC = 7, /* `metric` scalars */
  NNC_SLOT_GRAD = 8,   /* d loss / d param, named "grad.NAME" */
  NNC_SLOT_TEMP = 9,   /* scratch the generated code needs (arena) */
  NNC_SLOT_BUFFER = 10 /* kept and updated in train mode, never trained
                          (running statistics); initialized like a param,
                          saved with the params under its name */
};

/* How a param gets its first value (mirrors nnc::InitSpec). */
enum nnc_init_kind {
  NNC_INIT_ZEROS = 0,
  NNC_INIT_ONES = 1,
  NNC_INIT_CONST = 2,   /* a */
  NNC_INIT_UNIFORM = 3, /* U(a, b) */
  NNC_INIT_NORMAL = 4,  /* N(mean a, std b) */
  NNC_INIT_GLOROT_UNIFORM = 5,
  NNC_INIT_HE_NORMAL = 6,
  NNC_INIT_LITERAL = 7 /* `literal` holds numel floats/ints */
};

/* How a param feeds the units of a layer: which of its slices is one unit's
 * incoming weights (`show --images`, docs/runtime.md). The code generator
 * reads it off the param's first forward use (a matmul, through transposes,
 * or a convolution's kernel, through reshapes). */
enum nnc_param_use {
  NNC_USE_NONE = 0,           /* feeds no matmul or convolution (a bias) */
  NNC_USE_MATMUL_COLUMNS = 1, /* x @ W, W [in, out]: unit j's is column j */
  NNC_USE_MATMUL_ROWS = 2,    /* W @ x or x @ transpose(W), W [out, in]:
                                 unit i's is row i */
  NNC_USE_CONV_KERNEL = 3     /* [K, C, ...]: filter k's on channel c is
                                 w[k][c] */
};

typedef struct nnc_slot {
  const char *name; /* "W1", "h1.W", "x", "grad.W1", "loss", "lr" */
  int32_t role;     /* enum nnc_slot_role */
  int32_t dtype;    /* enum nnc_dtype */
  int32_t rank;
  const int64_t *dims;
  /* Params and buffers only. */
  int32_t init_kind; /* enum nnc_init_kind */
  double init_a, init_b;
  const void *literal;
  int32_t use;        /* params only: enum nnc_param_use */
  int32_t file_dtype; /* inputs and outputs: enum nnc_file_dtype */
} nnc_slot;

/* `data = ...` / `test = ...` of the train block. */
typedef struct nnc_data_spec {
  int32_t kind;                /* 0 none, 1 idx, 2 csv */
  const char *images, *labels; /* idx; absolute or relative to the cwd */
  double scale;
  const char *path; /* csv */
  int32_t num_input_cols, num_target_cols;
  const int64_t *input_cols, *target_cols;
  int32_t header;
} nnc_data_spec;

/* One entry of `augment = [...]`, applied to training images in list order
 * (docs/runtime.md, "Augmentation"). */
enum nnc_augment_kind { NNC_AUGMENT_RANDOM_CROP = 0, NNC_AUGMENT_HFLIP = 1 };
typedef struct nnc_augment {
  int32_t kind;    /* enum nnc_augment_kind */
  int64_t padding; /* random_crop: the zero border before the crop */
} nnc_augment;

/* The learning-rate schedule (docs/runtime.md, "Learning-rate schedules"). */
enum nnc_schedule_kind {
  NNC_SCHEDULE_CONSTANT = 0,
  NNC_SCHEDULE_STEP = 1,  /* × schedule_gamma every schedule_every epochs */
  NNC_SCHEDULE_COSINE = 2 /* schedule_warmup epochs of warm-up, then cosine */
};

typedef struct nnc_train_spec {
  int32_t present; /* 0: the model has no train block */
  nnc_data_spec data, test;
  int32_t optimizer; /* 0 sgd, 1 adam */
  double lr, momentum, weight_decay, beta1, beta2, eps;
  int64_t epochs;
  int32_t shuffle;
  uint64_t seed;
  int32_t schedule; /* enum nnc_schedule_kind */
  int64_t schedule_every;
  double schedule_gamma;
  int64_t schedule_warmup;
  int32_t num_augments;
  const nnc_augment *augments;
  double validation;  /* fraction of the data held out; 0: none */
  int64_t early_stop; /* patience in epochs; 0: no early stopping */
} nnc_train_spec;

typedef void (*nnc_entry)(void **slots);
/* train_step, train_grad, apply_update: nonzero when a param, state or
 * buffer value written is a NaN or an infinity (see the top). */
typedef int32_t (*nnc_update_entry)(void **slots);

typedef struct nnc_model {
  int32_t abi_version; /* NNC_ABI_VERSION */
  const char *name;
  int64_t batch; /* the batch dimension; 0: the model is unbatched (predict
                    takes every input whole, at its declared shape) */
  int32_t num_slots;
  const nnc_slot *slots;
  nnc_train_spec train;
  /* null unless the model has a loss and a train block whose optimizer
   * updates something (a param; adam also its step count) */
  nnc_update_entry train_step;
  nnc_entry eval_step; /* null when the model has no loss */
  nnc_entry predict;
  nnc_entry grad; /* null when the model has no loss or no param */
  /* train_step in two halves (see the table above); both null when there
   * is no train_step, or when its update reads more than the params, state,
   * buffers, hyperparameters and gradients */
  nnc_update_entry train_grad;
  nnc_update_entry apply_update;
} nnc_model;

/* The runtime functions the generated code calls, `nnc_main` among them,
 * are declared in Callbacks.h. */

#ifdef __cplusplus
}
#endif

#endif
