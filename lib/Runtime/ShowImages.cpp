//===- ShowImages.cpp - `show --load W --images NAME -o OUT.png` ----------===//
//
// Draws the incoming weights of every unit a param feeds as a grid of
// greyscale tiles (docs/runtime.md, "`show --images`"):
// 1. find the param and how it feeds units (the descriptor's `use`, read by
//    the code generator off the param's first forward use);
// 2. load its values from W;
// 3. for a matmul weight, pick the picture of one unit's weights: the shape
//    of one image of the train block's IDX data (its header alone is read),
//    else of one example of the model's input, when it holds as many
//    values; else a square, else a row (unitImageShape);
// 4. lay out, render and encode the tiles (WeightTiles.h, Png.h) and write
//    the file atomically, so an error leaves no partial picture.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Commands.h"
#include "nnc/Runtime/Model.h"
#include "nnc/Runtime/Png.h"
#include "nnc/Runtime/WeightTiles.h"

#include <cmath>
#include <cstdio>
#include <optional>
#include <string>

namespace nnc::rt {
namespace {

/// The largest picture drawn: 2^28 pixels (256 MiB of grey).
constexpr int64_t MaxPixels = int64_t(1) << 28;

const char *roleNoun(nnc_slot_role Role) {
  switch (Role) {
  case NNC_SLOT_PARAM:
    return "a param";
  case NNC_SLOT_STATE:
    return "optimizer state";
  case NNC_SLOT_HYPER:
    return "a hyperparameter";
  case NNC_SLOT_INPUT:
    return "an input";
  case NNC_SLOT_TARGET:
    return "a target";
  case NNC_SLOT_OUTPUT:
    return "an output";
  case NNC_SLOT_LOSS:
    return "the loss";
  case NNC_SLOT_METRIC:
    return "a metric";
  case NNC_SLOT_GRAD:
    return "a gradient";
  case NNC_SLOT_TEMP:
    return "scratch memory";
  case NNC_SLOT_BUFFER:
    return "a buffer (running statistics, never trained)";
  }
  return "not a param";
}

/// The param named `Name`, or an error that says what the name is and which
/// params there are.
Expected<SlotBuffer *> findParam(ModelInstance &I, const std::string &Name) {
  SlotBuffer *S = I.find(Name);
  if (S && S->role() == NNC_SLOT_PARAM)
    return S;
  std::string Params;
  for (SlotBuffer *P : I.withRole(NNC_SLOT_PARAM))
    Params += (Params.empty() ? "" : ", ") + std::string(P->name());
  std::string What = S ? "'" + Name + "' is " + roleNoun(S->role()) +
                             " of model '" + I.model().name + "', not a param"
                       : "model '" + std::string(I.model().name) +
                             "' has no param '" + Name + "'";
  return Status::error(
      What + " (its params: " + (Params.empty() ? "none" : Params) + ")");
}

/// How `P` feeds units, checked against its shape; an error for a param
/// that holds no unit's incoming weights.
Expected<nnc_param_use> unitUse(const SlotBuffer &P) {
  // Built by appending: gcc 12 warns (-Wrestrict, falsely) on "'" + ....
  std::string Name = "'";
  Name.append(P.name()).append("' ").append(shapeString(P.shape()));
  int32_t Use = P.Desc->use;
  int32_t Rank = P.Desc->rank;
  if (Rank == 0)
    return Status::error(Name + " is a scalar: it holds no unit's incoming "
                                "weights to draw");
  if (Rank == 1)
    return Status::error(Name + " is 1-D (a bias or a scale): it holds one "
                                "number per unit, not a unit's incoming "
                                "weights; --images draws a 2-D weight or a "
                                "conv kernel");
  if (Use == NNC_USE_NONE)
    return Status::error(Name + " feeds no matmul or convolution, so it holds "
                                "no unit's incoming weights to draw");
  bool Matmul = Use == NNC_USE_MATMUL_COLUMNS || Use == NNC_USE_MATMUL_ROWS;
  if ((Matmul && Rank != 2) || (Use == NNC_USE_CONV_KERNEL && Rank < 3) ||
      (!Matmul && Use != NNC_USE_CONV_KERNEL))
    return Status::error("invalid model descriptor: param " + Name +
                         " has use " + std::to_string(Use));
  if (P.Numel == 0)
    return Status::error(Name + " has no elements to draw");
  return nnc_param_use(Use);
}

/// Per-example shapes a matmul weight's unit may be drawn as, best first:
/// one image of the train block's IDX data (or test set), then one example
/// of the model's input. Data that cannot be read is skipped: the picture
/// falls back to a square or a row, and training reports the data's errors.
std::vector<std::vector<int64_t>> imageShapes(const nnc_model &M,
                                              ModelInstance &I) {
  std::vector<std::vector<int64_t>> Shapes;
  if (M.train.present)
    for (const nnc_data_spec *D : {&M.train.data, &M.train.test})
      if (D->kind == 1 && D->images)
        if (Expected<std::vector<int64_t>> Dims = readIdxDims(D->images);
            Dims && Dims->size() >= 2)
          Shapes.emplace_back(Dims->begin() + 1, Dims->end());
  for (SlotBuffer *In : I.withRole(NNC_SLOT_INPUT))
    if (In->Desc->rank >= 2)
      Shapes.emplace_back(In->Desc->dims + 1, In->Desc->dims + In->Desc->rank);
  return Shapes;
}

/// What the tiles are, for the summary line: "the columns", or "the first
/// 64 of the 256 columns" when --units keeps fewer units than there are.
std::string tilesAre(nnc_param_use Use, const std::vector<int64_t> &Dims,
                     std::optional<int64_t> Kept) {
  int64_t Units = Use == NNC_USE_MATMUL_COLUMNS ? Dims[1] : Dims[0];
  std::string Which = "the ";
  if (Kept && *Kept < Units)
    Which = "the first " + (*Kept == 1 ? "" : std::to_string(*Kept) + " ") +
            "of the " + std::to_string(Units) + " ";
  if (Use == NNC_USE_MATMUL_COLUMNS)
    return Which + "columns";
  if (Use == NNC_USE_MATMUL_ROWS)
    return Which + "rows";
  if (Dims[1] == 1)
    return Which + "filters";
  return Which == "the " ? "each filter on each input channel"
                         : Which + "filters, each on each input channel";
}

} // namespace

Status runShowImages(const nnc_model &M, const RunOptions &O) {
  if (O.Images.empty())
    return Status::error(std::string("show ") +
                         (O.Out.empty() ? "--units" : "-o") +
                         " draws a param: give --images NAME");
  if (O.Out.empty())
    return Status::error("show --images needs -o OUT.png");
  if (O.Load.empty())
    return Status::error("show --images needs --load W (the weights to draw)");
  Expected<std::unique_ptr<ModelInstance>> IOr = ModelInstance::create(&M);
  if (!IOr)
    return IOr.takeError();
  ModelInstance &I = **IOr;
  Expected<SlotBuffer *> POr = findParam(I, O.Images);
  if (!POr)
    return POr.takeError();
  SlotBuffer &P = **POr;
  Expected<nnc_param_use> Use = unitUse(P);
  if (!Use)
    return Use.takeError();
  if (Status S = I.loadWeights(O.Load, /*WithState=*/false))
    return S;
  for (int64_t K = 0; K < P.Numel; ++K)
    if (!std::isfinite(P.f32()[K]))
      return Status::error(O.Load + ": '" + O.Images + "' holds " +
                           (std::isnan(P.f32()[K]) ? "NaN" : "an infinity") +
                           " at element " + std::to_string(K) +
                           ", which no grey can show");

  std::vector<int64_t> Dims = P.shape();
  std::vector<int64_t> UnitShape;
  if (*Use != NNC_USE_CONV_KERNEL)
    UnitShape = unitImageShape(
        *Use == NNC_USE_MATMUL_COLUMNS ? Dims[0] : Dims[1], imageShapes(M, I));
  TileLayout L = tileLayout(Dims, *Use, UnitShape, O.Units.value_or(0));
  int64_t Width = imageWidth(L), Height = imageHeight(L);
  if (Width > MaxPixels / Height)
    return Status::error("'" + O.Images + "' would make a picture of " +
                         std::to_string(Width) + " x " +
                         std::to_string(Height) +
                         " pixels, more than show draws (2^28 pixels)");
  Expected<std::string> Png = encodePng(renderTiles(P.f32(), L));
  if (!Png)
    return Png.takeError();
  if (Status S = writeFileAtomically(O.Out, *Png))
    return S;
  // Tile sizes as tensor shapes are written (height x width), the
  // picture's in words.
  std::printf("%s: %lld %s of %lld x %lld weights (%s of '%s' %s) in "
              "%lld %s of %lld; %lld pixels wide, %lld high\n",
              O.Out.c_str(), (long long)L.Count,
              L.Count == 1 ? "tile" : "tiles", (long long)L.Height,
              (long long)L.Width, tilesAre(*Use, Dims, O.Units).c_str(),
              O.Images.c_str(), shapeString(Dims).c_str(),
              (long long)L.GridRows, L.GridRows == 1 ? "row" : "rows",
              (long long)L.GridCols, (long long)Width, (long long)Height);
  std::fflush(stdout);
  return Status();
}

} // namespace nnc::rt
