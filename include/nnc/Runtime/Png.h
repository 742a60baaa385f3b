//===- Png.h - Greyscale pictures as PNG files ------------------*- C++ -*-===//
//
// `show --images` writes its grid of tiles (WeightTiles.h) as a PNG file.
// The encoding is libpng's (Debian's libpng-dev), not hand-written: PNG
// has enough corners (filters, CRCs, zlib framing) that a well-kept
// library is the safer writer. The bytes are made in memory and written
// with writeFileAtomically, so a failed run never leaves a partial file.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_PNG_H
#define NNC_RUNTIME_PNG_H

#include "nnc/Runtime/Status.h"
#include "nnc/Runtime/WeightTiles.h"

#include <string>

namespace nnc::rt {

/// The bytes of an 8-bit greyscale PNG file of `Img` (non-empty).
Expected<std::string> encodePng(const GreyImage &Img);

} // namespace nnc::rt

#endif
