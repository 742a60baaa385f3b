//===- DropoutMask.h - The counter-based random numbers of dropout --------===//
//
// Element I of a dropout mask is a pure function of (key, stream, I): the
// runtime sets one key per training step (from the run's seed and the
// step's number), each dropout call site has its own stream. Any thread
// may compute any element, so masks do not depend on the thread count, and
// a resumed run draws the masks the uninterrupted run drew. The reference
// evaluator calls these functions; the code generator emits the same
// integer arithmetic in LLVM IR (lib/CodeGen/KernelDispatch.cpp), and a
// differential test holds the two together.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_GRAPH_DROPOUTMASK_H
#define NNC_GRAPH_DROPOUTMASK_H

#include <cmath>
#include <cstdint>

namespace nnc::dropout {

/// Multipliers of the hash (odd, with well-spread bits).
constexpr uint32_t IndexMul = 0x9e3779b1u, StreamMul = 0x85ebca77u;
constexpr uint32_t MixMul1 = 0x7feb352du, MixMul2 = 0x846ca68bu;

/// 32 well-mixed bits for element `I` of stream `Stream` under `Key`: the
/// counter, offset by key and stream, then an xorshift-multiply avalanche.
inline uint32_t hash(uint32_t Key, uint32_t Stream, uint32_t I) {
  uint32_t H = I * IndexMul + (Key ^ (Stream * StreamMul));
  H ^= H >> 16;
  H *= MixMul1;
  H ^= H >> 15;
  H *= MixMul2;
  H ^= H >> 16;
  return H;
}

/// An element is dropped when the hash's top 24 bits, read as a fraction
/// of 2^24, are below `Rate`: it is kept with probability 1 - Rate (to
/// 2^-24).
inline uint32_t threshold(double Rate) {
  return uint32_t(std::lround(Rate * 16777216.0));
}

/// The value of a kept element: inverted dropout scales by 1 / (1 - rate),
/// so the expected value of x * mask is x.
inline float keptValue(double Rate) { return float(1.0 / (1.0 - Rate)); }

/// Element `I` of the mask: 0 or keptValue(Rate).
inline float maskValue(uint32_t Key, uint32_t Stream, uint32_t I, double Rate) {
  return (hash(Key, Stream, I) >> 8) >= threshold(Rate) ? keptValue(Rate)
                                                        : 0.0f;
}

} // namespace nnc::dropout

#endif
