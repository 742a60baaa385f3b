//===- WeightTiles.h - Units' weights as a grid of tiles --------*- C++ -*-===//
//
// `show --images NAME` (docs/runtime.md, "`show --images`") draws the
// incoming weights of every unit a param feeds as one greyscale tile each:
// a column of an `x @ W` weight reshaped to the image it multiplies, or one
// filter of a conv kernel on one input channel. This header is the pure
// part — which values form which tile, how big each tile is drawn, and the
// pixels — so that it is tested apart from the PNG file (Png.h) and the
// command (ShowImages.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_WEIGHTTILES_H
#define NNC_RUNTIME_WEIGHTTILES_H

#include "nnc/Runtime/ModelABI.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace nnc::rt {

/// An 8-bit greyscale picture (0 black, 255 white), rows top to bottom.
struct GreyImage {
  int64_t Width = 0, Height = 0;
  std::vector<uint8_t> Pixels; ///< Width * Height values, row-major.

  uint8_t at(int64_t X, int64_t Y) const {
    return Pixels[size_t(Y * Width + X)];
  }
};

/// Which of a param's values form which tile, and how the tiles are drawn.
struct TileLayout {
  int64_t Count = 0;             ///< The number of tiles (units).
  int64_t Height = 0, Width = 0; ///< A tile's weights, Height * Width.
  /// Tile t's pixel p (row-major) is element t * TileStep + p * PixelStep
  /// of the param: a column of [in, out] has TileStep 1 and PixelStep out.
  int64_t TileStep = 0, PixelStep = 1;
  /// Tile t sits at grid row t / GridCols, column t % GridCols.
  int64_t GridRows = 0, GridCols = 0;
  /// Each weight is drawn as a ZoomX × ZoomY block of pixels.
  int64_t ZoomX = 1, ZoomY = 1;
};

/// The pixels between tiles, and in the grid's unused cells.
constexpr int64_t TileGap = 1;
constexpr uint8_t GapGrey = 0;
/// A tile whose weights are all equal has no range to stretch: mid-grey.
constexpr uint8_t ConstantTileGrey = 128;

/// The [height, width] one unit's `Length` incoming weights of a matmul
/// weight are drawn as: the first of `ImageShapes` (the dims of one example
/// of the data, or of the model's input) that holds `Length` values, as
/// (Length / its last dim) × its last dim — planes stacked top to bottom;
/// else a square when `Length` is a perfect square; else one row.
std::vector<int64_t>
unitImageShape(int64_t Length,
               const std::vector<std::vector<int64_t>> &ImageShapes);

/// The layout of a param of shape `Dims` that feeds units as `Use` (not
/// NNC_USE_NONE; rank 2 for the matmul uses, ≥ 3 for a kernel):
/// - NNC_USE_MATMUL_COLUMNS, [in, out]: `out` tiles, column j reshaped to
///   `UnitShape` (whose product is `in`);
/// - NNC_USE_MATMUL_ROWS, [out, in]: `out` tiles, row i reshaped alike;
/// - NNC_USE_CONV_KERNEL, [K, C, ...]: K·C tiles, filter k on channel c
///   drawn as its trailing dims ((R·S / S) × S; 1 × R for conv1d), laid out
///   as K grid rows of C columns when C > 1.
/// Small tiles are scaled up, nearest-neighbour, by the smallest whole
/// factor that makes their longer side at least 24 pixels, and a side still
/// under 8 pixels (a one-row tile) is stretched to at least 8. Otherwise
/// the grid is about square in pixels: the fewest columns that make it at
/// least as wide as high (⌈√n⌉ for square tiles). `MaxUnits` > 0 keeps only
/// the first MaxUnits units (columns, rows, or filters with all their
/// channels), laid out as if there were no others; 0 keeps every unit.
TileLayout tileLayout(const std::vector<int64_t> &Dims, nnc_param_use Use,
                      const std::vector<int64_t> &UnitShape,
                      int64_t MaxUnits = 0);

/// The picture's size in pixels: the tiles at their zoom with TileGap
/// pixels between neighbours and no outer border.
int64_t imageWidth(const TileLayout &L);
int64_t imageHeight(const TileLayout &L);

/// Draws the tiles of `Values` (the param's elements, row-major; all
/// finite). Each tile is normalised on its own: its smallest weight is
/// black (0), its largest white (255), linearly between (rounded to the
/// nearest grey); a constant tile is ConstantTileGrey. Gaps and unused
/// cells are GapGrey.
GreyImage renderTiles(const float *Values, const TileLayout &L);

} // namespace nnc::rt

#endif
