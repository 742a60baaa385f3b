//===- ModuleSplitTest.cpp - Cutting a module for parallel compilation ----===//
#include "nnc/CodeGen/ModuleSplit.h"
#include "nnc/CodeGen/ParallelCodeGen.h"

#include <llvm/AsmParser/Parser.h>
#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/SourceMgr.h>
#include <llvm/Transforms/Utils/Cloning.h>

#include <gtest/gtest.h>

using namespace llvm;
using namespace nnc;

namespace {

// The shape of a lowered model: an entry the descriptor points to calls two
// kernels; `@a` has a task, a scratch buffer and a row table of its own,
// `@b` a bigger body; both share `@helper`, and `@c` is small.
const char *ModelIR = R"(
@desc = internal constant [1 x ptr] [ptr @entry]
@a.scratch = internal global [16 x float] zeroinitializer
@rows = private unnamed_addr constant [2 x i32] [i32 0, i32 4]
@c.scratch = internal global [4 x float] zeroinitializer

define i32 @main() {
  %p = load ptr, ptr @desc
  call void %p()
  ret i32 0
}

define internal void @entry() {
  call void @a()
  call void @b()
  call void @c()
  ret void
}

define internal void @a() {
  call void @a.task(ptr @a.scratch)
  %r = load i32, ptr @rows
  call void @helper(i32 %r)
  ret void
}

define internal void @a.task(ptr %s) {
  store float 1.0, ptr %s
  store float 2.0, ptr %s
  store float 3.0, ptr %s
  store float 4.0, ptr %s
  store float 5.0, ptr %s
  store float 6.0, ptr %s
  ret void
}

define internal void @b() {
  call void @helper(i32 1)
  call void @helper(i32 2)
  call void @helper(i32 3)
  call void @helper(i32 4)
  call void @helper(i32 5)
  call void @helper(i32 6)
  call void @helper(i32 7)
  call void @helper(i32 8)
  call void @helper(i32 9)
  call void @helper(i32 10)
  ret void
}

define internal void @helper(i32 %x) {
  ret void
}

define internal void @c() {
  store float 1.0, ptr @c.scratch
  ret void
}
)";

struct ModuleSplitTest : testing::Test {
  LLVMContext Ctx;
  std::unique_ptr<Module> M;
  void SetUp() override { parse(ModelIR); }
  /// Makes `IR` the module under test.
  void parse(const char *IR) {
    SMDiagnostic Err;
    M = parseAssemblyString(IR, Err, Ctx);
    ASSERT_TRUE(M) << Err.getMessage().str();
  }
  unsigned partOf(StringRef Name, const SplitPlan &Plan) {
    const GlobalValue *G = M->getNamedValue(Name);
    EXPECT_TRUE(G) << Name.str();
    return Plan.PartOf.lookup(G);
  }
};

TEST_F(ModuleSplitTest, PrivateGlobalsFollowTheirKernel) {
  SplitPlan Plan = planModuleSplit(*M, 2);
  ASSERT_EQ(Plan.NumParts, 2u);
  // `@a` and `@b` share `@helper`, so they and everything private to `@a`
  // are one group; the descriptor, its entry and `main` another.
  unsigned A = partOf("a", Plan);
  for (StringRef Name : {"a.task", "a.scratch", "rows", "helper", "b"})
    EXPECT_EQ(partOf(Name, Plan), A) << Name.str();
  EXPECT_EQ(partOf("desc", Plan), partOf("entry", Plan));
  EXPECT_EQ(partOf("c.scratch", Plan), partOf("c", Plan));
  // The biggest group goes first, and the rest balance against it.
  EXPECT_NE(partOf("entry", Plan), A);
  EXPECT_EQ(partOf("c", Plan), partOf("entry", Plan));
}

// Two kernels call one `noinline` body (a convolution shared by shape),
// which has a task of its own.
const char *SharedBodyIR = R"(
@desc = internal constant [1 x ptr] [ptr @entry]

define internal void @entry() {
  call void @k1()
  call void @k2()
  ret void
}

define internal void @k1() noinline {
  call void @body()
  ret void
}

define internal void @k2() noinline {
  call void @body()
  store float 1.0, ptr null
  ret void
}

define internal void @body() noinline {
  call void @body.task(ptr null)
  ret void
}

define internal void @body.task(ptr %s) {
  store float 1.0, ptr %s
  store float 2.0, ptr %s
  store float 3.0, ptr %s
  store float 4.0, ptr %s
  ret void
}
)";

TEST_F(ModuleSplitTest, NoInlineBodiesGoTheirOwnWay) {
  parse(SharedBodyIR);
  SplitPlan Plan = planModuleSplit(*M, 3);
  // The body is never inlined into its callers, so it is a group of its
  // own (with its task) rather than gluing both kernels into one.
  EXPECT_EQ(Plan.NumParts, 3u);
  EXPECT_EQ(partOf("body.task", Plan), partOf("body", Plan));
  EXPECT_NE(partOf("k1", Plan), partOf("body", Plan));
  EXPECT_NE(partOf("k2", Plan), partOf("body", Plan));
}

// A serial GEMM shared by two kernels: its wrapper calls its task, also
// `noinline`, with constant bounds, and nothing else calls the task.
const char *SingleCallerIR = R"(
@desc = internal constant [1 x ptr] [ptr @entry]

define internal void @entry() optnone noinline {
  call void @k1()
  call void @k2()
  ret void
}

define internal void @k1() noinline {
  call void @gemm()
  ret void
}

define internal void @k2() noinline {
  call void @gemm()
  ret void
}

define internal void @gemm() noinline {
  call void @gemm.task(ptr null, i64 0, i64 4)
  ret void
}

define internal void @gemm.task(ptr %c, i64 %lo, i64 %hi) noinline {
  store float 1.0, ptr %c
  store float 2.0, ptr %c
  store float 3.0, ptr %c
  store float 4.0, ptr %c
  ret void
}
)";

TEST_F(ModuleSplitTest, ANoInlineFunctionWithOneCallerStaysWithIt) {
  parse(SingleCallerIR);
  SplitPlan Plan = planModuleSplit(*M, 3);
  // The wrapper is shared by two kernels, so it is cut from them; its task
  // has one caller, so it is not cut from the wrapper.
  EXPECT_EQ(Plan.NumParts, 4u);
  EXPECT_EQ(partOf("gemm.task", Plan), partOf("gemm", Plan));
  EXPECT_NE(partOf("k1", Plan), partOf("gemm", Plan));
  EXPECT_NE(partOf("k2", Plan), partOf("gemm", Plan));
  EXPECT_NE(partOf("k1", Plan), partOf("k2", Plan));
}

// An entry that hands a task to the thread pool by its address: the task
// must not join the entries' part, which the back end compiles at its
// lowest level.
const char *EntryPassesATaskIR = R"(
@desc = internal constant [1 x ptr] [ptr @entry]

declare void @parallel_for(ptr, i64)

define internal void @entry() optnone noinline {
  call void @parallel_for(ptr @task, i64 4)
  call void @k()
  ret void
}

define internal void @task(i64 %i) noinline {
  ret void
}

define internal void @k() noinline {
  ret void
}
)";

TEST_F(ModuleSplitTest, AnEntryNeverTakesAFunctionWithIt) {
  parse(EntryPassesATaskIR);
  SplitPlan Plan = planModuleSplit(*M, 2);
  ASSERT_NE(Plan.StraightPart, NoPart);
  EXPECT_EQ(partOf("entry", Plan), Plan.StraightPart);
  EXPECT_NE(partOf("task", Plan), Plan.StraightPart);
  EXPECT_NE(partOf("k", Plan), Plan.StraightPart);
  // The task is then a hidden symbol the entry's part refers to.
  prepareSplit(*M, Plan);
  EXPECT_EQ(M->getFunction("task")->getLinkage(), GlobalValue::ExternalLinkage);
  EXPECT_EQ(M->getFunction("task")->getVisibility(),
            GlobalValue::HiddenVisibility);
}

TEST_F(ModuleSplitTest, OnePartKeepsEverythingTogether) {
  SplitPlan Plan = planModuleSplit(*M, 1);
  EXPECT_EQ(Plan.NumParts, 1u);
  for (const GlobalValue &G : M->global_values()) {
    if (!G.isDeclaration()) {
      EXPECT_EQ(Plan.PartOf.lookup(&G), 0u) << G.getName().str();
    }
  }
}

TEST_F(ModuleSplitTest, PartsAreValidAndCallAcrossThroughHiddenSymbols) {
  SplitPlan Plan = planModuleSplit(*M, 2);
  prepareSplit(*M, Plan);
  std::vector<PartOfGlobal> PartOf = partOfEachGlobal(*M, Plan);
  std::vector<std::unique_ptr<Module>> Parts;
  for (unsigned I = 0; I < 2; ++I) {
    Parts.push_back(CloneModule(*M));
    ASSERT_FALSE(bool(keepPart(*Parts.back(), PartOf, I)));
  }
  // Called from the other part: linkable, not exported.
  Function *A = M->getFunction("a");
  EXPECT_TRUE(A->hasExternalLinkage());
  EXPECT_EQ(A->getVisibility(), GlobalValue::HiddenVisibility);
  // Called from its own part: stays private to it, so it can be inlined.
  EXPECT_TRUE(M->getFunction("helper")->hasLocalLinkage());
  EXPECT_TRUE(M->getFunction("c")->hasLocalLinkage());

  for (unsigned I = 0; I < 2; ++I) {
    std::string Errors;
    raw_string_ostream OS(Errors);
    EXPECT_FALSE(verifyModule(*Parts[I], &OS)) << Errors;
    // Each definition is in exactly the part the plan says.
    for (const GlobalValue &G : M->global_values()) {
      if (G.isDeclaration())
        continue;
      const GlobalValue *Copy = Parts[I]->getNamedValue(G.getName());
      ASSERT_TRUE(Copy) << G.getName().str();
      EXPECT_EQ(!Copy->isDeclaration(), Plan.PartOf.lookup(&G) == I)
          << G.getName().str() << " in part " << I;
    }
  }
}

TEST_F(ModuleSplitTest, APartReadBackFromBitcodeHasOnlyItsBodies) {
  SplitPlan Plan = planModuleSplit(*M, 2);
  prepareSplit(*M, Plan);
  std::vector<PartOfGlobal> PartOf = partOfEachGlobal(*M, Plan);
  SmallVector<char, 0> Bitcode;
  raw_svector_ostream OS(Bitcode);
  WriteBitcodeToFile(*M, OS);
  for (unsigned I = 0; I < 2; ++I) {
    LLVMContext PartCtx;
    MemoryBufferRef Ref(StringRef(Bitcode.data(), Bitcode.size()), "part");
    auto Part = getLazyBitcodeModule(Ref, PartCtx);
    ASSERT_TRUE(bool(Part)) << toString(Part.takeError());
    ASSERT_FALSE(bool(keepPart(**Part, PartOf, I)));
    ASSERT_FALSE(bool((*Part)->materializeAll()));
    std::string Errors;
    raw_string_ostream VOS(Errors);
    EXPECT_FALSE(verifyModule(**Part, &VOS)) << Errors;
    for (const GlobalValue &G : M->global_values()) {
      if (G.isDeclaration())
        continue;
      const GlobalValue *Copy = (*Part)->getNamedValue(G.getName());
      ASSERT_TRUE(Copy) << G.getName().str();
      EXPECT_EQ(!Copy->isDeclaration(), Plan.PartOf.lookup(&G) == I)
          << G.getName().str() << " in part " << I;
    }
  }
}

TEST_F(ModuleSplitTest, KeepPartRefusesAnotherModule) {
  SplitPlan Plan = planModuleSplit(*M, 2);
  std::vector<PartOfGlobal> PartOf = partOfEachGlobal(*M, Plan);
  SMDiagnostic Err;
  auto Other =
      parseAssemblyString("define void @x() {\n  ret void\n}\n", Err, Ctx);
  ASSERT_TRUE(Other);
  Error E = keepPart(*Other, PartOf, 0);
  ASSERT_TRUE(bool(E));
  EXPECT_EQ(toString(std::move(E)),
            "module '<string>' is not a copy of the one planned: global 0 "
            "is 'x'");
}

// A loop costs more to compile than its instructions say (the loop passes
// and the vectorizer): a short loop outweighs a longer straight line.
const char *LoopIR = R"(
@desc = internal constant [1 x ptr] [ptr @entry]

define internal void @entry() optnone noinline {
  call void @loop(ptr null)
  call void @line(ptr null)
  ret void
}

define internal void @loop(ptr %p) noinline {
entry:
  br label %body
body:
  %i = phi i64 [ 0, %entry ], [ %n, %body ]
  %q = getelementptr float, ptr %p, i64 %i
  store float 1.0, ptr %q
  %n = add i64 %i, 1
  %c = icmp slt i64 %n, 64
  br i1 %c, label %body, label %exit, !llvm.loop !0
exit:
  ret void
}

define internal void @line(ptr %p) noinline {
  store float 1.0, ptr %p
  store float 2.0, ptr %p
  store float 3.0, ptr %p
  store float 4.0, ptr %p
  store float 5.0, ptr %p
  store float 6.0, ptr %p
  store float 7.0, ptr %p
  store float 8.0, ptr %p
  store float 9.0, ptr %p
  store float 10.0, ptr %p
  ret void
}

!0 = distinct !{!0, !1}
!1 = !{!"llvm.loop.unroll.disable"}
)";

TEST_F(ModuleSplitTest, LoopsWeighMoreThanTheirInstructions) {
  parse(LoopIR);
  SplitPlan Plan = planModuleSplit(*M, 2);
  ASSERT_EQ(Plan.NumParts, 3u);
  unsigned Loop = partOf("loop", Plan), Line = partOf("line", Plan),
           Entry = partOf("entry", Plan);
  // 8 instructions and a loop against 11 without one; the entry's 3
  // count half again as `optnone`.
  EXPECT_EQ(Plan.Weight[Loop], 8u + 90u);
  EXPECT_EQ(Plan.Weight[Line], 11u);
  EXPECT_EQ(Plan.Weight[Entry], 4u);
  EXPECT_EQ(Loop, 0u) << "the heaviest group goes first";
  // The `optnone` entry has a part of its own, for the back end's lowest
  // level.
  EXPECT_EQ(Plan.StraightPart, Entry);
  EXPECT_NE(Loop, Line);
}

TEST_F(ModuleSplitTest, TheEntriesHaveAPartOfTheirOwnIfThereAreTwo) {
  parse(LoopIR);
  SplitPlan One = planModuleSplit(*M, 1);
  EXPECT_EQ(One.StraightPart, NoPart);
  // On top of the parts asked for: the other groups share them.
  SplitPlan Two = planModuleSplit(*M, 2);
  ASSERT_EQ(Two.NumParts, 3u);
  EXPECT_EQ(Two.StraightPart, 2u);
  EXPECT_EQ(partOf("entry", Two), 2u);
  EXPECT_NE(partOf("loop", Two), partOf("line", Two));
}

TEST_F(ModuleSplitTest, SmallModulesCompileAsOneObject) {
  nnc::TargetOptions Opts;
  Opts.Threads = 4;
  auto Objects = compileToObjects(*M, Opts);
  ASSERT_TRUE(bool(Objects)) << toString(Objects.takeError());
  EXPECT_EQ(Objects->size(), 1u);
}

} // namespace
