//===- Printer.h - Text and DOT dumps of a graph --------------------------===//
//
// `--emit=graph|grad|opt` print through here. Output is deterministic: nodes
// in the graph's topological order, named values under their names, the
// others numbered %0, %1, ... in print order, so FileCheck tests are stable.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_GRAPH_PRINTER_H
#define NNC_GRAPH_PRINTER_H

#include "nnc/Graph/Evaluator.h"
#include "nnc/Graph/Graph.h"

#include <llvm/ADT/STLFunctionalExtras.h>
#include <llvm/Support/raw_ostream.h>

#include <string>

namespace nnc {

/// An optional annotation of the dumps: the value of a node as text (see
/// formatValue), or "" to print the node as usual. `--emit=grad --values`
/// passes the reference evaluator's values through it.
using NodeValueText = llvm::function_ref<std::string(const Node &)>;

/// The text form (see docs/design.md, "Reading a graph dump"). With
/// `Value`, each node's line reads `%n = OP : TYPE = VALUE`.
void printGraph(const Graph &G, llvm::raw_ostream &OS,
                NodeValueText Value = {});

/// Graphviz DOT: one record per node, backward nodes and gradient edges in
/// their own colour. Renders with `dot -Tsvg`. With `Value`, each record
/// gets the value as its last row.
void printGraphDot(const Graph &G, llvm::raw_ostream &OS,
                   NodeValueText Value = {});

/// A value as the annotated dumps print it, next to the node's type:
/// numbers with 6 significant digits (`%.6g`; i32 exactly); up to 16
/// elements whole, nested like a literal (`[[0.5, 1], [2, -3]]`), more as
/// the summary `{min -2.5, mean 0.1, max 3}`.
std::string formatValue(const EvalTensor &V);

/// A value's name as dumps spell it: as it is when it is an identifier
/// (dots allowed, `h1.W`), else between backquotes, as `.nn` source
/// writes names from other tools (`input.1`).
std::string spellName(llvm::StringRef Name);

/// How remarks and partition errors name a value: the number of a scalar
/// constant, `%name`, or the op ("mul").
std::string describeNode(const Node &N);

} // namespace nnc

#endif
