//===- Commands.cpp - `predict`, `grad`, `init`, `show`, and --data -------===//
//
// The commands that move tensors between safetensors files and slots, and
// `show`, which prints a model without inputs evaluated at its params (and
// a model with inputs as the params and buffers it holds).
// `predict` accepts any number N of examples: it runs them in chunks of the
// model's batch size, pads the last chunk with copies of its last row and
// trims the outputs back to N rows; an unbatched model (batch 0) takes each
// input whole and runs once. Inputs and outputs travel in their files'
// element types (FileTypes.h). `grad` takes exactly one batch, since the
// gradient of a padded batch would not be the gradient of the user's data.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Commands.h"
#include "nnc/Runtime/FileTypes.h"
#include "nnc/Runtime/Model.h"
#include "nnc/Runtime/Numerics.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace nnc::rt {

Expected<DataSource> resolveData(const nnc_model &M,
                                 const std::vector<std::string> &Data,
                                 const nnc_data_spec &Fallback) {
  if (Data.empty())
    return DataSource::fromSpec(Fallback);
  // The train block's own data decides the format and its options (scale,
  // columns, header); --data only replaces the files.
  DataSource Model;
  if (M.train.present)
    Model = DataSource::fromSpec(M.train.data);
  DataSource S;
  if (Data.size() == 2) {
    if (Model.K == DataSource::Csv)
      return Status::error("this model reads CSV data: --data takes one "
                           "FILE.csv");
    S.K = DataSource::Idx;
    S.Images = Data[0];
    S.Labels = Data[1];
    if (Model.K == DataSource::Idx)
      S.Scale = Model.Scale;
    return S;
  }
  if (Data.size() == 1) {
    if (Model.K == DataSource::Idx)
      return Status::error("this model reads IDX data: --data takes IMAGES "
                           "LABELS");
    S = Model;
    S.K = DataSource::Csv;
    S.Path = Data[0];
    return S;
  }
  return Status::error("--data takes IMAGES LABELS (IDX) or FILE.csv");
}

namespace {

/// --seed, else the train block's seed, else 0.
uint64_t runSeed(const nnc_model &M, const RunOptions &O) {
  return O.Seed ? *O.Seed : M.train.present ? M.train.seed : 0;
}

std::vector<int64_t> rowShape(const SlotBuffer &S) {
  std::vector<int64_t> Shape = S.shape();
  Shape.erase(Shape.begin());
  return Shape;
}

/// Checks that `T` can feed the batched slot `S` row by row: same dtype,
/// same shape after the first dimension. Returns its row count in `N`.
Status checkRows(const std::string &Path, const StoredTensor &T,
                 const SlotBuffer &S, int64_t &N) {
  std::string Prefix = Path + ": tensor " + quoteForMessage(T.Name);
  if (T.Type != fileType(*S.Desc))
    return Status::error(Prefix + " has dtype " + dtypeName(T.Type) +
                         ", but the model expects " +
                         dtypeName(fileType(*S.Desc)));
  std::vector<int64_t> Want = rowShape(S);
  std::vector<int64_t> Got = T.Shape;
  if (!Got.empty())
    Got.erase(Got.begin());
  if (T.Shape.empty() || Got != Want) {
    std::string Exp = "[N";
    for (int64_t D : Want)
      Exp += ", " + std::to_string(D);
    Exp += "]";
    return Status::error(Prefix + " has shape " + shapeString(T.Shape) +
                         ", but the model expects " + Exp);
  }
  N = T.Shape[0];
  return Status();
}

/// What predict and grad start with: an instance holding the weights of
/// --load (params only), and the tensors of --inputs.
Status openWithInputs(const nnc_model &M, const RunOptions &O,
                      std::unique_ptr<ModelInstance> &Instance,
                      Expected<TensorFile> &In) {
  Expected<std::unique_ptr<ModelInstance>> IOr = ModelInstance::create(&M);
  if (!IOr)
    return IOr.takeError();
  Instance = std::move(*IOr);
  // Without weights, the initializers (compiled-in weights of an imported
  // model, or drawn as `init` draws them).
  if (O.Load.empty())
    Instance->initParams(runSeed(M, O));
  else if (Status S = Instance->loadWeights(O.Load, /*WithState=*/false))
    return S;
  if (O.Inputs.empty())
    return Status::error("missing --inputs X.safetensors");
  In = readTensorFile(O.Inputs);
  if (!In)
    return In.takeError();
  return Status();
}

const StoredTensor *findOrFail(const TensorFile &F, const SlotBuffer &S,
                               Status &Err) {
  const StoredTensor *T = F.find(S.name());
  if (!T)
    Err = Status::error(F.Path + ": missing tensor " +
                        quoteForMessage(S.name()) + " (an input of the model)");
  return T;
}

/// The outputs as `predict` writes them: each in its file's element type,
/// batched ones cut to `N` rows (`Batched[K]`; N < 0: none is).
Status writeOutputs(const nnc_model &M, const std::string &Path,
                    const std::vector<SlotBuffer *> &Outputs,
                    const std::vector<std::vector<char>> &Results,
                    const std::vector<bool> &Batched, int64_t N) {
  std::vector<std::vector<char>> Stored(Outputs.size());
  std::vector<TensorRef> Refs;
  for (size_t K = 0; K < Outputs.size(); ++K) {
    std::vector<int64_t> Shape = Outputs[K]->shape();
    if (Batched[K])
      Shape[0] = N;
    int64_t Numel = int64_t(Results[K].size() / 4);
    DType To = fileType(*Outputs[K]->Desc);
    Stored[K] = toFileType(Results[K].data(), Numel, Outputs[K]->type(), To);
    Refs.push_back(
        {std::string(Outputs[K]->name()), To, Shape, Stored[K].data()});
  }
  return writeTensorFile(Path, Refs, {{"model", M.name}});
}

/// `predict` of an unbatched model: every input whole, at its declared
/// shape, one run.
Status predictWhole(const nnc_model &M, ModelInstance &I, const TensorFile &In,
                    const std::string &Out) {
  for (SlotBuffer *S : I.withRole(NNC_SLOT_INPUT)) {
    Status Err;
    const StoredTensor *T = findOrFail(In, *S, Err);
    if (Err)
      return Err;
    std::string Prefix = In.Path + ": tensor " + quoteForMessage(T->Name);
    if (T->Type != fileType(*S->Desc))
      return Status::error(Prefix + " has dtype " + dtypeName(T->Type) +
                           ", but the model expects " +
                           dtypeName(fileType(*S->Desc)));
    if (T->Shape != S->shape())
      return Status::error(Prefix + " has shape " + shapeString(T->Shape) +
                           ", but the model expects " +
                           shapeString(S->shape()) +
                           " (an unbatched model takes its inputs whole)");
    std::vector<char> Data;
    if (Status E = toComputeType(Prefix, *T, S->type(), Data))
      return E;
    if (!Data.empty()) // an empty vector's data() may be null
      std::memcpy(S->Data, Data.data(), Data.size());
  }
  M.predict(I.slotPointers());
  if (std::string Failure = takeNumericsFailure(); !Failure.empty())
    return Status::error(Failure);
  std::vector<SlotBuffer *> Outputs = I.withRole(NNC_SLOT_OUTPUT);
  std::vector<std::vector<char>> Results;
  for (SlotBuffer *S : Outputs) {
    const char *P = static_cast<const char *>(S->Data);
    Results.emplace_back(P, P + S->bytes());
  }
  return writeOutputs(M, Out, Outputs, Results,
                      std::vector<bool>(Outputs.size(), false), -1);
}

} // namespace

Status runPredict(const nnc_model &M, const RunOptions &O) {
  if (!M.predict)
    return Status::error("model '" + std::string(M.name) +
                         "' has no outputs to predict");
  if (O.Out.empty())
    return Status::error("predict needs --out Y.safetensors");
  std::unique_ptr<ModelInstance> Instance;
  Expected<TensorFile> In = Status::error("");
  if (Status S = openWithInputs(M, O, Instance, In))
    return S;
  ModelInstance &I = *Instance;
  int64_t B = I.batch();
  if (B == 0)
    return predictWhole(M, I, *In, O.Out);
  std::vector<SlotBuffer *> Inputs = I.withRole(NNC_SLOT_INPUT);
  std::vector<const StoredTensor *> Tensors;
  // Each input's data in the slot's dtype.
  std::vector<std::vector<char>> Data;
  int64_t N = -1;
  for (SlotBuffer *S : Inputs) {
    Status Err;
    const StoredTensor *T = findOrFail(*In, *S, Err);
    if (Err)
      return Err;
    int64_t Rows;
    if (Status E = checkRows(In->Path, *T, *S, Rows))
      return E;
    Data.emplace_back();
    if (Status E =
            toComputeType(In->Path + ": tensor " + quoteForMessage(T->Name), *T,
                          S->type(), Data.back()))
      return E;
    if (N >= 0 && Rows != N)
      return Status::error(In->Path + ": tensor " + quoteForMessage(T->Name) +
                           " has " + std::to_string(Rows) + " rows, but " +
                           quoteForMessage(Tensors[0]->Name) + " has " +
                           std::to_string(N));
    N = Rows;
    Tensors.push_back(T);
  }
  if (N < 0)
    N = B; // A model without inputs: one batch.

  std::vector<SlotBuffer *> Outputs = I.withRole(NNC_SLOT_OUTPUT);
  // Outputs with a batch dimension are gathered to N rows; any other output
  // does not depend on the examples' count and is taken from the first chunk.
  std::vector<std::vector<char>> Results(Outputs.size());
  std::vector<bool> Batched(Outputs.size());
  for (size_t K = 0; K < Outputs.size(); ++K) {
    const nnc_slot &D = *Outputs[K]->Desc;
    Batched[K] = D.rank >= 1 && D.dims[0] == B;
    Results[K].resize(Batched[K]
                          ? size_t(N) * size_t(Outputs[K]->numelPerRow()) * 4
                          : Outputs[K]->bytes());
  }
  for (int64_t Start = 0; Start < N || Start == 0; Start += B) {
    int64_t Count = std::min(B, N - Start);
    for (size_t K = 0; K < Inputs.size(); ++K) {
      size_t RowBytes = size_t(Inputs[K]->numelPerRow()) * 4;
      char *Dst = static_cast<char *>(Inputs[K]->Data);
      // With N = 0 the tensor has no data (and memcpy no null pointers):
      // the one chunk is zeros.
      if (Count == 0) {
        std::memset(Dst, 0, size_t(B) * RowBytes);
        continue;
      }
      std::memcpy(Dst, Data[K].data() + size_t(Start) * RowBytes,
                  size_t(Count) * RowBytes);
      // The padding repeats the last real row: rows a real example could
      // hold, so they cannot overflow or fail a --check-numerics check
      // that the user's data would pass.
      for (int64_t J = Count; J < B; ++J)
        std::memcpy(Dst + size_t(J) * RowBytes,
                    Dst + size_t(Count - 1) * RowBytes, RowBytes);
    }
    M.predict(I.slotPointers());
    if (std::string Failure = takeNumericsFailure(); !Failure.empty())
      return Status::error(Failure);
    for (size_t K = 0; K < Outputs.size(); ++K) {
      if (!Batched[K]) {
        if (Start == 0)
          std::memcpy(Results[K].data(), Outputs[K]->Data, Results[K].size());
        continue;
      }
      size_t RowBytes = size_t(Outputs[K]->numelPerRow()) * 4;
      if (Count > 0)
        std::memcpy(Results[K].data() + size_t(Start) * RowBytes,
                    Outputs[K]->Data, size_t(Count) * RowBytes);
    }
    if (N == 0)
      break;
  }
  return writeOutputs(M, O.Out, Outputs, Results, Batched, N);
}

Status runGrad(const nnc_model &M, const RunOptions &O) {
  if (!M.grad)
    return Status::error("model '" + std::string(M.name) +
                         "' has no loss, so it has no gradient");
  if (O.Out.empty())
    return Status::error("grad needs --out G.safetensors");
  std::unique_ptr<ModelInstance> Instance;
  Expected<TensorFile> In = Status::error("");
  if (Status S = openWithInputs(M, O, Instance, In))
    return S;
  ModelInstance &I = *Instance;
  // Exactly one batch of every input and target.
  for (SlotBuffer &S : I.slots()) {
    if (S.role() != NNC_SLOT_INPUT && S.role() != NNC_SLOT_TARGET)
      continue;
    const StoredTensor *T = In->find(S.name());
    if (!T)
      return Status::error(
          In->Path + ": missing tensor " + quoteForMessage(S.name()) + " (" +
          (S.role() == NNC_SLOT_INPUT ? "an input" : "a target") +
          " of the model; grad takes exactly one batch)");
    if (Status E = copyTensorToSlot(In->Path, *T, S))
      return E;
  }
  // Train mode, as the first step of a run with this seed would see it.
  I.setDropoutKey(runSeed(M, O), 0);
  M.grad(I.slotPointers());
  if (std::string Failure = takeNumericsFailure(); !Failure.empty())
    return Status::error(Failure);
  std::vector<TensorRef> Refs;
  for (SlotBuffer &S : I.slots()) {
    // The loss is written as "loss" whatever the model calls it
    // (docs/runtime.md, "`predict`, `grad`, `init`").
    if (S.role() == NNC_SLOT_LOSS)
      Refs.insert(Refs.begin(), {"loss", S.type(), S.shape(), S.Data});
    else if (S.role() == NNC_SLOT_GRAD)
      Refs.push_back({std::string(S.name()), S.type(), S.shape(), S.Data});
  }
  return writeTensorFile(O.Out, Refs, {{"model", M.name}});
}

namespace {

/// Appends `Slot`'s values to `Out` in NumPy's nested-bracket form with six
/// significant digits; past `Limit` elements the rest is elided as "...",
/// since the default command is for looking at small models.
void formatValues(const SlotBuffer &Slot, std::string &Out) {
  constexpr int64_t Limit = 64;
  std::vector<int64_t> Shape = Slot.shape();
  auto Element = [&](int64_t K) {
    char Buf[32];
    if (Slot.type() == DType::F32)
      std::snprintf(Buf, sizeof(Buf), "%.6g", double(Slot.f32()[K]));
    else
      std::snprintf(Buf, sizeof(Buf), "%d", Slot.i32()[K]);
    Out += Buf;
  };
  if (Shape.empty()) {
    Element(0);
    return;
  }
  // Walk the elements in row-major order, opening and closing one bracket
  // per dimension whose index wraps around.
  int64_t Shown = std::min(Slot.Numel, Limit);
  std::vector<int64_t> Index(Shape.size(), 0);
  Out.append(Shape.size(), '[');
  for (int64_t K = 0; K < Shown; ++K) {
    Element(K);
    size_t D = Shape.size();
    while (D > 0 && ++Index[D - 1] == Shape[D - 1]) {
      Index[D - 1] = 0;
      --D;
    }
    if (K + 1 == Shown)
      break;
    size_t Wrapped = Shape.size() - D;
    Out.append(Wrapped, ']');
    Out += ", ";
    Out.append(Wrapped, '[');
  }
  if (Shown < Slot.Numel)
    Out += ", ...";
  Out.append(Shape.size(), ']');
}

/// One line `NAME = VALUES`.
void printSlot(const SlotBuffer &Slot) {
  std::string Line = std::string(Slot.name()) + " = ";
  formatValues(Slot, Line);
  std::printf("%s\n", Line.c_str());
}

} // namespace

Status runShow(const nnc_model &M, const RunOptions &O) {
  if (!O.Images.empty() || !O.Out.empty() || O.Units)
    return runShowImages(M, O);
  Expected<std::unique_ptr<ModelInstance>> IOr = ModelInstance::create(&M);
  if (!IOr)
    return IOr.takeError();
  ModelInstance &I = **IOr;
  if (O.Load.empty())
    I.initParams(runSeed(M, O));
  else if (Status S = I.loadWeights(O.Load, /*WithState=*/false))
    return S;
  // A model that reads data has nothing to evaluate without it: show what
  // it holds instead, every param and buffer (running statistics).
  if (!I.withRole(NNC_SLOT_INPUT).empty() ||
      !I.withRole(NNC_SLOT_TARGET).empty()) {
    for (SlotBuffer &S : I.slots())
      if (S.role() == NNC_SLOT_PARAM || S.role() == NNC_SLOT_BUFFER)
        printSlot(S);
    std::fflush(stdout);
    return Status();
  }
  // The outputs as `output NAME` would show them, then the loss and the
  // gradient of every param at the same point.
  if (M.predict) {
    M.predict(I.slotPointers());
    if (std::string Failure = takeNumericsFailure(); !Failure.empty())
      return Status::error(Failure);
    for (SlotBuffer *S : I.withRole(NNC_SLOT_OUTPUT))
      printSlot(*S);
  }
  if (M.grad) {
    I.setDropoutKey(runSeed(M, O), 0);
    M.grad(I.slotPointers());
    if (std::string Failure = takeNumericsFailure(); !Failure.empty())
      return Status::error(Failure);
    for (SlotBuffer *S : I.withRole(NNC_SLOT_LOSS))
      printSlot(*S);
    for (SlotBuffer *S : I.withRole(NNC_SLOT_GRAD))
      printSlot(*S);
  }
  std::fflush(stdout);
  return Status();
}

Status runInit(const nnc_model &M, const RunOptions &O) {
  if (O.Save.empty())
    return Status::error("init needs --save W.safetensors");
  Expected<std::unique_ptr<ModelInstance>> IOr = ModelInstance::create(&M);
  if (!IOr)
    return IOr.takeError();
  ModelInstance &I = **IOr;
  I.initParams(runSeed(M, O));
  return I.saveWeights(O.Save, /*WithState=*/false);
}

} // namespace nnc::rt
