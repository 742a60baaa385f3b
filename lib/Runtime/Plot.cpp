//===- Plot.cpp - `plot`: a --log file's curves as an SVG picture ---------===//
//
// The command around two pure functions: read the file, parse it
// (LogTable.h), draw it (CurvePlot.h) and write the picture atomically, so
// that a failed run leaves no partial SVG (and an older picture under the
// same name untouched). Every failure is one message naming the file.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Commands.h"
#include "nnc/Runtime/CurvePlot.h"
#include "nnc/Runtime/LogTable.h"
#include "nnc/Runtime/TensorFile.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace nnc::rt {

namespace {

/// The bytes of `Path`.
Expected<std::string> readWholeFile(const std::string &Path) {
  FILE *F = std::fopen(Path.c_str(), "rb");
  if (!F)
    return Status::error(Path + ": " + std::strerror(errno));
  std::string Bytes;
  char Buf[1 << 16];
  size_t N;
  while ((N = std::fread(Buf, 1, sizeof(Buf), F)) > 0)
    Bytes.append(Buf, N);
  // fread sets errno on a failed read (EISDIR for a folder).
  int Saved = errno;
  bool Failed = std::ferror(F);
  std::fclose(F);
  if (Failed)
    return Status::error(Path + ": read error: " + std::strerror(Saved));
  return Bytes;
}

/// The last component of `Path`, for the picture's title.
std::string baseName(const std::string &Path) {
  size_t Slash = Path.rfind('/');
  return Slash == std::string::npos ? Path : Path.substr(Slash + 1);
}

} // namespace

Status runPlot(const nnc_model &M, const RunOptions &O) {
  const std::string &Path = O.Operand;
  Expected<std::string> Bytes = readWholeFile(Path);
  if (!Bytes)
    return Bytes.takeError();
  Expected<LogTable> T = parseLog(*Bytes, Path);
  if (!T)
    return T.takeError();
  std::vector<Panel> Panels = curvePanels(*T);
  if (Panels.empty())
    return Status::error(Path + ": nothing to plot: no column besides "
                                "'epoch' and 'seconds'");
  if (Status S = writeFileAtomically(
          O.Out, curvesSvg(*T, "Training curves: " + baseName(Path))))
    return S;
  std::string Drawn;
  for (const Panel &P : Panels)
    Drawn += (Drawn.empty() ? "" : ", ") + P.Label;
  std::printf("wrote %s: %s\n", O.Out.c_str(), Drawn.c_str());
  return Status();
}

} // namespace nnc::rt
