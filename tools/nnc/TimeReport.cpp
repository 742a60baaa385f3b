//===- TimeReport.cpp - Where `nnc` spends its time (--time-report) -------===//
#include "TimeReport.h"

#include <llvm/Support/Format.h>

#include <sys/resource.h>
#include <time.h>

using namespace nnc;

double nnc::threadCpuSeconds() {
  timespec T;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &T);
  return double(T.tv_sec) + 1e-9 * double(T.tv_nsec);
}

double nnc::childrenCpuSeconds() {
  rusage U;
  getrusage(RUSAGE_CHILDREN, &U);
  auto Seconds = [](const timeval &T) {
    return double(T.tv_sec) + 1e-6 * double(T.tv_usec);
  };
  return Seconds(U.ru_utime) + Seconds(U.ru_stime);
}

TimeReport::Stage::Stage(TimeReport *R, std::string Name)
    : R(R), Name(std::move(Name)), Wall0(std::chrono::steady_clock::now()),
      Cpu0(threadCpuSeconds()) {}

TimeReport::Stage::~Stage() {
  if (!R)
    return;
  std::chrono::duration<double> Wall = std::chrono::steady_clock::now() - Wall0;
  R->Rows.push_back({std::move(Name), Wall.count(),
                     threadCpuSeconds() - Cpu0 + ExtraCpu, std::move(Details)});
}

void TimeReport::print(llvm::raw_ostream &OS) const {
  std::chrono::duration<double> Total =
      std::chrono::steady_clock::now() - Start;
  double Cpu = 0;
  OS << "===-- nnc time report (seconds) --===\n"
     << "     wall       CPU  stage\n";
  for (const Row &R : Rows) {
    OS << llvm::format("%9.3f %9.3f  ", R.Wall, R.Cpu) << R.Name << "\n";
    for (const std::string &D : R.Details)
      OS << "                      " << D << "\n";
    Cpu += R.Cpu;
  }
  OS << llvm::format("%9.3f %9.3f  ", Total.count(), Cpu)
     << "total (wall: from the start of the compilation)\n";
}
