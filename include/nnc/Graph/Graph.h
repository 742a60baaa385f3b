//===- Graph.h - The computational graph IR -------------------------------===//
//
// A model is a Graph: an SSA DAG of Nodes, each an op from Ops.def with a
// static TensorType, its operands, its attributes and the SourceLoc of the
// `.nn` text it came from. The Graph owns its nodes and keeps them in a
// topological order (every operand before its users); `create` appends, so
// building in evaluation order keeps the invariant, and `topoSort` restores it
// after a pass rewires nodes.
//
// Besides the nodes, a Graph records the model's interface: inputs, targets,
// params (with their initializers), the loss, outputs and metrics, and — once
// differentiated — the gradient of each param and the updates the optimizer
// applies to params and state at the end of a training step.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_GRAPH_GRAPH_H
#define NNC_GRAPH_GRAPH_H

#include "nnc/Graph/Op.h"
#include "nnc/Graph/Tensor.h"
#include "nnc/Graph/Types.h"
#include "nnc/Support/SourceLoc.h"

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/DenseSet.h>
#include <llvm/ADT/SmallVector.h>

#include <memory>
#include <string>
#include <vector>

namespace nnc {

/// How a param gets its first value (docs/language.md, "Initializers").
struct InitSpec {
  enum KindT : uint8_t {
    Zeros,
    Ones,
    Constant,      ///< const(A)
    Uniform,       ///< uniform(A = lo, B = hi)
    Normal,        ///< normal(A = mean, B = std)
    GlorotUniform, ///< U(-l, l), l = sqrt(6 / (fan_in + fan_out))
    HeNormal,      ///< N(0, sqrt(2 / fan_in))
    Literal,       ///< a tensor literal, in `Value`; also `load(FILE)`
  } Kind = Zeros;
  double A = 0, B = 0;
  Tensor Value;
};

/// Which part of the training step a node belongs to. Dumps draw backward and
/// update nodes differently so a reader sees where backpropagation starts.
enum class NodeRole : uint8_t { Forward, Backward, Update };

class Node {
public:
  OpKind Kind;
  TensorType Type;
  llvm::SmallVector<Node *, 2> Operands;
  Attrs A;
  /// A readable name: the binding (`h`), the param (`h1.W`), the gradient
  /// (`d.W1`). Empty for temporaries; the printer numbers those.
  std::string Name;
  SourceLoc Loc;
  NodeRole Role = NodeRole::Forward;
  /// Param and Buffer only: how it is initialized.
  InitSpec Init;
  /// Const only: its value.
  Tensor Value;
  /// Input only: how tensor files store it, when not as its dtype
  /// (`input x : i64[3]` is computed in i32 and read from I64 data).
  FileType Stored = FileType::Native;
  /// The kernel (one loop nest, one generated function) this node is
  /// computed in, as partitioned by the `fuse` pass; nodes with equal ids
  /// are fused. -1: not partitioned (leaves, aliasing reshapes, or a graph
  /// `fuse` has not run on), i.e. a kernel of its own.
  int Kernel = -1;

  Node(OpKind Kind, TensorType Type, llvm::ArrayRef<Node *> Operands,
       SourceLoc Loc)
      : Kind(Kind), Type(std::move(Type)),
        Operands(Operands.begin(), Operands.end()), Loc(Loc) {}

  bool isLeaf() const { return opClass(Kind) == OpClass::Leaf; }
  Node *operand(unsigned I) const { return Operands[I]; }
  DType dtype() const { return Type.Elem; }
  llvm::ArrayRef<int64_t> dims() const { return Type.Dims; }
  /// A scalar Const; `value` returns its number.
  bool isScalarConst() const {
    return Kind == OpKind::Const && Type.isScalar();
  }
  double scalarValue() const { return Value.at(0); }
};

/// A named value the model exposes: `output y`, `metric acc`.
struct NamedValue {
  std::string Name;
  Node *Value;
  SourceLoc Loc;
  /// Outputs: how tensor files store it (`output y : i64`).
  FileType Stored = FileType::Native;
};

/// At the end of a training step, `Target` (a Param, State or Buffer leaf)
/// takes the value `NewValue`.
struct Update {
  Node *Target;
  Node *NewValue;
};

class Graph {
public:
  explicit Graph(std::string Name) : Name(std::move(Name)) {}

  /// Appends a node; operands must already belong to this graph.
  Node *create(OpKind Kind, TensorType Type, llvm::ArrayRef<Node *> Operands,
               SourceLoc Loc = {}, Attrs A = {});
  /// Appends a scalar f32 Const.
  Node *scalarConst(double V, SourceLoc Loc = {});
  /// Appends a Const holding `Value`.
  Node *constant(Tensor Value, SourceLoc Loc = {});

  const std::string &name() const { return Name; }
  /// Nodes in topological order.
  llvm::ArrayRef<std::unique_ptr<Node>> nodes() const { return Nodes; }
  size_t size() const { return Nodes.size(); }

  /// Restores topological order (stable: keeps the current relative order
  /// where dependencies allow).
  void topoSort();
  /// Drops nodes nothing reachable from the interface uses.
  void eraseDeadNodes();
  /// Every node the interface (loss, outputs, metrics, grads, updates) can
  /// reach, plus all leaves that are part of the interface.
  std::vector<Node *> liveNodes() const;
  /// The values the interface reads out of the computation: the loss,
  /// outputs, metrics, grads and updates' new values.
  llvm::DenseSet<const Node *> resultValues() const;
  /// A deep copy named `NewName`: the same nodes in the same order, with
  /// the interface pointing at the copies.
  std::unique_ptr<Graph> clone(std::string NewName) const;
  /// Replaces every use of `Old` (operands and interface) with `New`.
  void replaceAllUsesWith(Node *Old, Node *New);

  // The model's interface, in declaration order.
  std::vector<Node *> Inputs;
  std::vector<Node *> Targets;
  std::vector<Node *> Params;
  std::vector<Node *> States; ///< Optimizer state, once the update is built.
  /// Values the model keeps and updates in train mode but never trains
  /// (batchnorm's running statistics), saved with the params.
  std::vector<Node *> Buffers;
  /// Scalars the runtime sets: `lr`, and `dropout_key` (per step).
  std::vector<Node *> Hypers;
  Node *Loss = nullptr;
  std::string LossName;
  SourceLoc LossLoc;
  std::vector<NamedValue> Outputs;
  std::vector<NamedValue> Metrics;
  /// d loss / d Params[i], once differentiated (same order as Params).
  std::vector<Node *> Grads;
  /// What a training step writes back: the buffers' new values (train
  /// mode), then the optimizer's updates of params and state.
  std::vector<Update> Updates;
  /// The batch dimension: the first dim of every input and target (0 when
  /// the model has no inputs, or is unbatched).
  int64_t BatchSize = 0;
  /// `unbatched`: inputs are taken whole at their declared shapes, and
  /// `predict` runs the graph once (docs/language.md, "Model statements").
  bool Unbatched = false;

private:
  std::string Name;
  std::vector<std::unique_ptr<Node>> Nodes;
};

} // namespace nnc

#endif
