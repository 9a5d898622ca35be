#include "config/location.hpp"

namespace ablate {

std::string Location::str() const {
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

Location location_of(const toml::source_region& region) {
  Location where;
  if (region.path) where.file = *region.path;
  if (!where.file.starts_with(kOverrideOrigin)) {
    where.line = static_cast<int>(region.begin.line);
    where.column = static_cast<int>(region.begin.column);
  }
  return where;
}

}  // namespace ablate
