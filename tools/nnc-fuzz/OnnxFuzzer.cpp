//===- OnnxFuzzer.cpp - libFuzzer target: the ONNX importer ---------------===//
//
// `nnc M.onnx ...` hands the file's bytes to `importOnnx` (Import/Onnx.h),
// which parses them with the ONNX project's protobuf classes and writes
// `.nn` source plus weights; the driver then compiles that source like any
// other. The target does the same up to semantic analysis:
//   1. import; an error is expected for most inputs and ends the input;
//   2. parse the source: the importer writes only source the parser
//      accepts (names it cannot spell plainly are `quoted`), so a parse
//      error here is the importer's bug and aborts;
//   3. analyze it with the imported weights as `load(...)` reads them, as
//      the driver does; errors there (contradictory shapes the importer
//      could not see) are expected.
//
//===----------------------------------------------------------------------===//
#include "FuzzHelpers.h"
#include "nnc/Import/Onnx.h"
#include "nnc/Parse/Parser.h"
#include "nnc/Sema/Sema.h"
#include "nnc/Support/Diagnostics.h"

#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/raw_ostream.h>

using namespace nnc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  llvm::StringRef Bytes(reinterpret_cast<const char *>(Data), Size);
  llvm::Expected<ImportedModel> M =
      importOnnx(Bytes, "fuzz.safetensors", "fuzz");
  if (!M) {
    llvm::consumeError(M.takeError());
    return 0;
  }
  // Step 2. Diagnostics go to a string, printed if the parse fails.
  std::string Errors;
  llvm::raw_string_ostream ErrorsOS(Errors);
  DiagEngine Diags(ErrorsOS);
  unsigned Id = Diags.addBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(M->Source, "fuzz.onnx.nn"));
  std::unique_ptr<ast::File> File = parseFile(Diags, Id);
  fuzz::check(!Diags.hadErrors(), "the importer writes source that parses",
              Errors + "\n" + M->Source);

  // Step 3.
  TensorReader Read = [&](llvm::StringRef,
                          llvm::StringRef Name) -> llvm::Expected<Tensor> {
    for (const auto &[Key, T] : M->Weights)
      if (Key == Name)
        return T;
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "no weight '" + Name + "'");
  };
  (void)analyze(*File, Diags, "", Read);
  return 0;
}
