//===- Attributes.cpp - Typed access to an ONNX node's attributes ---------===//
//
// Each getter checks the attribute's type: a model whose `axis` is a string
// is malformed, and saying so beats reading a default. Models older than
// IR version 3 may leave an attribute's `type` unset; then the field that
// is filled in decides.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

#include <llvm/ADT/StringExtras.h>

#include <cmath>

using namespace nnc;
using namespace nnc::onnx_import;
using llvm::Error;
using llvm::Expected;

namespace {

using AP = onnx::AttributeProto;

bool isType(const AP &A, AP::AttributeType T) {
  if (A.type() != AP::UNDEFINED)
    return A.type() == T;
  switch (T) {
  case AP::FLOAT:
    return A.has_f();
  case AP::INT:
    return A.has_i();
  case AP::STRING:
    return A.has_s();
  case AP::TENSOR:
    return A.has_t();
  case AP::FLOATS:
    return A.floats_size() > 0;
  case AP::INTS:
    return A.ints_size() > 0;
  default:
    return false;
  }
}

} // namespace

const onnx::AttributeProto *Importer::attr(llvm::StringRef Name) const {
  for (const AP &A : Node->attribute())
    if (A.name() == Name)
      return &A;
  return nullptr;
}

Expected<int64_t> Importer::attrInt(llvm::StringRef Name,
                                    int64_t Default) const {
  const AP *A = attr(Name);
  if (!A)
    return Default;
  if (!isType(*A, AP::INT))
    return fail("attribute '" + Name + "' is not an integer");
  return A->i();
}

Expected<double> Importer::attrFloat(llvm::StringRef Name,
                                     double Default) const {
  const AP *A = attr(Name);
  if (!A)
    return Default;
  if (!isType(*A, AP::FLOAT))
    return fail("attribute '" + Name + "' is not a float");
  // The value becomes a literal of the generated source, which has none
  // for NaN or the infinities.
  if (!std::isfinite(A->f()))
    return fail("attribute '" + Name + "' is " +
                (std::isnan(A->f()) ? "NaN" : "infinite") +
                "; nnc needs a finite value");
  return double(A->f());
}

Expected<std::string> Importer::attrString(llvm::StringRef Name,
                                           llvm::StringRef Default) const {
  const AP *A = attr(Name);
  if (!A)
    return Default.str();
  if (!isType(*A, AP::STRING))
    return fail("attribute '" + Name + "' is not a string");
  return A->s();
}

Expected<std::optional<std::vector<int64_t>>>
Importer::attrInts(llvm::StringRef Name) const {
  const AP *A = attr(Name);
  if (!A)
    return std::nullopt;
  // An empty list has no field to tell its type by.
  if (A->type() != AP::INTS && !(A->type() == AP::UNDEFINED))
    return fail("attribute '" + Name + "' is not a list of integers");
  return std::vector<int64_t>(A->ints().begin(), A->ints().end());
}

Expected<std::optional<std::vector<double>>>
Importer::attrFloats(llvm::StringRef Name) const {
  const AP *A = attr(Name);
  if (!A)
    return std::nullopt;
  if (A->type() != AP::FLOATS && !(A->type() == AP::UNDEFINED))
    return fail("attribute '" + Name + "' is not a list of floats");
  return std::vector<double>(A->floats().begin(), A->floats().end());
}

Error Importer::checkAttrs(std::initializer_list<llvm::StringRef> Known) const {
  for (const AP &A : Node->attribute())
    if (!llvm::is_contained(Known, llvm::StringRef(A.name())))
      return unsupported("attribute '" + A.name() + "' is not implemented");
  return Error::success();
}
