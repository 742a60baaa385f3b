//===- DataParallel.cpp - Agreement and averaging across ranks ------------===//
//
// The average of one step (GradientAverager::average) adds the ranks'
// values (gradients, buffers, loss, metrics, failure flag: a vector of n
// floats per rank) in rank order and divides by N — on every path the same
// operations on the same numbers, so the bits do not depend on the path:
//   - ranks all on one machine (averageShared): each rank's train_grad
//     writes into its own segment of memory the machine's ranks share;
//     after a barrier, rank r reduces slice r of every segment and writes
//     the means into all of them; after a second barrier every segment
//     holds every mean. No copies into or out of message buffers.
//   - two ranks on two machines (averagePair): each sends its slots as
//     they are (one message per slot, posted at once) and adds what it
//     receives.
//   - more ranks on several machines (averageMany), with c = n/N rounded
//     up to 16 floats: pack the slots into one vector, zero-padded to N·c;
//     all-to-all (rank r receives slice r of every rank); reduce the slice;
//     all-gather the reduced slices; unpack.
// Each rank sends and receives 2·(N−1)/N of a vector: the volume of a ring
// all-reduce, without leaving the order of the additions to MPI
// (docs/distributed.md has the cost model).
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/DataParallel.h"
#include "nnc/Runtime/Random.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace nnc::rt {

Status Team::agree(Status Local) const {
  if (!distributed())
    return Local;
  int32_t Mine = Local ? 1 : 0;
  std::vector<int32_t> All(static_cast<size_t>(size()));
  World->allGather(&Mine, All.data(), sizeof(Mine));
  int First = -1;
  for (int R = 0; R < size() && First < 0; ++R)
    if (All[size_t(R)])
      First = R;
  if (First < 0)
    return Status();
  // The lowest failing rank's message, to every rank.
  std::string Msg = rank() == First ? Local.message() : "";
  uint64_t Length = Msg.size();
  World->broadcast(&Length, sizeof(Length), First);
  Msg.resize(size_t(Length));
  World->broadcast(Msg.data(), Msg.size(), First);
  if (First == 0)
    return Status::error(Msg);
  return Status::error("rank " + std::to_string(First) + ": " + Msg);
}

static std::string showValue(const SharedValue &V, uint64_t X) {
  if (!V.Hash)
    return std::to_string(X);
  char Buf[24];
  std::snprintf(Buf, sizeof(Buf), "%016llx", (unsigned long long)X);
  return Buf;
}

Status Team::checkSame(const std::vector<SharedValue> &Items) const {
  if (!distributed() || Items.empty())
    return Status();
  size_t N = Items.size();
  std::vector<uint64_t> Mine, All(N * size_t(size()));
  for (const SharedValue &V : Items)
    Mine.push_back(V.Value);
  World->allGather(Mine.data(), All.data(), N * sizeof(uint64_t));
  for (size_t K = 0; K < N; ++K)
    for (int R = 1; R < size(); ++R) {
      uint64_t Theirs = All[size_t(R) * N + K];
      if (Theirs == All[K])
        continue;
      return Status::error(
          "the ranks disagree on " + Items[K].What + ": rank " +
          std::to_string(R) + " has " + showValue(Items[K], Theirs) +
          ", rank 0 has " + showValue(Items[K], All[K]) +
          "; every rank must run the same executable with the same command "
          "line and the same files");
    }
  return Status();
}

void Team::sumInRankOrder(std::vector<double> &Values) const {
  if (!distributed())
    return;
  size_t N = Values.size();
  std::vector<double> All(N * size_t(size()));
  World->allGather(Values.data(), All.data(), N * sizeof(double));
  for (size_t K = 0; K < N; ++K) {
    Values[K] = All[K];
    for (int R = 1; R < size(); ++R)
      Values[K] += All[size_t(R) * N + K];
  }
}

Expected<GradientAverager> GradientAverager::create(ModelInstance &I,
                                                    const Team &T) {
  GradientAverager A(T);
  for (nnc_slot_role Role : {NNC_SLOT_GRAD, NNC_SLOT_BUFFER})
    for (SlotBuffer *S : I.withRole(Role)) {
      if (S->type() != DType::F32)
        return Status::error("slot '" + std::string(S->name()) +
                             "' is i32, but data-parallel training averages "
                             "the gradients and buffers, which must be f32");
      A.Slots.push_back(S);
    }
  A.Loss = I.withRole(NNC_SLOT_LOSS).front();
  A.Metrics = I.withRole(NNC_SLOT_METRIC);
  A.TailFloats = 1 + A.Metrics.size() + 1; // loss, metrics, flag
  return A;
}

/// Rounds `Floats` up to whole cache lines (16 floats, 64 bytes).
static size_t wholeLines(size_t Floats) { return (Floats + 15) / 16 * 16; }

/// Whether the ranks of one machine may average in shared memory (the
/// default; `NNC_MPI_SHARED=0` sends messages instead, to compare).
static bool sharedMemoryWanted() {
  const char *Env = std::getenv("NNC_MPI_SHARED");
  return !Env || std::strcmp(Env, "0") != 0;
}

void GradientAverager::connect(ModelInstance &I) {
  Communicator &C = *T->communicator();
  size_t N = size_t(T->size());
  // One machine: a segment per rank holding its slots (each from a whole
  // cache line) and the tail. Every rank decides alike: the environment
  // is the launcher's, the machine count MPI's.
  if (sharedMemoryWanted() && C.allOnOneMachine()) {
    SegmentFloats = 0;
    for (SlotBuffer *S : Slots)
      SegmentFloats += wholeLines(size_t(S->Numel));
    SegmentFloats = wholeLines(SegmentFloats + TailFloats);
    std::vector<void *> Raw = C.sharedSegments(SegmentFloats * sizeof(float));
    for (void *P : Raw)
      Segments.push_back(static_cast<float *>(P));
    float *Mine = Segments[size_t(T->rank())];
    std::memset(Mine, 0, SegmentFloats * sizeof(float));
    size_t At = 0;
    for (SlotBuffer *S : Slots) {
      I.relocate(*S, Mine + At);
      At += wholeLines(size_t(S->Numel));
    }
    Tail = Mine + At;
    // Slices of whole cache lines, so that no two ranks write one line.
    size_t Lines = SegmentFloats / 16, R = size_t(T->rank());
    SliceBegin = Lines * R / N * 16;
    SliceEnd = Lines * (R + 1) / N * 16;
    C.sharedBarrier();
    return;
  }
  TailStorage.assign(TailFloats, 0.0f);
  Tail = TailStorage.data();
  for (SlotBuffer *S : Slots)
    Parts.push_back({S->Data, S->bytes()});
  Parts.push_back({Tail, TailFloats * sizeof(float)});
  for (const Communicator::Piece &P : Parts)
    Total += P.Bytes / sizeof(float);
  if (N == 2) {
    Recv.assign(Total, 0.0f);
    float *At = Recv.data();
    for (const Communicator::Piece &P : Parts) {
      RecvParts.push_back({At, P.Bytes});
      At += P.Bytes / sizeof(float);
    }
    return;
  }
  Chunk = wholeLines((Total + N - 1) / N);
  Send.assign(N * Chunk, 0.0f);
  Recv.assign(N * Chunk, 0.0f);
  Reduced.assign(Chunk, 0.0f);
}

void GradientAverager::average(bool LocalFailure, Means &Out) {
  float *Values = Tail;
  *Values++ = float(Loss->scalar());
  for (SlotBuffer *M : Metrics)
    *Values++ = float(M->scalar());
  *Values++ = LocalFailure ? 1.0f : 0.0f;
  if (!Segments.empty())
    averageShared();
  else if (T->size() == 2)
    averagePair();
  else
    averageMany();
  Out.Loss = double(Tail[0]);
  Out.Metrics.resize(Metrics.size());
  for (size_t K = 0; K < Metrics.size(); ++K)
    Out.Metrics[K] = double(Tail[1 + K]);
  Out.AnyFailure = Tail[TailFloats - 1] != 0.0f;
  // The buffers (running statistics: a few floats per channel) are the
  // only slots a training step writes outside the generated code.
  Out.BuffersFinite = true;
  for (SlotBuffer *S : Slots)
    if (S->role() == NNC_SLOT_BUFFER && !allFinite(*S))
      Out.BuffersFinite = false;
}

void GradientAverager::averageShared() {
  // Every rank's train_grad wrote into its own segment; once all have, each
  // reduces its slice of every segment — the ranks' values added in rank
  // order and divided by N, the same operations as averageMany — and
  // writes the mean into every segment; once all have, each segment holds
  // every mean. Per rank, 2·(N−1)/N of a vector crosses between cores, as
  // in a ring, with no copy into message buffers.
  Communicator &C = *T->communicator();
  C.sharedBarrier();
  size_t N = Segments.size();
  float Ranks = float(N);
  constexpr size_t Block = 256;
  float Sum[Block];
  for (size_t Begin = SliceBegin; Begin < SliceEnd; Begin += Block) {
    size_t Count = std::min(Block, SliceEnd - Begin);
    const float *First = Segments[0] + Begin;
    for (size_t K = 0; K < Count; ++K)
      Sum[K] = First[K];
    for (size_t R = 1; R < N; ++R) {
      const float *Theirs = Segments[R] + Begin;
      for (size_t K = 0; K < Count; ++K)
        Sum[K] += Theirs[K];
    }
    for (size_t K = 0; K < Count; ++K)
      Sum[K] /= Ranks;
    for (size_t R = 0; R < N; ++R)
      std::memcpy(Segments[R] + Begin, Sum, Count * sizeof(float));
  }
  C.sharedBarrier();
}

void GradientAverager::averagePair() {
  // Each rank sends its slots as they are and receives the other's; the
  // mean (a + b) / 2 is the same bits on both, since a + b == b + a. As
  // many bytes cross as in averageMany (2·(N−1)/N = 1 vector each way) in
  // one round trip instead of two, and nothing is packed.
  T->communicator()->exchange(Parts, RecvParts, 1 - T->rank());
  const float *Theirs = Recv.data();
  for (const Communicator::Piece &P : Parts) {
    float *Mine = static_cast<float *>(P.Data);
    size_t Count = P.Bytes / sizeof(float);
    for (size_t K = 0; K < Count; ++K)
      Mine[K] = (Mine[K] + Theirs[K]) / 2.0f;
    Theirs += Count;
  }
}

void GradientAverager::averageMany() {
  // 1. Pack (the padding after Total stays zero).
  float *Packed = Send.data();
  for (const Communicator::Piece &P : Parts) {
    std::memcpy(Packed, P.Data, P.Bytes);
    Packed += P.Bytes / sizeof(float);
  }
  // 2. Slice r of every rank to rank r.
  Communicator &C = *T->communicator();
  size_t Bytes = Chunk * sizeof(float);
  C.allToAll(Send.data(), Recv.data(), Bytes);
  // 3. The slice's mean, added in rank order.
  int N = T->size();
  std::memcpy(Reduced.data(), Recv.data(), Bytes);
  for (int R = 1; R < N; ++R) {
    const float *Slice = Recv.data() + size_t(R) * Chunk;
    for (size_t K = 0; K < Chunk; ++K)
      Reduced[K] += Slice[K];
  }
  float Ranks = float(N);
  for (float &V : Reduced)
    V /= Ranks;
  // 4. Every slice to every rank; 5. unpack.
  C.allGather(Reduced.data(), Send.data(), Bytes);
  const float *In = Send.data();
  for (const Communicator::Piece &P : Parts) {
    std::memcpy(P.Data, In, P.Bytes);
    In += P.Bytes / sizeof(float);
  }
}

namespace {

/// Hashes values one after another.
struct Hasher {
  uint64_t H = 0x6e6e63; // "nnc"
  void bytes(const void *P, size_t N) { H = hashBytes(P, N, H); }
  void u64(uint64_t V) { bytes(&V, sizeof(V)); }
  void f64(double V) { u64(std::bit_cast<uint64_t>(V)); }
  void str(const char *S) {
    u64(S ? std::strlen(S) + 1 : 0);
    if (S)
      bytes(S, std::strlen(S));
  }
  void data(const nnc_data_spec &D) {
    u64(uint64_t(D.kind));
    str(D.images);
    str(D.labels);
    f64(D.scale);
    str(D.path);
    u64(uint64_t(D.num_input_cols));
    if (D.input_cols)
      bytes(D.input_cols, size_t(D.num_input_cols) * 8);
    u64(uint64_t(D.num_target_cols));
    if (D.target_cols)
      bytes(D.target_cols, size_t(D.num_target_cols) * 8);
    u64(uint64_t(D.header));
  }
};

} // namespace

uint64_t modelFingerprint(const nnc_model &M) {
  Hasher H;
  H.str(M.name);
  H.u64(uint64_t(M.batch));
  H.u64(uint64_t(M.num_slots));
  for (int32_t S = 0; S < M.num_slots; ++S) {
    const nnc_slot &D = M.slots[S];
    H.str(D.name);
    H.u64(uint64_t(D.role) << 32 | uint32_t(D.dtype));
    H.u64(uint64_t(D.rank));
    int64_t Numel = 1;
    for (int32_t K = 0; K < D.rank; ++K) {
      H.u64(uint64_t(D.dims[K]));
      Numel *= D.dims[K];
    }
    H.u64(uint64_t(D.init_kind));
    H.f64(D.init_a);
    H.f64(D.init_b);
    if (D.init_kind == NNC_INIT_LITERAL && D.literal)
      H.bytes(D.literal, size_t(Numel) * 4);
  }
  const nnc_train_spec &T = M.train;
  H.u64(uint64_t(T.present));
  H.data(T.data);
  H.data(T.test);
  H.u64(uint64_t(T.optimizer));
  for (double V : {T.lr, T.momentum, T.weight_decay, T.beta1, T.beta2, T.eps,
                   T.schedule_gamma, T.validation})
    H.f64(V);
  for (int64_t V : {T.epochs, int64_t(T.shuffle), int64_t(T.seed),
                    int64_t(T.schedule), T.schedule_every, T.schedule_warmup,
                    int64_t(T.num_augments), T.early_stop})
    H.u64(uint64_t(V));
  for (int32_t K = 0; K < T.num_augments && T.augments; ++K) {
    H.u64(uint64_t(T.augments[K].kind));
    H.u64(uint64_t(T.augments[K].padding));
  }
  return H.H;
}

uint64_t startFingerprint(ModelInstance &I, const TrainProgress &P) {
  Hasher H;
  for (SlotBuffer &S : I.slots())
    if (S.role() == NNC_SLOT_PARAM || S.role() == NNC_SLOT_STATE ||
        S.role() == NNC_SLOT_BUFFER)
      H.bytes(S.Data, S.bytes());
  H.u64(uint64_t(P.Epoch));
  H.u64(P.Seed);
  std::string Stream = P.ShuffleRng.saveState();
  H.bytes(Stream.data(), Stream.size());
  H.bytes(P.Order.data(), P.Order.size() * sizeof(int64_t));
  H.f64(P.BestValLoss);
  return H.H;
}

} // namespace nnc::rt
