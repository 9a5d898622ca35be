// ablate/nn.hpp: activation names.
#include <string>

#include "ablate/error.hpp"
#include "ablate/nn.hpp"

namespace ablate::nn {

namespace {
constexpr Activation kAll[] = {Activation::identity, Activation::relu, Activation::tanh,
                               Activation::gelu};
}

const char* to_string(Activation a) {
  switch (a) {
    case Activation::identity:
      return "identity";
    case Activation::relu:
      return "relu";
    case Activation::tanh:
      return "tanh";
    case Activation::gelu:
      return "gelu";
  }
  return "?";
}

Activation parse_activation(std::string_view name) {
  std::string choices;
  for (Activation a : kAll) {
    if (name == to_string(a)) return a;
    choices += (choices.empty() ? "" : ", ") + std::string(to_string(a));
  }
  throw Error("unknown activation '" + std::string(name) + "': choose one of " + choices);
}

}  // namespace ablate::nn
