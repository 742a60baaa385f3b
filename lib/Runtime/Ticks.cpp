//===- Ticks.cpp - Axis ranges with round tick values ---------------------===//
//
// The step search of Heckbert's "nice numbers" (Graphics Gems, 1990) with
// matplotlib's mantissas {1, 2, 2.5, 5}:
//   1. widen an empty (or numerically empty) range around its middle;
//   2. from a step well below range / MaxTicks, try the mantissas of each
//      power of ten in turn and keep the first step whose multiples around
//      the range number at most MaxTicks;
//   3. ticks are integer multiples of the step, so that they are as round
//      as floating point allows, and labels are printed with exactly the
//      decimals the step has.
// Any finite input gives a finite axis: ranges whose width overflows fall
// back to two ticks at the ends.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Ticks.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace nnc::rt {

double Axis::fraction(double V) const {
  if (!(Hi > Lo))
    return 0.5;
  if (double Span = Hi - Lo; std::isfinite(Span))
    return (V - Lo) / Span;
  // Halves, so that neither difference overflows on a range near ±DBL_MAX.
  return (V / 2 - Lo / 2) / (Hi / 2 - Lo / 2);
}

namespace {

/// `V` in C's %.*e, with the exponent shortened: 2.5e-4, 1.0e6.
std::string scientific(double V, int Digits) {
  char Buf[64];
  std::snprintf(Buf, sizeof(Buf), "%.*e", Digits, V);
  std::string S = Buf;
  size_t E = S.find('e');
  if (E == std::string::npos)
    return S;
  std::string Mantissa = S.substr(0, E);
  std::string Exp = S.substr(E + 1);
  bool Negative = !Exp.empty() && Exp[0] == '-';
  size_t Digit = Exp.find_first_not_of("+-0");
  return Mantissa + "e" + (Negative ? "-" : "") +
         (Digit == std::string::npos ? "0" : Exp.substr(Digit));
}

/// The labels of ticks spaced by Mantissa * 10^Power.
void label(Axis &A, double Mantissa, int Power) {
  bool Half = Mantissa == 2.5;
  double Largest = std::max(std::fabs(A.Lo), std::fabs(A.Hi));
  bool Sci = Largest >= 1e6 || (Largest > 0 && Largest < 1e-3);
  char Buf[64];
  for (double T : A.Ticks) {
    if (Sci && T == 0) {
      A.Labels.push_back("0");
      continue;
    }
    if (Sci) {
      // Significant digits from the largest tick's leading digit down to
      // the step's.
      int Lead = int(std::floor(std::log10(Largest)));
      A.Labels.push_back(
          scientific(T, std::max(0, Lead - Power + (Half ? 1 : 0))));
      continue;
    }
    int Decimals = std::max(0, -Power + (Half ? 1 : 0));
    std::snprintf(Buf, sizeof(Buf), "%.*f", Decimals, T);
    A.Labels.push_back(Buf);
  }
}

/// The two ends as ticks, for ranges too wide for arithmetic on them.
Axis plainAxis(double Lo, double Hi) {
  Axis A;
  A.Lo = Lo;
  A.Hi = Hi;
  A.Step = Hi / 2 - Lo / 2;
  A.Ticks = Lo == Hi ? std::vector<double>{Lo} : std::vector<double>{Lo, Hi};
  char Buf[64];
  for (double T : A.Ticks) {
    std::snprintf(Buf, sizeof(Buf), "%.6g", T);
    A.Labels.push_back(Buf);
  }
  return A;
}

} // namespace

Axis niceAxis(double Lo, double Hi, int MaxTicks, bool Integer) {
  MaxTicks = std::clamp(MaxTicks, 3, 100);
  double Largest = std::max(std::fabs(Lo), std::fabs(Hi));
  // 1. A range narrower than the doubles around it can resolve is a
  // constant: widen it so that the curve is drawn across the middle.
  if (Hi - Lo <= Largest * 1e-12) {
    // Hi - Lo is tiny here, so this is exact where Lo / 2 + Hi / 2 would
    // round subnormal halves.
    double Mid = Lo + (Hi - Lo) / 2;
    double D = std::fabs(Mid) / 10;
    if (!(D > 0)) // 0, or so close that a tenth of it underflows
      D = 1;
    if (Integer)
      D = std::max(D, 1.0);
    double WideLo = Mid - D, WideHi = Mid + D;
    if (!std::isfinite(WideLo) || !std::isfinite(WideHi))
      return plainAxis(Lo, Hi);
    Lo = WideLo;
    Hi = WideHi;
  }
  double Span = Hi - Lo;
  if (!std::isfinite(Span))
    return plainAxis(Lo, Hi);
  // 2. Starting two powers of ten below Span / MaxTicks, the step reaches
  // Span (at most 3 ticks) within four powers of ten, for MaxTicks <= 100.
  double Magnitude = std::floor(std::log10(Span / MaxTicks));
  if (!std::isfinite(Magnitude))
    return plainAxis(Lo, Hi);
  int Start = int(Magnitude) - 1;
  for (int Power = Start; Power <= Start + 4; ++Power) {
    double Scale = std::pow(10.0, Power);
    for (double Mantissa : {1.0, 2.0, 2.5, 5.0}) {
      double Step = Mantissa * Scale;
      if (Integer && (Step < 1 || (Mantissa == 2.5 && Power < 1)))
        continue;
      // The tolerance keeps 0.3 / 0.1 = 2.9999999999999996 from adding a
      // tick below a range that starts on a tick.
      double First = std::floor(Lo / Step + 1e-9);
      double Last = std::ceil(Hi / Step - 1e-9);
      if (!std::isfinite(First) || !std::isfinite(Last) ||
          Last - First + 1 > MaxTicks)
        continue;
      // 3. Ticks as multiples of the step; + 0.0 turns -0 into 0. The
      // count is an int (at most MaxTicks): First + 1 may equal First.
      Axis A;
      A.Step = Step;
      for (int N = 0; N <= int(Last - First); ++N)
        A.Ticks.push_back((First + N) * Step + 0.0);
      // The tolerance may leave a value a billionth of a step outside the
      // outer ticks; the axis still takes it in, so that no point is drawn
      // outside its frame.
      A.Lo = std::min(A.Ticks.front(), Lo);
      A.Hi = std::max(A.Ticks.back(), Hi);
      if (!std::isfinite(A.Lo) || !std::isfinite(A.Hi))
        return plainAxis(Lo, Hi);
      label(A, Mantissa, Power);
      return A;
    }
  }
  return plainAxis(Lo, Hi);
}

} // namespace nnc::rt
