//===- ModuleSplitTest.cpp - Cutting a module for parallel compilation ----===//
#include "nnc/CodeGen/ModuleSplit.h"
#include "nnc/CodeGen/ParallelCodeGen.h"

#include <llvm/AsmParser/Parser.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/SourceMgr.h>

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
  void SetUp() override {
    SMDiagnostic Err;
    M = parseAssemblyString(ModelIR, Err, Ctx);
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
  SMDiagnostic Err;
  M = parseAssemblyString(SharedBodyIR, Err, Ctx);
  ASSERT_TRUE(M) << Err.getMessage().str();
  SplitPlan Plan = planModuleSplit(*M, 3);
  // The body is never inlined into its callers, so it is a group of its
  // own (with its task) rather than gluing both kernels into one.
  EXPECT_EQ(Plan.NumParts, 3u);
  EXPECT_EQ(partOf("body.task", Plan), partOf("body", Plan));
  EXPECT_NE(partOf("k1", Plan), partOf("body", Plan));
  EXPECT_NE(partOf("k2", Plan), partOf("body", Plan));
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
  auto Parts = splitModule(*M, Plan);
  ASSERT_EQ(Parts.size(), 2u);
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

TEST_F(ModuleSplitTest, SmallModulesCompileAsOneObject) {
  nnc::TargetOptions Opts;
  Opts.Threads = 4;
  auto Objects = compileToObjects(*M, Opts);
  ASSERT_TRUE(bool(Objects)) << toString(Objects.takeError());
  EXPECT_EQ(Objects->size(), 1u);
}

} // namespace
