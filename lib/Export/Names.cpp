//===- Names.cpp - The ONNX name of every value ---------------------------===//
//
// ONNX values are named, and the names a user sees must be the model's:
// graph inputs, outputs and initializers are found by name. Every name is
// given up front, before any node is translated, so that a helper value
// made up later (`probs.shape`) never takes a name the model uses:
//   1. graph inputs keep the names of the model's inputs; params and
//      buffers the outputs read, theirs;
//   2. each output's name is reserved, and the value it reads — when a
//      node computes it and it is no other output's — is written under
//      that name directly, or, when files store the output in another
//      element type, under `NAME.f32` or `NAME.i32` and cast at the end
//      (the value of an input, a weight, a constant or another output is
//      copied by an Identity);
//   3. every other live node keeps the name `--emit=graph` prints for it:
//      its binding (`h1`, a later duplicate `h1.1`) or, unnamed, the
//      dump's number (`%3` is the value `3`), so the ONNX graph reads
//      against the dump line by line;
//   4. scalar constants and the helpers of multi-node translations are
//      named at their first use after the value they serve.
// Dropout, which computes nothing in eval mode, has no value of its own:
// its users read its operand.
//
//===----------------------------------------------------------------------===//
#include "Exporter.h"

using namespace nnc;
using namespace nnc::onnx_export;

const Node *Exporter::resolve(const Node *N) {
  while (N->Kind == OpKind::Dropout)
    N = N->operand(0);
  return N;
}

std::string Exporter::fresh(const std::string &Base) {
  std::string Name = Base;
  for (unsigned Suffix = 1; Used.contains(Name); ++Suffix)
    Name = Base + "." + std::to_string(Suffix);
  Used.insert(Name);
  return Name;
}

void Exporter::nameValues() {
  // Step 1. Sema makes these names unique among the model's leaves.
  for (const Node *N : G.Inputs)
    Used.insert(N->Name);
  for (const std::vector<Node *> *Group : {&G.Params, &G.Buffers})
    for (const Node *N : *Group)
      if (Live.contains(N))
        Names[N] = fresh(N->Name);
  for (const Node *N : G.Inputs)
    if (N->Stored == FileType::Native)
      Names[N] = N->Name;

  // Step 2.
  for (const NamedValue &O : G.Outputs)
    Used.insert(O.Name);
  for (const NamedValue &O : G.Outputs) {
    const Node *V = resolve(O.Value);
    if (V->isLeaf() || Names.count(V))
      continue;
    // An output stored in another type than computed is a Cast of the
    // computed value, named as an input's (`big.f32`).
    Names[V] = O.Stored == FileType::Native
                   ? O.Name
                   : fresh(O.Name + "." + dtypeName(V->dtype()));
  }

  // Step 3, numbering every node the dump numbers, live or not.
  unsigned Number = 0;
  for (const auto &NPtr : G.nodes()) {
    const Node *N = NPtr.get();
    bool Numbered = N->Name.empty() && !N->isScalarConst();
    std::string Dumped = Numbered ? std::to_string(Number++) : N->Name;
    if (!Live.contains(N) || Names.count(N) || N->Kind == OpKind::Dropout ||
        N->isScalarConst() || N->Kind == OpKind::Input)
      continue;
    Names[N] = fresh(Dumped);
  }
}

const std::string &Exporter::result(const Node &N) const {
  auto It = Names.find(resolve(&N));
  assert(It != Names.end() && "a live node without a name");
  return It->second;
}
