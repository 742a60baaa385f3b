//===- LibraryHeader.cpp - The C header of an inference library -----------===//
//
// The header is all a C programmer reads of the library, so it says
// everything the object promises (docs/embedding.md): the prototype, one
// comment per argument with its dtype and shape, constants for the batch
// and for every shape (so an application never hard-codes one), the return
// codes, and the thread, memory and CPU rules. Names come from the model;
// they are C identifiers already (docs/language.md), but may be C or C++
// keywords, which get a trailing `_` as parameter names. Constants are the
// upper-cased names, so `x` and `X` would collide: that is an error.
//
//===----------------------------------------------------------------------===//
#include "nnc/CodeGen/Library.h"

#include <llvm/ADT/SmallVector.h>
#include <llvm/ADT/StringExtras.h>
#include <llvm/ADT/StringSet.h>
#include <llvm/Support/raw_ostream.h>

using namespace llvm;
using namespace nnc;

namespace {

/// Keywords of C (C23) and C++ (C++23): the header is valid in both.
bool isKeyword(StringRef S) {
  static const StringSet<> Words = [] {
    StringSet<> W;
    SmallVector<StringRef, 128> List;
    StringRef(
        "alignas alignof and and_eq asm auto bitand bitor bool break case "
        "catch char char8_t char16_t char32_t class co_await co_return "
        "co_yield compl concept const const_cast consteval constexpr "
        "constinit continue decltype default delete do double dynamic_cast "
        "else enum explicit export extern false float for friend goto if "
        "inline int long mutable namespace new noexcept not not_eq nullptr "
        "operator or or_eq private protected public register "
        "reinterpret_cast requires restrict return short signed sizeof "
        "static static_assert static_cast struct switch template this "
        "thread_local throw true try typedef typeid typename typeof "
        "typeof_unqual union unsigned using virtual void volatile wchar_t "
        "while xor xor_eq _Alignas _Alignof _Atomic _BitInt _Bool _Complex "
        "_Decimal128 _Decimal32 _Decimal64 _Generic _Imaginary _Noreturn "
        "_Static_assert _Thread_local")
        .split(List, ' ');
    for (StringRef Word : List)
      W.insert(Word);
    return W;
  }();
  return Words.contains(S);
}

/// `Name` as a C parameter name.
std::string parameterName(StringRef Name) {
  return isKeyword(Name) ? (Name + "_").str() : Name.str();
}

/// `Text` safe inside a C comment: no `*/` or `/*`, printable ASCII only.
std::string commentSafe(StringRef Text) {
  std::string Out;
  for (char C : Text) {
    if (C < 0x20 || C > 0x7e)
      C = '?';
    if (C == '/' && !Out.empty() && Out.back() == '*')
      Out += ' ';
    if (C == '*' && !Out.empty() && Out.back() == '/')
      Out += ' ';
    Out += C;
  }
  return Out;
}

/// Writes `Paragraphs` as one C comment, wrapped at 78 columns; a
/// paragraph that starts with spaces is code, left as it is.
void writeComment(raw_ostream &OS, ArrayRef<std::string> Paragraphs) {
  const size_t Width = 78;
  OS << "/*";
  // The first paragraph starts on the line of "/*", each other one after an
  // empty comment line.
  size_t Column = 2;
  for (const std::string &P : Paragraphs) {
    if (&P != &Paragraphs.front()) {
      OS << "\n *";
      Column = Width;
    }
    if (StringRef(P).starts_with(" ")) {
      OS << "\n * " << P;
      continue;
    }
    SmallVector<StringRef, 64> Words;
    StringRef(P).split(Words, ' ', -1, /*KeepEmpty=*/false);
    for (StringRef W : Words) {
      if (Column + 1 + W.size() > Width) {
        OS << "\n * " << W;
        Column = 3 + W.size();
        continue;
      }
      OS << ' ' << W;
      Column += 1 + W.size();
    }
  }
  OS << "\n */\n";
}

/// One argument of MODEL_predict.
struct PredictArg {
  const Node *Value;
  std::string Name;
  bool IsInput;
};

/// "const float *x", "int32_t *labels".
std::string declaration(const PredictArg &A) {
  std::string Elem = A.Value->dtype() == DType::F32 ? "float" : "int32_t";
  return (A.IsInput ? "const " : "") + Elem + " *" + parameterName(A.Name);
}

} // namespace

Expected<std::string> nnc::libraryHeader(const Graph &G,
                                         const LibraryHeaderInfo &Info) {
  std::vector<PredictArg> Args;
  for (const Node *In : G.Inputs)
    Args.push_back({In, In->Name, true});
  for (const NamedValue &Out : G.Outputs)
    Args.push_back({Out.Value, Out.Name, false});

  // Every constant once, each naming where it comes from.
  std::string Prefix = StringRef(Info.Model).upper() + "_";
  StringMap<std::string> Owner;
  auto Claim = [&](const std::string &Macro, const std::string &By) -> Error {
    auto [It, New] = Owner.try_emplace(Macro, By);
    if (New)
      return Error::success();
    return createStringError("%s and %s would both define %s in the header; "
                             "rename one of them",
                             It->second.c_str(), By.c_str(), Macro.c_str());
  };
  if (Error E = Claim(Prefix + "BATCH", "the batch size"))
    return E;
  if (Error E = Claim(Prefix + "BUSY", "the busy code"))
    return E;
  for (const PredictArg &A : Args) {
    std::string By =
        std::string(A.IsInput ? "input" : "output") + " '" + A.Name + "'";
    std::string Base = Prefix + StringRef(A.Name).upper() + "_";
    for (const std::string &Suffix : {std::string("SIZE"), std::string("RANK")})
      if (Error E = Claim(Base + Suffix, By))
        return E;
    for (unsigned D = 0; D < A.Value->Type.rank(); ++D)
      if (Error E = Claim(Base + "DIM" + std::to_string(D), By))
        return E;
  }
  bool NeedsStdint = llvm::any_of(
      Args, [](const PredictArg &A) { return A.Value->dtype() == DType::I32; });

  std::string Fn = librarySymbol(Info.Model);
  std::string Obj = commentSafe(Info.ObjectName);
  int64_t Batch = G.BatchSize > 0 ? G.BatchSize : 1;
  std::string Guard = "NNC_LIB_" + StringRef(Info.Model).upper() + "_H";
  std::string Text;
  raw_string_ostream OS(Text);
  std::string BatchMacro = Prefix + "BATCH", Busy = Prefix + "BUSY";
  std::string Cpu = commentSafe(Info.Cpu);
  writeComment(
      OS,
      {commentSafe(Info.HeaderName) + " - the inference library of model '" +
           Info.Model + "', written by nnc --emit=lib from " +
           commentSafe(Info.Source) + ". Link it with",
       "    cc app.c " + Obj + " -lm",
       Fn +
           " runs the model in eval mode (batchnorm uses its running "
           "statistics, dropout is the identity) on one batch of " +
           BatchMacro + " examples, with the weights compiled into " + Obj +
           ", and writes every output. Its arguments are the model's "
           "inputs, then its outputs, in the order the model declares "
           "them: dense row-major (C order) arrays of float (f32) or "
           "int32_t (i32), with any alignment. It reads the inputs and "
           "writes only the outputs. It returns 0, or " +
           Busy + " when another call of " + Fn +
           " is running (then it writes nothing).",
       "Threads and memory: " + Fn +
           " computes on the calling thread (it starts no threads), "
           "allocates nothing and does no I/O. Its working memory, " +
           std::to_string(Info.StaticBytes) + " bytes, is static storage in " +
           Obj +
           ", so calls must not overlap: from several threads, call it "
           "under one mutex. A call that overlaps another (from a thread "
           "or a signal handler) is refused with " +
           Busy + ".",
       "The machine code is for CPU '" + Cpu +
           "' (nnc --target-cpu=NAME chooses another): it runs on CPUs "
           "that have the instruction set of '" +
           Cpu + "'."});
  OS << "#ifndef " << Guard << "\n"
     << "#define " << Guard << "\n\n";
  if (NeedsStdint)
    OS << "#include <stdint.h>\n\n";
  OS << "#ifdef __cplusplus\n"
     << "extern \"C\" {\n"
     << "#endif\n\n"
     << (G.Inputs.empty()
             ? "/* The model has no inputs: each call computes the same "
               "outputs. */\n"
             : "/* Examples per call: the first dimension of every input. "
               "*/\n")
     << "#define " << Prefix << "BATCH " << Batch << "\n"
     << "/* What " << Fn << " returns when another call of it is running. */\n"
     << "#define " << Prefix << "BUSY 1\n";
  for (const PredictArg &A : Args) {
    const TensorType &T = A.Value->Type;
    std::string Base = Prefix + StringRef(A.Name).upper() + "_";
    OS << "\n/* " << A.Name << ": " << formatType(T) << ", "
       << (A.IsInput ? "input" : "output") << " */\n"
       << "#define " << Base << "SIZE " << T.numElements()
       << " /* elements */\n"
       << "#define " << Base << "RANK " << T.rank() << "\n";
    for (unsigned D = 0; D < T.rank(); ++D)
      OS << "#define " << Base << "DIM" << D << " " << T.Dims[D] << "\n";
  }
  OS << "\nint " << Fn << "(";
  for (size_t I = 0; I < Args.size(); ++I)
    OS << (I ? ", " : "") << declaration(Args[I]);
  OS << ");\n\n"
     << "#ifdef __cplusplus\n"
     << "}\n"
     << "#endif\n\n"
     << "#endif /* " << Guard << " */\n";
  return Text;
}
