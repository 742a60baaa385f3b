//===- Idx.cpp - MNIST-format (IDX) files, plain or gzip ------------------===//
//
// An IDX file is 0x00 0x00 TYPE NDIMS, NDIMS big-endian u32 sizes, then the
// data. Only TYPE 0x08 (unsigned byte) occurs in MNIST and Fashion-MNIST,
// and only it is accepted. Images must be NDIMS ≥ 2 (N, then the size of
// one image), labels NDIMS = 1. The files are read through zlib's gzread,
// which recognizes the gzip magic itself and reads plain files as is.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Dataset.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <zlib.h>

namespace nnc::rt {

Expected<std::vector<uint8_t>> readMaybeGzip(const std::string &Path) {
  // fopen first: gzopen's errno is not reliable for a missing file.
  FILE *Probe = std::fopen(Path.c_str(), "rb");
  if (!Probe)
    return Status::error(Path + ": " + std::strerror(errno));
  std::fclose(Probe);
  gzFile F = gzopen(Path.c_str(), "rb");
  if (!F)
    return Status::error(Path + ": cannot open");
  gzbuffer(F, 1 << 17);
  std::vector<uint8_t> Bytes;
  uint8_t Buf[1 << 16];
  while (true) {
    int N = gzread(F, Buf, sizeof(Buf));
    if (N > 0) {
      // A small gzip file can inflate to more than memory holds.
      try {
        Bytes.insert(Bytes.end(), Buf, Buf + N);
      } catch (const std::bad_alloc &) {
        gzclose(F);
        return Status::error(Path + ": out of memory after " +
                             std::to_string(Bytes.size()) +
                             " decompressed bytes");
      }
      continue;
    }
    int Err;
    const char *Msg = gzerror(F, &Err);
    if (N < 0 || (Err != Z_OK && Err != Z_STREAM_END)) {
      std::string Reason =
          Err == Z_BUF_ERROR ? "truncated gzip data" : std::string(Msg);
      gzclose(F);
      return Status::error(Path + ": offset " + std::to_string(Bytes.size()) +
                           " (decompressed): " + Reason);
    }
    break;
  }
  gzclose(F);
  return Bytes;
}

/// Checks the header at the start of `Bytes` (magic, element type, the
/// dimensions' count and presence) and reads the dimensions into `Dims`.
static Status parseIdxHeader(const std::string &Path,
                             const std::vector<uint8_t> &Bytes,
                             std::vector<int64_t> &Dims) {
  if (Bytes.size() < 4)
    return Status::error(Path +
                         ": offset 0: file too short for an IDX "
                         "header (" +
                         std::to_string(Bytes.size()) + " bytes)");
  if (Bytes[0] != 0 || Bytes[1] != 0) {
    char Magic[16];
    std::snprintf(Magic, sizeof(Magic), "0x%02x%02x%02x%02x", Bytes[0],
                  Bytes[1], Bytes[2], Bytes[3]);
    return Status::error(Path + ": offset 0: bad IDX magic " + Magic +
                         " (expected 0x000008NN)");
  }
  if (Bytes[2] != 0x08) {
    char Type[8];
    std::snprintf(Type, sizeof(Type), "0x%02x", Bytes[2]);
    return Status::error(Path + ": offset 2: unsupported IDX element type " +
                         Type + " (only unsigned bytes, 0x08)");
  }
  size_t NDims = Bytes[3];
  size_t HeaderSize = 4 + 4 * NDims;
  if (NDims == 0)
    return Status::error(Path + ": offset 3: IDX file with no dimensions");
  if (Bytes.size() < HeaderSize)
    return Status::error(Path + ": offset " + std::to_string(Bytes.size()) +
                         ": truncated IDX header (" + std::to_string(NDims) +
                         " dimensions need " + std::to_string(HeaderSize) +
                         " bytes)");
  Dims.clear();
  for (size_t I = 0; I < NDims; ++I) {
    const uint8_t *P = &Bytes[4 + 4 * I];
    Dims.push_back(uint32_t(P[0]) << 24 | uint32_t(P[1]) << 16 |
                   uint32_t(P[2]) << 8 | uint32_t(P[3]));
  }
  return Status();
}

Expected<IdxArray> parseIdx(const std::string &Path,
                            std::vector<uint8_t> Bytes) {
  IdxArray A;
  if (Status S = parseIdxHeader(Path, Bytes, A.Dims))
    return S;
  size_t HeaderSize = 4 + 4 * A.Dims.size();
  uint64_t Numel = 1;
  for (int64_t D : A.Dims) {
    Numel *= uint64_t(D); // ≤ 2^32 a factor; the check below bounds it.
    if (Numel > Bytes.size())
      Numel = uint64_t(Bytes.size()) + 1;
  }
  uint64_t Have = Bytes.size() - HeaderSize;
  if (Numel > Have)
    return Status::error(Path + ": offset " + std::to_string(Bytes.size()) +
                         ": truncated IDX data (the header promises " +
                         shapeString(A.Dims) + " bytes of data, only " +
                         std::to_string(Have) + " follow the header)");
  Bytes.resize(HeaderSize + Numel);
  Bytes.erase(Bytes.begin(), Bytes.begin() + HeaderSize);
  A.Data = std::move(Bytes);
  return A;
}

Expected<std::vector<int64_t>> readIdxDims(const std::string &Path) {
  FILE *Probe = std::fopen(Path.c_str(), "rb");
  if (!Probe)
    return Status::error(Path + ": " + std::strerror(errno));
  std::fclose(Probe);
  gzFile F = gzopen(Path.c_str(), "rb");
  if (!F)
    return Status::error(Path + ": cannot open");
  // The fixed part first, then as many dimensions as it announces.
  std::vector<uint8_t> Header(4);
  int N = gzread(F, Header.data(), 4);
  if (N == 4 && Header[3] > 0) {
    Header.resize(4 + 4 * size_t(Header[3]));
    int More = gzread(F, Header.data() + 4, unsigned(Header.size() - 4));
    N += std::max(More, 0);
  }
  gzclose(F);
  Header.resize(size_t(std::max(N, 0)));
  std::vector<int64_t> Dims;
  if (Status S = parseIdxHeader(Path, Header, Dims))
    return S;
  return Dims;
}

static Expected<IdxArray> readIdx(const std::string &Path) {
  Expected<std::vector<uint8_t>> Bytes = readMaybeGzip(Path);
  if (!Bytes)
    return Bytes.takeError();
  return parseIdx(Path, std::move(*Bytes));
}

Expected<Dataset> loadIdx(const std::string &ImagesPath,
                          const std::string &LabelsPath, double Scale,
                          const SampleLayout &L) {
  Expected<IdxArray> Images = readIdx(ImagesPath);
  if (!Images)
    return Images.takeError();
  if (Images->Dims.size() < 2)
    return Status::error(ImagesPath +
                         ": images need at least 2 dimensions "
                         "(count, then the image), found " +
                         shapeString(Images->Dims));
  Expected<IdxArray> Labels = readIdx(LabelsPath);
  if (!Labels)
    return Labels.takeError();
  if (Labels->Dims.size() != 1)
    return Status::error(LabelsPath + ": labels need 1 dimension, found " +
                         shapeString(Labels->Dims));
  int64_t N = Images->Dims[0];
  if (Labels->Dims[0] != N)
    return Status::error(ImagesPath + " has " + std::to_string(N) +
                         " images, but " + LabelsPath + " has " +
                         std::to_string(Labels->Dims[0]) + " labels");
  int64_t PerImage = 1;
  std::vector<int64_t> ImageShape(Images->Dims.begin() + 1, Images->Dims.end());
  for (int64_t D : ImageShape)
    PerImage *= D;
  if (PerImage != L.InputNumel)
    return Status::error(
        ImagesPath + ": images are " + shapeString(ImageShape) + " (" +
        std::to_string(PerImage) + " values), but the model input '" +
        std::string(L.Input->name()) + "' " + shapeString(L.Input->shape()) +
        " takes " + std::to_string(L.InputNumel) + " values per example");
  bool OneHot = L.Target->type() == DType::F32 && L.TargetNumel > 1;
  if (L.TargetNumel != 1 && !OneHot)
    return Status::error(LabelsPath +
                         ": labels give one class per example, "
                         "but the model target '" +
                         std::string(L.Target->name()) + "' " +
                         shapeString(L.Target->shape()) + " takes " +
                         std::to_string(L.TargetNumel) + " values");
  std::vector<int32_t> LabelValues(static_cast<size_t>(N));
  for (int64_t I = 0; I < N; ++I) {
    int32_t Label = Labels->Data[size_t(I)];
    if (Status S =
            checkLabel(LabelsPath, "offset " + std::to_string(8 + I), Label, L))
      return S;
    LabelValues[size_t(I)] = Label;
  }
  return Dataset::fromImages(std::move(Images->Data), std::move(ImageShape),
                             float(Scale), std::move(LabelValues));
}

} // namespace nnc::rt
