//===- CurvePlot.cpp - Training curves of a log as an SVG picture ---------===//
//
// The picture, top to bottom: a title; one panel per quantity (CurvePlot.h),
// each a framed plot area with grid lines at its ticks, y tick labels and
// the quantity's name on the left and a legend of its columns on the
// right; the epoch tick labels and the axis name under the last panel,
// since all panels share the epoch axis. Sizes are SVG user units (CSS
// pixels), fixed, so that a picture looks the same in every viewer; the
// height grows with the number of panels.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/CurvePlot.h"
#include "nnc/Runtime/Ticks.h"
#include "nnc/Runtime/Xml.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <limits>
#include <unordered_map>

namespace nnc::rt {

std::vector<Panel> curvePanels(const LogTable &T) {
  std::vector<Panel> Panels;
  // Panel index by label (a map, so that a table of many columns is not
  // quadratic); the labels are views into T's names.
  std::unordered_map<std::string_view, size_t> PanelOf;
  Panel Rate{"learning rate", {}};
  for (size_t I = 0; I < T.Columns.size(); ++I) {
    std::string_view Name = T.Columns[I].Name;
    if (Name == "epoch" || Name == "seconds")
      continue;
    if (Name == "lr") {
      Rate.Curves.push_back({I, CurveSet::Rate});
      continue;
    }
    CurveSet Set = CurveSet::Train;
    std::string_view Base = Name;
    for (auto [Prefix, S] :
         {std::pair{std::string_view("val_"), CurveSet::Validation},
          std::pair{std::string_view("test_"), CurveSet::Test}})
      if (Name.size() > Prefix.size() &&
          Name.substr(0, Prefix.size()) == Prefix) {
        Set = S;
        Base = Name.substr(Prefix.size());
      }
    auto [It, New] = PanelOf.try_emplace(Base, Panels.size());
    if (New)
      Panels.push_back(Panel{std::string(Base), {}});
    Panels[It->second].Curves.push_back({I, Set});
  }
  for (Panel &P : Panels)
    std::stable_sort(
        P.Curves.begin(), P.Curves.end(),
        [](const Curve &A, const Curve &B) { return int(A.Set) < int(B.Set); });
  std::stable_partition(Panels.begin(), Panels.end(),
                        [](const Panel &P) { return P.Label == "loss"; });
  if (!Rate.Curves.empty())
    Panels.push_back(std::move(Rate));
  return Panels;
}

namespace {

// The layout, in CSS pixels.
constexpr double Width = 760;
constexpr double Left = 86;       ///< Room for the y labels.
constexpr double PlotWidth = 490; ///< The legend takes the rest.
constexpr double TitleBand = 50;
constexpr double PanelHeight = 180;
constexpr double RatePanelHeight = 120; ///< The rate needs less detail.
/// Data is drawn this far inside the frame, so that points on the first
/// or last tick are not hidden by it.
constexpr double Inset = 6;
constexpr double PanelGap = 28;
constexpr double BottomBand = 58; ///< Epoch tick labels and axis name.
constexpr double LegendX = Left + PlotWidth + 20;
/// Logs with at most this many rows get a circle on every point.
constexpr size_t MarkerRows = 40;
/// The radius of a point's circle.
constexpr double Dot = 3.2;
/// Legend text longer than this many bytes is shortened.
constexpr size_t LegendChars = 22;

struct Style {
  const char *Colour;
  const char *Dash; ///< stroke-dasharray, or null for a solid line.
};

Style styleOf(CurveSet S) {
  switch (S) {
  case CurveSet::Train:
    return {"#1f77b4", nullptr};
  case CurveSet::Validation:
    return {"#ff7f0e", "7 4"};
  case CurveSet::Test:
    return {"#2ca02c", "2 3"};
  case CurveSet::Rate:
    return {"#9467bd", nullptr};
  }
  return {"#000000", nullptr};
}

/// printf onto the end of `Out`.
[[gnu::format(printf, 2, 3)]] void appendf(std::string &Out, const char *Fmt,
                                           ...) {
  char Buf[512];
  va_list Args;
  va_start(Args, Fmt);
  int N = std::vsnprintf(Buf, sizeof(Buf), Fmt, Args);
  va_end(Args);
  if (N < 0)
    return;
  if (size_t(N) < sizeof(Buf)) {
    Out.append(Buf, size_t(N));
    return;
  }
  std::string Big(size_t(N) + 1, '\0');
  va_start(Args, Fmt);
  std::vsnprintf(Big.data(), Big.size(), Fmt, Args);
  va_end(Args);
  Out.append(Big.data(), size_t(N));
}

/// A legend entry's text: the column name, cut at a character boundary.
std::string legendText(std::string_view Name) {
  if (Name.size() <= LegendChars)
    return xmlEscape(Name);
  size_t Cut = LegendChars - 1;
  while (Cut > 0 && (static_cast<unsigned char>(Name[Cut]) & 0xC0) == 0x80)
    --Cut;
  return xmlEscape(Name.substr(0, Cut)) + "\xE2\x80\xA6"; // U+2026
}

/// Value `Row` of `C`; NaN past its end (a table built by hand may be
/// ragged).
double valueAt(const LogColumn &C, size_t Row) {
  return Row < C.Values.size() ? C.Values[Row]
                               : std::numeric_limits<double>::quiet_NaN();
}

/// The points of one polyline, thinned: of consecutive points in one pixel
/// column only the first, the lowest, the highest and the last are kept, in
/// their order. The line through them covers the same pixels, and a log of
/// a million epochs is a few thousand points instead of megabytes of SVG.
class Polyline {
public:
  void add(double X, double Y) {
    Point P{X, Y, Added++};
    if (Open && std::floor(X) == Column) {
      Low = Y < Low.Y ? P : Low;
      High = Y > High.Y ? P : High;
      Last = P;
      return;
    }
    flush();
    Open = true;
    Column = std::floor(X);
    First = Low = High = Last = P;
  }
  /// How many points were added (before thinning).
  size_t added() const { return Added; }
  /// The kept points, as SVG's "x,y x,y ...".
  const std::string &points() {
    flush();
    return Text;
  }

private:
  struct Point {
    double X, Y;
    size_t Index;
  };
  void flush() {
    if (!Open)
      return;
    Open = false;
    Point Kept[] = {First, Low, High, Last};
    std::sort(std::begin(Kept), std::end(Kept),
              [](const Point &A, const Point &B) { return A.Index < B.Index; });
    for (size_t K = 0; K < 4; ++K)
      if (K == 0 || Kept[K].Index != Kept[K - 1].Index)
        appendf(Text, "%s%.1f,%.1f", Text.empty() ? "" : " ", Kept[K].X,
                Kept[K].Y);
  }

  std::string Text;
  size_t Added = 0;
  bool Open = false; ///< Whether First..Last hold a column not yet written.
  double Column = 0;
  Point First{}, Low{}, High{}, Last{};
};

/// One panel's place on the picture and its y axis.
struct Frame {
  double Top, Height;
  Axis Y;

  double bottom() const { return Top + Height; }
  /// The picture's y of the value `V`.
  double py(double V) const {
    return Top + Inset + (1 - Y.fraction(V)) * (Height - 2 * Inset);
  }
};

/// The height of panel `P`.
double heightOf(const Panel &P) {
  bool Rate = !P.Curves.empty() && P.Curves.front().Set == CurveSet::Rate;
  return Rate ? RatePanelHeight : PanelHeight;
}

/// Draws a table into one SVG string.
class Drawing {
public:
  explicit Drawing(const LogTable &T) : T(T), Epoch(T.find("epoch")) {}

  std::string render(std::string_view Title);

private:
  /// The x value of `Row`: its epoch, or its 1-based number in a table
  /// without an epoch column.
  double xOf(size_t Row) const {
    return Epoch ? valueAt(*Epoch, Row) : double(Row + 1);
  }
  /// The picture's x of the epoch `V`.
  double px(double V) const {
    return Left + Inset + X.fraction(V) * (PlotWidth - 2 * Inset);
  }
  void panel(const Panel &P, double Top, bool Last);
  void grid(const Frame &F);
  void curve(const Curve &C, const Frame &F);
  void legend(const Panel &P, const Frame &F);
  void epochAxis(double Bottom);

  const LogTable &T;
  const LogColumn *Epoch;
  Axis X;
  /// Short logs get a circle on every point.
  bool Markers = false;
  std::string Out;
};

std::string Drawing::render(std::string_view Title) {
  double Lo = std::numeric_limits<double>::infinity(), Hi = -Lo;
  bool Integer = true;
  for (size_t R = 0; R < T.numRows(); ++R) {
    double V = xOf(R);
    if (!std::isfinite(V))
      continue;
    Lo = std::min(Lo, V);
    Hi = std::max(Hi, V);
    Integer = Integer && V == std::floor(V);
  }
  if (Lo > Hi)
    Lo = Hi = 1;
  X = niceAxis(Lo, Hi, 11, Integer);
  Markers = T.numRows() <= MarkerRows;

  std::vector<Panel> Panels = curvePanels(T);
  double Height = TitleBand + BottomBand;
  for (const Panel &P : Panels)
    Height += heightOf(P) + PanelGap;
  Height += Panels.empty() ? PanelHeight : -PanelGap;
  appendf(Out,
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
          "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
          "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" "
          "font-size=\"12\">\n",
          Width, Height, Width, Height);
  std::string Heading = xmlEscape(Title);
  appendf(Out, "<title>%s</title>\n", Heading.c_str());
  appendf(Out, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n",
          Width, Height);
  appendf(Out,
          "<text x=\"%.1f\" y=\"30\" text-anchor=\"middle\" font-size=\"16\" "
          "font-weight=\"bold\" fill=\"#222222\">%s</text>\n",
          Left + PlotWidth / 2, Heading.c_str());
  if (Panels.empty()) {
    // Nothing but epochs (and seconds): an empty frame that says so.
    panel(Panel{"", {}}, TitleBand, true);
    appendf(Out,
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
            "fill=\"#666666\">no curves: the log has no column besides "
            "epoch and seconds</text>\n",
            Left + PlotWidth / 2, TitleBand + PanelHeight / 2);
  }
  double Top = TitleBand;
  for (size_t I = 0; I < Panels.size(); ++I) {
    panel(Panels[I], Top, I + 1 == Panels.size());
    Top += heightOf(Panels[I]) + PanelGap;
  }
  Out += "</svg>\n";
  return std::move(Out);
}

void Drawing::panel(const Panel &P, double Top, bool Last) {
  double Lo = std::numeric_limits<double>::infinity(), Hi = -Lo;
  for (const Curve &C : P.Curves)
    for (double V : T.Columns[C.Column].Values)
      if (std::isfinite(V)) {
        Lo = std::min(Lo, V);
        Hi = std::max(Hi, V);
      }
  bool Empty = Lo > Hi;
  Frame F{Top, heightOf(P),
          Empty ? niceAxis(0, 1, 6, false) : niceAxis(Lo, Hi, 6, false)};
  std::string Label = xmlEscape(P.Label);
  appendf(Out, "<g class=\"panel\" data-panel=\"%s\">\n", Label.c_str());
  grid(F);
  appendf(Out,
          "<text transform=\"translate(18 %.1f) rotate(-90)\" "
          "text-anchor=\"middle\" font-size=\"13\" fill=\"#222222\">%s"
          "</text>\n",
          Top + F.Height / 2, Label.c_str());
  if (Empty && !P.Curves.empty())
    appendf(Out,
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
            "fill=\"#666666\">no finite values</text>\n",
            Left + PlotWidth / 2, Top + F.Height / 2);
  for (const Curve &C : P.Curves)
    curve(C, F);
  legend(P, F);
  if (Last)
    epochAxis(F.bottom());
  Out += "</g>\n";
}

void Drawing::grid(const Frame &F) {
  // Grid lines at the ticks, tick marks outside the frame, y labels beside
  // them; the x labels are the last panel's (epochAxis).
  Out += "<g stroke=\"#e4e4e4\" stroke-width=\"1\">\n";
  for (double V : X.Ticks)
    appendf(Out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
            px(V), F.Top, px(V), F.bottom());
  for (double V : F.Y.Ticks)
    appendf(Out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
            Left, F.py(V), Left + PlotWidth, F.py(V));
  Out += "</g>\n<g stroke=\"#444444\" stroke-width=\"1\">\n";
  for (double V : X.Ticks)
    appendf(Out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
            px(V), F.bottom(), px(V), F.bottom() + 5);
  for (double V : F.Y.Ticks)
    appendf(Out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
            Left - 5, F.py(V), Left, F.py(V));
  Out += "</g>\n";
  appendf(Out,
          "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
          "fill=\"none\" stroke=\"#444444\" stroke-width=\"1\"/>\n",
          Left, F.Top, PlotWidth, F.Height);
  Out += "<g text-anchor=\"end\" font-size=\"11\" fill=\"#333333\">\n";
  for (size_t I = 0; I < F.Y.Ticks.size(); ++I)
    appendf(Out, "<text x=\"%.1f\" y=\"%.1f\" dy=\"0.32em\">%s</text>\n",
            Left - 8, F.py(F.Y.Ticks[I]), xmlEscape(F.Y.Labels[I]).c_str());
  Out += "</g>\n";
}

void Drawing::curve(const Curve &C, const Frame &F) {
  const LogColumn &Col = T.Columns[C.Column];
  Style S = styleOf(C.Set);
  std::string Series = xmlEscape(Col.Name);
  Polyline Run;
  std::string Circles;
  double LastX = 0, LastY = 0;
  auto Circle = [&](double Px, double Py) {
    appendf(Circles, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"/>\n", Px, Py,
            Dot);
  };
  // Ends a run of finite points: two or more make a polyline; a lone point
  // has no line through it, so it always gets a circle.
  auto EndRun = [&]() {
    if (Run.added() >= 2)
      appendf(Out,
              "<polyline class=\"curve\" data-series=\"%s\" fill=\"none\" "
              "stroke=\"%s\" stroke-width=\"2\" stroke-linejoin=\"round\"%s%s"
              "%s points=\"%s\"/>\n",
              Series.c_str(), S.Colour, S.Dash ? " stroke-dasharray=\"" : "",
              S.Dash ? S.Dash : "", S.Dash ? "\"" : "", Run.points().c_str());
    else if (Run.added() == 1 && !Markers)
      Circle(LastX, LastY);
    Run = Polyline();
  };
  for (size_t R = 0; R < T.numRows(); ++R) {
    double V = valueAt(Col, R), E = xOf(R);
    if (!std::isfinite(V) || !std::isfinite(E)) {
      EndRun();
      continue;
    }
    LastX = px(E);
    LastY = F.py(V);
    Run.add(LastX, LastY);
    if (Markers)
      Circle(LastX, LastY);
  }
  EndRun();
  if (!Circles.empty())
    appendf(Out,
            "<g class=\"points\" data-series=\"%s\" fill=\"%s\">\n%s</g>\n",
            Series.c_str(), S.Colour, Circles.c_str());
}

void Drawing::legend(const Panel &P, const Frame &F) {
  for (size_t I = 0; I < P.Curves.size(); ++I) {
    const Curve &C = P.Curves[I];
    Style S = styleOf(C.Set);
    double Py = F.Top + 14 + double(I) * 20;
    appendf(Out,
            "<g class=\"legend\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
            "y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s%s%s/>",
            LegendX, Py, LegendX + 28, Py, S.Colour,
            S.Dash ? " stroke-dasharray=\"" : "", S.Dash ? S.Dash : "",
            S.Dash ? "\"" : "");
    if (Markers)
      appendf(Out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\"/>",
              LegendX + 14, Py, Dot, S.Colour);
    appendf(Out,
            "<text x=\"%.1f\" y=\"%.1f\" dy=\"0.32em\" fill=\"#222222\">%s"
            "</text></g>\n",
            LegendX + 36, Py, legendText(T.Columns[C.Column].Name).c_str());
  }
}

void Drawing::epochAxis(double Bottom) {
  Out += "<g text-anchor=\"middle\" font-size=\"11\" fill=\"#333333\">\n";
  for (size_t I = 0; I < X.Ticks.size(); ++I)
    appendf(Out, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", px(X.Ticks[I]),
            Bottom + 19, xmlEscape(X.Labels[I]).c_str());
  Out += "</g>\n";
  appendf(Out,
          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
          "font-size=\"13\" fill=\"#222222\">epoch</text>\n",
          Left + PlotWidth / 2, Bottom + 42);
}

} // namespace

std::string curvesSvg(const LogTable &T, std::string_view Title) {
  return Drawing(T).render(Title);
}

} // namespace nnc::rt
