#pragma once
// One TOML value checked against its declaration: type, range, choices.
#include <toml++/toml.h>

#include <string>

#include "ablate/params.hpp"

namespace ablate {

/// The value of `node` as `spec` declares it. Integers are accepted for reals. Throws
/// ConfigError located at the node (or the offending list element) naming `key` ("train.lr")
/// and what would be valid.
Value read_value(const toml::node& node, const ParamSpec& spec, const std::string& key);

/// Checks a value of the declared type against its range and choices; `where` locates errors.
void check_allowed(const Value& value, const ParamSpec& spec, const std::string& key,
                   const std::string& where);

/// A declared default must have the declared type and lie in the declared range; otherwise the
/// declaration is wrong (a plugin bug, not the user's): ablate::Error naming `owner`.
void check_default(const ParamSpec& spec, const std::string& owner);

/// "string \"abc\"", "integer 3", "table": what a node holds, for "got ..." in messages.
std::string describe_node(const toml::node& node);

}  // namespace ablate
