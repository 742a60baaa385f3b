//===- DCE.cpp - Dead-code elimination ------------------------------------===//
//
// Removes every node the model's interface (loss, outputs, metrics, grads,
// updates, and the leaves it declares) cannot reach. Forward values the
// backward pass reads are reachable through the grads, so they stay; what
// the other passes replaced, and forward values nothing reads, go.
//
// Algorithm:
//   1. Mark the nodes reachable from the interface (Graph::liveNodes).
//   2. Remark on each unmarked node, then erase them all at once
//      (Graph::eraseDeadNodes), which keeps the order of the survivors.
//
//===----------------------------------------------------------------------===//
#include "RewriteUtil.h"

#include "nnc/Transforms/Passes.h"

using namespace nnc;
using namespace nnc::transforms;

namespace {

class DCEPass : public Pass {
public:
  DCEPass() : Pass("dce") {}
  bool run(Graph &G) override;
};

} // namespace

bool DCEPass::run(Graph &G) {
  llvm::DenseSet<const Node *> Live = liveSet(G);
  if (Live.size() == G.size())
    return false;
  for (const auto &N : G.nodes()) {
    if (Live.count(N.get()))
      continue;
    // Replaced scalar constants are bookkeeping; named values and ops are
    // what a reader wants to see disappear.
    if (!N->isScalarConst())
      remark(*N, "removed unused " + describeNode(*N));
    count("nodes removed");
  }
  G.eraseDeadNodes();
  return true;
}

std::unique_ptr<Pass> nnc::createDCEPass() {
  return std::make_unique<DCEPass>();
}
