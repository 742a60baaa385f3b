//===- Random.cpp - xoshiro256**, splitmix64, Box–Muller ------------------===//
//
// The generators behind parameter initialization and shuffling. Every
// operation is integer arithmetic or one libm call on doubles, so a seed
// fixes every bit of the result.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Random.h"

#include <cassert>
#include <cmath>

namespace nnc::rt {

uint64_t splitMix64(uint64_t &State) {
  uint64_t Z = (State += 0x9e3779b97f4a7c15ULL);
  Z = (Z ^ (Z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  Z = (Z ^ (Z >> 27)) * 0x94d049bb133111ebULL;
  return Z ^ (Z >> 31);
}

uint64_t hashName(std::string_view S) {
  uint64_t H = 0xcbf29ce484222325ULL;
  for (unsigned char C : S) {
    H ^= C;
    H *= 0x100000001b3ULL;
  }
  return H;
}

Rng::Rng(uint64_t Seed) {
  uint64_t State = Seed;
  for (uint64_t &Word : S)
    Word = splitMix64(State);
}

static uint64_t rotl(uint64_t X, int K) { return (X << K) | (X >> (64 - K)); }

uint64_t Rng::next() {
  uint64_t Result = rotl(S[1] * 5, 7) * 9;
  uint64_t T = S[1] << 17;
  S[2] ^= S[0];
  S[3] ^= S[1];
  S[1] ^= S[2];
  S[0] ^= S[3];
  S[2] ^= T;
  S[3] = rotl(S[3], 45);
  return Result;
}

double Rng::uniform() { return double(next() >> 11) * 0x1.0p-53; }

double Rng::normal() {
  if (HasSpare) {
    HasSpare = false;
    return Spare;
  }
  // 1 - uniform() lies in (0, 1], so the logarithm is finite.
  double U1 = 1.0 - uniform();
  double U2 = uniform();
  double R = std::sqrt(-2.0 * std::log(U1));
  double Theta = 2.0 * M_PI * U2;
  Spare = R * std::sin(Theta);
  HasSpare = true;
  return R * std::cos(Theta);
}

uint64_t Rng::below(uint64_t N) {
  assert(N > 0 && "below(0)");
  // Lemire's multiply-and-reject: unbiased without a division per draw.
  unsigned __int128 M = (unsigned __int128)next() * N;
  uint64_t Low = uint64_t(M);
  if (Low < N) {
    uint64_t Threshold = -N % N;
    while (Low < Threshold) {
      M = (unsigned __int128)next() * N;
      Low = uint64_t(M);
    }
  }
  return uint64_t(M >> 64);
}

} // namespace nnc::rt
