/* lib-run.c - runs a library of `nnc --emit=lib` on raw tensors.
 *
 * The test compiles it against one library's header, naming the arrays'
 * sizes (the header's constants) and the call:
 *
 *   cc -I DIR -DHEADER='"m.h"' -DIN_SIZES='{M_X_SIZE}' \
 *      -DOUT_SIZES='{M_Y_SIZE, M_Z_SIZE}' -DCALL='m_predict(IN(0), OUT(0),
 *      OUT(1))' lib-run.c m.o -lm -o run
 *   run X.raw Y.raw Z.raw
 *
 * and it reads each input from its file (4 bytes an element, as
 * tensor-bytes.py writes them), calls the library once and writes each
 * output to its file. The arrays are deliberately misaligned by 4 bytes:
 * the library must accept any alignment.
 */
#include HEADER

#include <stdio.h>
#include <stdlib.h>

static const long InSizes[] = IN_SIZES;
static const long OutSizes[] = OUT_SIZES;
#define NUM_IN (sizeof(InSizes) / sizeof(InSizes[0]))
#define NUM_OUT (sizeof(OutSizes) / sizeof(OutSizes[0]))

static char *In[NUM_IN], *Out[NUM_OUT];
#define IN(I) ((const void *)In[I])
#define OUT(I) ((void *)Out[I])

static char *misaligned(long Elements) {
  char *P = malloc(Elements * 4 + 64);
  if (!P) {
    perror("lib-run");
    exit(1);
  }
  /* 4 bytes past a 64-byte boundary. */
  return P + (64 - ((size_t)P & 63)) % 64 + 4;
}

int main(int argc, char **argv) {
  if (argc != (int)(1 + NUM_IN + NUM_OUT)) {
    fprintf(stderr, "usage: %s INPUT.raw... OUTPUT.raw...\n", argv[0]);
    return 2;
  }
  for (size_t I = 0; I < NUM_IN; ++I) {
    In[I] = misaligned(InSizes[I]);
    FILE *F = fopen(argv[1 + I], "rb");
    if (!F || fread(In[I], 4, InSizes[I], F) != (size_t)InSizes[I]) {
      fprintf(stderr, "lib-run: cannot read %ld elements from %s\n", InSizes[I],
              argv[1 + I]);
      return 1;
    }
    fclose(F);
  }
  for (size_t I = 0; I < NUM_OUT; ++I)
    Out[I] = misaligned(OutSizes[I]);
  int Status = CALL;
  if (Status != 0) {
    fprintf(stderr, "lib-run: the library returned %d\n", Status);
    return 1;
  }
  for (size_t I = 0; I < NUM_OUT; ++I) {
    FILE *F = fopen(argv[1 + NUM_IN + I], "wb");
    if (!F || fwrite(Out[I], 4, OutSizes[I], F) != (size_t)OutSizes[I] ||
        fclose(F) != 0) {
      fprintf(stderr, "lib-run: cannot write %s\n", argv[1 + NUM_IN + I]);
      return 1;
    }
  }
  return 0;
}
