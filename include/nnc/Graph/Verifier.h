//===- Verifier.h - Structural invariants of a graph ----------------------===//
//
// The checker every stage can run on a Graph: Sema after building one, the
// PassManager before the first and after every pass (`--verify-each`), the
// fuzzer after each stage and the unit tests after every rewrite. A
// violation is a compiler bug, not a user error, so the answer is a sentence
// for the developer rather than a diagnostic.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_GRAPH_VERIFIER_H
#define NNC_GRAPH_VERIFIER_H

#include "nnc/Graph/Graph.h"

#include <string>

namespace nnc {

/// Checks the structural invariants (operand counts, topological order,
/// shape rules, interface consistency, the kernel partition). Returns an
/// empty string when the graph is well formed, else a description of the
/// first violation.
std::string verifyGraph(const Graph &G);

} // namespace nnc

#endif
