//===- TensorFile.cpp - safetensors reading, validation and writing -------===//
//
// Reading proceeds in the order a corrupt file fails: size, header length,
// JSON syntax, per-entry keys and types, then the data ranges (in bounds,
// the right size for dtype and shape, no two overlapping). Only then is
// memory reserved for each tensor (refusing, with a message, what cannot be
// allocated) and its bytes read. The host is little-endian (x86-64, AArch64),
// so data is copied as is; a static_assert keeps that assumption visible.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/TensorFile.h"
#include "nnc/Runtime/Json.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <new>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace nnc::rt {

static_assert(std::endian::native == std::endian::little,
              "tensor files are little-endian and copied as is");

namespace {
struct DTypeInfo {
  DType Type;
  const char *Name;
  uint64_t Size;
};
constexpr DTypeInfo DTypes[] = {
    {DType::F32, "F32", 4},   {DType::I32, "I32", 4},   {DType::F64, "F64", 8},
    {DType::F16, "F16", 2},   {DType::BF16, "BF16", 2}, {DType::I64, "I64", 8},
    {DType::I16, "I16", 2},   {DType::I8, "I8", 1},     {DType::U8, "U8", 1},
    {DType::U16, "U16", 2},   {DType::U32, "U32", 4},   {DType::U64, "U64", 8},
    {DType::Bool, "BOOL", 1},
};
const DTypeInfo *infoOf(DType T) {
  for (const DTypeInfo &I : DTypes)
    if (I.Type == T)
      return &I;
  return nullptr;
}
} // namespace

const char *dtypeName(DType T) {
  const DTypeInfo *I = infoOf(T);
  return I ? I->Name : "?";
}

uint64_t dtypeSize(DType T) {
  const DTypeInfo *I = infoOf(T);
  return I ? I->Size : 4;
}

std::string shapeString(const std::vector<int64_t> &Shape) {
  std::string S = "[";
  for (size_t I = 0; I < Shape.size(); ++I)
    S += (I ? ", " : "") + std::to_string(Shape[I]);
  return S + "]";
}

int64_t StoredTensor::numel() const {
  int64_t N = 1;
  for (int64_t D : Shape)
    N *= D;
  return N;
}

const StoredTensor *TensorFile::find(std::string_view Name) const {
  for (const StoredTensor &T : Tensors)
    if (T.Name == Name)
      return &T;
  return nullptr;
}

namespace {

/// An open file descriptor, closed on every path out.
class FileHandle {
public:
  explicit FileHandle(int Fd) : Fd(Fd) {}
  ~FileHandle() {
    if (Fd >= 0)
      ::close(Fd);
  }
  FileHandle(const FileHandle &) = delete;
  FileHandle &operator=(const FileHandle &) = delete;
  int get() const { return Fd; }

private:
  int Fd;
};

/// Reads exactly `Size` bytes at `Offset`; the error names the file, the
/// offset and errno's reason (or "unexpected end of file").
Status readAt(const std::string &Path, int Fd, uint64_t Offset, char *Dst,
              uint64_t Size) {
  uint64_t Done = 0;
  while (Done < Size) {
    ssize_t N =
        ::pread(Fd, Dst + Done, size_t(Size - Done), off_t(Offset + Done));
    if (N < 0 && errno == EINTR)
      continue;
    if (N <= 0)
      return Status::error(
          Path + ": offset " + std::to_string(Offset + Done) +
          ": read failed: " +
          (N < 0 ? std::strerror(errno) : "unexpected end of file"));
    Done += uint64_t(N);
  }
  return Status();
}

/// The machine's physical memory in bytes (0 when unknown).
uint64_t physicalMemory() {
  long Pages = ::sysconf(_SC_PHYS_PAGES), PageSize = ::sysconf(_SC_PAGESIZE);
  return Pages > 0 && PageSize > 0 ? uint64_t(Pages) * uint64_t(PageSize) : 0;
}

/// Makes room for `Size` bytes in `Buf`, or says why not. A tensor's size
/// is bounded by the file's, but a (sparse) file can claim far more than
/// the machine holds: that must be a message, not std::bad_alloc's abort or
/// the OOM killer, so sizes beyond physical memory are refused up front and
/// a failed allocation (e.g. under `ulimit -v`) is caught.
Status allocate(const std::string &What, std::vector<char> &Buf,
                uint64_t Size) {
  auto TooLarge = [&](const std::string &Why) {
    return Status::error(What + ": cannot allocate " + std::to_string(Size) +
                         " bytes (" + Why + ")");
  };
  uint64_t Physical = physicalMemory();
  if (Physical && Size > Physical)
    return TooLarge("more than this machine's " + std::to_string(Physical) +
                    " bytes of memory");
  try {
    Buf.resize(size_t(Size));
  } catch (const std::bad_alloc &) {
    return TooLarge("out of memory");
  } catch (const std::length_error &) {
    return TooLarge("out of memory");
  }
  return Status();
}

/// The safetensors reference implementation's limit; it keeps a corrupt
/// length from making us allocate gigabytes for the header alone.
constexpr uint64_t MaxHeaderLen = 100u << 20;

/// Bounds of a tensor's shape: elements (so that a byte count cannot
/// overflow) and dimensions (so that a header of a million "1,"s is not a
/// million-dimensional tensor).
constexpr uint64_t MaxElements = uint64_t(1) << 60;
constexpr size_t MaxRank = 64;

/// Where one entry's bytes lie, for the overlap check.
struct Range {
  uint64_t Begin, End;
  std::string Name;
};

std::string rangeText(const Range &R) {
  return "[" + std::to_string(R.Begin) + ", " + std::to_string(R.End) + "]";
}

Status parseEntry(const std::string &Path, const std::string &Name,
                  const JsonValue &V, uint64_t DataSize, StoredTensor &T,
                  Range &R) {
  auto Bad = [&](const std::string &Why) {
    return Status::error(Path + ": tensor " + quoteForMessage(Name) + ": " +
                         Why);
  };
  if (V.K != JsonValue::Kind::Object)
    return Bad("header entry is not an object");
  const JsonValue *DT = V.get("dtype");
  const JsonValue *Shape = V.get("shape");
  const JsonValue *Offsets = V.get("data_offsets");
  if (!DT)
    return Bad("missing key 'dtype'");
  if (!Shape)
    return Bad("missing key 'shape'");
  if (!Offsets)
    return Bad("missing key 'data_offsets'");
  if (DT->K != JsonValue::Kind::String)
    return Bad("'dtype' is not a string");
  const DTypeInfo *Known = nullptr;
  for (const DTypeInfo &I : DTypes)
    if (DT->Str == I.Name)
      Known = &I;
  if (!Known)
    return Bad("unsupported dtype " + quoteForMessage(DT->Str) +
               " (expected F32, I32, F64, F16, BF16, I64, I16, I8, U8, U16, "
               "U32, U64 or BOOL)");
  T.Type = Known->Type;
  if (Shape->K != JsonValue::Kind::Array)
    return Bad("'shape' is not an array");
  // Bound the element count so numel * 8 cannot overflow, and the product
  // of the other dimensions too: a zero dimension must not let [0, 2^62,
  // 2^62] through to code that multiplies a row's dimensions.
  uint64_t Numel = 1, NonZero = 1;
  for (const JsonValue &D : Shape->Elements) {
    if (D.K != JsonValue::Kind::Number || !D.IsInteger || D.Integer < 0)
      return Bad("'shape' holds something other than non-negative integers");
    if (T.Shape.size() == MaxRank)
      return Bad("'shape' has more than " + std::to_string(MaxRank) +
                 " dimensions");
    T.Shape.push_back(D.Integer);
    if (D.Integer != 0 && NonZero > MaxElements / uint64_t(D.Integer))
      return Bad("shape " + shapeString(T.Shape) + " is too large");
    NonZero *= D.Integer != 0 ? uint64_t(D.Integer) : 1;
    Numel *= uint64_t(D.Integer);
  }
  if (Offsets->K != JsonValue::Kind::Array || Offsets->Elements.size() != 2)
    return Bad("'data_offsets' is not a [begin, end] pair");
  for (const JsonValue &O : Offsets->Elements)
    if (O.K != JsonValue::Kind::Number || !O.IsInteger || O.Integer < 0)
      return Bad("'data_offsets' holds something other than "
                 "non-negative integers");
  R = {uint64_t(Offsets->Elements[0].Integer),
       uint64_t(Offsets->Elements[1].Integer), Name};
  std::string OffsetText = "data_offsets [" + std::to_string(R.Begin) + ", " +
                           std::to_string(R.End) + "]";
  if (R.Begin > R.End || R.End > DataSize)
    return Bad(OffsetText + " out of range (the data section has " +
               std::to_string(DataSize) + " bytes)");
  if (R.End - R.Begin != Numel * Known->Size)
    return Bad(OffsetText + " hold " + std::to_string(R.End - R.Begin) +
               " bytes, but " + dtypeName(T.Type) + shapeString(T.Shape) +
               " needs " + std::to_string(Numel * Known->Size));
  return Status();
}

} // namespace

Expected<TensorFile> readTensorFile(const std::string &Path) {
  // Read in two parts — the header, then each tensor straight into its own
  // buffer — so that no byte is held twice and every size is checked before
  // memory is committed to it.
  FileHandle F(::open(Path.c_str(), O_RDONLY | O_CLOEXEC));
  if (F.get() < 0)
    return Status::error(Path + ": " + std::strerror(errno));
  struct stat St;
  if (::fstat(F.get(), &St) != 0)
    return Status::error(Path + ": " + std::strerror(errno));
  if (S_ISDIR(St.st_mode))
    return Status::error(Path + ": is a directory");
  uint64_t FileSize = uint64_t(St.st_size);
  if (FileSize < 8)
    return Status::error(Path + ": file too short for a safetensors header (" +
                         std::to_string(FileSize) + " bytes)");
  char LenBytes[8];
  if (Status S = readAt(Path, F.get(), 0, LenBytes, 8))
    return S;
  uint64_t HeaderLen;
  std::memcpy(&HeaderLen, LenBytes, 8);
  if (HeaderLen > FileSize - 8)
    return Status::error(Path + ": header length " + std::to_string(HeaderLen) +
                         " exceeds the file size (" + std::to_string(FileSize) +
                         " bytes)");
  if (HeaderLen > MaxHeaderLen)
    return Status::error(Path + ": header length " + std::to_string(HeaderLen) +
                         " exceeds the limit of " +
                         std::to_string(MaxHeaderLen) + " bytes");
  std::string HeaderBytes(size_t(HeaderLen), '\0');
  if (Status S = readAt(Path, F.get(), 8, HeaderBytes.data(), HeaderLen))
    return S;
  Expected<JsonValue> Header = parseJson(HeaderBytes, 8);
  if (!Header)
    return Status::error(
        Path + ": invalid JSON header: " + Header.takeError().message());
  if (Header->K != JsonValue::Kind::Object)
    return Status::error(Path + ": the JSON header is not an object");

  TensorFile File;
  File.Path = Path;
  uint64_t DataStart = 8 + HeaderLen;
  uint64_t DataSize = FileSize - DataStart;
  std::vector<Range> Ranges;
  for (const auto &[Name, Entry] : Header->Members) {
    if (Name == "__metadata__") {
      if (Entry.K != JsonValue::Kind::Object)
        return Status::error(Path + ": '__metadata__' is not an object");
      for (const auto &[Key, Value] : Entry.Members)
        if (Value.K == JsonValue::Kind::String)
          File.Metadata[Key] = Value.Str;
      continue;
    }
    if (File.find(Name))
      return Status::error(Path + ": tensor " + quoteForMessage(Name) +
                           " appears twice");
    StoredTensor T;
    T.Name = Name;
    Range R;
    if (Status S = parseEntry(Path, Name, Entry, DataSize, T, R))
      return S;
    File.Tensors.push_back(std::move(T));
    Ranges.push_back(std::move(R));
  }
  // Two tensors overlap when they share a byte; an empty tensor holds none.
  // Sorted by begin, then end, so that the verdict and the pair named do
  // not depend on the order of the header's entries.
  std::vector<Range> Sorted;
  for (const Range &R : Ranges)
    if (R.Begin != R.End)
      Sorted.push_back(R);
  std::sort(Sorted.begin(), Sorted.end(), [](const Range &A, const Range &B) {
    return A.Begin != B.Begin ? A.Begin < B.Begin : A.End < B.End;
  });
  for (size_t I = 1; I < Sorted.size(); ++I)
    if (Sorted[I].Begin < Sorted[I - 1].End)
      return Status::error(
          Path + ": tensors " + quoteForMessage(Sorted[I - 1].Name) + " and " +
          quoteForMessage(Sorted[I].Name) + " have overlapping data_offsets " +
          rangeText(Sorted[I - 1]) + " and " + rangeText(Sorted[I]));
  for (size_t I = 0; I < File.Tensors.size(); ++I) {
    StoredTensor &T = File.Tensors[I];
    uint64_t Size = Ranges[I].End - Ranges[I].Begin;
    if (Status S =
            allocate(Path + ": tensor " + quoteForMessage(T.Name) + " (" +
                         dtypeName(T.Type) + shapeString(T.Shape) + ")",
                     T.Data, Size))
      return S;
    if (Status S = readAt(Path, F.get(), DataStart + Ranges[I].Begin,
                          T.Data.data(), Size))
      return S;
  }
  return File;
}

std::string encodeTensorFile(const std::vector<TensorRef> &Tensors,
                             const std::map<std::string, std::string> &Meta) {
  std::string Header = "{";
  bool First = true;
  auto Sep = [&] {
    if (!First)
      Header += ",";
    First = false;
  };
  if (!Meta.empty()) {
    Sep();
    Header += "\"__metadata__\":{";
    bool FirstMeta = true;
    for (const auto &[K, V] : Meta) {
      if (!FirstMeta)
        Header += ',';
      Header += quoteJson(K);
      Header += ':';
      Header += quoteJson(V);
      FirstMeta = false;
    }
    Header += "}";
  }
  uint64_t Offset = 0;
  for (const TensorRef &T : Tensors) {
    uint64_t Size = dtypeSize(T.Type);
    for (int64_t D : T.Shape)
      Size *= uint64_t(D);
    Sep();
    Header += quoteJson(T.Name) + ":{\"dtype\":\"" + dtypeName(T.Type) +
              "\",\"shape\":[";
    for (size_t I = 0; I < T.Shape.size(); ++I) {
      if (I)
        Header += ',';
      Header += std::to_string(T.Shape[I]);
    }
    Header += "],\"data_offsets\":[" + std::to_string(Offset) + "," +
              std::to_string(Offset + Size) + "]}";
    Offset += Size;
  }
  Header += "}";
  // Pad with spaces so the data starts 8-byte aligned, as the reference
  // implementation does; readers that mmap the file can then use it in place.
  while ((8 + Header.size()) % 8)
    Header += ' ';
  uint64_t Len = Header.size();
  std::string Out(8, '\0');
  std::memcpy(Out.data(), &Len, 8);
  Out += Header;
  Out.reserve(Out.size() + Offset);
  for (const TensorRef &T : Tensors) {
    uint64_t Size = dtypeSize(T.Type);
    for (int64_t D : T.Shape)
      Size *= uint64_t(D);
    Out.append(static_cast<const char *>(T.Data), Size);
  }
  return Out;
}

Status writeTensorFile(const std::string &Path,
                       const std::vector<TensorRef> &Tensors,
                       const std::map<std::string, std::string> &Meta) {
  return writeFileAtomically(Path, encodeTensorFile(Tensors, Meta));
}

Status writeFileAtomically(const std::string &Path, std::string_view Bytes) {
  std::string Tmp = Path + ".tmp.XXXXXX";
  int Fd = mkstemp(Tmp.data());
  if (Fd < 0)
    return Status::error(
        Path + ": cannot create a temporary file: " + std::strerror(errno));
  auto Fail = [&](const char *What) {
    int Saved = errno;
    ::close(Fd);
    ::unlink(Tmp.c_str());
    return Status::error(Path + ": " + What + ": " + std::strerror(Saved));
  };
  // mkstemp creates the file 0600; saved weights should be as readable as
  // any other file the user writes.
  mode_t Mask = ::umask(0);
  ::umask(Mask);
  if (::fchmod(Fd, 0666 & ~Mask) != 0)
    return Fail("cannot set permissions");
  size_t Done = 0;
  while (Done < Bytes.size()) {
    ssize_t N = ::write(Fd, Bytes.data() + Done, Bytes.size() - Done);
    if (N < 0 && errno == EINTR)
      continue;
    if (N <= 0)
      return Fail("write failed");
    Done += size_t(N);
  }
  if (::fsync(Fd) != 0)
    return Fail("fsync failed");
  if (::close(Fd) != 0) {
    int Saved = errno;
    ::unlink(Tmp.c_str());
    return Status::error(Path + ": close failed: " + std::strerror(Saved));
  }
  if (std::rename(Tmp.c_str(), Path.c_str()) != 0) {
    int Saved = errno;
    ::unlink(Tmp.c_str());
    return Status::error(
        Path + ": cannot rename the temporary file: " + std::strerror(Saved));
  }
  // The rename is atomic but lives in the folder's metadata: syncing the
  // folder makes the new file survive a power cut, not just a killed
  // process. The file itself is complete either way, so a folder that
  // cannot be opened or synced (some file systems refuse) is no error.
  size_t Slash = Path.rfind('/');
  std::string Dir = Slash == std::string::npos ? "."
                    : Slash == 0               ? "/"
                                               : Path.substr(0, Slash);
  int DirFd = ::open(Dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (DirFd >= 0) {
    (void)::fsync(DirFd);
    ::close(DirFd);
  }
  return Status();
}

} // namespace nnc::rt
