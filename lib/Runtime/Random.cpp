//===- Random.cpp - xoshiro256**, splitmix64, Box–Muller ------------------===//
//
// The generators behind parameter initialization, shuffling, the validation
// split and augmentation. Every
// operation is integer arithmetic or one libm call on doubles, so a seed
// fixes every bit of the result.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Random.h"

#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>

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

uint64_t hashBytes(const void *Data, size_t Bytes, uint64_t Seed) {
  constexpr uint64_t K1 = 0x87c37b91114253d5ULL, K2 = 0x4cf5ad432745937fULL;
  const auto *P = static_cast<const unsigned char *>(Data);
  uint64_t H = Seed ^ (uint64_t(Bytes) * 0x9e3779b97f4a7c15ULL);
  size_t I = 0;
  for (; I + 8 <= Bytes; I += 8) {
    uint64_t W;
    std::memcpy(&W, P + I, 8);
    H = std::rotl(H ^ (W * K1), 31) * K2;
  }
  uint64_t Tail = 0;
  if (Bytes > I)
    std::memcpy(&Tail, P + I, Bytes - I);
  H = std::rotl(H ^ (Tail * K1), 31) * K2;
  return splitMix64(H);
}

uint64_t counterKey(uint64_t Seed, uint64_t A, uint64_t B) {
  uint64_t State = Seed;
  uint64_t Key = splitMix64(State);
  State = Key ^ A;
  Key = splitMix64(State);
  State = Key ^ B;
  return splitMix64(State);
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

static std::string hexWord(uint64_t W) {
  static const char Digits[] = "0123456789abcdef";
  std::string Out(16, '0');
  for (int I = 15; I >= 0; --I, W >>= 4)
    Out[size_t(I)] = Digits[W & 15];
  return Out;
}

/// Parses exactly 16 lowercase hex digits.
static std::optional<uint64_t> parseHexWord(std::string_view S) {
  if (S.size() != 16)
    return std::nullopt;
  uint64_t W = 0;
  for (char C : S) {
    int D = C >= '0' && C <= '9'   ? C - '0'
            : C >= 'a' && C <= 'f' ? C - 'a' + 10
                                   : -1;
    if (D < 0)
      return std::nullopt;
    W = W << 4 | uint64_t(D);
  }
  return W;
}

std::string Rng::saveState() const {
  std::string Out;
  for (uint64_t Word : S)
    Out += hexWord(Word) + " ";
  if (!HasSpare)
    return Out + "-";
  uint64_t Bits;
  std::memcpy(&Bits, &Spare, 8);
  return Out + hexWord(Bits);
}

std::optional<Rng> Rng::fromState(std::string_view Text) {
  // Five space-separated fields: S[0..3], then the spare or "-".
  Rng R;
  for (int I = 0; I < 5; ++I) {
    size_t End = I < 4 ? Text.find(' ') : Text.size();
    if (End == std::string_view::npos)
      return std::nullopt;
    std::string_view Field = Text.substr(0, End);
    Text.remove_prefix(I < 4 ? End + 1 : End);
    if (I == 4 && Field == "-")
      break;
    std::optional<uint64_t> W = parseHexWord(Field);
    if (!W)
      return std::nullopt;
    if (I < 4) {
      R.S[I] = *W;
      continue;
    }
    R.HasSpare = true;
    std::memcpy(&R.Spare, &*W, 8);
  }
  // xoshiro's all-zero state is a fixed point that only ever yields 0.
  if (!(R.S[0] | R.S[1] | R.S[2] | R.S[3]))
    return std::nullopt;
  return R;
}

} // namespace nnc::rt
