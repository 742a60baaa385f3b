//===- Ticks.h - Axis ranges with round tick values ------------*- C++ -*-===//
//
// The axes of `EXE plot` carry ticks at round values, as a person would
// label them by hand: multiples of a step of 1, 2, 2.5 or 5 times a power of
// ten, with the axis widened to the ticks just outside the data so that every
// curve starts and ends inside a labelled interval.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_TICKS_H
#define NNC_RUNTIME_TICKS_H

#include <string>
#include <vector>

namespace nnc::rt {

/// A linear axis: the range it shows and its ticks, lowest first.
struct Axis {
  double Lo = 0, Hi = 1;
  double Step = 1; ///< Between consecutive ticks.
  std::vector<double> Ticks;
  std::vector<std::string> Labels; ///< One per tick.

  /// Where `V` falls between Lo (0) and Hi (1); 0.5 for an empty range.
  double fraction(double V) const;
};

/// The axis of values in [Lo, Hi] (finite, Lo <= Hi) with at most
/// `MaxTicks` (>= 3) ticks: the smallest step m * 10^k, m in {1, 2, 2.5, 5},
/// for which the multiples of the step from the one at or below Lo to the
/// one at or above Hi are at most MaxTicks; the axis spans those (a value
/// within a billionth of a step beyond a tick counts as on it, so that
/// 0.3 / 0.1 = 2.9999999999999996 adds no tick, but the axis still takes
/// it in).
/// `Integer` axes (epochs) have integer steps. An empty range (Lo == Hi) is
/// widened by a tenth of |Lo| on each side (by 1 when Lo is 0 or the axis
/// is an integer one). Labels have as many decimals as the step needs;
/// values below 1e-3 or from 1e6 up are written as 2.5e-4.
Axis niceAxis(double Lo, double Hi, int MaxTicks, bool Integer);

} // namespace nnc::rt

#endif
