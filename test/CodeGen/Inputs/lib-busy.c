/* lib-busy.c - two threads call one --emit=lib library at the same time.
 *
 * The library keeps its working memory in static storage, so calls must
 * not overlap, and one that does is refused with MODEL_BUSY instead of
 * corrupting the running one (docs/embedding.md). Built like lib-run.c
 * (HEADER, IN_SIZES, OUT_SIZES, CALL) plus BUSY, the header's busy code:
 *
 *   1. One call computes the reference outputs of fixed inputs.
 *   2. A second thread calls the library back to back while the main
 *      thread calls it too, until the main thread has seen a refusal and
 *      a success of its own, or 20 seconds have passed.
 *   3. Every call that returned 0, in either thread, must have written
 *      exactly the reference outputs; a refused call must have written
 *      nothing. Exits 0 when the main thread saw both; else says what
 *      went wrong and exits 1.
 */
#include HEADER

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const long InSizes[] = IN_SIZES;
static const long OutSizes[] = OUT_SIZES;
#define NUM_IN (sizeof(InSizes) / sizeof(InSizes[0]))
#define NUM_OUT (sizeof(OutSizes) / sizeof(OutSizes[0]))

/* The inputs, shared (read only); each thread has its own outputs. */
static float *In[NUM_IN];
struct Outs {
  float *Out[NUM_OUT];
};
static struct Outs Reference;
static atomic_int Stop, Failed;

#define IN(I) ((const void *)In[I])
#define OUT(I) ((void *)O->Out[I])

static void allocate(struct Outs *O) {
  for (size_t I = 0; I < NUM_OUT; ++I)
    O->Out[I] = calloc(OutSizes[I], 4);
}

static void release(struct Outs *O) {
  for (size_t I = 0; I < NUM_OUT; ++I)
    free(O->Out[I]);
}

/* One call with the outputs of `O`, first poisoned. Returns the library's
 * status; 0 only if the outputs are the reference's. */
static int callOnce(struct Outs *O) {
  for (size_t I = 0; I < NUM_OUT; ++I)
    memset(O->Out[I], 0x7f, OutSizes[I] * 4);
  int Status = CALL;
  for (size_t I = 0; I < NUM_OUT; ++I) {
    int Same = !memcmp(O->Out[I], Reference.Out[I], OutSizes[I] * 4);
    int Untouched = 1;
    for (long J = 0; J < OutSizes[I] * 4; ++J)
      Untouched &= ((unsigned char *)O->Out[I])[J] == 0x7f;
    if (Status == 0 ? !Same : !Untouched) {
      fprintf(stderr, "lib-busy: a call that returned %d %s\n", Status,
              Status == 0 ? "wrote other outputs" : "wrote its outputs");
      atomic_store(&Failed, 1);
    }
  }
  return Status;
}

static void *hammer(void *Unused) {
  (void)Unused;
  struct Outs Mine;
  allocate(&Mine);
  while (!atomic_load(&Stop))
    callOnce(&Mine);
  release(&Mine); /* LeakSanitizer runs on this program in CI */
  return NULL;
}

int main(void) {
  /* Zeros: a valid value of every f32 and i32 input. */
  for (size_t I = 0; I < NUM_IN; ++I)
    In[I] = calloc(InSizes[I], 4);
  allocate(&Reference);
  {
    struct Outs *O = &Reference;
    if (CALL != 0) {
      fprintf(stderr, "lib-busy: the first call failed\n");
      return 1;
    }
  }
  struct Outs Mine;
  allocate(&Mine);
  pthread_t Other;
  if (pthread_create(&Other, NULL, hammer, NULL) != 0) {
    fprintf(stderr, "lib-busy: cannot start a thread\n");
    return 1;
  }
  long Refused = 0, Agreed = 0;
  time_t End = time(NULL) + 20;
  while ((Refused == 0 || Agreed == 0) && time(NULL) < End &&
         !atomic_load(&Failed)) {
    int Status = callOnce(&Mine);
    if (Status == BUSY)
      ++Refused;
    else if (Status == 0)
      ++Agreed;
  }
  atomic_store(&Stop, 1);
  pthread_join(Other, NULL);
  release(&Mine);
  release(&Reference);
  for (size_t I = 0; I < NUM_IN; ++I)
    free(In[I]);
  if (atomic_load(&Failed))
    return 1;
  if (!Refused || !Agreed) {
    fprintf(stderr, "lib-busy: in 20 s, %ld calls refused, %ld agreed\n",
            Refused, Agreed);
    return 1;
  }
  printf("overlapping calls refused, the others agreed\n");
  return 0;
}
