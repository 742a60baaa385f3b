//===- Dot.cpp - Graphviz dump of a graph ---------------------------------===//
//
// `--format=dot` draws the same graph the text dump prints: one record per
// node, `{%name | op operands {attrs} | type}` (and `| value` under
// `--values`), with ids n0, n1, ... by graph position so the output is
// deterministic. Colours tell the parts of a
// training step apart: leaves light blue, backward nodes light salmon (and
// the edges into them red, so the gradient flow stands out), update nodes
// plum. Scalar constants have no node of their own; they are written inline
// in their users' labels, as in the text dump. The interface (loss, outputs,
// metrics, grads) hangs off its values as ellipses; updates are dashed edges
// from the new value back to the param or state they overwrite. After
// `fuse`, the nodes of each kernel of several nodes sit in a dashed cluster.
//
//===----------------------------------------------------------------------===//
#include "PrintUtil.h"

#include "nnc/Graph/Printer.h"

#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/SmallVector.h>
#include <llvm/ADT/Twine.h>

#include <algorithm>
#include <map>
#include <vector>

using namespace nnc;
using namespace nnc::detail;

/// Escapes text for a double-quoted DOT string.
static std::string quoted(llvm::StringRef S) {
  std::string Out = "\"";
  for (char C : S) {
    if (C == '"' || C == '\\')
      Out += '\\';
    Out += C;
  }
  return Out + "\"";
}

/// Escapes one field of a record label; braces, bars and angle brackets
/// would otherwise be read as record structure.
static std::string recordField(llvm::StringRef S) {
  std::string Out;
  for (char C : S) {
    if (llvm::StringRef("{}|<>\"\\").contains(C))
      Out += '\\';
    Out += C;
  }
  return Out;
}

/// Values wrap at ", " to lines of at most this many characters, or of
/// the widest other row of their record if that is wider.
static constexpr size_t MinValueWidth = 24;

/// `Text` as a record field broken into lines of at most `Width`
/// characters (a longer item gets a line of its own), at the ", " between
/// items of a list or summary.
static std::string wrappedField(llvm::StringRef Text, size_t Width) {
  llvm::SmallVector<llvm::StringRef, 16> Items;
  Text.split(Items, ", ");
  std::string Out;
  size_t LineLength = 0;
  for (size_t I = 0; I < Items.size(); ++I) {
    // The item, its ", " before and, unless it is the last, the "," a
    // break after it would leave.
    size_t Needed = 2 + Items[I].size() + (I + 1 < Items.size());
    if (I > 0 && LineLength + Needed > Width) {
      Out += ",\\n"; // DOT's line break inside the quoted label
      LineLength = 0;
    } else if (I > 0) {
      Out += ", ";
      LineLength += 2;
    }
    Out += recordField(Items[I]);
    LineLength += Items[I].size();
  }
  return Out;
}

static const char *fillColour(const Node &N) {
  if (N.isLeaf())
    return "lightblue";
  switch (N.Role) {
  case NodeRole::Forward:
    return "white";
  case NodeRole::Backward:
    return "lightsalmon";
  case NodeRole::Update:
    return "plum";
  }
  return "white";
}

void nnc::printGraphDot(const Graph &G, llvm::raw_ostream &OS,
                        NodeValueText Value) {
  NodeNamer Names(G);
  llvm::DenseMap<const Node *, std::string> Ids;
  for (size_t I = 0; I < G.size(); ++I)
    Ids[G.nodes()[I].get()] = (llvm::Twine("n") + llvm::Twine(I)).str();

  OS << "digraph " << quoted(G.name()) << " {\n";
  OS << "  node [shape=record, fontname=\"monospace\"]\n";
  OS << "  edge [fontname=\"monospace\"]\n";

  for (const auto &NPtr : G.nodes()) {
    const Node &N = *NPtr;
    if (!hasOwnLine(N))
      continue;
    std::string Name = Names.ref(&N), Op = formatOp(N, Names),
                Type = formatType(N.Type);
    std::string Label = "{";
    Label.append(recordField(Name))
        .append(" | ")
        .append(recordField(Op))
        .append(" | ")
        .append(recordField(Type));
    // The value, when annotated, is one more row, wrapped to the width of
    // the others: values do not widen the nodes, so a graph as big as
    // LeNet's keeps its shape.
    if (std::string V = Value ? Value(N) : ""; !V.empty()) {
      size_t Width =
          std::max({Name.size(), Op.size(), Type.size(), MinValueWidth});
      Label.append(" | ").append(wrappedField(V, Width));
    }
    Label.append("}");
    // The fields are escaped already, so the label is quoted verbatim.
    OS << "  " << Ids[&N] << " [label=\"" << Label << '"'
       << ", style=filled, fillcolor=" << fillColour(N) << "]\n";
  }

  // After `fuse`: one cluster per kernel of several nodes, so the picture
  // shows which nodes run in one loop nest.
  std::map<int, std::vector<const Node *>> Kernels;
  for (const auto &NPtr : G.nodes())
    if (NPtr->Kernel >= 0 && hasOwnLine(*NPtr))
      Kernels[NPtr->Kernel].push_back(NPtr.get());
  for (const auto &[K, Members] : Kernels) {
    if (Members.size() < 2)
      continue;
    OS << "  subgraph cluster_k" << K << " {\n";
    OS << "    label=\"kernel " << K << "\"; style=dashed; color=gray40\n";
    for (const Node *N : Members)
      OS << "    " << Ids[N] << "\n";
    OS << "  }\n";
  }

  // Operand edges; a foreign operand (a broken graph) is skipped rather
  // than drawn to a node that does not exist.
  for (const auto &NPtr : G.nodes()) {
    const Node &N = *NPtr;
    if (!hasOwnLine(N))
      continue;
    for (const Node *Op : N.Operands) {
      if (!Op || !hasOwnLine(*Op) || !Ids.count(Op))
        continue;
      OS << "  " << Ids[Op] << " -> " << Ids[&N];
      if (N.Role == NodeRole::Backward)
        OS << " [color=red]";
      OS << '\n';
    }
  }

  // The interface: an ellipse per entry, fed by its value. A scalar-constant
  // value has no node, so its number goes into the ellipse's label instead.
  unsigned NextInterface = 0;
  auto Interface = [&](const std::string &What, const Node *V) {
    std::string Id = (llvm::Twine("i") + llvm::Twine(NextInterface++)).str();
    bool HasNode = V && hasOwnLine(*V) && Ids.count(V);
    std::string Label = HasNode ? What : What + " = " + Names.ref(V);
    OS << "  " << Id << " [shape=ellipse, label=" << quoted(Label) << "]\n";
    if (HasNode)
      OS << "  " << Ids[V] << " -> " << Id << " [style=bold]\n";
  };
  if (G.Loss)
    Interface("loss " + G.LossName, G.Loss);
  for (const NamedValue &V : G.Outputs)
    Interface("output " + V.Name, V.Value);
  for (const NamedValue &V : G.Metrics)
    Interface("metric " + V.Name, V.Value);
  for (size_t I = 0; I < G.Grads.size(); ++I)
    Interface("grad " + (I < G.Params.size() && G.Params[I]
                             ? G.Params[I]->Name
                             : std::to_string(I)),
              G.Grads[I]);

  // Updates point back at their targets; constraint=false keeps these
  // back edges from pulling the layout into a loop.
  for (const Update &U : G.Updates) {
    if (!U.NewValue || !U.Target || !Ids.count(U.NewValue) ||
        !Ids.count(U.Target) || !hasOwnLine(*U.NewValue))
      continue;
    OS << "  " << Ids[U.NewValue] << " -> " << Ids[U.Target]
       << " [style=dashed, color=purple, constraint=false, label=\"update\"]\n";
  }
  OS << "}\n";
}
