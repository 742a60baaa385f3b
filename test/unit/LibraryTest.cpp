//===- LibraryTest.cpp - The C inference library's module and header -----===//
//
// `--emit=lib` (CodeGen/Library.h) is run end to end by the lit tests, which
// link its objects with `cc` and compare them with `EXE predict`. Here, the
// parts a lit test reaches only through odd `.nn` files: the lowered
// module's linkage (one external function, the weights as constants,
// nothing left undefined), each refusal of lowerLibrary, and the header's
// naming rules — keywords, colliding constants, comment-safe paths, dtypes.
//
//===----------------------------------------------------------------------===//
#include "nnc/CodeGen/Library.h"

#include <llvm/ADT/StringRef.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/GlobalVariable.h>

#include <gtest/gtest.h>

#include <bit>

using namespace nnc;

namespace {

/// model m { input x : f32[4, 3]; param W : f32[3, 2]; output y = x @ W }
/// plus whatever a test adds.
struct Model {
  Graph G{"m"};
  Node *X, *W, *Y;

  Model() {
    X = leaf(OpKind::Input, TensorType(DType::F32, {4, 3}), "x", G.Inputs);
    W = leaf(OpKind::Param, TensorType(DType::F32, {3, 2}), "W", G.Params);
    Y = G.create(OpKind::MatMul, TensorType(DType::F32, {4, 2}), {X, W});
    Y->Name = "y";
    G.Outputs.push_back({"y", Y, {}});
    G.BatchSize = 4;
  }
  Node *leaf(OpKind K, TensorType T, const char *Name,
             std::vector<Node *> &List) {
    Node *N = G.create(K, std::move(T), {});
    N->Name = Name;
    List.push_back(N);
    return N;
  }
  LibraryWeights weights() const {
    LibraryWeights Weights;
    for (int I = 0; I < 6; ++I)
      Weights["W"].push_back(std::bit_cast<uint32_t>(float(I)));
    return Weights;
  }
};

std::string errorOf(llvm::Error E) { return llvm::toString(std::move(E)); }

LibraryHeaderInfo info(std::string Model = "m") {
  LibraryHeaderInfo I;
  I.Model = std::move(Model);
  I.ObjectName = "m.o";
  I.HeaderName = "m.h";
  I.Source = "m.nn";
  I.Cpu = "x86-64";
  I.StaticBytes = 1234;
  return I;
}

TEST(Library, OneExternalFunctionAndConstantWeights) {
  Model M;
  llvm::LLVMContext Ctx;
  auto Lib = lowerLibrary("m", M.G, M.weights(), Ctx);
  ASSERT_TRUE(bool(Lib)) << errorOf(Lib.takeError());
  std::vector<std::string> External;
  for (const llvm::Function &F : *Lib->M) {
    EXPECT_FALSE(F.isDeclaration() && !F.isIntrinsic())
        << F.getName().str() << " is left undefined";
    if (!F.hasLocalLinkage() && !F.isDeclaration())
      External.push_back(F.getName().str());
  }
  EXPECT_EQ(External, std::vector<std::string>{"m_predict"});
  llvm::Function *Predict = Lib->M->getFunction("m_predict");
  ASSERT_TRUE(Predict);
  EXPECT_EQ(Predict->arg_size(), 2u); // x, then y
  for (const llvm::GlobalVariable &GV : Lib->M->globals())
    EXPECT_TRUE(GV.hasLocalLinkage()) << GV.getName().str();
  const llvm::GlobalVariable *W = Lib->M->getNamedGlobal("weights.W");
  ASSERT_TRUE(W);
  EXPECT_TRUE(W->isConstant());
  auto *Data = llvm::dyn_cast<llvm::ConstantDataArray>(W->getInitializer());
  ASSERT_TRUE(Data);
  ASSERT_EQ(Data->getNumElements(), 6u);
  EXPECT_EQ(Data->getElementAsFloat(5), 5.0f);
  // Static storage: the copies of x and y (48 and 32 bytes), the arena and
  // the busy flag (4 bytes).
  EXPECT_GE(Lib->StaticBytes, 48 + 32 + 4);
}

TEST(Library, Refusals) {
  llvm::LLVMContext Ctx;
  {
    Model M;
    M.G.Outputs.clear();
    auto Lib = lowerLibrary("m", M.G, M.weights(), Ctx);
    ASSERT_FALSE(bool(Lib));
    EXPECT_EQ(errorOf(Lib.takeError()),
              "model 'm' has no outputs: an inference library computes the "
              "model's `output`s");
  }
  {
    Model M;
    Node *T = M.leaf(OpKind::Target, TensorType(DType::F32, {4, 2}), "t",
                     M.G.Targets);
    Node *E = M.G.create(OpKind::Sub, M.Y->Type, {M.Y, T});
    M.G.Outputs.push_back({"err", E, {}});
    std::optional<OutputTarget> Use = outputNeedingTarget(M.G);
    ASSERT_TRUE(Use.has_value());
    EXPECT_EQ(Use->Output->Name, "err");
    EXPECT_EQ(Use->Target, T);
    auto Lib = lowerLibrary("m", M.G, M.weights(), Ctx);
    ASSERT_FALSE(bool(Lib));
    EXPECT_EQ(errorOf(Lib.takeError()),
              "output 'err' of model 'm' needs target 't': an inference "
              "library takes only the model's inputs");
  }
  {
    Model M;
    LibraryWeights Short = M.weights();
    Short["W"].pop_back();
    auto Lib = lowerLibrary("m", M.G, Short, Ctx);
    ASSERT_FALSE(bool(Lib));
    EXPECT_EQ(errorOf(Lib.takeError()), "no weights of 6 elements for 'W'");
  }
}

TEST(Library, HeaderDeclaresTheFunctionAndTheShapes) {
  Model M;
  auto H = libraryHeader(M.G, info());
  ASSERT_TRUE(bool(H)) << errorOf(H.takeError());
  llvm::StringRef Text = *H;
  EXPECT_TRUE(Text.starts_with("/* m.h - the inference library of model 'm'"));
  EXPECT_TRUE(Text.contains("\nint m_predict(const float *x, float *y);\n"));
  EXPECT_TRUE(Text.contains("#define M_BATCH 4\n"));
  EXPECT_TRUE(Text.contains("/* y: f32[4, 2], output */\n"
                            "#define M_Y_SIZE 8 /* elements */\n"
                            "#define M_Y_RANK 2\n"
                            "#define M_Y_DIM0 4\n"
                            "#define M_Y_DIM1 2\n"));
  EXPECT_TRUE(Text.contains(" 1234\n * bytes, is static storage in m.o") ||
              Text.contains(" 1234 bytes, is static storage in m.o"));
  EXPECT_FALSE(Text.contains("stdint.h")) << "no i32 tensor";
  EXPECT_TRUE(Text.ends_with("#endif /* NNC_LIB_M_H */\n"));
}

TEST(Library, HeaderNamesAreValidC) {
  Model M;
  // An i32 input named after a keyword, and an i32 output.
  Node *K =
      M.leaf(OpKind::Input, TensorType(DType::I32, {4}), "class", M.G.Inputs);
  M.G.Outputs.push_back({"static", K, {}});
  // A source path that would end the comment early, and a control byte.
  LibraryHeaderInfo I = info();
  I.Source = "odd*/dir/\x01m.nn";
  auto H = libraryHeader(M.G, I);
  ASSERT_TRUE(bool(H)) << errorOf(H.takeError());
  llvm::StringRef Text = *H;
  EXPECT_TRUE(Text.contains("#include <stdint.h>"));
  EXPECT_TRUE(Text.contains("int m_predict(const float *x, const int32_t "
                            "*class_, float *y, int32_t *static_);"));
  EXPECT_TRUE(Text.contains("odd* /dir/?m.nn"));
  // The opening comment closes once, at its end.
  size_t Close = Text.find("*/");
  EXPECT_EQ(Text.substr(Close, 4), "*/\n#");
}

TEST(Library, HeaderConstantsMustBeDistinct) {
  Model M;
  M.G.Outputs.push_back({"X", M.Y, {}});
  auto H = libraryHeader(M.G, info());
  ASSERT_FALSE(bool(H));
  EXPECT_EQ(errorOf(H.takeError()),
            "input 'x' and output 'X' would both define M_X_SIZE in the "
            "header; rename one of them");
  // Names that only look alike in part do not collide.
  Model N;
  N.G.Outputs.push_back({"x_size", N.Y, {}});
  N.G.Outputs.push_back({"batch", N.Y, {}});
  EXPECT_TRUE(bool(libraryHeader(N.G, info())));
}

} // namespace
