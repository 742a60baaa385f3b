//===- Progress.cpp - Progress bar, epoch summaries, CSV log --------------===//
//
// Numbers are printed with %.4f (losses, metrics) so that lines line up and
// tests can match them with a regex; the CSV log uses %.9g so that it keeps
// the full float precision.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Progress.h"

#include <cerrno>
#include <cstring>

namespace nnc::rt {

ProgressReporter::ProgressReporter(FILE *Out, bool Live, int64_t Epochs,
                                   std::vector<std::string> MetricNames)
    : Out(Out), Live(Live), Epochs(Epochs),
      MetricNames(std::move(MetricNames)) {}

static std::string formatDuration(double S) {
  char Buf[32];
  if (S < 60)
    std::snprintf(Buf, sizeof(Buf), "%.1fs", S);
  else if (S < 3600)
    std::snprintf(Buf, sizeof(Buf), "%dm%02ds", int(S) / 60, int(S) % 60);
  else
    std::snprintf(Buf, sizeof(Buf), "%dh%02dm", int(S) / 3600,
                  int(S) / 60 % 60);
  return Buf;
}

void ProgressReporter::step(int64_t Epoch, int64_t Done, int64_t Steps,
                            double Loss, int64_t Examples, double Seconds) {
  if (!Live)
    return;
  auto Now = std::chrono::steady_clock::now();
  if (Done != Steps && Now - LastDraw < std::chrono::milliseconds(100))
    return;
  LastDraw = Now;
  constexpr int Width = 30;
  int Filled = Steps ? int(Width * Done / Steps) : Width;
  std::string Bar(size_t(Filled), '=');
  if (Filled < Width)
    Bar += '>' + std::string(size_t(Width - Filled - 1), ' ');
  // ETA: the rest of this epoch at this epoch's pace, plus the remaining
  // epochs at the mean pace so far.
  double PerStep = Done ? Seconds / double(Done) : 0;
  double EpochTime = PerStep * double(Steps);
  double Eta = PerStep * double(Steps - Done) +
               double(Epochs - Epoch) *
                   (Finished ? TotalSeconds / double(Finished) : EpochTime);
  double Rate = Seconds > 0 ? double(Examples) / Seconds : 0;
  std::fprintf(Out,
               "\repoch %lld/%lld [%s] %lld/%lld  loss %.4f  %.0f ex/s  "
               "ETA %s\033[K",
               (long long)Epoch, (long long)Epochs, Bar.c_str(),
               (long long)Done, (long long)Steps, Loss, Rate,
               formatDuration(Eta).c_str());
  std::fflush(Out);
}

std::string ProgressReporter::summary(const EpochStats &S) const {
  char Buf[64];
  std::string Line =
      "epoch " + std::to_string(S.Epoch) + "/" + std::to_string(Epochs);
  auto Add = [&](const std::string &Name, double V) {
    std::snprintf(Buf, sizeof(Buf), "%.4f", V);
    Line += "  " + Name + " " + Buf;
  };
  auto AddSet = [&](const std::string &Prefix, double Loss,
                    const std::vector<double> &Metrics) {
    Add(Prefix + "loss", Loss);
    for (size_t I = 0; I < MetricNames.size(); ++I)
      Add(Prefix + MetricNames[I], Metrics[I]);
  };
  AddSet("", S.Loss, S.Metrics);
  if (S.HasVal)
    AddSet("val_", S.ValLoss, S.ValMetrics);
  if (S.HasTest)
    AddSet("test_", S.TestLoss, S.TestMetrics);
  double Rate = S.TrainSeconds > 0 ? double(S.Examples) / S.TrainSeconds : 0;
  std::snprintf(Buf, sizeof(Buf), "  %.0f ex/s  %.1f s", Rate, S.Seconds);
  return Line + Buf;
}

void ProgressReporter::endEpoch(const EpochStats &S) {
  TotalSeconds += S.Seconds;
  ++Finished;
  std::string Line = summary(S);
  std::fprintf(Out, Live ? "\r%s\033[K\n" : "%s\n", Line.c_str());
  std::fflush(Out);
}

CsvLog::~CsvLog() {
  if (F)
    std::fclose(F);
}

Status CsvLog::open(const std::string &P, const std::vector<std::string> &M,
                    bool HasVal, bool HasTest) {
  Path = P;
  F = std::fopen(Path.c_str(), "w");
  if (!F)
    return Status::error(Path +
                         ": cannot create the log: " + std::strerror(errno));
  std::string Header = "epoch,lr";
  auto AddSet = [&](const std::string &Prefix) {
    Header += "," + Prefix + "loss";
    for (const std::string &Name : M)
      Header += "," + Prefix + Name;
  };
  AddSet("");
  if (HasVal)
    AddSet("val_");
  if (HasTest)
    AddSet("test_");
  Header += ",seconds\n";
  std::fputs(Header.c_str(), F);
  if (std::fflush(F) != 0)
    return Status::error(Path + ": write failed: " + std::strerror(errno));
  return Status();
}

Status CsvLog::row(const EpochStats &S) {
  std::fprintf(F, "%lld,%.9g", (long long)S.Epoch, S.Lr);
  auto AddSet = [&](double Loss, const std::vector<double> &Metrics) {
    std::fprintf(F, ",%.9g", Loss);
    for (double V : Metrics)
      std::fprintf(F, ",%.9g", V);
  };
  AddSet(S.Loss, S.Metrics);
  if (S.HasVal)
    AddSet(S.ValLoss, S.ValMetrics);
  if (S.HasTest)
    AddSet(S.TestLoss, S.TestMetrics);
  std::fprintf(F, ",%.3f\n", S.Seconds);
  if (std::fflush(F) != 0)
    return Status::error(Path + ": write failed: " + std::strerror(errno));
  return Status();
}

} // namespace nnc::rt
