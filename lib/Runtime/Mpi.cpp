//===- Mpi.cpp - Open MPI, loaded when mpirun started the process ---------===//
//
// The C API is declared here by hand, as Open MPI's ABI defines it, so that
// the runtime builds without MPI's headers and executables run without its
// library: handles (MPI_Comm, MPI_Datatype, MPI_Errhandler) are pointers to
// the library's predefined objects — `MPI_COMM_WORLD` is the address of the
// global `ompi_mpi_comm_world` — so they are looked up with dlsym like the
// functions. That ties this file to Open MPI (MPICH's handles are
// integers); docs/distributed.md weighs this against linking -lmpi.
//
// Calls return their error codes (MPI_ERRORS_RETURN on the world
// communicator) so that a failure is reported with the rank and the call
// before the job is aborted, instead of MPI's default abort.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Mpi.h"

#include <cassert>
#include <climits>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <unistd.h>

namespace nnc::rt {

bool launchedByMpi() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMIX_RANK");
}

int launcherRank() {
  for (const char *Var : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK"})
    if (const char *V = std::getenv(Var))
      return std::atoi(V);
  return 0;
}

namespace {
using Handle = void *; // MPI_Comm, MPI_Datatype, MPI_Errhandler
constexpr int MpiSuccess = 0;
constexpr int MpiThreadFunneled = 1;
constexpr int MpiMaxErrorString = 256;
constexpr int MpiCommTypeShared = 0; // the first of Open MPI's split types
constexpr int MpiModeNoCheck = 1;
} // namespace

struct Communicator::Library {
  int (*InitThread)(int *, char ***, int, int *);
  int (*Finalize)();
  int (*CommRank)(Handle, int *);
  int (*CommSize)(Handle, int *);
  int (*CommSetErrhandler)(Handle, Handle);
  int (*Allgather)(const void *, int, Handle, void *, int, Handle, Handle);
  int (*Alltoall)(const void *, int, Handle, void *, int, Handle, Handle);
  int (*Bcast)(void *, int, Handle, int, Handle);
  int (*Isend)(const void *, int, Handle, int, int, Handle, Handle *);
  int (*Irecv)(void *, int, Handle, int, int, Handle, Handle *);
  int (*Waitall)(int, Handle *, void *);
  int (*Abort)(Handle, int);
  int (*Barrier)(Handle);
  int (*CommSplitType)(Handle, int, int, Handle, Handle *);
  int (*CommFree)(Handle *);
  int (*WinAllocateShared)(ptrdiff_t, int, Handle, Handle, void *, Handle *);
  int (*WinSharedQuery)(Handle, int, ptrdiff_t *, int *, void *);
  int (*WinLockAll)(int, Handle);
  int (*WinUnlockAll)(Handle);
  int (*WinSync)(Handle);
  int (*WinFree)(Handle *);
  int (*ErrorString)(int, char *, int *);
  Handle World, Byte, ErrorsReturn, InfoNull;
};

/// What a rank says when mpirun stops it: written by the SIGTERM handler,
/// so prepared beforehand (a handler may only call async-signal-safe
/// functions such as write).
static char StopNote[512];

/// mpirun ends every rank with SIGTERM when one of them dies or fails, or
/// when the job is cancelled. Saying so on each rank's stderr tells the
/// user that this rank did not fail by itself; the files it writes are
/// atomic, so a save cut short leaves the last complete checkpoint.
static void onStop(int Signal) {
  ssize_t Ignored = write(STDERR_FILENO, StopNote, std::strlen(StopNote));
  (void)Ignored;
  std::signal(Signal, SIG_DFL);
  std::raise(Signal);
}

/// The soname of Open MPI 3.0 to 5.x.
static const char MpiLibrary[] = "libmpi.so.40";

Expected<std::unique_ptr<Communicator>>
Communicator::join(std::string Program) {
  // RTLD_GLOBAL: Open MPI's plugins, which it dlopens itself, resolve
  // their references to libmpi through the global namespace.
  void *Dl = dlopen(MpiLibrary, RTLD_NOW | RTLD_GLOBAL);
  if (!Dl)
    return Status::error(
        std::string("launched by mpirun, but Open MPI's library cannot be "
                    "loaded (") +
        dlerror() + "); install Open MPI (Debian: openmpi-bin)");
  auto L = std::make_unique<Library>();
  std::string Missing;
  auto Get = [&](auto &Field, const char *Name) {
    void *Sym = dlsym(Dl, Name);
    if (!Sym && Missing.empty())
      Missing = Name;
    Field = reinterpret_cast<std::remove_reference_t<decltype(Field)>>(Sym);
  };
  Get(L->InitThread, "MPI_Init_thread");
  Get(L->Finalize, "MPI_Finalize");
  Get(L->CommRank, "MPI_Comm_rank");
  Get(L->CommSize, "MPI_Comm_size");
  Get(L->CommSetErrhandler, "MPI_Comm_set_errhandler");
  Get(L->Allgather, "MPI_Allgather");
  Get(L->Alltoall, "MPI_Alltoall");
  Get(L->Bcast, "MPI_Bcast");
  Get(L->Isend, "MPI_Isend");
  Get(L->Irecv, "MPI_Irecv");
  Get(L->Waitall, "MPI_Waitall");
  Get(L->Abort, "MPI_Abort");
  Get(L->Barrier, "MPI_Barrier");
  Get(L->CommSplitType, "MPI_Comm_split_type");
  Get(L->CommFree, "MPI_Comm_free");
  Get(L->WinAllocateShared, "MPI_Win_allocate_shared");
  Get(L->WinSharedQuery, "MPI_Win_shared_query");
  Get(L->WinLockAll, "MPI_Win_lock_all");
  Get(L->WinUnlockAll, "MPI_Win_unlock_all");
  Get(L->WinSync, "MPI_Win_sync");
  Get(L->WinFree, "MPI_Win_free");
  Get(L->ErrorString, "MPI_Error_string");
  Get(L->World, "ompi_mpi_comm_world");
  Get(L->Byte, "ompi_mpi_byte");
  Get(L->ErrorsReturn, "ompi_mpi_errors_return");
  Get(L->InfoNull, "ompi_mpi_info_null");
  if (!Missing.empty())
    return Status::error(std::string(MpiLibrary) + " has no symbol '" +
                         Missing + "': it is not Open MPI's library");

  // Only the main thread calls MPI; the thread pool's workers never do.
  int Provided = 0;
  if (L->InitThread(nullptr, nullptr, MpiThreadFunneled, &Provided) !=
      MpiSuccess)
    return Status::error("MPI_Init_thread failed");
  std::unique_ptr<Communicator> C(new Communicator());
  C->Lib = std::move(L);
  C->Program = std::move(Program);
  Library &Lib = *C->Lib;
  if (int E = Lib.CommSetErrhandler(Lib.World, Lib.ErrorsReturn))
    C->fail("MPI_Comm_set_errhandler", E);
  if (int E = Lib.CommRank(Lib.World, &C->Rank))
    C->fail("MPI_Comm_rank", E);
  if (int E = Lib.CommSize(Lib.World, &C->Size))
    C->fail("MPI_Comm_size", E);
  std::snprintf(StopNote, sizeof(StopNote),
                "%s: error: rank %d: stopped by mpirun (SIGTERM): another "
                "rank failed or the job was cancelled\n",
                C->Program.c_str(), C->Rank);
  std::signal(SIGTERM, onStop);
  return C;
}

Communicator::~Communicator() {
  // The command is over: a rank that mpirun ends while the others finish
  // (one of them returned a failure) has nothing to add.
  std::signal(SIGTERM, SIG_DFL);
  if (!Lib)
    return;
  if (Window) {
    Lib->WinUnlockAll(Window);
    Lib->WinFree(&Window);
  }
  if (Machine)
    Lib->CommFree(&Machine);
  Lib->Finalize();
}

bool Communicator::allOnOneMachine() {
  if (!Machine)
    if (int E = Lib->CommSplitType(Lib->World, MpiCommTypeShared, 0,
                                   Lib->InfoNull, &Machine))
      fail("MPI_Comm_split_type", E);
  int Local = 0;
  if (int E = Lib->CommSize(Machine, &Local))
    fail("MPI_Comm_size", E);
  return Local == Size;
}

std::vector<void *> Communicator::sharedSegments(size_t Bytes) {
  assert(!Window && allOnOneMachine() && "one shared block per job");
  // Open MPI maps the segments one after another, but not always from a
  // 64-byte boundary (on some machines the block starts 8 or 16 bytes into
  // a line). The slot ABI needs 64-byte alignment, so each rank asks for a
  // line more and every rank moves every segment up to the next boundary.
  // The processes map the block at page-aligned addresses, so the offset
  // is the same in each.
  Bytes = (Bytes + 63) / 64 * 64;
  void *Mine = nullptr;
  if (int E = Lib->WinAllocateShared(ptrdiff_t(Bytes + 64), 1, Lib->InfoNull,
                                     Machine, &Mine, &Window))
    fail("MPI_Win_allocate_shared", E);
  // One passive epoch for the whole run; MPI_Win_sync then orders the
  // loads and stores around each barrier.
  if (int E = Lib->WinLockAll(MpiModeNoCheck, Window))
    fail("MPI_Win_lock_all", E);
  std::vector<void *> Segments(static_cast<size_t>(Size));
  for (int R = 0; R < Size; ++R) {
    ptrdiff_t Got = 0;
    int Unit = 0;
    void *Base = nullptr;
    if (int E = Lib->WinSharedQuery(Window, R, &Got, &Unit, &Base))
      fail("MPI_Win_shared_query", E);
    uintptr_t At = reinterpret_cast<uintptr_t>(Base);
    Segments[R] = reinterpret_cast<void *>((At + 63) / 64 * 64);
  }
  return Segments;
}

void Communicator::sharedBarrier() {
  if (int E = Lib->WinSync(Window))
    fail("MPI_Win_sync", E);
  if (int E = Lib->Barrier(Machine))
    fail("MPI_Barrier", E);
  if (int E = Lib->WinSync(Window))
    fail("MPI_Win_sync", E);
}

void Communicator::fail(const char *Call, int Code) {
  char Text[MpiMaxErrorString] = "";
  int Len = 0;
  if (Lib->ErrorString(Code, Text, &Len) != MpiSuccess)
    std::snprintf(Text, sizeof(Text), "error code %d", Code);
  std::fflush(stdout);
  std::fprintf(stderr, "%s: error: rank %d: %s failed: %s\n", Program.c_str(),
               Rank, Call, Text);
  abort(1);
}

int Communicator::count(const char *Call, size_t Bytes) {
  if (Bytes <= size_t(INT_MAX))
    return int(Bytes);
  std::fflush(stdout);
  std::fprintf(stderr,
               "%s: error: rank %d: %s of %zu bytes per rank is beyond MPI's "
               "int counts\n",
               Program.c_str(), Rank, Call, Bytes);
  abort(1);
}

void Communicator::allGather(const void *Send, void *Recv, size_t Bytes) {
  int N = count("MPI_Allgather", Bytes);
  if (int E =
          Lib->Allgather(Send, N, Lib->Byte, Recv, N, Lib->Byte, Lib->World))
    fail("MPI_Allgather", E);
}

void Communicator::allToAll(const void *Send, void *Recv, size_t Bytes) {
  int N = count("MPI_Alltoall", Bytes);
  if (int E = Lib->Alltoall(Send, N, Lib->Byte, Recv, N, Lib->Byte, Lib->World))
    fail("MPI_Alltoall", E);
}

void Communicator::exchange(const std::vector<Piece> &Send,
                            const std::vector<Piece> &Recv, int Peer) {
  // Piece K travels under tag K mod 2^15 (MPI promises tags up to
  // 32767); pieces that share a tag still pair up in order, since MPI
  // matches messages of one sender and tag in the order they were sent
  // and posted. Receives are posted first, so every message finds its
  // buffer waiting.
  auto Tag = [](size_t K) { return int(K % 32768); };
  Requests.assign(Send.size() + Recv.size(), nullptr);
  for (size_t K = 0; K < Recv.size(); ++K)
    if (int E = Lib->Irecv(Recv[K].Data, count("MPI_Irecv", Recv[K].Bytes),
                           Lib->Byte, Peer, Tag(K), Lib->World, &Requests[K]))
      fail("MPI_Irecv", E);
  for (size_t K = 0; K < Send.size(); ++K)
    if (int E = Lib->Isend(Send[K].Data, count("MPI_Isend", Send[K].Bytes),
                           Lib->Byte, Peer, Tag(K), Lib->World,
                           &Requests[Recv.size() + K]))
      fail("MPI_Isend", E);
  // MPI_STATUSES_IGNORE is a null pointer in Open MPI.
  if (int E = Lib->Waitall(int(Requests.size()), Requests.data(), nullptr))
    fail("MPI_Waitall", E);
}

void Communicator::broadcast(void *Data, size_t Bytes, int Root) {
  int N = count("MPI_Bcast", Bytes);
  if (int E = Lib->Bcast(Data, N, Lib->Byte, Root, Lib->World))
    fail("MPI_Bcast", E);
}

void Communicator::abort(int Code) {
  std::fflush(stdout);
  std::fflush(stderr);
  Lib->Abort(Lib->World, Code);
  std::_Exit(Code); // MPI_Abort does not return; this is for the compiler.
}

} // namespace nnc::rt
