//===- Idx.cpp - MNIST-format (IDX) files, plain or gzip ------------------===//
//
// An IDX file is 0x00 0x00 TYPE NDIMS, NDIMS big-endian u32 sizes, then the
// data. Only TYPE 0x08 (unsigned byte) occurs in MNIST and Fashion-MNIST,
// and only it is accepted. Images must be NDIMS ≥ 2 (N, then the size of
// one image), labels NDIMS = 1. The files are read through zlib's gzread,
// which recognizes the gzip magic itself and reads plain files as is.
//
// A header's claim is checked before any data is read: the dimensions'
// product must fit 2^62, must not exceed what the file can hold (its size
// for a plain file, deflate's best ratio times it for gzip) nor physical
// memory. Then exactly the claimed bytes are read, the buffer growing as
// they arrive (docs/reliability.md, "Limits").
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Dataset.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

namespace nnc::rt {

namespace {

/// A file read through zlib's gzread, which inflates gzip and passes a
/// plain file through as is. Closed on every path out.
class GzFile {
public:
  /// Opens `Path`; the error is errno's (fopen first: gzopen's errno is not
  /// reliable for a missing file).
  static Status open(const std::string &Path, std::unique_ptr<GzFile> &Out) {
    FILE *Probe = std::fopen(Path.c_str(), "rb");
    if (!Probe)
      return Status::error(Path + ": " + std::strerror(errno));
    struct stat St;
    bool Stat = ::fstat(fileno(Probe), &St) == 0;
    std::fclose(Probe);
    if (Stat && S_ISDIR(St.st_mode))
      return Status::error(Path + ": is a directory");
    gzFile F = gzopen(Path.c_str(), "rb");
    if (!F)
      return Status::error(Path + ": cannot open");
    gzbuffer(F, 1 << 17);
    // A pipe (`--data <(zcat ...)`) has no size to check claims against.
    bool Regular = Stat && S_ISREG(St.st_mode);
    Out.reset(new GzFile(Path, F, Regular ? uint64_t(St.st_size) : 0));
    return Status();
  }
  ~GzFile() { gzclose(F); }
  GzFile(const GzFile &) = delete;
  GzFile &operator=(const GzFile &) = delete;

  /// The size of the file on disk (compressed, for gzip); 0 when it is
  /// not a regular file.
  uint64_t fileSize() const { return FileSize; }
  /// Whether the file is plain, not gzip (known after the first read).
  bool plain() const { return gzdirect(F) != 0; }

  /// Appends up to `N` more bytes to `Out`, fewer at the end of the data.
  /// The buffer grows as the bytes arrive, never by what is still to
  /// come: a gzip file can claim far more than it holds. Errors name the
  /// offset in the decompressed bytes.
  Status read(std::vector<uint8_t> &Out, uint64_t N) {
    constexpr uint64_t Chunk = 1 << 16;
    while (N > 0) {
      size_t Old = Out.size();
      unsigned Want = unsigned(std::min(N, Chunk));
      try {
        Out.resize(Old + Want);
      } catch (const std::bad_alloc &) {
        Out.resize(Old);
        return Status::error(Path + ": out of memory after " +
                             std::to_string(Old) + " decompressed bytes");
      }
      int Got = gzread(F, Out.data() + Old, Want);
      Out.resize(Old + size_t(std::max(Got, 0)));
      int Err;
      const char *Msg = gzerror(F, &Err);
      if (Got < 0 || (Err != Z_OK && Err != Z_STREAM_END))
        return Status::error(
            Path + ": offset " + std::to_string(Out.size()) +
            " (decompressed): " +
            (Err == Z_BUF_ERROR ? "truncated gzip data" : std::string(Msg)));
      if (unsigned(Got) < Want)
        return Status(); // the end of the data
      N -= Want;
    }
    return Status();
  }

private:
  GzFile(std::string Path, gzFile F, uint64_t FileSize)
      : Path(std::move(Path)), F(F), FileSize(FileSize) {}
  std::string Path;
  gzFile F;
  uint64_t FileSize;
};

/// The most bytes deflate can expand one compressed byte into (its best
/// ratio is about 1032:1): a gzip file of S bytes holds at most this
/// times S.
constexpr uint64_t MaxDeflateRatio = 1032;

/// The most elements an IDX file may claim, so that every product of its
/// dimensions (the images', one image's) fits an int64.
constexpr uint64_t MaxIdxElements = uint64_t(1) << 62;

/// The machine's physical memory in bytes (0 when unknown).
uint64_t physicalMemory() {
  long Pages = ::sysconf(_SC_PHYS_PAGES), PageSize = ::sysconf(_SC_PAGESIZE);
  return Pages > 0 && PageSize > 0 ? uint64_t(Pages) * uint64_t(PageSize) : 0;
}

} // namespace

Expected<std::vector<uint8_t>> readMaybeGzip(const std::string &Path) {
  std::unique_ptr<GzFile> F;
  if (Status S = GzFile::open(Path, F))
    return S;
  std::vector<uint8_t> Bytes;
  if (Status S = F->read(Bytes, UINT64_MAX))
    return S;
  return Bytes;
}

/// Checks the header at the start of `Bytes` (magic, element type, the
/// dimensions' count and presence, their product) and reads the dimensions
/// into `Dims`.
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
  // The product of the dimensions that are not zero, so that a zero count
  // does not let absurd image dimensions through.
  uint64_t NonZero = 1;
  for (size_t I = 0; I < NDims; ++I) {
    const uint8_t *P = &Bytes[4 + 4 * I];
    uint64_t D = uint32_t(P[0]) << 24 | uint32_t(P[1]) << 16 |
                 uint32_t(P[2]) << 8 | uint32_t(P[3]);
    Dims.push_back(int64_t(D));
    if (D != 0 && NonZero > MaxIdxElements / D)
      return Status::error(Path + ": offset " + std::to_string(4 + 4 * I) +
                           ": IDX dimensions " + shapeString(Dims) +
                           "... exceed 2^62 elements");
    NonZero *= D != 0 ? D : 1;
  }
  return Status();
}

/// The number of data bytes `Dims` promise (at most 2^62, checked by
/// parseIdxHeader).
static uint64_t idxNumel(const std::vector<int64_t> &Dims) {
  uint64_t Numel = 1;
  for (int64_t D : Dims)
    Numel *= uint64_t(D);
  return Numel;
}

/// "offset N: truncated IDX data (...)": `Have` bytes follow the header of
/// `HeaderSize` bytes.
static Status truncatedData(const std::string &Path,
                            const std::vector<int64_t> &Dims,
                            uint64_t HeaderSize, uint64_t Have) {
  return Status::error(Path + ": offset " + std::to_string(HeaderSize + Have) +
                       ": truncated IDX data (the header promises " +
                       shapeString(Dims) + " bytes of data, only " +
                       std::to_string(Have) + " follow the header)");
}

Expected<IdxArray> parseIdx(const std::string &Path,
                            std::vector<uint8_t> Bytes) {
  IdxArray A;
  if (Status S = parseIdxHeader(Path, Bytes, A.Dims))
    return S;
  size_t HeaderSize = 4 + 4 * A.Dims.size();
  uint64_t Numel = idxNumel(A.Dims);
  uint64_t Have = Bytes.size() - HeaderSize;
  if (Numel > Have)
    return truncatedData(Path, A.Dims, HeaderSize, Have);
  Bytes.resize(HeaderSize + Numel);
  Bytes.erase(Bytes.begin(), Bytes.begin() + HeaderSize);
  A.Data = std::move(Bytes);
  return A;
}

/// Reads the header of the open file `F` into `Header` and `Dims`.
static Status readIdxHeader(const std::string &Path, GzFile &F,
                            std::vector<uint8_t> &Header,
                            std::vector<int64_t> &Dims) {
  // The fixed part first, then as many dimensions as it announces.
  if (Status S = F.read(Header, 4))
    return S;
  if (Header.size() == 4)
    if (Status S = F.read(Header, 4 * uint64_t(Header[3])))
      return S;
  return parseIdxHeader(Path, Header, Dims);
}

Expected<std::vector<int64_t>> readIdxDims(const std::string &Path) {
  std::unique_ptr<GzFile> F;
  if (Status S = GzFile::open(Path, F))
    return S;
  std::vector<uint8_t> Header;
  std::vector<int64_t> Dims;
  if (Status S = readIdxHeader(Path, *F, Header, Dims))
    return S;
  return Dims;
}

Expected<IdxArray> readIdxFile(const std::string &Path) {
  // The header first; then what it claims is checked against what the
  // file can hold before a byte of data is read, and no more than the
  // claim is ever read (trailing bytes are ignored).
  std::unique_ptr<GzFile> F;
  if (Status S = GzFile::open(Path, F))
    return S;
  IdxArray A;
  std::vector<uint8_t> Bytes;
  if (Status S = readIdxHeader(Path, *F, Bytes, A.Dims))
    return S;
  uint64_t HeaderSize = Bytes.size(), Numel = idxNumel(A.Dims);
  uint64_t FileSize = std::max(F->fileSize(), HeaderSize);
  bool Sized = F->fileSize() > 0;
  if (Sized && F->plain() && Numel > FileSize - HeaderSize)
    return truncatedData(Path, A.Dims, HeaderSize, FileSize - HeaderSize);
  if (Sized && !F->plain() && Numel / MaxDeflateRatio > FileSize)
    return Status::error(Path + ": offset 4: the IDX header promises " +
                         shapeString(A.Dims) + " = " + std::to_string(Numel) +
                         " bytes of data, more than a gzip file of " +
                         std::to_string(F->fileSize()) +
                         " bytes can hold (at most " +
                         std::to_string(MaxDeflateRatio) + " times its size)");
  uint64_t Physical = physicalMemory();
  if (Physical && Numel > Physical)
    return Status::error(Path + ": offset 4: the IDX header promises " +
                         shapeString(A.Dims) + " = " + std::to_string(Numel) +
                         " bytes of data, more than this machine's " +
                         std::to_string(Physical) + " bytes of memory");
  Bytes.clear();
  if (Sized && F->plain())
    Bytes.reserve(size_t(Numel)); // at most the file's size
  if (Status S = F->read(Bytes, Numel))
    return S;
  if (Bytes.size() < Numel)
    return truncatedData(Path, A.Dims, HeaderSize, Bytes.size());
  A.Data = std::move(Bytes);
  return A;
}

Expected<Dataset> loadIdx(const std::string &ImagesPath,
                          const std::string &LabelsPath, double Scale,
                          const SampleLayout &L) {
  Expected<IdxArray> Images = readIdxFile(ImagesPath);
  if (!Images)
    return Images.takeError();
  if (Images->Dims.size() < 2)
    return Status::error(ImagesPath +
                         ": images need at least 2 dimensions "
                         "(count, then the image), found " +
                         shapeString(Images->Dims));
  Expected<IdxArray> Labels = readIdxFile(LabelsPath);
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
