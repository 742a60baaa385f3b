/* classify.c - Fashion-MNIST in a plain C program, with a model compiled by
 * `nnc --emit=lib` (examples/embed/README.md has the steps).
 *
 *     classify IMAGES LABELS [--show N] [--outputs N]
 *
 * reads the test set's IDX files (gzip-compressed ones through `gzip -dc`,
 * so the program needs no zlib), scales the pixels to [0, 1] exactly as the
 * train block's idx(...) does, classifies the images a batch at a time with
 * the library's predict function, and prints the first N predictions
 * (--show, default 10) with their class names, then the accuracy.
 * --outputs N also prints the model's outputs for the first N images, to
 * nine significant digits (enough to give back every float's bits):
 * test/Examples/embed.test compares them with `EXE predict`.
 *
 * The model is examples/mlp.nn's (mlp.h, mlp.o); build with -DLENET for
 * examples/lenet.nn's (lenet.h, lenet.o). Both take x : f32[B, 784] and
 * give probs : f32[B, 10]; everything else comes from the header.
 */
#define _POSIX_C_SOURCE 200809L /* popen */

#ifdef LENET
#include "lenet.h"
#define BATCH LENET_BATCH
#define PIXELS (LENET_X_SIZE / LENET_BATCH)
#define CLASSES (LENET_PROBS_SIZE / LENET_BATCH)
#define predict lenet_predict
#else
#include "mlp.h"
#define BATCH MLP_BATCH
#define PIXELS (MLP_X_SIZE / MLP_BATCH)
#define CLASSES (MLP_PROBS_SIZE / MLP_BATCH)
#define predict mlp_predict
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ClassNames[10] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

static void fail(const char *What, const char *Path) {
  fprintf(stderr, "classify: %s: %s\n", Path, What);
  exit(1);
}

/* An IDX file as a stream: read directly, or through `gzip -dc` when it
 * starts with gzip's magic bytes. `*Piped` says which close it needs. */
static FILE *openIdx(const char *Path, int *Piped) {
  FILE *F = fopen(Path, "rb");
  unsigned char Magic[2] = {0, 0};
  if (!F)
    fail("cannot open", Path);
  size_t Got = fread(Magic, 1, 2, F);
  *Piped = Got == 2 && Magic[0] == 0x1f && Magic[1] == 0x8b;
  if (!*Piped) {
    rewind(F);
    return F;
  }
  fclose(F);
  /* gzip -dc < 'Path', with the path's own quotes escaped for sh. */
  size_t Len = strlen(Path);
  char *Cmd = malloc(4 * Len + 32);
  if (!Cmd)
    fail("out of memory", Path);
  char *P = Cmd + sprintf(Cmd, "gzip -dc < '");
  for (size_t I = 0; I < Len; ++I) {
    if (Path[I] == '\'') {
      memcpy(P, "'\\''", 4);
      P += 4;
    } else {
      *P++ = Path[I];
    }
  }
  strcpy(P, "'");
  F = popen(Cmd, "r");
  free(Cmd);
  if (!F)
    fail("cannot run gzip -dc", Path);
  return F;
}

/* Reads an IDX file of unsigned bytes: its dimensions (at most 3) and data.
 * Returns the data; `Dims` receives the dimensions, `*Rank` their count. */
static unsigned char *readIdx(const char *Path, unsigned Dims[3], int *Rank) {
  int Piped;
  FILE *F = openIdx(Path, &Piped);
  unsigned char Head[4];
  if (fread(Head, 1, 4, F) != 4 || Head[0] || Head[1] || Head[2] != 0x08 ||
      Head[3] < 1 || Head[3] > 3)
    fail("not an IDX file of unsigned bytes", Path);
  *Rank = Head[3];
  size_t Count = 1;
  for (int I = 0; I < *Rank; ++I) {
    unsigned char B[4];
    if (fread(B, 1, 4, F) != 4)
      fail("truncated header", Path);
    Dims[I] = (unsigned)B[0] << 24 | (unsigned)B[1] << 16 |
              (unsigned)B[2] << 8 | B[3];
    Count *= Dims[I];
  }
  unsigned char *Data = malloc(Count ? Count : 1);
  if (!Data)
    fail("out of memory", Path);
  if (fread(Data, 1, Count, F) != Count)
    fail("truncated data", Path);
  if (Piped ? pclose(F) != 0 : fclose(F) != 0)
    fail("cannot read (gzip -dc failed?)", Path);
  return Data;
}

static long flagValue(int Argc, char **Argv, int *I) {
  if (*I + 1 >= Argc) {
    fprintf(stderr, "classify: %s needs a number\n", Argv[*I]);
    exit(2);
  }
  return atol(Argv[++*I]);
}

int main(int Argc, char **Argv) {
  const char *Paths[2] = {NULL, NULL};
  long Show = 10, Outputs = 0;
  int NumPaths = 0;
  for (int I = 1; I < Argc; ++I) {
    if (!strcmp(Argv[I], "--show"))
      Show = flagValue(Argc, Argv, &I);
    else if (!strcmp(Argv[I], "--outputs"))
      Outputs = flagValue(Argc, Argv, &I);
    else if (NumPaths++ < 2)
      Paths[NumPaths - 1] = Argv[I];
  }
  if (NumPaths != 2) {
    fprintf(stderr, "usage: classify IMAGES LABELS [--show N] [--outputs N]\n");
    return 2;
  }
  const char *ImagesPath = Paths[0], *LabelsPath = Paths[1];

  unsigned ImageDims[3], LabelDims[3];
  int ImageRank, LabelRank;
  unsigned char *Images = readIdx(ImagesPath, ImageDims, &ImageRank);
  unsigned char *Labels = readIdx(LabelsPath, LabelDims, &LabelRank);
  if (ImageRank != 3 || ImageDims[1] * ImageDims[2] != PIXELS)
    fail("expected images of 28x28 pixels", ImagesPath);
  if (LabelRank != 1 || LabelDims[0] != ImageDims[0])
    fail("expected one label per image", LabelsPath);
  long N = ImageDims[0];

  /* The train block's scale, 1/255, rounded to float as the runtime does. */
  const float Scale = (float)(1.0 / 255.0);
  static float X[BATCH * PIXELS], Probs[BATCH * CLASSES];
  long Correct = 0;
  if (Show > 0)
    printf("image  prediction   probability  label\n");
  for (long Start = 0; Start < N; Start += BATCH) {
    /* A short last batch repeats its last image; only real rows count. */
    long Rows = N - Start < BATCH ? N - Start : BATCH;
    for (long R = 0; R < BATCH; ++R) {
      const unsigned char *Src =
          Images + (Start + (R < Rows ? R : Rows - 1)) * PIXELS;
      for (long P = 0; P < PIXELS; ++P)
        X[R * PIXELS + P] = (float)Src[P] * Scale;
    }
    if (predict(X, Probs) != 0) {
      fprintf(stderr, "classify: the model is busy\n");
      return 1;
    }
    for (long R = 0; R < Rows; ++R) {
      long Image = Start + R, Best = 0;
      const float *Row = Probs + R * CLASSES;
      for (long C = 1; C < CLASSES; ++C)
        if (Row[C] > Row[Best])
          Best = C;
      Correct += Best == Labels[Image];
      if (Image < Show)
        printf("%5ld  %-11s  %11.3f  %s\n", Image, ClassNames[Best],
               (double)Row[Best], ClassNames[Labels[Image] % 10]);
      if (Image < Outputs) {
        printf("output %ld:", Image);
        for (long C = 0; C < CLASSES; ++C)
          printf(" %.9g", (double)Row[C]);
        printf("\n");
      }
    }
  }
  printf("accuracy %.2f %% (%ld of %ld test images)\n",
         N ? 100.0 * Correct / N : 0.0, Correct, N);
  free(Images);
  free(Labels);
  return 0;
}
