//===- KernelBuilder.h - Emitting the loops of one node's kernel ----------===//
//
// Private to the code generator. Every non-leaf graph node becomes one
// internal function
//
//   void @k<N>.<op>(ptr noalias %out, ptr noalias readonly %in0, ...)
//
// whose pointer arguments are the node's result buffer and the buffers of its
// operands (scalar constants are not passed: they are folded in as
// immediates); `createKernelFunction` gives it, and every function a kernel
// calls, its attributes. A KernelBuilder holds that function's IRBuilder and
// offers what every op group needs: typed loads and stores, counted loops,
// scratch accumulators and the scalar math of each elementwise op. The op
// groups (Elementwise.cpp, Reduce.cpp, LinAlg.cpp, Conv.cpp, Pool.cpp) each
// add the `emit...` functions declared at the bottom.
//
// Fast-math: every float op carries `contract` (so a*b+c becomes an FMA);
// only sum reductions add `reassoc`, which the vectorizer needs to split an
// accumulation into vector lanes (see docs/codegen.md).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_LIB_CODEGEN_KERNELBUILDER_H
#define NNC_LIB_CODEGEN_KERNELBUILDER_H

#include "nnc/Graph/Graph.h"

#include <llvm/ADT/STLFunctionalExtras.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include <functional>
#include <memory>
#include <optional>

namespace nnc::codegen {

/// True when `N` is passed to kernels as an immediate, not a buffer.
inline bool isImmediate(const Node *N) { return N->isScalarConst(); }

/// The node whose buffer the kernel of `N` receives for operand `I`:
/// usually the operand itself, but a matmul reads a `transpose` operand
/// straight from the transposed tensor with swapped strides, so the copy is
/// never made (LinAlg.cpp). The lowering passes and keeps alive this node.
const Node *kernelOperand(const Node &N, unsigned I);

/// True when the kernel of `N` reads operand `I` through a folded transpose.
inline bool readsTransposed(const Node &N, unsigned I) {
  return kernelOperand(N, I) != N.operand(I);
}

/// What the loop optimizers may do with one loop (LLVM loop metadata).
struct LoopHints {
  /// May be vectorized: off for strided accesses, which vectorize into
  /// gathers and scatters slower than scalar code on current x86 cores.
  bool Vectorize = true;
  /// May be unrolled by LLVM's unroller: only where asked (the scalar
  /// strided loops of pools with stride > 1). A loop the vectorizer takes
  /// is unrolled by it already (it interleaves several vectors per
  /// iteration), and the scalar copies of the convolutions are written
  /// unrolled (forLoopUnrolled); unrolling every loop again cost a third
  /// of resnet.nn's compile time and gained nothing measurable
  /// (docs/performance.md, "Compile time").
  bool Unroll = false;
};

/// `for (IV = Lo; IV < Hi; ++IV) Body(IV)` over i64 at B's insert point,
/// with blocks `Name` and `Name.exit`. Constant bounds give the loop a known
/// trip count and no guard; a constant empty range emits nothing. The body
/// may open blocks of its own: the latch is wherever it ends. `Hints` go
/// on the latch's branch.
void emitCountedLoop(llvm::IRBuilder<> &B, llvm::Value *Lo, llvm::Value *Hi,
                     llvm::function_ref<void(llvm::Value *)> Body,
                     const llvm::Twine &Name = "loop",
                     const LoopHints &Hints = {});

/// The `!llvm.loop` node for `Hints`; null when they allow everything.
llvm::MDNode *loopMetadata(llvm::LLVMContext &Ctx, const LoopHints &Hints);

/// The promises `createKernelFunction` writes on a function and its pointer
/// arguments; each must hold for every call the code generator emits. The
/// defaults are those of a node's kernel: its arguments are whole buffers
/// (slots, arena blocks, globals) that do not overlap. The functions a
/// kernel runs on parts of its buffers (row ranges, per-thread pieces, GEMM
/// and dot-product tiles) promise less.
struct KernelAttrs {
  /// Pointer arguments the function never writes through (`readonly`).
  llvm::SmallVector<unsigned, 4> ReadOnly = {};
  /// Parameters after the pointers (a range, a flag); they get no
  /// attributes.
  llvm::SmallVector<llvm::Type *, 2> Trailing = {};
  /// `noinline`: the optimizer processes the loops once, not once per
  /// caller, which keeps compile time low.
  bool NoInline = true;
  /// `mustprogress`: every loop terminates (they are all counted).
  bool MustProgress = true;
  /// `noalias` on every pointer: no argument overlaps another, the fact
  /// the vectorizer needs.
  bool NoAlias = true;
  /// What every pointer is known to be besides `nocapture`.
  enum PointerFacts {
    Unknown,
    /// `nonnull`.
    NonNull,
    /// `noundef nonnull align 64`: the start of a buffer, which the arena
    /// plan (MemoryPlan.h) and the runtime align to BufferAlignment.
    WholeBuffer,
  } Pointers = WholeBuffer;
};

/// Creates `void Name(ptr x NumPtrs, Attrs.Trailing...)`, internal and
/// `nounwind`, with the promises of `Attrs`: the one place where kernels
/// and the functions they call get their attributes.
llvm::Function *createKernelFunction(llvm::Module &M, const llvm::Twine &Name,
                                     unsigned NumPtrs,
                                     const KernelAttrs &Attrs = {});

/// A zero-initialized internal global of `Floats` floats, 64-byte aligned:
/// a kernel's scratch memory (one per kernel, so kernels never share it).
llvm::Value *staticBuffer(llvm::Module &M, int64_t Floats,
                          const llvm::Twine &Name);

class KernelBuilder;

/// Loop nests over at least this many elements are split over the
/// runtime's threads (below it the hand-off costs more than the loop)...
constexpr int64_t ParallelElements = int64_t(1) << 16;
/// ...into at most this many pieces: enough to balance a few threads.
constexpr int64_t ParallelPieces = 8;

/// Calls `RangeFn(Ptrs..., i64 lo, i64 hi)` so that it covers [0, Count):
/// once over everything, or, with `Parallel`, in at most `MaxPieces` equal
/// pieces through the runtime's `nnc_parallel_for`, by way of a trampoline
/// `<RangeFn>.task(ctx, begin, end)` that unpacks Ptrs from a context array
/// in KB's function. RangeFn decides what an index is (rows, planes, ...).
void emitRangeCall(KernelBuilder &KB, llvm::Function *RangeFn,
                   llvm::ArrayRef<llvm::Value *> Ptrs, int64_t Count,
                   bool Parallel, int64_t MaxPieces = ParallelPieces);

/// Runs `Body(KB', Lo, Hi)` so that it covers indices [0, Count) of the
/// node's result (what an index is, planes or channels, is Body's choice):
/// in KB's function when the nest is small (`Elements`, all the indices'
/// elements, below ParallelElements), or in
/// `<kernel>.<Suffix>(out, in..., i64 lo, i64 hi)` called on pieces
/// through `nnc_parallel_for` (emitRangeCall), which test what they store
/// as KB does (reportNonFiniteTo). Each index is computed by the same code
/// whichever thread runs it, so results never depend on the thread count.
/// A kernel that reads its operand through a fused prologue
/// (KB.OperandLoader, whose IR belongs to KB's function) stays in KB's
/// function.
void emitOverRange(
    KernelBuilder &KB, const llvm::Twine &Suffix, int64_t Count,
    int64_t Elements,
    llvm::function_ref<void(KernelBuilder &, llvm::Value *Lo, llvm::Value *Hi)>
        Body);

/// Calls `Name(Dst, Src)`, which `Body` writes on the module's first call:
/// the copies around a convolution's products (padded layouts, unfoldings,
/// transposes) are compiled once per shape and called by every kernel that
/// makes one, not inlined into each (this took a sixth off LLVM's time on
/// examples/resnet.nn). `Name` must say everything the body depends on
/// besides the module's vector unit; `Dst` and `Src` are different
/// buffers.
void callSharedCopy(KernelBuilder &KB, const llvm::Twine &Name,
                    llvm::Value *Dst, llvm::Value *Src,
                    llvm::function_ref<void(KernelBuilder &, llvm::Value *Dst,
                                            llvm::Value *Src)>
                        Body);

class NonFiniteAccumulator;

class KernelBuilder {
public:
  /// Starts the body of `F`, the kernel of `N`. `F`'s arguments are the
  /// result pointer followed by one pointer per non-immediate operand and,
  /// with `ReportsNonFinite`, the flag of `reportNonFiniteTo`.
  KernelBuilder(llvm::Function *F, const Node &N,
                bool ReportsNonFinite = false);

  /// Starts the body of a fused kernel `F` (FusedKernel.cpp) that computes
  /// `N` with explicit buffers: `Out` for the result and `In[I]` for
  /// operand I (null for an immediate, or for an operand `OperandLoader`
  /// computes).
  KernelBuilder(llvm::Function *F, const Node &N, llvm::Value *Out,
                llvm::ArrayRef<llvm::Value *> In);

  ~KernelBuilder();

  /// Ends the kernel with `ret void` (after setting the flag of
  /// `reportNonFiniteTo` if a value noted was not finite).
  void finish();

  /// Makes the kernel report whether a value it stores into its result is
  /// a NaN or an infinity (an update's new value; NonFinite.h):
  /// `noteStored` tests each such value, and `finish` sets the i32 at
  /// `Flag`, a pointer argument of the kernel, to 1 if one was.
  void reportNonFiniteTo(llvm::Value *Flag);
  /// With reportNonFiniteTo: tests `V`, a value stored into the result
  /// (floats only). Emitters whose kernels may compute a new value call it
  /// for every element they store (`storesAreChecked`, KernelDispatch.h);
  /// without a flag it does nothing.
  void noteStored(llvm::Value *V);
  /// The flag of reportNonFiniteTo, or null.
  llvm::Value *nonFiniteFlag() const { return NonFiniteFlag; }

  /// When set, `loadOperand(I, Idx)` asks it first; a non-null answer is
  /// the element. Fused kernels compute a reduction's operand on the fly
  /// this way instead of reading a stored buffer.
  std::function<llvm::Value *(unsigned, llvm::Value *)> OperandLoader;

  /// A fused kernel's epilogue that a convolution anchor runs image by
  /// image (FusedKernel.cpp, Conv.cpp): after storing image n of its
  /// result, the convolution calls `void Fn(ptr Ctx, i64 n, i64 n + 1)`,
  /// while the image is still in cache. Null when there is none; inside a
  /// convolution's shared body, the body's arguments (null at run time
  /// for a kernel without an epilogue).
  struct ImageHook {
    llvm::Value *Fn = nullptr, *Ctx = nullptr;
  } ImageEpilogue;

  const Node &node() const { return N; }
  llvm::IRBuilder<> &builder() { return B; }
  llvm::LLVMContext &context() { return B.getContext(); }

  /// The LLVM element type of a dtype (float or i32).
  llvm::Type *elemType(DType T);
  llvm::ConstantInt *i64(int64_t V) { return B.getInt64(V); }
  llvm::Constant *f32(double V);
  /// A constant of dtype `T`.
  llvm::Constant *constOf(DType T, double V);

  /// The result buffer.
  llvm::Value *out() const { return Out; }
  /// Operand `I`'s buffer, or null when it is an immediate.
  llvm::Value *in(unsigned I) const { return In[I]; }

  /// Element `Idx` of a buffer of dtype `T`.
  llvm::Value *load(DType T, llvm::Value *Ptr, llvm::Value *Idx);
  void store(llvm::Value *V, llvm::Value *Ptr, llvm::Value *Idx);
  /// Element `Idx` of operand `I` (the immediate itself for scalar consts).
  llvm::Value *loadOperand(unsigned I, llvm::Value *Idx);

  /// `for (IV = Lo; IV < Hi; ++IV) Body(IV)` over i64. Constant bounds give
  /// the loop a known trip count and no guard.
  void forLoop(llvm::Value *Lo, llvm::Value *Hi,
               llvm::function_ref<void(llvm::Value *)> Body) {
    emitCountedLoop(B, Lo, Hi, Body);
  }
  void forRange(int64_t N, llvm::function_ref<void(llvm::Value *)> Body) {
    forLoop(i64(0), i64(N), Body);
  }
  /// Nested loops over `Dims` (outermost first); Body gets one IV per dim.
  void forEach(llvm::ArrayRef<int64_t> Dims,
               llvm::function_ref<void(llvm::ArrayRef<llvm::Value *>)> Body);

  /// A scratch variable in the entry block (promoted to a register by
  /// mem2reg from -O1 on).
  llvm::AllocaInst *scratch(llvm::Type *T, const llvm::Twine &Name = "");

  /// Fills `Count` elements of the result with `V`.
  void fillOut(llvm::Value *V, int64_t Count);

  /// a + b in dtype `T`; `Reassoc` marks a float add as reorderable (sum
  /// reductions only).
  llvm::Value *add(DType T, llvm::Value *A, llvm::Value *Bv,
                   bool Reassoc = false);
  llvm::Value *mul(DType T, llvm::Value *A, llvm::Value *Bv);
  /// a > b in dtype `T` (ordered for floats: NaN never wins).
  llvm::Value *greater(DType T, llvm::Value *A, llvm::Value *Bv);
  /// Calls a one-argument float intrinsic such as llvm.exp.
  llvm::Value *intrinsic(llvm::Intrinsic::ID ID, llvm::Value *X);

private:
  llvm::Function *F;
  const Node &N;
  llvm::IRBuilder<> B;
  llvm::BasicBlock *Entry;
  llvm::Value *Out = nullptr;
  /// One per operand (null for an immediate): concat has any number.
  llvm::SmallVector<llvm::Value *, 2> In;
  /// reportNonFiniteTo's flag and the tests of the values stored.
  llvm::Value *NonFiniteFlag = nullptr;
  std::unique_ptr<NonFiniteAccumulator> NonFinite;
};

/// KB.forLoop, with `Hints` attached to the loop.
inline void forLoopWithHints(KernelBuilder &KB, llvm::Value *Lo,
                             llvm::Value *Hi, const LoopHints &Hints,
                             llvm::function_ref<void(llvm::Value *)> Body) {
  emitCountedLoop(KB.builder(), Lo, Hi, Body, "loop", Hints);
}

/// `for (IV = Lo; IV < Hi; ++IV) Body(IV)`, kept scalar, with the body
/// emitted `Factor` times per iteration by construction: a loop over whole
/// groups of `Factor`, then the rest (as copies when the bounds are
/// constants, else a loop). For strided scalar copies, whose neighbouring
/// copies then run in parallel and are paired by SLP, without asking
/// LLVM's unroller to unroll (and, for constant bounds, duplicate whole)
/// the loop.
void forLoopUnrolled(KernelBuilder &KB, llvm::Value *Lo, llvm::Value *Hi,
                     int64_t Factor,
                     llvm::function_ref<void(llvm::Value *)> Body);

// The kernels, by op group; each fills the kernel of `KB.node()`.
// KernelDispatch.cpp's emitKernelBody picks the emitter: elementwise ops by
// their class, the others by one switch over KernelOp.

/// Elementwise.cpp: unary, binary, compare and cast ops, and the copies
/// (broadcast, transpose, slice, reshape), all as strided loop nests.
void emitElementwise(KernelBuilder &KB);
/// Reduce.cpp: reduce_sum (IsMax false) / reduce_max (true).
void emitReduce(KernelBuilder &KB, bool IsMax);
/// Reduce.cpp: argmax (i32 indices) or argmax_mask (f32 0/1).
void emitArgMax(KernelBuilder &KB, bool Mask);
/// Reduce.cpp: channel_sum, the sum over every axis but 1.
void emitChannelSum(KernelBuilder &KB);
/// Reduce.cpp: softmax or log_softmax.
void emitSoftmax(KernelBuilder &KB, bool Log);
/// LinAlg.cpp: [M,K] x [K,N] through the shared register-tiled product
/// (Gemm.h), a transpose operand read in place.
void emitMatMul(KernelBuilder &KB);
/// Whether matmul `MatMul` runs as a product cut into blocks of rows on the
/// thread pool (Gemm.h, gemmRowsOnThreads), which its epilogue then
/// follows.
bool matMulRowsOnThreads(const Node &MatMul, llvm::Module &M);
/// LinAlg.cpp: one_hot.
void emitOneHot(KernelBuilder &KB);
/// Elementwise.cpp: concat, one block copy per operand and outer index.
void emitConcat(KernelBuilder &KB);
/// Conv.cpp: conv2d and its two gradient kernels.
void emitConv2d(KernelBuilder &KB);
void emitConv2dGradInput(KernelBuilder &KB);
void emitConv2dGradWeight(KernelBuilder &KB);
/// Whether convolution `Conv` (conv2d or conv2d_grad_input) runs its chunks
/// of images on the thread pool, and so the per-image epilogues it calls
/// (KernelBuilder::ImageEpilogue).
bool convRunsOnThreads(const Node &Conv);
/// Pool.cpp: maxpool2d / avgpool2d and their gradient kernels.
void emitPool(KernelBuilder &KB, bool IsMax);
void emitMaxPoolGrad(KernelBuilder &KB);
void emitAvgPoolGrad(KernelBuilder &KB);
/// DropoutMask.cpp: a counter-based dropout mask.
void emitDropoutMask(KernelBuilder &KB);

/// The scalar function of an elementwise op of class Unary, Binary or
/// Compare on already-loaded operands (`Args` in the operands' dtype).
llvm::Value *emitScalarOp(KernelBuilder &KB,
                          llvm::ArrayRef<llvm::Value *> Args);
/// The same for node `N`, which need not be `KB.node()` (fused kernels
/// compute several nodes in one loop body).
llvm::Value *emitScalarOp(KernelBuilder &KB, const Node &N,
                          llvm::ArrayRef<llvm::Value *> Args);

} // namespace nnc::codegen

#endif
