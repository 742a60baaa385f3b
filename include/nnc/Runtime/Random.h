//===- Random.h - The runtime's own deterministic PRNG ---------*- C++ -*-===//
//
// "The same seed gives the same bits" (docs/runtime.md, "Determinism") rules
// out the standard library's distributions, whose algorithms differ between
// implementations. This is xoshiro256** seeded through splitmix64, with uniform
// doubles from the top 53 bits, Box–Muller normals and Lemire's unbiased
// bounded integers: a few lines each, so every result is fixed by this file
// alone.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_RANDOM_H
#define NNC_RUNTIME_RANDOM_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nnc::rt {

/// One step of splitmix64: advances `State` and returns a well-mixed word.
uint64_t splitMix64(uint64_t &State);

/// FNV-1a hash of `S`; used to derive one independent stream per param name
/// so that adding a param does not change the others' initial values.
uint64_t hashName(std::string_view S);

/// A 64-bit hash of the `Bytes` bytes at `Data`, continuing from `Seed`.
/// It reads 8 bytes at a time, so a data set hashes in milliseconds (the
/// ranks of an MPI job compare their data by it, DataParallel.h); not
/// meant to resist collisions made on purpose.
uint64_t hashBytes(const void *Data, size_t Bytes, uint64_t Seed);

/// A key for the counter (`A`, `B`) under `Seed`: three rounds of
/// splitmix64, each mixing in one input. Counter-based draws (augmentation:
/// seed, epoch, position) need no generator state, so nothing about them
/// has to be checkpointed.
uint64_t counterKey(uint64_t Seed, uint64_t A, uint64_t B);

/// xoshiro256** generator.
class Rng {
public:
  /// Seeds the four state words from splitmix64(`Seed`).
  explicit Rng(uint64_t Seed);
  /// The next 64 random bits.
  uint64_t next();
  /// A double uniformly drawn from [0, 1) with 53 random bits.
  double uniform();
  /// A standard normal deviate (Box–Muller; the second value is kept).
  double normal();
  /// An integer uniformly drawn from [0, N); N must be positive.
  uint64_t below(uint64_t N);

  /// The complete generator state as text (four 16-digit hex words, then
  /// the pending normal deviate's bits or "-"), so that a checkpoint can
  /// continue the stream exactly where it stopped.
  std::string saveState() const;
  /// The generator `saveState` described; nullopt for malformed text.
  static std::optional<Rng> fromState(std::string_view Text);

private:
  Rng() = default;

  uint64_t S[4];
  bool HasSpare = false;
  double Spare = 0;
};

} // namespace nnc::rt

#endif
