#pragma once
// Facts about the element types a StateStore holds (ablate/state.hpp), shared by the store and
// the safetensors reader and writer.
#include <cstddef>
#include <optional>
#include <string_view>

#include "ablate/state.hpp"

namespace ablate {

/// Bytes per element: 4 for F32, 8 for F64 and I64, 1 for U8.
std::size_t element_size(DType dtype);

/// The DType spelled `text` the safetensors way ("F32"...); nothing for a type ablate lacks.
std::optional<DType> parse_dtype(std::string_view text);

}  // namespace ablate
