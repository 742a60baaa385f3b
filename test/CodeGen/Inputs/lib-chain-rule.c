/* lib-chain-rule.c - calls the library of examples/chain_rule.nn: a model
 * without inputs whose one output is a scalar (test/CodeGen/emit-lib.test).
 */
#include "chain_rule.h"

#include <stdio.h>

int main(void) {
  float F[CHAIN_RULE_F_SIZE];
  int Status = chain_rule_predict(F);
  printf("status %d, f = %.6g\n", Status, (double)F[0]);
  return Status;
}
