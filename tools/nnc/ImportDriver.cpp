//===- ImportDriver.cpp - ONNX models and weight files in the driver ------===//
#include "ImportDriver.h"

#include "nnc/Runtime/TensorFile.h"

#include <llvm/ADT/SmallString.h>
#include <llvm/Support/FormatVariadic.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/raw_ostream.h>

#include <cstring>
#include <map>

using namespace nnc;

std::string nnc::weightsPathFor(const std::string &Output,
                                const std::string &Input) {
  llvm::SmallString<256> Path(Output.empty() || Output == "-"
                                  ? llvm::sys::path::filename(Input)
                                  : llvm::StringRef(Output));
  llvm::sys::path::replace_extension(Path, ".safetensors");
  return std::string(Path);
}

namespace {

/// Longest error message about an ONNX file, in bytes: the names it quotes
/// come from the file and may be of any length.
constexpr size_t MaxMessageBytes = 1024;

/// An importer's message made safe for a terminal: the names it quotes are
/// the file's bytes, so control characters are escaped (`\n`, `\x1b`)
/// instead of moving the cursor or starting a new line, and the message is
/// cut after MaxMessageBytes with "...".
std::string printableMessage(llvm::StringRef Msg) {
  std::string Out;
  for (unsigned char Ch : Msg) {
    if (Out.size() >= MaxMessageBytes) {
      Out += "...";
      break;
    }
    if (Ch == '\n')
      Out += "\\n";
    else if (Ch < 0x20 || Ch == 0x7f)
      Out += llvm::formatv("\\x{0:x-2}", unsigned(Ch)).str();
    else
      Out += char(Ch);
  }
  return Out;
}

} // namespace

std::optional<ImportedModel> nnc::importModel(const std::string &Input,
                                              llvm::StringRef Bytes,
                                              const std::string &WeightsFile) {
  llvm::Expected<ImportedModel> M =
      importOnnx(Bytes, WeightsFile, llvm::sys::path::stem(Input));
  if (!M) {
    llvm::errs() << Input << ": error: "
                 << printableMessage(llvm::toString(M.takeError())) << "\n";
    return std::nullopt;
  }
  return std::move(*M);
}

bool nnc::writeWeights(const ImportedModel &M, const std::string &Path) {
  if (M.Weights.empty())
    return true;
  std::vector<rt::TensorRef> Refs;
  for (const auto &[Name, T] : M.Weights) {
    bool F = T.Type.Elem == DType::F32;
    Refs.push_back(
        {Name, F ? rt::DType::F32 : rt::DType::I32,
         std::vector<int64_t>(T.Type.Dims.begin(), T.Type.Dims.end()),
         F ? static_cast<const void *>(T.F.data())
           : static_cast<const void *>(T.I.data())});
  }
  if (rt::Status S = rt::writeTensorFile(Path, Refs, {{"format", "nnc"}})) {
    llvm::errs() << "nnc: error: " << S.message() << "\n";
    return false;
  }
  return true;
}

namespace {

llvm::Error readError(const std::string &Msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), Msg);
}

/// The Graph tensor of a stored F32 or I32 tensor.
llvm::Expected<Tensor> toTensor(const std::string &Path,
                                const rt::StoredTensor &S) {
  if (S.Type != rt::DType::F32 && S.Type != rt::DType::I32)
    return readError(Path + ": tensor '" + S.Name + "' is " +
                     rt::dtypeName(S.Type) + "; load(...) reads F32 or I32");
  bool F = S.Type == rt::DType::F32;
  for (int64_t D : S.Shape)
    if (D <= 0)
      return readError(Path + ": tensor '" + S.Name + "' is empty");
  Tensor T(TensorType(F ? DType::F32 : DType::I32, S.Shape));
  std::memcpy(F ? static_cast<void *>(T.F.data())
                : static_cast<void *>(T.I.data()),
              S.Data.data(), S.Data.size());
  return T;
}

} // namespace

TensorReader
nnc::makeTensorReader(std::shared_ptr<const ImportedModel> Imported,
                      const std::string &WeightsFile) {
  auto Files = std::make_shared<std::map<std::string, rt::TensorFile>>();
  return [Imported, WeightsFile,
          Files](llvm::StringRef Path,
                 llvm::StringRef Name) -> llvm::Expected<Tensor> {
    if (Imported && llvm::sys::path::filename(Path) == WeightsFile) {
      for (const auto &[Key, T] : Imported->Weights)
        if (Key == Name)
          return T;
      return readError("the imported weights have no tensor '" + Name.str() +
                       "'");
    }
    auto It = Files->find(Path.str());
    if (It == Files->end()) {
      rt::Expected<rt::TensorFile> F = rt::readTensorFile(Path.str());
      if (!F)
        return readError(F.takeError().message());
      It = Files->emplace(Path.str(), std::move(*F)).first;
    }
    const rt::StoredTensor *S = It->second.find(Name);
    if (!S)
      return readError(Path.str() + ": no tensor '" + Name.str() + "'");
    return toTensor(Path.str(), *S);
  };
}
