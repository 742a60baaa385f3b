//===- Printer.h - Text and DOT dumps of a graph --------------------------===//
//
// `--emit=graph|grad|opt` print through here. Output is deterministic: nodes
// in the graph's topological order, named values under their names, the
// others numbered %0, %1, ... in print order, so FileCheck tests are stable.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_GRAPH_PRINTER_H
#define NNC_GRAPH_PRINTER_H

#include "nnc/Graph/Graph.h"

#include <llvm/Support/raw_ostream.h>

namespace nnc {

/// The text form (see docs/design.md, "Reading a graph dump").
void printGraph(const Graph &G, llvm::raw_ostream &OS);

/// Graphviz DOT: one record per node, backward nodes and gradient edges in
/// their own colour. Renders with `dot -Tsvg`.
void printGraphDot(const Graph &G, llvm::raw_ostream &OS);

/// How remarks and partition errors name a value: the number of a scalar
/// constant, `%name`, or the op ("mul").
std::string describeNode(const Node &N);

} // namespace nnc

#endif
