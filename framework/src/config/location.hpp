#pragma once
// Locations of TOML nodes as ConfigError::where() strings.
#include <toml++/toml.h>

#include <string_view>

#include "config/experiment.hpp"

namespace ablate {

/// Values from the command line are parsed under the source name "--set a.b": their location
/// reads as that, without line and column.
inline constexpr std::string_view kOverrideOrigin = "--set ";

Location location_of(const toml::source_region& region);
inline Location location_of(const toml::node& node) { return location_of(node.source()); }

}  // namespace ablate
