//===- WeightTiles.cpp - A param's units' weights as a grid of tiles ------===//
//
// The layout (which elements form a tile, the grid, the zoom) and the
// pixels of `show --images`; see WeightTiles.h and docs/runtime.md.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/WeightTiles.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace nnc::rt {
namespace {

/// Tiles smaller than this (on their longer side) are scaled up, so that
/// LeNet's 5×5 filters are not specks.
constexpr int64_t MinTileSide = 24;
/// No side of a drawn tile is thinner than this (one-row tiles).
constexpr int64_t MinTileThickness = 8;

int64_t ceilDiv(int64_t A, int64_t B) { return (A + B - 1) / B; }

/// The largest S with S·S ≤ N.
int64_t isqrt(int64_t N) {
  auto S = int64_t(std::sqrt(double(N)));
  while (S * S > N)
    --S;
  while ((S + 1) * (S + 1) <= N)
    ++S;
  return S;
}

} // namespace

std::vector<int64_t>
unitImageShape(int64_t Length,
               const std::vector<std::vector<int64_t>> &ImageShapes) {
  for (const std::vector<int64_t> &Shape : ImageShapes) {
    int64_t Numel = 1;
    for (int64_t D : Shape)
      Numel *= D;
    if (!Shape.empty() && Numel == Length && Shape.back() > 0)
      return {Length / Shape.back(), Shape.back()};
  }
  if (int64_t Side = isqrt(Length); Side * Side == Length)
    return {Side, Side};
  return {1, Length};
}

TileLayout tileLayout(const std::vector<int64_t> &Dims, nnc_param_use Use,
                      const std::vector<int64_t> &UnitShape, int64_t MaxUnits) {
  auto Kept = [&](int64_t Units) {
    return MaxUnits > 0 ? std::min(Units, MaxUnits) : Units;
  };
  TileLayout L;
  switch (Use) {
  case NNC_USE_MATMUL_COLUMNS:
  case NNC_USE_MATMUL_ROWS: {
    assert(Dims.size() == 2 && UnitShape.size() == 2 && "a matmul weight");
    bool Columns = Use == NNC_USE_MATMUL_COLUMNS;
    int64_t Units = Columns ? Dims[1] : Dims[0];
    int64_t Length = Columns ? Dims[0] : Dims[1];
    assert(UnitShape[0] * UnitShape[1] == Length && "a unit's weights");
    L.Count = Kept(Units);
    L.Height = UnitShape[0];
    L.Width = UnitShape[1];
    // Unit j's weights: W[:, j] (stride out) or W[j, :] (contiguous).
    L.TileStep = Columns ? 1 : Length;
    L.PixelStep = Columns ? Units : 1;
    break;
  }
  case NNC_USE_CONV_KERNEL: {
    assert(Dims.size() >= 3 && "a kernel [K, C, ...]");
    int64_t FilterNumel = 1;
    for (size_t I = 2; I < Dims.size(); ++I)
      FilterNumel *= Dims[I];
    L.Count = Kept(Dims[0]) * Dims[1];
    L.Width = Dims.back();
    L.Height = L.Width ? FilterNumel / L.Width : 0;
    L.TileStep = FilterNumel;
    L.PixelStep = 1;
    // Filters by channels, as the kernel is indexed, when there are
    // channels to tell apart.
    if (Dims[1] > 1) {
      L.GridRows = Kept(Dims[0]);
      L.GridCols = Dims[1];
    }
    break;
  }
  case NNC_USE_NONE:
    assert(false && "a param that feeds no unit has no tiles");
    break;
  }
  if (L.Height > 0 && L.Width > 0) {
    int64_t Zoom = ceilDiv(MinTileSide, std::max(L.Height, L.Width));
    L.ZoomX = std::max(Zoom, ceilDiv(MinTileThickness, L.Width));
    L.ZoomY = std::max(Zoom, ceilDiv(MinTileThickness, L.Height));
  }
  if (L.GridCols == 0 && L.Count > 0) {
    // The fewest columns that make the picture at least as wide as high:
    // C with C·C·(cell width) ≥ Count·(cell height), so ⌈√Count⌉ for
    // square tiles, and few columns of long one-row tiles.
    int64_t CellW = L.Width * L.ZoomX + TileGap;
    int64_t CellH = L.Height * L.ZoomY + TileGap;
    L.GridCols = std::max<int64_t>(isqrt(L.Count * CellH / CellW), 1);
    while (L.GridCols < L.Count &&
           L.GridCols * L.GridCols * CellW < L.Count * CellH)
      ++L.GridCols;
    L.GridCols = std::min(L.GridCols, L.Count);
    L.GridRows = ceilDiv(L.Count, L.GridCols);
  }
  return L;
}

int64_t imageWidth(const TileLayout &L) {
  return L.GridCols * L.Width * L.ZoomX +
         std::max<int64_t>(L.GridCols - 1, 0) * TileGap;
}

int64_t imageHeight(const TileLayout &L) {
  return L.GridRows * L.Height * L.ZoomY +
         std::max<int64_t>(L.GridRows - 1, 0) * TileGap;
}

GreyImage renderTiles(const float *Values, const TileLayout &L) {
  GreyImage Img;
  Img.Width = imageWidth(L);
  Img.Height = imageHeight(L);
  Img.Pixels.assign(size_t(Img.Width * Img.Height), GapGrey);
  int64_t TileW = L.Width * L.ZoomX, TileH = L.Height * L.ZoomY;
  int64_t Pixels = L.Height * L.Width;
  std::vector<uint8_t> Grey(static_cast<size_t>(Pixels));
  for (int64_t T = 0; T < L.Count; ++T) {
    const float *Tile = Values + T * L.TileStep;
    auto Weight = [&](int64_t P) { return double(Tile[P * L.PixelStep]); };
    double Lo = Weight(0), Hi = Weight(0);
    for (int64_t P = 1; P < Pixels; ++P) {
      Lo = std::min(Lo, Weight(P));
      Hi = std::max(Hi, Weight(P));
    }
    for (int64_t P = 0; P < Pixels; ++P)
      Grey[size_t(P)] =
          Hi > Lo ? uint8_t(std::lround((Weight(P) - Lo) / (Hi - Lo) * 255))
                  : ConstantTileGrey;
    // Copy the tile into its cell, each weight as a ZoomX × ZoomY block.
    int64_t X0 = (T % L.GridCols) * (TileW + TileGap);
    int64_t Y0 = (T / L.GridCols) * (TileH + TileGap);
    for (int64_t Y = 0; Y < TileH; ++Y) {
      uint8_t *Row = &Img.Pixels[size_t((Y0 + Y) * Img.Width + X0)];
      const uint8_t *Src = &Grey[size_t(Y / L.ZoomY * L.Width)];
      for (int64_t X = 0; X < TileW; ++X)
        Row[X] = Src[X / L.ZoomX];
    }
  }
  return Img;
}

} // namespace nnc::rt
