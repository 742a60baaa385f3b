//===- MergeSimilarTest.cpp - One body for functions that differ in sizes -===//
#include "nnc/CodeGen/Target.h"

#include <llvm/AsmParser/Parser.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/SourceMgr.h>
#include <llvm/Support/raw_ostream.h>

#include <gtest/gtest.h>

#include <string>

using namespace llvm;
using namespace nnc;

namespace {

/// A kernel of 12 instructions: Out[i] = In[i OP STRIDE] * SCALE for
/// i < ROWS; the stride is ROWS unless given. `LoopMD` is the loop's
/// metadata (`!0`, defined by the caller), if any.
std::string kernel(const std::string &Name, const std::string &Stride,
                   const std::string &Scale, const std::string &RowOp = "mul",
                   std::string Rows = "", const std::string &LoopMD = "") {
  if (Rows.empty())
    Rows = Stride;
  return "define internal void @" + Name +
         "(ptr noalias %out, ptr noalias %in) {\n"
         "entry:\n"
         "  br label %loop\n"
         "loop:\n"
         "  %i = phi i64 [ 0, %entry ], [ %next, %loop ]\n"
         "  %row = " +
         RowOp + " i64 %i, " + Stride +
         "\n"
         "  %src = getelementptr inbounds float, ptr %in, i64 %row\n"
         "  %v = load float, ptr %src\n"
         "  %s = fmul contract float %v, " +
         Scale +
         "\n"
         "  %dst = getelementptr inbounds float, ptr %out, i64 %i\n"
         "  store float %s, ptr %dst\n"
         "  %next = add nuw nsw i64 %i, 1\n"
         "  %more = icmp slt i64 %next, " +
         Rows +
         "\n"
         "  br i1 %more, label %loop, label %exit" +
         (LoopMD.empty() ? "" : ", !llvm.loop " + LoopMD) +
         "\n"
         "exit:\n"
         "  ret void\n"
         "}\n";
}

std::unique_ptr<Module> parse(LLVMContext &Ctx, const std::string &IR) {
  SMDiagnostic Err;
  auto M = parseAssemblyString(IR, Err, Ctx);
  if (!M) {
    std::string Message;
    raw_string_ostream OS(Message);
    Err.print("MergeSimilarTest", OS);
    ADD_FAILURE() << Message;
  }
  return M;
}

std::string print(const Module &M) {
  std::string Text;
  raw_string_ostream OS(Text);
  M.print(OS, nullptr);
  return Text;
}

TEST(MergeSimilar, KernelsDifferingInConstantsShareOneBody) {
  LLVMContext Ctx;
  auto M = parse(Ctx, kernel("k1", "100", "0.5") + kernel("k2", "144", "0.25") +
                          "define void @run(ptr %a, ptr %b) {\n"
                          "  call void @k1(ptr %a, ptr %b)\n"
                          "  call void @k2(ptr %a, ptr %b)\n"
                          "  ret void\n"
                          "}\n");
  ASSERT_TRUE(M);
  EXPECT_EQ(mergeSimilarFunctions(*M), 1u);
  EXPECT_FALSE(verifyModule(*M, &errs()));
  // Both uses of the trip count differ alike: one argument; the scale
  // another. Only direct calls: the members are gone.
  Function *Body = M->getFunction("k1.merged");
  ASSERT_TRUE(Body);
  EXPECT_EQ(Body->arg_size(), 4u);
  EXPECT_TRUE(Body->hasFnAttribute(Attribute::NoInline));
  EXPECT_FALSE(M->getFunction("k1"));
  EXPECT_FALSE(M->getFunction("k2"));
  std::string Text = print(*M);
  EXPECT_NE(Text.find("call void @k1.merged(ptr %a, ptr %b, i64 100, float "
                      "5.000000e-01)"),
            std::string::npos)
      << Text;
  EXPECT_NE(Text.find("call void @k1.merged(ptr %a, ptr %b, i64 144, float "
                      "2.500000e-01)"),
            std::string::npos)
      << Text;
}

TEST(MergeSimilar, ATaskWhoseAddressIsTakenStaysAsAStub) {
  LLVMContext Ctx;
  auto M = parse(Ctx, kernel("t1", "128", "2.0") + kernel("t2", "256", "2.0") +
                          "declare void @parallel_for(ptr)\n"
                          "define void @run() {\n"
                          "  call void @parallel_for(ptr @t1)\n"
                          "  call void @parallel_for(ptr @t2)\n"
                          "  ret void\n"
                          "}\n");
  ASSERT_TRUE(M);
  EXPECT_EQ(mergeSimilarFunctions(*M), 1u);
  EXPECT_FALSE(verifyModule(*M, &errs()));
  ASSERT_TRUE(M->getFunction("t1.merged"));
  for (const char *Name : {"t1", "t2"}) {
    Function *Stub = M->getFunction(Name);
    ASSERT_TRUE(Stub) << Name;
    EXPECT_TRUE(Stub->hasLocalLinkage());
    ASSERT_EQ(Stub->getInstructionCount(), 2u) << Name; // call, ret
    auto *Call = cast<CallInst>(&Stub->front().front());
    EXPECT_EQ(Call->getCalledFunction(), M->getFunction("t1.merged"));
    EXPECT_EQ(cast<ConstantInt>(Call->getArgOperand(2))->getZExtValue(),
              std::string(Name) == "t1" ? 128u : 256u);
  }
}

TEST(MergeSimilar, CallersMergeOnceTheirCalleesHave) {
  LLVMContext Ctx;
  // c1 and c2 differ only in the kernel they call; once k1 and k2 share
  // a body, they differ in the constants they pass to it.
  auto Caller = [](const std::string &Name, const std::string &Kernel) {
    std::string Body = "define internal void @" + Name + "(ptr %a, ptr %b) {\n";
    for (int K = 0; K < 10; ++K)
      Body += "  call void @" + Kernel + "(ptr %a, ptr %b)\n";
    return Body + "  ret void\n}\n";
  };
  auto M = parse(Ctx, kernel("k1", "100", "0.5") + kernel("k2", "144", "0.5") +
                          Caller("c1", "k1") + Caller("c2", "k2") +
                          "define void @run(ptr %a, ptr %b) {\n"
                          "  call void @c1(ptr %a, ptr %b)\n"
                          "  call void @c2(ptr %a, ptr %b)\n"
                          "  ret void\n"
                          "}\n");
  ASSERT_TRUE(M);
  EXPECT_EQ(mergeSimilarFunctions(*M), 2u);
  EXPECT_FALSE(verifyModule(*M, &errs()));
  ASSERT_TRUE(M->getFunction("c1.merged"));
  EXPECT_FALSE(M->getFunction("c1"));
  EXPECT_FALSE(M->getFunction("c2"));
  std::string Text = print(*M);
  EXPECT_NE(Text.find("call void @c1.merged(ptr %a, ptr %b, i64 144)"),
            std::string::npos)
      << Text;
}

TEST(MergeSimilar, ShortLoopsTheVectorizerMayNotTakeMerge) {
  LLVMContext Ctx;
  // 8 and 16 iterations, but scalar by request: the count may vary.
  auto M =
      parse(Ctx, kernel("e1", "8", "0.5", "add", "", "!0") +
                     kernel("e2", "16", "0.5", "add", "", "!0") +
                     "define void @run(ptr %a, ptr %b) {\n"
                     "  call void @e1(ptr %a, ptr %b)\n"
                     "  call void @e2(ptr %a, ptr %b)\n"
                     "  ret void\n"
                     "}\n"
                     "!0 = distinct !{!0, !1}\n"
                     "!1 = !{!\"llvm.loop.vectorize.enable\", i1 false}\n");
  ASSERT_TRUE(M);
  EXPECT_EQ(mergeSimilarFunctions(*M), 1u);
  EXPECT_FALSE(verifyModule(*M, &errs()));
  EXPECT_TRUE(M->getFunction("e1.merged"));
}

TEST(MergeSimilar, LeavesWhatMustStayConstant) {
  LLVMContext Ctx;
  // Divisors (a divide instruction instead of a multiply), loops of
  // fewer than 64 iterations, unit strides, calls of different functions,
  // and functions too small to matter.
  auto Calls = [](const std::string &Name, const std::string &Callee,
                  int Count) {
    std::string Body = "define internal void @" + Name + "() {\n";
    for (int K = 0; K < Count; ++K)
      Body += "  call void @" + Callee + "()\n";
    return Body + "  ret void\n}\n";
  };
  auto M = parse(Ctx, kernel("d1", "70", "0.5", "udiv") +
                          kernel("d2", "90", "0.5", "udiv") +
                          kernel("short1", "16", "0.5", "add") +
                          kernel("short2", "100", "0.5", "add") +
                          kernel("unit1", "1", "0.5", "mul", "100") +
                          kernel("unit2", "8", "0.5", "mul", "100") +
                          "declare void @f()\ndeclare void @g()\n" +
                          Calls("f10", "f", 10) + Calls("g10", "g", 10) +
                          "define internal void @s1() {\n"
                          "  %x = add i32 1, 2\n  ret void\n}\n"
                          "define internal void @s2() {\n"
                          "  %x = add i32 1, 3\n  ret void\n}\n"
                          "define void @run(ptr %a, ptr %b) {\n"
                          "  call void @d1(ptr %a, ptr %b)\n"
                          "  call void @d2(ptr %a, ptr %b)\n"
                          "  call void @short1(ptr %a, ptr %b)\n"
                          "  call void @short2(ptr %a, ptr %b)\n"
                          "  call void @unit1(ptr %a, ptr %b)\n"
                          "  call void @unit2(ptr %a, ptr %b)\n"
                          "  call void @f10()\n"
                          "  call void @g10()\n"
                          "  call void @s1()\n"
                          "  call void @s2()\n"
                          "  ret void\n"
                          "}\n");
  ASSERT_TRUE(M);
  EXPECT_EQ(mergeSimilarFunctions(*M), 0u);
  for (const char *Name : {"d1", "d2", "short1", "short2", "unit1", "unit2",
                           "f10", "g10", "s1", "s2"})
    EXPECT_TRUE(M->getFunction(Name)) << Name;
}

} // namespace
