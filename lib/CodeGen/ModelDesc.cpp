//===- ModelDesc.cpp - The nnc_model_desc global --------------------------===//
//
// Writes the runtime's view of the model (ModelABI.h) as LLVM constants: the
// slot table (names, roles, dtypes, dims, initializers, literal values, how
// each param feeds a layer's units), the
// train spec from the `train` block (with its schedule, augment list,
// validation fraction and patience) and the entry-point pointers. The LLVM
// struct types below mirror the C structs field by field; LLVM lays out
// non-packed structs with the same natural alignment as the C ABI, and the
// unit tests read the descriptor back through the C header to prove it.
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "nnc/CodeGen/CodeGen.h"
#include "nnc/CodeGen/InitializerSlot.h"
#include "nnc/Graph/Module.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/DerivedTypes.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/Path.h>

using namespace llvm;
using namespace nnc;
using namespace nnc::codegen;

namespace {

// nnc_file_dtype mirrors FileType value for value.
static_assert(int(FileType::F64) == NNC_FILE_F64 &&
              int(FileType::I64) == NNC_FILE_I64 &&
              int(FileType::U64) == NNC_FILE_U64 &&
              int(FileType::Bool) == NNC_FILE_BOOL);

class DescBuilder {
public:
  explicit DescBuilder(llvm::Module &M)
      : M(M), Ctx(M.getContext()), Ptr(PointerType::getUnqual(Ctx)),
        I32(Type::getInt32Ty(Ctx)), I64(Type::getInt64Ty(Ctx)),
        F64(Type::getDoubleTy(Ctx)) {
    // struct nnc_slot
    SlotTy = StructType::create(
        Ctx, {Ptr, I32, I32, I32, Ptr, I32, F64, F64, Ptr, I32, I32},
        "nnc_slot");
    // struct nnc_data_spec
    DataTy = StructType::create(
        Ctx, {I32, Ptr, Ptr, F64, Ptr, I32, I32, Ptr, Ptr, I32},
        "nnc_data_spec");
    // struct nnc_augment
    AugmentTy = StructType::create(Ctx, {I32, I64}, "nnc_augment");
    // struct nnc_train_spec
    TrainTy = StructType::create(Ctx,
                                 {I32, DataTy, DataTy, I32, F64, F64, F64, F64,
                                  F64, F64, I64, I32, I64,
                                  // schedule, every, gamma, warmup
                                  I32, I64, F64, I64,
                                  // num_augments, augments
                                  I32, Ptr,
                                  // validation, early_stop
                                  F64, I64},
                                 "nnc_train_spec");
    // struct nnc_model
    ModelTy = StructType::create(
        Ctx, {I32, Ptr, I64, I32, Ptr, TrainTy, Ptr, Ptr, Ptr, Ptr, Ptr, Ptr},
        "nnc_model");
  }

  Constant *i32(int64_t V) { return ConstantInt::get(I32, V); }
  Constant *i64(int64_t V) { return ConstantInt::get(I64, V); }
  Constant *f64(double V) { return ConstantFP::get(F64, V); }
  Constant *null() { return ConstantPointerNull::get(cast<PointerType>(Ptr)); }

  /// A private NUL-terminated string, or null for an empty one when
  /// `NullIfEmpty`.
  Constant *str(StringRef S, bool NullIfEmpty = false) {
    if (S.empty() && NullIfEmpty)
      return null();
    auto *Init = ConstantDataArray::getString(Ctx, S);
    return new GlobalVariable(M, Init->getType(), true,
                              GlobalValue::PrivateLinkage, Init, ".str");
  }

  /// A private array of i64, or null when empty.
  Constant *i64Array(ArrayRef<int64_t> Values, const Twine &Name) {
    if (Values.empty())
      return null();
    std::vector<uint64_t> Data(Values.begin(), Values.end());
    auto *Init = ConstantDataArray::get(Ctx, ArrayRef<uint64_t>(Data));
    return new GlobalVariable(M, Init->getType(), true,
                              GlobalValue::PrivateLinkage, Init, Name);
  }

  /// The slot's entry; `Use` is an nnc_param_use (params only).
  Constant *slot(const SlotInfo &S, int32_t Use) {
    int32_t InitKind = 0;
    double A = 0, B = 0;
    Constant *Literal = null();
    if (S.Role == NNC_SLOT_PARAM || S.Role == NNC_SLOT_BUFFER) {
      InitializerSlot Init = initializerSlot(*S.N);
      InitKind = Init.Slot.init_kind;
      A = Init.Slot.init_a;
      B = Init.Slot.init_b;
      if (!Init.Literal.empty())
        Literal = literal(S, Init.Literal);
    }
    return ConstantStruct::get(
        SlotTy,
        {str(S.Name), i32(S.Role), i32(int(S.Type.Elem)), i32(S.Type.rank()),
         i64Array(S.Type.Dims, ".dims"), i32(InitKind), f64(A), f64(B), Literal,
         i32(Use), i32(int(S.Stored))});
  }

  Constant *data(const DataSpec *D) {
    if (!D || D->Kind == DataSpec::None)
      return ConstantStruct::get(DataTy,
                                 {i32(0), null(), null(), f64(0), null(),
                                  i32(0), i32(0), null(), null(), i32(0)});
    int32_t Kind = D->Kind == DataSpec::Idx ? 1 : 2;
    return ConstantStruct::get(
        DataTy, {i32(Kind), str(absolute(D->Images), true),
                 str(absolute(D->Labels), true), f64(D->Scale),
                 str(absolute(D->Path), true), i32(D->InputCols.size()),
                 i32(D->TargetCols.size()), i64Array(D->InputCols, ".cols"),
                 i64Array(D->TargetCols, ".cols"), i32(D->Header)});
  }

  /// The augment list as a private array, or null when empty.
  Constant *augments(ArrayRef<AugmentSpec> List) {
    if (List.empty())
      return null();
    std::vector<Constant *> Items;
    for (const AugmentSpec &A : List)
      Items.push_back(ConstantStruct::get(
          AugmentTy,
          {i32(A.Kind == AugmentSpec::RandomCrop ? NNC_AUGMENT_RANDOM_CROP
                                                 : NNC_AUGMENT_HFLIP),
           i64(A.Padding)}));
    auto *Ty = ArrayType::get(AugmentTy, Items.size());
    return new GlobalVariable(M, Ty, true, GlobalValue::PrivateLinkage,
                              ConstantArray::get(Ty, Items), "nnc_augments");
  }

  static int32_t scheduleKind(ScheduleSpec::KindT K) {
    switch (K) {
    case ScheduleSpec::Constant:
      return NNC_SCHEDULE_CONSTANT;
    case ScheduleSpec::Step:
      return NNC_SCHEDULE_STEP;
    case ScheduleSpec::Cosine:
      return NNC_SCHEDULE_COSINE;
    }
    return NNC_SCHEDULE_CONSTANT;
  }

  Constant *train(const TrainConfig *T) {
    TrainConfig Defaults;
    const TrainConfig &C = T ? *T : Defaults;
    const OptimizerSpec &O = C.Optimizer;
    const ScheduleSpec &S = C.Schedule;
    return ConstantStruct::get(TrainTy, {i32(T != nullptr),
                                         data(T ? &C.Data : nullptr),
                                         data(T ? &C.Test : nullptr),
                                         i32(O.Kind == OptimizerSpec::Adam),
                                         f64(O.Lr),
                                         f64(O.Momentum),
                                         f64(O.WeightDecay),
                                         f64(O.Beta1),
                                         f64(O.Beta2),
                                         f64(O.Eps),
                                         i64(C.Epochs),
                                         i32(C.Shuffle),
                                         i64(int64_t(C.Seed)),
                                         i32(scheduleKind(S.Kind)),
                                         i64(S.Every),
                                         f64(S.Gamma),
                                         i64(S.Warmup),
                                         i32(C.Augment.size()),
                                         augments(C.Augment),
                                         f64(C.Validation),
                                         i64(C.EarlyStop)});
  }

  Constant *fn(Function *F) { return F ? (Constant *)F : null(); }

  llvm::Module &M;
  LLVMContext &Ctx;
  Type *Ptr, *I32, *I64, *F64;
  StructType *SlotTy, *DataTy, *AugmentTy, *TrainTy, *ModelTy;

private:
  /// A literal initializer's elements (f32 or i32 bits), 64-byte aligned.
  Constant *literal(const SlotInfo &S, ArrayRef<uint32_t> Bits) {
    Constant *Init = S.Type.Elem == DType::F32
                         ? ConstantDataArray::getFP(Type::getFloatTy(Ctx), Bits)
                         : ConstantDataArray::get(Ctx, Bits);
    auto *GV = new GlobalVariable(M, Init->getType(), true,
                                  GlobalValue::PrivateLinkage, Init,
                                  "literal." + S.Name);
    GV->setAlignment(Align(64));
    return GV;
  }

  /// Data paths are stored absolute so the executable runs from anywhere.
  static std::string absolute(StringRef Path) {
    if (Path.empty())
      return "";
    SmallString<256> P(Path);
    sys::fs::make_absolute(P);
    sys::path::remove_dots(P, /*remove_dot_dot=*/true);
    return std::string(P);
  }
};

/// The forward nodes that use each node, with the operand index, in node
/// order.
using UserMap =
    DenseMap<const Node *, SmallVector<std::pair<const Node *, unsigned>, 2>>;

UserMap forwardUsers(const Graph &G) {
  UserMap Users;
  for (const auto &N : G.nodes())
    if (N->Role == NodeRole::Forward)
      for (unsigned I = 0; I < N->Operands.size(); ++I)
        Users[N->operand(I)].push_back({N.get(), I});
  return Users;
}

/// How the param `P` feeds a layer's units (enum nnc_param_use), seen from
/// its value `V` (P itself, or P viewed through transposes — `Transposed`
/// when their number is odd — and reshapes): the first forward use in node
/// order that is a matmul operand or a convolution's kernel. Only forward
/// nodes count: the backward graph's dy @ transpose(W) uses W the other
/// way round.
int32_t paramUse(const UserMap &Users, const Node *P, const Node *V,
                 bool Transposed) {
  auto It = Users.find(V);
  if (It == Users.end())
    return NNC_USE_NONE;
  for (auto [User, Index] : It->second) {
    // x @ W: W's columns are the units' weights; W @ x: its rows. A
    // transpose swaps the two. The runtime draws the param as stored, so
    // it must be the 2-D operand (a reshape kept [K, C], so changed nothing).
    if (User->Kind == OpKind::MatMul && V->Type.rank() == 2 &&
        P->Type.rank() == 2)
      return (Index == 1) != Transposed ? NNC_USE_MATMUL_COLUMNS
                                        : NNC_USE_MATMUL_ROWS;
    // A kernel [K, C, ...]; a 2-D param viewed as [K, C, 1, 1] is a
    // pointwise convolution, whose filter k is row k.
    if (User->Kind == OpKind::Conv2d && Index == 1 && !Transposed)
      return P->Type.rank() >= 3 ? NNC_USE_CONV_KERNEL : NNC_USE_MATMUL_ROWS;
    int32_t Through = NNC_USE_NONE;
    if (User->Kind == OpKind::Transpose)
      Through = paramUse(Users, P, User, !Transposed);
    // A reshape that keeps the kernel's [K, C] (conv1d views its [K, C, R]
    // kernel as [K, C, 1, R]) leaves every filter where it was.
    if (User->Kind == OpKind::Reshape && !Transposed && P->Type.rank() >= 2 &&
        User->Type.rank() >= 2 && User->dims()[0] == P->dims()[0] &&
        User->dims()[1] == P->dims()[1])
      Through = paramUse(Users, P, User, false);
    if (Through != NNC_USE_NONE)
      return Through;
  }
  return NNC_USE_NONE;
}

} // namespace

void codegen::emitModelDesc(llvm::Module &M, const Graph &G,
                            const SlotTable &Slots, const TrainConfig *Train,
                            const EntryPoints &Entries) {
  DescBuilder D(M);
  UserMap Users = forwardUsers(G);
  std::vector<Constant *> SlotInits;
  for (const SlotInfo &S : Slots.Slots)
    SlotInits.push_back(D.slot(S, S.Role == NNC_SLOT_PARAM
                                      ? paramUse(Users, S.N, S.N, false)
                                      : int32_t(NNC_USE_NONE)));
  auto *SlotArrayTy = ArrayType::get(D.SlotTy, SlotInits.size());
  auto *SlotArray = new GlobalVariable(
      M, SlotArrayTy, true, GlobalValue::PrivateLinkage,
      ConstantArray::get(SlotArrayTy, SlotInits), "nnc_slots");

  // A model without inputs or targets has no batch dimension; it runs as
  // one batch of one example. An unbatched model says so with batch 0.
  int64_t Batch = G.Unbatched ? 0 : G.BatchSize > 0 ? G.BatchSize : 1;
  Constant *Model = ConstantStruct::get(
      D.ModelTy,
      {D.i32(NNC_ABI_VERSION), D.str(G.name()), D.i64(Batch),
       D.i32(SlotInits.size()), SlotArray, D.train(Train),
       D.fn(Entries.TrainStep), D.fn(Entries.EvalStep), D.fn(Entries.Predict),
       D.fn(Entries.Grad), D.fn(Entries.TrainGrad), D.fn(Entries.ApplyUpdate)});
  new GlobalVariable(M, D.ModelTy, true, GlobalValue::ExternalLinkage, Model,
                     ModelDescSymbol);
}
