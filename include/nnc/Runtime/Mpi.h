//===- Mpi.h - The processes of an mpirun job -------------------*- C++ -*-===//
//
// Data-parallel training (docs/distributed.md) runs one executable as N
// processes under Open MPI's `mpirun`. The runtime does not link MPI: an
// executable must run on machines without Open MPI, and most runs are a
// single process. Only when the environment says the process was started
// by an MPI launcher does `Communicator::join` load Open MPI's library
// (`libmpi.so.40`, the soname of Open MPI 3.x to 5.x) with dlopen and look
// up the few functions and handles it uses by name.
//
// Only data movement is asked of MPI (all-to-all, all-gather, broadcast, on
// bytes): the arithmetic on the data is ours, in a fixed order, so that a
// job's results do not depend on which algorithm MPI picks for a
// collective. A failed MPI call is not an error a command can report and
// continue from — the other processes would wait for this one forever — so
// it prints one line naming the rank and the call and aborts the whole job.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_MPI_H
#define NNC_RUNTIME_MPI_H

#include "nnc/Runtime/Status.h"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace nnc::rt {

/// True when an MPI launcher started this process (Open MPI's mpirun sets
/// OMPI_COMM_WORLD_SIZE; PMIx launchers such as Slurm's srun set
/// PMIX_RANK).
bool launchedByMpi();

/// This process's rank as the launcher's environment gives it (0 when
/// there is none), known before MPI is initialized.
int launcherRank();

/// The job's processes, with MPI initialized; finalized on destruction.
class Communicator {
public:
  /// Loads Open MPI and initializes it. `Program` prefixes the messages of
  /// failed calls. Fails (without aborting: nothing is initialized yet)
  /// when the library or one of its symbols cannot be found.
  static Expected<std::unique_ptr<Communicator>> join(std::string Program);
  ~Communicator();
  Communicator(const Communicator &) = delete;
  Communicator &operator=(const Communicator &) = delete;

  int rank() const { return Rank; }
  int size() const { return Size; }

  /// Every rank sends `Bytes` from `Send`; `Recv` (size() · Bytes) receives
  /// rank r's bytes at r · Bytes.
  void allGather(const void *Send, void *Recv, size_t Bytes);
  /// Every rank sends bytes [r · Bytes, (r + 1) · Bytes) of `Send` to rank
  /// r; `Recv` receives rank r's at r · Bytes.
  void allToAll(const void *Send, void *Recv, size_t Bytes);
  /// Bytes at an address: one message of `exchange`.
  struct Piece {
    void *Data;
    size_t Bytes;
  };
  /// Sends each of `Send` to rank `Peer` while receiving as many pieces of
  /// the same sizes from it into `Recv` (both ranks call it, naming each
  /// other); every message is posted at once (MPI_Isend, MPI_Irecv), so
  /// the pieces need not be one buffer and cost one round trip together.
  void exchange(const std::vector<Piece> &Send, const std::vector<Piece> &Recv,
                int Peer);
  /// Rank `Root`'s `Bytes` at `Data` to every rank.
  void broadcast(void *Data, size_t Bytes, int Root);
  /// True when every rank runs on this machine (MPI_Comm_split_type with
  /// MPI_COMM_TYPE_SHARED gives one group).
  bool allOnOneMachine();
  /// Memory all ranks of one machine map (MPI_Win_allocate_shared): one
  /// segment of `Bytes` per rank, 64-byte aligned; element r is rank r's
  /// segment, as this process sees it. Collective; the memory lives until
  /// the communicator is destroyed. Only when allOnOneMachine().
  std::vector<void *> sharedSegments(size_t Bytes);
  /// Orders the ranks' accesses to the shared segments: what any rank
  /// wrote before the call is what every rank reads after it (MPI_Win_sync
  /// around a barrier of the machine's ranks).
  void sharedBarrier();
  /// Ends every process of the job with exit status `Code`.
  [[noreturn]] void abort(int Code);

  struct Library; ///< The functions and handles looked up in libmpi.

private:
  Communicator() = default;
  /// Prints "PROGRAM: error: rank R: CALL failed: REASON" and aborts.
  [[noreturn]] void fail(const char *Call, int Code);
  /// `Bytes` as an MPI count, or a failure of `Call`.
  int count(const char *Call, size_t Bytes);

  std::unique_ptr<Library> Lib;
  void *Machine = nullptr;      ///< The ranks on this machine (an MPI_Comm).
  void *Window = nullptr;       ///< sharedSegments' MPI_Win.
  std::vector<void *> Requests; ///< exchange's MPI_Requests, kept.
  std::string Program;
  int Rank = 0, Size = 1;
};

} // namespace nnc::rt

#endif
