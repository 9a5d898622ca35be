#pragma once
// A topology builds the model: its units, parameters, and how it changes while it trains.
#include <memory>

#include "ablate/model.hpp"
#include "ablate/plugin.hpp"

namespace ablate {

struct BuildContext {
  DataShape data;
  int tasks = 1;  // tasks of the sequence (heads, task gates)
};

class ABLATE_API Topology : public Plugin {
 public:
  /// A new model with parameters initialised from `rng`.
  virtual std::unique_ptr<Model> build(const BuildContext& ctx, Rng& rng) const = 0;
  /// Whether a [capacity] section means anything to the models it builds; checked when the
  /// experiment is validated.
  virtual bool uses_capacity() const { return false; }
};

}  // namespace ablate
