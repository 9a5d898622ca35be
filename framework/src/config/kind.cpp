// ablate/plugin.hpp: the plugin kinds as the words experiment files and `--kind` use.
#include "ablate/plugin.hpp"

namespace ablate {

const char* to_string(Kind kind) {
  switch (kind) {
    case Kind::orderer:
      return "orderer";
    case Kind::capacity_law:
      return "capacity_law";
    case Kind::regularizer:
      return "regularizer";
    case Kind::topology:
      return "topology";
    case Kind::dataset:
      return "dataset";
  }
  return "unknown kind";
}

std::optional<Kind> parse_kind(std::string_view text) {
  for (Kind kind : kAllKinds)
    if (text == to_string(kind)) return kind;
  return std::nullopt;
}

}  // namespace ablate
