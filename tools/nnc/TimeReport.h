//===- TimeReport.h - Where `nnc` spends its time (--time-report) ---------===//
//
// `--time-report` prints, after the compilation, each stage's wall time and
// the CPU time the stage took on its threads, like clang's -ftime-report.
// CPU time is what a stage costs whatever else runs on the machine, and
// for the LLVM stage, compiled in parts on several threads
// (ParallelCodeGen.h), it is given per part: on an idle machine the wall
// time of that stage is about its slowest part.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TOOLS_TIMEREPORT_H
#define NNC_TOOLS_TIMEREPORT_H

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/raw_ostream.h>

#include <chrono>
#include <string>
#include <vector>

namespace nnc {

/// CPU seconds the calling thread has used.
double threadCpuSeconds();

/// CPU seconds of the child processes waited for so far (the linker).
double childrenCpuSeconds();

class TimeReport {
public:
  /// Times the stage from here to the end of the scope, on this thread
  /// (plus `ExtraCpu`, set by the stage, for work it ran elsewhere).
  class Stage {
  public:
    Stage(TimeReport *R, std::string Name);
    ~Stage();
    double ExtraCpu = 0;
    /// Lines printed under the stage (the LLVM parts).
    std::vector<std::string> Details;

  private:
    TimeReport *R;
    std::string Name;
    std::chrono::steady_clock::time_point Wall0;
    double Cpu0;
  };

  void print(llvm::raw_ostream &OS) const;

private:
  struct Row {
    std::string Name;
    double Wall, Cpu;
    std::vector<std::string> Details;
  };
  std::vector<Row> Rows;
  std::chrono::steady_clock::time_point Start =
      std::chrono::steady_clock::now();
};

} // namespace nnc

#endif
