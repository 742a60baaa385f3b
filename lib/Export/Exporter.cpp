//===- Exporter.cpp - From a forward graph to an ONNX model ---------------===//
//
// The walk over one model's forward graph (docs/onnx.md, "ONNX out"):
//   1. collect the nodes the outputs read (loss, metrics and whatever only
//      they read are left out); an output that reads a target is an error,
//      since the ONNX model takes only the inputs;
//   2. name every value up front (Names.cpp);
//   3. declare the graph inputs, every input of the model in order, at its
//      static shape and in the element type files store it in (a Cast to
//      the computed type follows when they differ);
//   4. the params and buffers the outputs read become initializers, under
//      their names, holding the given weights;
//   5. translate the live nodes in the graph's (topological) order, each by
//      its op's handler (OpTable.cpp); constants are emitted as Constant
//      nodes where first used, so that the initializers are exactly the
//      weights;
//   6. declare the graph outputs, in order, in their stored element types,
//      and a value info (type and shape) for every other computed value,
//      which lets the checker's shape inference confirm each translation;
//   7. wrap the graph in a ModelProto: IR version 8, ai.onnx opset 17,
//      producer nnc.
//
//===----------------------------------------------------------------------===//
#include "Exporter.h"

#include <llvm/ADT/STLExtras.h>

#include <climits>

using namespace nnc;
using namespace nnc::onnx_export;

Exporter::Exporter(const Graph &G, const WeightBits &Weights,
                   const OnnxExportOptions &Options, DiagEngine &Diags)
    : G(G), Weights(Weights), Options(Options), Diags(Diags) {}

std::optional<std::string> Exporter::run() {
  Out = Model.mutable_graph();
  Out->set_name(G.name());
  // Steps 1-4.
  if (!collectLive())
    return std::nullopt;
  nameValues();
  declareInputs();
  if (!declareInitializers())
    return std::nullopt;
  // Step 5: every node is tried, so that one run names every op nnc
  // cannot translate.
  bool Ok = true;
  for (const auto &NPtr : G.nodes()) {
    const Node &N = *NPtr;
    if (!Live.contains(&N))
      continue;
    Current = &N;
    Ok &= exportNode(*this, N);
  }
  Current = nullptr;
  if (!Ok)
    return std::nullopt;
  // Step 6.
  declareOutputs();
  declareValueInfos();

  // Step 7.
  Model.set_ir_version(OnnxExportIrVersion);
  onnx::OperatorSetIdProto *Opset = Model.add_opset_import();
  Opset->set_domain("");
  Opset->set_version(OnnxExportOpset);
  Model.set_producer_name("nnc");
  Model.set_producer_version(Options.ProducerVersion);
  Model.set_doc_string("model '" + G.name() + "' of " + Options.Source +
                       ", eval mode, exported by nnc");
  // Protobuf cannot serialize a message of 2 GB or more.
  if (Model.ByteSizeLong() >= size_t(INT_MAX)) {
    Diags.error("model '" + G.name() +
                "' is too large for one ONNX file (2 GB, protobuf's limit)");
    return std::nullopt;
  }
  std::string Bytes;
  Model.SerializeToString(&Bytes);
  return Bytes;
}

bool Exporter::collectLive() {
  if (G.Outputs.empty()) {
    Diags.error("model '" + G.name() +
                "' has no outputs: an ONNX model (--emit=onnx) computes the "
                "model's `output`s");
    return false;
  }
  bool Ok = true;
  for (const NamedValue &O : G.Outputs) {
    std::vector<const Node *> Work{O.Value};
    while (!Work.empty()) {
      const Node *N = Work.back();
      Work.pop_back();
      if (!Live.insert(N).second)
        continue;
      if (N->Kind == OpKind::Target) {
        Diags.error(O.Loc, "output '" + O.Name + "' needs target '" + N->Name +
                               "', but an ONNX model (--emit=onnx) takes "
                               "only the model's inputs");
        Ok = false;
      }
      llvm::append_range(Work, N->Operands);
    }
  }
  return Ok;
}

void Exporter::declareInputs() {
  for (const Node *N : G.Inputs) {
    setValueInfo(*Out->add_input(), N->Name, onnxType(N->Stored, N->dtype()),
                 N->dims());
    if (N->Stored == FileType::Native)
      continue;
    // Computed in f32 or i32 (docs/language.md, "Types").
    Names[N] = fresh(N->Name + "." + dtypeName(N->dtype()));
    Current = N;
    onnx::NodeProto &Cast = emit("Cast", {N->Name}, {Names[N]});
    setInt(Cast, "to", onnxType(N->dtype()));
  }
  Current = nullptr;
}

bool Exporter::declareInitializers() {
  // In graph order, so that a layer's weights and statistics sit together.
  bool Ok = true;
  for (const auto &NPtr : G.nodes()) {
    const Node *N = NPtr.get();
    if ((N->Kind != OpKind::Param && N->Kind != OpKind::Buffer) ||
        !Live.contains(N))
      continue;
    auto It = Weights.find(N);
    if (It == Weights.end() ||
        int64_t(It->second.size()) != N->Type.numElements()) {
      Diags.error("no value for '" + N->Name + "' " + formatType(N->Type) +
                  " among the weights");
      Ok = false;
      continue;
    }
    onnx::TensorProto *T = Out->add_initializer();
    T->set_name(Names[N]);
    llvm::StringRef Bytes(reinterpret_cast<const char *>(It->second.data()),
                          It->second.size() * 4);
    fillTensor(*T, onnxType(N->dtype()), N->dims(), Bytes);
  }
  return Ok;
}

void Exporter::declareOutputs() {
  for (const NamedValue &O : G.Outputs) {
    const Node *V = resolve(O.Value);
    std::string From = value(V, O.Name + ".value");
    OnnxType Elem = onnxType(O.Stored, V->dtype());
    if (O.Stored != FileType::Native) {
      onnx::NodeProto &Cast = emit("Cast", {From}, {O.Name});
      setInt(Cast, "to", Elem);
    } else if (From != O.Name) {
      emit("Identity", {From}, {O.Name});
    }
    setValueInfo(*Out->add_output(), O.Name, Elem, V->dims());
  }
}

void Exporter::declareValueInfos() {
  llvm::StringSet<> Declared;
  for (const onnx::ValueInfoProto &V : Out->input())
    Declared.insert(V.name());
  for (const onnx::ValueInfoProto &V : Out->output())
    Declared.insert(V.name());
  for (const auto &NPtr : G.nodes()) {
    const Node *N = NPtr.get();
    if (!Live.contains(N) || N->isLeaf() || resolve(N) != N)
      continue;
    const std::string &Name = Names[N];
    if (Declared.insert(Name).second)
      setValueInfo(*Out->add_value_info(), Name, onnxType(N->dtype()),
                   N->dims());
  }
}

//===----------------------------------------------------------------------===//
// Services of the op handlers
//===----------------------------------------------------------------------===//

std::string Exporter::operand(const Node &N, unsigned I) {
  // Scalar constants are named after their first use: `miss.b` is operand
  // b (the second) of `miss`.
  return value(
      N.operand(I),
      llvm::StringRef(&"abcdefghijklmnopqrstuvwxyz"[std::min(I, 25u)], 1));
}

std::string Exporter::value(const Node *N, llvm::StringRef Role) {
  const Node *V = resolve(N);
  if (V->Kind != OpKind::Const || Emitted.contains(V))
    return Names[V];
  // A constant, emitted where first used.
  Emitted.insert(V);
  if (!Names.count(V))
    Names[V] = helper(Role);
  onnx::NodeProto &C = emit("Constant", {}, {Names[V]});
  onnx::AttributeProto *A = C.add_attribute();
  A->set_name("value");
  A->set_type(onnx::AttributeProto::TENSOR);
  fillTensor(*A->mutable_t(), V->Value);
  return Names[V];
}

onnx::NodeProto &Exporter::emit(llvm::StringRef OpType,
                                llvm::ArrayRef<std::string> Inputs,
                                llvm::ArrayRef<std::string> Outputs) {
  onnx::NodeProto *N = Out->add_node();
  N->set_op_type(OpType.str());
  // Value names are unique, so the first output's names the node too.
  if (!Outputs.empty())
    N->set_name(Outputs[0]);
  for (const std::string &I : Inputs)
    N->add_input(I);
  for (const std::string &O : Outputs)
    N->add_output(O);
  if (Current && Current->Loc.isValid())
    N->set_doc_string(sourceName(Current->Loc) + ":" +
                      std::to_string(Current->Loc.Line) + ":" +
                      std::to_string(Current->Loc.Col));
  return *N;
}

onnx::NodeProto &Exporter::same(const Node &N, llvm::StringRef Op) {
  std::vector<std::string> Inputs;
  for (unsigned I = 0; I < N.Operands.size(); ++I)
    Inputs.push_back(operand(N, I));
  return emit(Op, Inputs, {result(N)});
}

std::string Exporter::sourceName(SourceLoc Loc) const {
  // The buffer's name: the `.nn` file, or `M.onnx.nn` for the source the
  // importer wrote.
  const llvm::SourceMgr &SM = Diags.sourceMgr();
  if (unsigned Id = SM.FindBufferContainingLoc(Loc.Ptr))
    return SM.getMemoryBuffer(Id)->getBufferIdentifier().str();
  return Options.Source;
}

std::string Exporter::helper(llvm::StringRef Role) {
  // Outside a node's translation (an output that is a constant), helpers
  // are the output's own.
  std::string Base = Current ? Names[resolve(Current)] : Role.str();
  return fresh(Current ? Base + "." + Role.str() : Base);
}

std::string Exporter::constTensor(llvm::StringRef Role, const Tensor &V) {
  std::string Name = helper(Role);
  onnx::NodeProto &C = emit("Constant", {}, {Name});
  onnx::AttributeProto *A = C.add_attribute();
  A->set_name("value");
  A->set_type(onnx::AttributeProto::TENSOR);
  fillTensor(*A->mutable_t(), V);
  return Name;
}

std::string Exporter::constInts(llvm::StringRef Role, llvm::ArrayRef<int64_t> V,
                                bool Scalar) {
  std::string Name = helper(Role);
  onnx::NodeProto &C = emit("Constant", {}, {Name});
  onnx::AttributeProto *A = C.add_attribute();
  A->set_name("value");
  A->set_type(onnx::AttributeProto::TENSOR);
  Shape Dims;
  if (!Scalar)
    Dims.push_back(int64_t(V.size()));
  fillTensor(*A->mutable_t(), onnx::TensorProto::INT64, Dims,
             llvm::StringRef(reinterpret_cast<const char *>(V.data()),
                             V.size() * sizeof(int64_t)));
  return Name;
}

std::string Exporter::scalar(llvm::StringRef Role, double V, DType T) {
  Tensor S(TensorType::scalar(T));
  S.set(0, V);
  return constTensor(Role, S);
}

bool Exporter::unsupported(const Node &N, const llvm::Twine &Why) {
  Diags.error(N.Loc, "op '" + opSpelling(N.Kind) +
                         "' has no ONNX equivalent (" + Why + "), so model '" +
                         G.name() + "' cannot be exported");
  return false;
}

std::optional<std::string> nnc::exportOnnx(const Graph &G,
                                           const WeightBits &Weights,
                                           const OnnxExportOptions &Options,
                                           DiagEngine &Diags) {
  return onnx_export::Exporter(G, Weights, Options, Diags).run();
}
