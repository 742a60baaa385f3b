//===- Png.cpp - Greyscale pictures as PNG files --------------------------===//
//
// Through libpng's simplified write API (png_image_write_to_memory), which
// reports errors in the png_image instead of longjmp'ing through our C++
// frames, as libpng's classic API would.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Png.h"

#include <cstring>
#include <limits>
#include <png.h>

namespace nnc::rt {

Expected<std::string> encodePng(const GreyImage &Img) {
  // The simplified API counts rows and their strides in 32-bit integers.
  constexpr int64_t MaxSide = std::numeric_limits<png_int_32>::max();
  if (Img.Width <= 0 || Img.Height <= 0 || Img.Width > MaxSide ||
      Img.Height > MaxSide)
    return Status::error("cannot encode a " + std::to_string(Img.Width) +
                         " x " + std::to_string(Img.Height) +
                         " picture as PNG");
  png_image Image;
  std::memset(&Image, 0, sizeof(Image));
  Image.version = PNG_IMAGE_VERSION;
  Image.width = png_uint_32(Img.Width);
  Image.height = png_uint_32(Img.Height);
  Image.format = PNG_FORMAT_GRAY;
  // Room for the worst case (stored, uncompressed blocks), so that one
  // pass writes the file.
  std::string Bytes(PNG_IMAGE_PNG_SIZE_MAX(Image), '\0');
  png_alloc_size_t Size = Bytes.size();
  if (!png_image_write_to_memory(&Image, Bytes.data(), &Size,
                                 /*convert_to_8_bit=*/0, Img.Pixels.data(),
                                 png_int_32(Img.Width), nullptr)) {
    std::string Why = Image.message;
    png_image_free(&Image);
    return Status::error("PNG encoding failed: " + Why);
  }
  Bytes.resize(Size);
  return Bytes;
}

} // namespace nnc::rt
