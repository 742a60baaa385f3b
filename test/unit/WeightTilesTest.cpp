//===- WeightTilesTest.cpp - `show --images`: tiles, pixels, PNG ----------===//
//
// The pure part of `show --images` on known tensors: which weights form
// which tile, the grid, the zoom, per-tile normalisation and the gaps
// (WeightTiles.h); and the PNG writer read back through libpng (Png.h).
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/WeightTiles.h"
#include "nnc/Runtime/Png.h"

#include <gtest/gtest.h>
#include <png.h>

#include <cstring>

using namespace nnc::rt;

namespace {

using Shape = std::vector<int64_t>;

/// The picture as rows of numbers, for readable failures.
std::vector<std::vector<int>> rowsOf(const GreyImage &Img) {
  std::vector<std::vector<int>> Rows;
  for (int64_t Y = 0; Y < Img.Height; ++Y) {
    Rows.emplace_back();
    for (int64_t X = 0; X < Img.Width; ++X)
      Rows.back().push_back(Img.at(X, Y));
  }
  return Rows;
}

TEST(WeightTiles, UnitShapeComesFromTheFirstMatchingImageShape) {
  // An IDX image of 28 x 28 draws a 784-weight unit as the image.
  EXPECT_EQ(unitImageShape(784, {{28, 28}}), (Shape{28, 28}));
  // An input [B, 1, 28, 28]: planes stacked, the width kept.
  EXPECT_EQ(unitImageShape(784, {{1, 28, 28}}), (Shape{28, 28}));
  EXPECT_EQ(unitImageShape(24, {{2, 3, 4}}), (Shape{6, 4}));
  // Not a square: only the data knows 6 = 3 x 2.
  EXPECT_EQ(unitImageShape(6, {{3, 2}}), (Shape{3, 2}));
  // Shapes of another size are skipped; the first that fits wins.
  EXPECT_EQ(unitImageShape(6, {{28, 28}, {2, 3}, {3, 2}}), (Shape{2, 3}));
  // No shape fits: a square when there is one, else a row.
  EXPECT_EQ(unitImageShape(256, {{28, 28}}), (Shape{16, 16}));
  EXPECT_EQ(unitImageShape(9, {}), (Shape{3, 3}));
  EXPECT_EQ(unitImageShape(1, {}), (Shape{1, 1}));
  EXPECT_EQ(unitImageShape(6, {}), (Shape{1, 6}));
  EXPECT_EQ(unitImageShape(128, {}), (Shape{1, 128}));
}

TEST(WeightTiles, MatmulColumnsAreUnits) {
  // W : [784, 256] under 28 x 28 images: 256 tiles of 28 x 28 in a
  // 16 x 16 grid, drawn at their size.
  TileLayout L = tileLayout({784, 256}, NNC_USE_MATMUL_COLUMNS, {28, 28});
  EXPECT_EQ(L.Count, 256);
  EXPECT_EQ(L.Height, 28);
  EXPECT_EQ(L.Width, 28);
  EXPECT_EQ(L.TileStep, 1);
  EXPECT_EQ(L.PixelStep, 256);
  EXPECT_EQ(L.GridRows, 16);
  EXPECT_EQ(L.GridCols, 16);
  EXPECT_EQ(L.ZoomX, 1);
  EXPECT_EQ(L.ZoomY, 1);
  EXPECT_EQ(imageWidth(L), 16 * 28 + 15);
  EXPECT_EQ(imageHeight(L), 16 * 28 + 15);
}

TEST(WeightTiles, MatmulRowsAreUnits) {
  TileLayout L = tileLayout({10, 9}, NNC_USE_MATMUL_ROWS, {3, 3});
  EXPECT_EQ(L.Count, 10);
  EXPECT_EQ(L.TileStep, 9);
  EXPECT_EQ(L.PixelStep, 1);
  // Square tiles: ⌈√10⌉ = 4 columns, 3 rows (two cells unused).
  EXPECT_EQ(L.GridCols, 4);
  EXPECT_EQ(L.GridRows, 3);
  // 3 x 3 weights, each an 8 x 8 block: 24 pixels a side.
  EXPECT_EQ(L.ZoomX, 8);
  EXPECT_EQ(L.ZoomY, 8);
}

TEST(WeightTiles, ConvKernelIsFiltersByChannels) {
  // LeNet's second kernel [16, 6, 5, 5]: 16 rows (filters) of 6 (input
  // channels), 5 x 5 filters drawn 25 x 25.
  TileLayout L = tileLayout({16, 6, 5, 5}, NNC_USE_CONV_KERNEL, {});
  EXPECT_EQ(L.Count, 96);
  EXPECT_EQ(L.Height, 5);
  EXPECT_EQ(L.Width, 5);
  EXPECT_EQ(L.TileStep, 25);
  EXPECT_EQ(L.GridRows, 16);
  EXPECT_EQ(L.GridCols, 6);
  EXPECT_EQ(L.ZoomX, 5);
  EXPECT_EQ(imageWidth(L), 6 * 25 + 5);
  EXPECT_EQ(imageHeight(L), 16 * 25 + 15);
  // One input channel: the filters in a near-square grid.
  L = tileLayout({6, 1, 5, 5}, NNC_USE_CONV_KERNEL, {});
  EXPECT_EQ(L.GridRows, 2);
  EXPECT_EQ(L.GridCols, 3);
  // conv1d's [K, C, R]: rows of R weights, at least 8 pixels high.
  L = tileLayout({3, 2, 4}, NNC_USE_CONV_KERNEL, {});
  EXPECT_EQ(L.Count, 6);
  EXPECT_EQ(L.Height, 1);
  EXPECT_EQ(L.Width, 4);
  EXPECT_EQ(L.TileStep, 4);
  EXPECT_EQ(L.GridRows, 3);
  EXPECT_EQ(L.GridCols, 2);
  EXPECT_EQ(L.ZoomX, 6);
  EXPECT_EQ(L.ZoomY, 8);
}

TEST(WeightTiles, GridOfRowsIsAboutSquareInPixels) {
  // LeNet's f4.W [120, 84]: 84 rows of 120 weights, 120 x 8 pixels. Ten
  // columns (⌈√84⌉) would make 1209 x 80 pixels; 3 make 362 x 251.
  TileLayout L = tileLayout({120, 84}, NNC_USE_MATMUL_COLUMNS, {1, 120});
  EXPECT_EQ(L.GridCols, 3);
  EXPECT_EQ(L.GridRows, 28);
  EXPECT_EQ(imageWidth(L), 362);
  EXPECT_EQ(imageHeight(L), 251);
  // Ten rows of 128 weights: one column.
  L = tileLayout({128, 10}, NNC_USE_MATMUL_COLUMNS, {1, 128});
  EXPECT_EQ(L.GridCols, 1);
  EXPECT_EQ(L.GridRows, 10);
  // Exact squares need no rounding: 256 square tiles, 16 x 16.
  L = tileLayout({400, 256}, NNC_USE_MATMUL_COLUMNS, {20, 20});
  EXPECT_EQ(L.GridCols, 16);
  EXPECT_EQ(L.GridRows, 16);
  // Tall tiles (100 x 1, drawn 8 x 100) would want 5 columns; there are
  // only 2 tiles.
  L = tileLayout({100, 2}, NNC_USE_MATMUL_COLUMNS, {100, 1});
  EXPECT_EQ(L.GridCols, 2);
  EXPECT_EQ(L.GridRows, 1);
}

TEST(WeightTiles, ZoomMakesTheLongerSideAtLeast24Pixels) {
  // ZoomX, ZoomY of an H x W tile.
  auto Zoom = [](int64_t H, int64_t W) {
    TileLayout L = tileLayout({H * W, 1}, NNC_USE_MATMUL_COLUMNS, {H, W});
    return Shape{L.ZoomX, L.ZoomY};
  };
  EXPECT_EQ(Zoom(28, 28), (Shape{1, 1}));
  EXPECT_EQ(Zoom(24, 24), (Shape{1, 1}));
  EXPECT_EQ(Zoom(20, 20), (Shape{2, 2}));
  EXPECT_EQ(Zoom(5, 5), (Shape{5, 5}));
  EXPECT_EQ(Zoom(3, 2), (Shape{8, 8}));
  // A row: the zoom of its length, and at least 8 pixels high.
  EXPECT_EQ(Zoom(1, 6), (Shape{4, 8}));
  EXPECT_EQ(Zoom(1, 100), (Shape{1, 8}));
}

// Every pixel of a small grid, by hand: W : [4, 3], each column a 2 x 2
// tile, drawn at zoom 1 so that each weight is one pixel.
TEST(WeightTiles, EachTileIsNormalisedOnItsOwn) {
  // Column 0: 0 1 2 3 (a ramp); column 1: all 5 (constant); column 2:
  // -1 1 0 3 (negative weights too).
  const float W[] = {0, 5, -1, //
                     1, 5, 1,  //
                     2, 5, 0,  //
                     3, 5, 3};
  TileLayout L = tileLayout({4, 3}, NNC_USE_MATMUL_COLUMNS, {2, 2});
  L.ZoomX = L.ZoomY = 1;
  GreyImage Img = renderTiles(W, L);
  ASSERT_EQ(Img.Width, 5);
  ASSERT_EQ(Img.Height, 5);
  // Ramp: min black, max white, (w - min) / (max - min) · 255 rounded.
  // Constant: mid-grey. Column 2: (w + 1) / 4 · 255 = 0, 127.5, 63.75, 255.
  // Gaps and the unused fourth cell: GapGrey (0).
  std::vector<std::vector<int>> Want = {
      {0, 85, 0, 128, 128},    //
      {170, 255, 0, 128, 128}, //
      {0, 0, 0, 0, 0},         //
      {0, 128, 0, 0, 0},       //
      {64, 255, 0, 0, 0},
  };
  EXPECT_EQ(rowsOf(Img), Want);
}

TEST(WeightTiles, NormalisationIsInvariantToScaleAndShift) {
  // 4·a + 8 is exact in floats, so the ratios are bit for bit the same.
  const float A[] = {0.5f, -2, 1.75f, 7, 1, 4.25f};
  float B[6];
  for (int I = 0; I < 6; ++I)
    B[I] = 4 * A[I] + 8;
  TileLayout L = tileLayout({2, 3}, NNC_USE_MATMUL_ROWS, {1, 3});
  GreyImage ImgA = renderTiles(A, L);
  EXPECT_EQ(ImgA.Pixels, renderTiles(B, L).Pixels);
  // Tile 0 (0.5, -2, 1.75) spans -2..1.75: 0.5 is at (2.5 / 3.75)·255.
  EXPECT_EQ(ImgA.at(0, 0), 170);
}

TEST(WeightTiles, RowsAndKernelsTakeContiguousTiles) {
  // W : [2, 3] as rows of 1 x 3: row 0 = 0 1 2, row 1 = 2 1 0 (reversed).
  // Two tiles 24 x 8 pixels are one column (48 x 17 would be too wide).
  const float W[] = {0, 1, 2, 2, 1, 0};
  TileLayout L = tileLayout({2, 3}, NNC_USE_MATMUL_ROWS, {1, 3});
  ASSERT_EQ(L.GridCols, 1);
  ASSERT_EQ(L.GridRows, 2);
  L.ZoomX = L.ZoomY = 1;
  std::vector<std::vector<int>> Rows = {
      {0, 128, 255}, {0, 0, 0}, {255, 128, 0}};
  EXPECT_EQ(rowsOf(renderTiles(W, L)), Rows);

  // K : [2, 2, 1, 2]: filter k on channel c is tile k·2 + c, at grid row
  // k, column c. Each 1 x 2 filter is increasing or decreasing.
  const float K[] = {1, 2, /**/ 4, 3, /**/ 9, 8, /**/ -1, 0};
  L = tileLayout({2, 2, 1, 2}, NNC_USE_CONV_KERNEL, {});
  ASSERT_EQ(L.GridRows, 2);
  ASSERT_EQ(L.GridCols, 2);
  L.ZoomX = L.ZoomY = 1;
  std::vector<std::vector<int>> Grid = {{0, 255, 0, 255, 0}, //
                                        {0, 0, 0, 0, 0},     //
                                        {255, 0, 0, 0, 255}};
  EXPECT_EQ(rowsOf(renderTiles(K, L)), Grid);
}

TEST(WeightTiles, MaxUnitsKeepsTheFirstUnits) {
  // --units 64 of W : [784, 256]: 64 tiles in an 8 x 8 grid, column j
  // still read with the stride of the full weight.
  TileLayout L = tileLayout({784, 256}, NNC_USE_MATMUL_COLUMNS, {28, 28}, 64);
  EXPECT_EQ(L.Count, 64);
  EXPECT_EQ(L.TileStep, 1);
  EXPECT_EQ(L.PixelStep, 256);
  EXPECT_EQ(L.GridRows, 8);
  EXPECT_EQ(L.GridCols, 8);
  EXPECT_EQ(imageWidth(L), 8 * 28 + 7);
  // More units than there are, or 0: every unit.
  EXPECT_EQ(tileLayout({784, 256}, NNC_USE_MATMUL_COLUMNS, {28, 28}, 300).Count,
            256);
  EXPECT_EQ(tileLayout({784, 256}, NNC_USE_MATMUL_COLUMNS, {28, 28}, 0).Count,
            256);
  // Rows: the first rows, contiguous.
  L = tileLayout({10, 9}, NNC_USE_MATMUL_ROWS, {3, 3}, 4);
  EXPECT_EQ(L.Count, 4);
  EXPECT_EQ(L.TileStep, 9);
  EXPECT_EQ(L.GridCols, 2);
  EXPECT_EQ(L.GridRows, 2);
  // A kernel keeps whole filters: 4 of LeNet's 16, each on its 6 channels.
  L = tileLayout({16, 6, 5, 5}, NNC_USE_CONV_KERNEL, {}, 4);
  EXPECT_EQ(L.Count, 24);
  EXPECT_EQ(L.GridRows, 4);
  EXPECT_EQ(L.GridCols, 6);

  // The kept tiles are drawn as they are in the full picture: W : [2, 3]
  // by columns, its first two of three units.
  const float W[] = {0, 5, 1, /**/ 1, 4, 1};
  L = tileLayout({2, 3}, NNC_USE_MATMUL_COLUMNS, {1, 2}, 2);
  ASSERT_EQ(L.Count, 2);
  L.ZoomX = L.ZoomY = 1;
  L.GridRows = 1;
  L.GridCols = 2;
  std::vector<std::vector<int>> Rows = {{0, 255, 0, 255, 0}};
  EXPECT_EQ(rowsOf(renderTiles(W, L)), Rows);
}

TEST(WeightTiles, ZoomRepeatsEachWeightAsABlock) {
  const float W[] = {0, 1};
  TileLayout L = tileLayout({2, 1}, NNC_USE_MATMUL_COLUMNS, {1, 2});
  ASSERT_EQ(L.ZoomX, 12);
  ASSERT_EQ(L.ZoomY, 12);
  GreyImage Img = renderTiles(W, L);
  ASSERT_EQ(Img.Width, 24);
  ASSERT_EQ(Img.Height, 12);
  for (int64_t Y = 0; Y < 12; ++Y)
    for (int64_t X = 0; X < 24; ++X)
      ASSERT_EQ(Img.at(X, Y), X < 12 ? 0 : 255) << X << ", " << Y;
}

/// Decodes `Bytes` with libpng's simplified reader; checks it is 8-bit grey.
GreyImage decodePng(const std::string &Bytes) {
  png_image Image;
  std::memset(&Image, 0, sizeof(Image));
  Image.version = PNG_IMAGE_VERSION;
  GreyImage Out;
  if (!png_image_begin_read_from_memory(&Image, Bytes.data(), Bytes.size())) {
    ADD_FAILURE() << "libpng cannot read it: " << Image.message;
    return Out;
  }
  EXPECT_EQ(Image.format, png_uint_32(PNG_FORMAT_GRAY));
  Out.Width = Image.width;
  Out.Height = Image.height;
  Out.Pixels.resize(size_t(Out.Width * Out.Height));
  if (!png_image_finish_read(&Image, nullptr, Out.Pixels.data(), 0, nullptr))
    ADD_FAILURE() << "libpng cannot decode it: " << Image.message;
  return Out;
}

TEST(Png, RoundTripsThroughLibpng) {
  // An odd size and every grey level, so rows are not padded to anything
  // and no value is lost.
  GreyImage Img;
  Img.Width = 37;
  Img.Height = 11;
  for (int64_t Y = 0; Y < Img.Height; ++Y)
    for (int64_t X = 0; X < Img.Width; ++X)
      Img.Pixels.push_back(uint8_t((X * 7 + Y * 31) % 256));
  Expected<std::string> Bytes = encodePng(Img);
  ASSERT_TRUE(Bytes);
  EXPECT_EQ(Bytes->substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  GreyImage Back = decodePng(*Bytes);
  EXPECT_EQ(Back.Width, 37);
  EXPECT_EQ(Back.Height, 11);
  EXPECT_EQ(Back.Pixels, Img.Pixels);
}

TEST(Png, RoundTripsARenderedGrid) {
  std::vector<float> W(784 * 10);
  for (size_t I = 0; I < W.size(); ++I)
    W[I] = float((I * 2654435761u) % 1000) / 1000.0f - 0.5f;
  TileLayout L = tileLayout({784, 10}, NNC_USE_MATMUL_COLUMNS, {28, 28});
  GreyImage Img = renderTiles(W.data(), L);
  Expected<std::string> Bytes = encodePng(Img);
  ASSERT_TRUE(Bytes);
  GreyImage Back = decodePng(*Bytes);
  EXPECT_EQ(Back.Width, 4 * 28 + 3);
  EXPECT_EQ(Back.Height, 3 * 28 + 2);
  EXPECT_EQ(Back.Pixels, Img.Pixels);
}

TEST(Png, AnEmptyPictureIsAnError) {
  Expected<std::string> Bytes = encodePng(GreyImage{});
  ASSERT_FALSE(Bytes);
  EXPECT_EQ(Bytes.takeError().message(),
            "cannot encode a 0 x 0 picture as PNG");
}

} // namespace
