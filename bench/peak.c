/* peak.c - the FP32 fused multiply-add peak of one core, in GFLOP/s.
 *
 * Twelve independent chains of vector FMAs (acc = acc * m + a), as wide as
 * the target's vectors: 64 bytes under AVX-512, else 32 (AVX2). Twelve
 * chains cover the FMA latency times the number of FMA units of current
 * x86 cores (4 cycles x 2 units on Zen 3; 4 x 2 on Skylake-X), so the loop
 * is bound by FMA throughput alone; no memory is touched. An FMA of an
 * n-float vector counts 2n flops. The benchmark (bench/bench.py) compiles
 * it with `cc -O2 -march=native` and divides the conv family's achieved
 * training GFLOP/s by this figure times the threads used.
 *
 * It prints the best of ROUNDS runs of ~0.2 s each (the best, not the
 * median: the question is what the core can do, and a loaded machine only
 * ever makes a run slower).
 *
 * usage: peak [ROUNDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifdef __AVX512F__
#define LANES 16
#else
#define LANES 8
#endif

typedef float vec __attribute__((vector_size(LANES * 4)));

static double now(void) {
  struct timespec T;
  clock_gettime(CLOCK_MONOTONIC, &T);
  return (double)T.tv_sec + 1e-9 * (double)T.tv_nsec;
}

/* Runs Iters x 12 vector FMAs; returns a value that depends on every chain,
 * so that none of them is dropped. The chains converge to A / (1 - M) > 0,
 * far from denormals (which would slow the FMAs on some cores). */
static float chains(long Iters, float Seed) {
  vec M = (vec){0} + 0.9999f, A = (vec){0} + 1e-7f * (1 + Seed);
  vec C0 = (vec){0} + Seed, C1 = C0 + 1, C2 = C0 + 2, C3 = C0 + 3;
  vec C4 = C0 + 4, C5 = C0 + 5, C6 = C0 + 6, C7 = C0 + 7;
  vec C8 = C0 + 8, C9 = C0 + 9, C10 = C0 + 10, C11 = C0 + 11;
  for (long I = 0; I < Iters; ++I) {
    C0 = C0 * M + A;
    C1 = C1 * M + A;
    C2 = C2 * M + A;
    C3 = C3 * M + A;
    C4 = C4 * M + A;
    C5 = C5 * M + A;
    C6 = C6 * M + A;
    C7 = C7 * M + A;
    C8 = C8 * M + A;
    C9 = C9 * M + A;
    C10 = C10 * M + A;
    C11 = C11 * M + A;
  }
  vec S = ((C0 + C1) + (C2 + C3)) + ((C4 + C5) + (C6 + C7)) +
          ((C8 + C9) + (C10 + C11));
  float R = 0;
  for (int L = 0; L < LANES; ++L)
    R += S[L];
  return R;
}

int main(int argc, char **argv) {
  int Rounds = argc > 1 ? atoi(argv[1]) : 5;
  float Sink = 0;
  /* Calibrate: grow the count until one run takes ~0.2 s. */
  long Iters = 1 << 16;
  for (;;) {
    double Start = now();
    Sink += chains(Iters, 1.0f);
    double T = now() - Start;
    if (T > 0.05) {
      Iters = (long)((double)Iters * 0.2 / T) + 1;
      break;
    }
    Iters *= 4;
  }
  double Best = 0;
  for (int R = 0; R < Rounds; ++R) {
    double Start = now();
    Sink += chains(Iters, (float)R);
    double T = now() - Start;
    double GFlops = (double)Iters * 12 * LANES * 2 / T / 1e9;
    if (GFlops > Best)
      Best = GFlops;
  }
  /* Sink is printed to stderr only so that the chains stay live. */
  fprintf(stderr, "peak: %d-float vectors, %ld x 12 FMAs per run (%g)\n", LANES,
          Iters, (double)Sink);
  printf("%.2f\n", Best);
  return 0;
}
