/* inits.c - A hand-written nnc model (ModelABI.h) with one param per
 * initializer kind and nothing else: no loss, no outputs. It tests `init`
 * (every init kind, seeds) and the errors of commands that need a loss or
 * outputs.
 */
#include "nnc/Runtime/Callbacks.h"

#include <stddef.h>

static const int64_t D3[] = {3}, D2x2[] = {2, 2}, D4[] = {4}, D1000[] = {1000},
                     D2000[] = {2000}, D20x30[] = {20, 30},
                     DConv[] = {8, 3, 5, 5}, D400x50[] = {400, 50};
static const float Lit[] = {1, 2, 3, 4};
static const int32_t LitI[] = {7, 8, 9};

static const nnc_slot Slots[] = {
    {"z", NNC_SLOT_PARAM, NNC_F32, 1, D3, NNC_INIT_ZEROS},
    {"o", NNC_SLOT_PARAM, NNC_F32, 2, D2x2, NNC_INIT_ONES},
    {"c", NNC_SLOT_PARAM, NNC_F32, 1, D4, NNC_INIT_CONST, 0.25},
    {"u", NNC_SLOT_PARAM, NNC_F32, 1, D1000, NNC_INIT_UNIFORM, -2, 3},
    {"n", NNC_SLOT_PARAM, NNC_F32, 1, D2000, NNC_INIT_NORMAL, 1, 0.5},
    {"g", NNC_SLOT_PARAM, NNC_F32, 2, D20x30, NNC_INIT_GLOROT_UNIFORM},
    {"k", NNC_SLOT_PARAM, NNC_F32, 4, DConv, NNC_INIT_GLOROT_UNIFORM},
    {"h", NNC_SLOT_PARAM, NNC_F32, 2, D400x50, NNC_INIT_HE_NORMAL},
    {"lit", NNC_SLOT_PARAM, NNC_F32, 2, D2x2, NNC_INIT_LITERAL, 0, 0, Lit},
    {"ilit", NNC_SLOT_PARAM, NNC_I32, 1, D3, NNC_INIT_LITERAL, 0, 0, LitI},
};

const nnc_model nnc_model_desc = {
    .abi_version = NNC_ABI_VERSION,
    .name = "inits",
    .batch = 1,
    .num_slots = sizeof(Slots) / sizeof(Slots[0]),
    .slots = Slots,
};

int main(int argc, char **argv) {
  return nnc_main(&nnc_model_desc, argc, argv);
}
