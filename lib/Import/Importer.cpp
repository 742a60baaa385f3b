//===- Importer.cpp - From an ONNX graph to a .nn model -------------------===//
//
// The walk over one ONNX model (docs/onnx.md, "The mapping"):
//   1. parse the protobuf with the ONNX project's classes and check that it
//      is a model: a graph, an ai.onnx opset nnc knows (1-17), no node of a
//      foreign domain;
//   2. give every value (graph inputs, initializers, node outputs) its
//      `.nn` name up front, so that names nnc makes up later (temporaries)
//      can never take an ONNX name;
//   3. declare the graph inputs at their declared shapes (every dimension
//      fixed) and element types; initializers are known constants, declared
//      where first used;
//   4. translate the nodes in the graph's order, each by its operator's
//      handler (OpTable.cpp), checking that every input was produced
//      before (which also rejects cycles) and no value twice;
//   5. name the graph outputs with `output`, in their ONNX element types.
// The model is `unbatched`: predict takes every input whole.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/stubs/logging.h>

#include <llvm/ADT/StringExtras.h>
#include <llvm/Support/Path.h>

using namespace nnc;
using namespace nnc::onnx_import;
using llvm::Error;
using llvm::Expected;

namespace {

/// The newest ai.onnx opset whose operators nnc implements as defined.
constexpr int64_t MaxOpset = 17;

Error importError(const llvm::Twine &Msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), Msg);
}

/// Words that cannot be plain names in `.nn` source: statement keywords
/// (a binding named `input` would read as a declaration) and literals.
bool isReservedWord(llvm::StringRef S) {
  static const char *const Words[] = {"dim",    "input",     "target", "param",
                                      "const",  "loss",      "output", "metric",
                                      "return", "unbatched", "true",   "false",
                                      "model",  "fn",        "train"};
  return llvm::is_contained(Words, S);
}

bool isPlainName(llvm::StringRef S) {
  if (S.empty() || !(llvm::isAlpha(S[0]) || S[0] == '_'))
    return false;
  return llvm::all_of(S, [](char C) { return llvm::isAlnum(C) || C == '_'; }) &&
         !isReservedWord(S);
}

/// `S` fit for a `#` comment of the source: a line break would end the
/// comment and leave the rest as code (found by fuzzing: a node name with a
/// newline and a quote), so control characters become spaces.
std::string commentText(std::string S) {
  for (char &C : S)
    if ((C >= 0 && C < ' ' && C != '\t') || C == 0x7f)
      C = ' ';
  return S;
}

/// A `quoted name` holds any printable character but a backquote.
bool isQuotable(llvm::StringRef S) {
  return !S.empty() && llvm::all_of(S, [](char C) {
    return (C >= ' ' && C != '`' && C != 0x7f) ||
           static_cast<unsigned char>(C) >= 0x80;
  });
}

} // namespace

bool nnc::isOnnxPath(llvm::StringRef Path) {
  return llvm::sys::path::extension(Path).equals_insensitive(".onnx");
}

Expected<ImportedModel> nnc::importOnnx(llvm::StringRef Bytes,
                                        llvm::StringRef WeightsFile,
                                        llvm::StringRef ModelName) {
  // Protobuf would print its own complaints on stderr; ours say it all.
  google::protobuf::SetLogHandler(nullptr);
  onnx::ModelProto Model;
  google::protobuf::io::CodedInputStream Stream(
      reinterpret_cast<const uint8_t *>(Bytes.data()), int(Bytes.size()));
  // Deeply nested messages (graphs in attributes) must not exhaust the
  // stack; real models nest a few levels.
  Stream.SetRecursionLimit(64);
  if (Bytes.size() > size_t(INT32_MAX))
    return importError("not an ONNX model: larger than protobuf's 2 GiB "
                       "limit");
  if (!Model.ParseFromCodedStream(&Stream) || !Stream.ConsumedEntireMessage())
    return importError("not an ONNX model: the file is not a valid "
                       "ModelProto protobuf (truncated or another format)");
  if (!Model.has_graph())
    return importError("not an ONNX model: it has no graph");
  return Importer(Model, WeightsFile, ModelName).run();
}

Importer::Importer(const onnx::ModelProto &Model, llvm::StringRef WeightsFile,
                   llvm::StringRef ModelName)
    : Model(Model), WeightsFile(WeightsFile), ModelName(ModelName) {}

std::string Importer::uniqueName(llvm::StringRef Name) {
  std::string Base = Name.str();
  if (!isQuotable(Base)) {
    // Control characters or backquotes: keep what can be kept.
    for (char &C : Base)
      if (!isQuotable(llvm::StringRef(&C, 1)))
        C = '_';
    if (Base.empty())
      Base = "_";
  }
  std::string Unique = Base;
  for (unsigned K = 2; Taken.contains(Unique); ++K)
    Unique = Base + "." + std::to_string(K);
  Taken.insert(Unique);
  return isPlainName(Unique) ? Unique : "`" + Unique + "`";
}

Expected<ImportedModel> Importer::run() {
  const onnx::GraphProto &G = Model.graph();
  // 1. The opset.
  bool HasDefault = false;
  for (const onnx::OperatorSetIdProto &O : Model.opset_import()) {
    if (O.domain().empty() || O.domain() == "ai.onnx") {
      Opset = O.version();
      HasDefault = true;
    }
  }
  // Before IR version 3 models had no opset_import: opset 1.
  if (!HasDefault && Model.ir_version() >= 3)
    return importError("the model imports no ai.onnx opset");
  if (Opset < 1 || Opset > MaxOpset)
    return importError("ai.onnx opset " + llvm::Twine(Opset) +
                       " is not supported (nnc implements opsets 1 to " +
                       llvm::Twine(MaxOpset) + ")");
  // 2. Names, graph inputs first so they keep theirs.
  for (const onnx::ValueInfoProto &V : G.input())
    Values[V.name()].NnName = uniqueName(V.name());
  for (const onnx::TensorProto &T : G.initializer())
    if (!Values.count(T.name()))
      Values[T.name()].NnName = uniqueName(T.name());
  for (const onnx::NodeProto &N : G.node())
    for (const std::string &Out : N.output())
      if (!Out.empty() && !Values.count(Out))
        Values[Out].NnName = uniqueName(Out);
  for (auto &[Name, V] : Values)
    V.OnnxName = Name;
  // 3.-5.
  if (Error E = declareInitializers())
    return std::move(E);
  if (Error E = declareInputs())
    return std::move(E);
  std::string Decls = std::move(Body);
  Body.clear();
  for (int K = 0; K < G.node_size(); ++K)
    if (Error E = translateNode(G.node(K), unsigned(K)))
      return std::move(E);
  if (Error E = declareOutputs())
    return std::move(E);

  // The model's name: the graph's, else the file's, as a plain name.
  auto Plain = [](std::string S) {
    for (char &C : S)
      if (!llvm::isAlnum(C) && C != '_')
        C = '_';
    return S;
  };
  std::string Name = Plain(G.name());
  if (!isPlainName(Name))
    Name = Plain(ModelName);
  if (!isPlainName(Name))
    Name = "model_" + Name;
  std::string Header = "# Imported from ONNX by nnc: IR version " +
                       std::to_string(Model.ir_version()) + ", opset " +
                       std::to_string(Opset);
  if (!Model.producer_name().empty())
    Header += ", produced by " + Model.producer_name();
  if (!Model.producer_name().empty() && !Model.producer_version().empty())
    Header += " " + Model.producer_version();
  Result.Source = commentText(Header) + "\nmodel " + Name +
                  " {\n  unbatched\n" + Decls + Body + "}\n";
  return std::move(Result);
}

Error Importer::declareInitializers() {
  for (const onnx::TensorProto &T : Model.graph().initializer()) {
    Value &V = Values[T.name()];
    if (T.name().empty())
      return importError("an initializer has no name");
    if (V.Initializer)
      return importError("initializer '" + T.name() + "' appears twice");
    std::vector<double> Data;
    if (Error E = decodeTensor(T, V.Elem, V.Dims, Data))
      return importError("initializer '" + T.name() +
                         "': " + llvm::toString(std::move(E)));
    if (!elemInfo(V.Elem))
      return importError("initializer '" + T.name() + "' has element type " +
                         onnxTypeName(V.Elem) + ", which nnc does not support");
    V.Data = std::move(Data);
    V.Initializer = true;
  }
  return Error::success();
}

Error Importer::declareInputs() {
  for (const onnx::ValueInfoProto &In : Model.graph().input()) {
    Value &V = Values[In.name()];
    // Before IR version 4 the initializers were listed as inputs too; they
    // are weights, not inputs.
    if (V.Initializer)
      continue;
    std::string What = "graph input '" + In.name() + "'";
    if (In.name().empty())
      return importError("a graph input has no name");
    if (V.Ref.size())
      return importError(What + " is declared twice");
    if (!In.type().has_tensor_type())
      return importError(What + " is not a tensor (nnc supports tensor "
                                "inputs only)");
    const onnx::TypeProto_Tensor &TT = In.type().tensor_type();
    V.Elem = TT.elem_type();
    std::optional<ElemInfo> Info = elemInfo(V.Elem);
    if (!Info)
      return importError(What + " has element type " + onnxTypeName(V.Elem) +
                         ", which nnc does not support");
    if (!TT.has_shape())
      return importError(What + " has no declared shape; nnc needs every "
                                "dimension fixed");
    for (int K = 0; K < TT.shape().dim_size(); ++K) {
      const onnx::TensorShapeProto_Dimension &D = TT.shape().dim(K);
      if (!D.has_dim_value())
        return importError(
            What + " has a dynamic dimension " + llvm::Twine(K) +
            (D.has_dim_param() ? " ('" + D.dim_param() + "')" : "") +
            " that its declared shape does not fix; nnc needs every "
            "dimension known");
      if (D.dim_value() <= 0)
        return importError(What + " has dimension " + llvm::Twine(K) +
                           " of size " + llvm::Twine(D.dim_value()) +
                           "; nnc needs sizes of at least 1");
      if (V.numel() > MaxTensorElements / D.dim_value())
        return importError(What + " is too large (more than 2^40 elements)");
      V.Dims.push_back(D.dim_value());
    }
    V.Ref = V.NnName;
    line("input " + V.NnName + " : " + Info->Spelling + dimsText(V.Dims));
  }
  return Error::success();
}

Error Importer::translateNode(const onnx::NodeProto &N, unsigned Index) {
  Node = &N;
  NodeIndex = Index;
  if (!N.domain().empty() && N.domain() != "ai.onnx")
    return importError("ONNX operator '" + N.op_type() + "' of domain '" +
                       N.domain() + "' (node '" + N.name() +
                       "') is not supported: nnc implements the ai.onnx "
                       "domain");
  for (const std::string &In : N.input()) {
    if (In.empty())
      continue;
    auto It = Values.find(In);
    if (It == Values.end() ||
        (It->second.Ref.empty() && !It->second.isConst() &&
         !It->second.Initializer))
      return fail("input '" + In +
                  "' is no graph input, initializer or output of an earlier "
                  "node (a dangling input, or nodes out of order or in a "
                  "cycle)");
  }
  for (const std::string &Out : N.output()) {
    if (Out.empty())
      continue;
    const Value &V = Values[Out];
    if (!V.Ref.empty() || V.isConst())
      return fail("its output '" + Out +
                  "' is produced twice (also as a graph input, an "
                  "initializer or an earlier node's output)");
  }
  OpHandler H = findHandler(N.op_type());
  if (!H)
    return unsupported();
  line(commentText("# " + N.op_type() +
                   (N.name().empty() ? "" : " '" + N.name() + "'")));
  return H(*this);
}

Error Importer::declareOutputs() {
  for (const onnx::ValueInfoProto &Out : Model.graph().output()) {
    auto It = Values.find(Out.name());
    std::string What = "graph output '" + Out.name() + "'";
    if (It == Values.end() || (It->second.Ref.empty() && !It->second.isConst()))
      return importError(What + " is produced by no node");
    Value &V = It->second;
    // The declared type, where given, must be the computed one.
    if (Out.type().has_tensor_type()) {
      const onnx::TypeProto_Tensor &TT = Out.type().tensor_type();
      if (TT.elem_type() != 0 && TT.elem_type() != V.Elem)
        return importError(What + " is declared " +
                           onnxTypeName(TT.elem_type()) +
                           ", but its node "
                           "computes " +
                           onnxTypeName(V.Elem));
      if (TT.has_shape()) {
        bool Contradicts = TT.shape().dim_size() != int(V.Dims.size());
        for (int K = 0; !Contradicts && K < TT.shape().dim_size(); ++K)
          Contradicts = TT.shape().dim(K).has_dim_value() &&
                        TT.shape().dim(K).dim_value() != V.Dims[K];
        if (Contradicts)
          return importError(What + " is declared with another shape than " +
                             dimsText(V.Dims) + ", the shape its node gives");
      }
    }
    std::optional<ElemInfo> Info = elemInfo(V.Elem);
    std::string Type = Info && std::string(Info->Spelling) != "f32" &&
                               std::string(Info->Spelling) != "i32"
                           ? std::string(" : ") + Info->Spelling
                           : "";
    if (V.Ref == V.NnName) {
      line("output " + V.NnName + Type);
      continue;
    }
    // A constant gets a declaration of its own type under its name; an
    // alias (Identity) a binding.
    if (V.isConst() && V.Ref.empty()) {
      if (Error E = declareConst(V))
        return E;
      line("output " + V.NnName + Type);
      continue;
    }
    Expected<std::string> Ref = use(V);
    if (!Ref)
      return Ref.takeError();
    if (V.isConst()) {
      // A number inlined before: declare it under its name now.
      V.Ref.clear();
      if (Error E = declareConst(V))
        return E;
      line("output " + V.NnName + Type);
      continue;
    }
    line("output " + V.NnName + Type + " = " + *Ref);
  }
  return Error::success();
}

std::string Importer::temp(const std::string &Expr, llvm::StringRef Hint) {
  std::string Base = Node->output_size() && !Node->output(0).empty()
                         ? Node->output(0)
                         : "t" + std::to_string(NodeIndex);
  std::string Name = uniqueName(Base + "." + Hint.str());
  line(Name + " = " + Expr);
  return Name;
}

Error Importer::fail(const llvm::Twine &Msg) const {
  std::string Who = Node->name().empty() ? "#" + std::to_string(NodeIndex)
                                         : "'" + Node->name() + "'";
  return importError("ONNX node " + Who + " (" + Node->op_type() + "): " + Msg);
}

Error Importer::unsupported(const llvm::Twine &Why) const {
  std::string Who = Node->name().empty() ? "#" + std::to_string(NodeIndex)
                                         : "'" + Node->name() + "'";
  std::string Tail = Why.str();
  return importError("ONNX operator '" + Node->op_type() + "' (node " + Who +
                     ") is not supported" + (Tail.empty() ? "" : ": " + Tail));
}
