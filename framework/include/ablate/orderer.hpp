#pragma once
// Orderers decide which units train next and for how long (DESIGN.md, "Plugin contract").
#include <optional>
#include <string>

#include "ablate/plugin.hpp"
#include "ablate/stats.hpp"

namespace ablate {

struct Stage {
  UnitSelection units;  // what trains; everything else is frozen
  int epochs = 1;       // for how long
  int layer = -1;       // the layer being trained, -1 when several
  std::string label;    // "phase0", "layer 2", "all"
};

/// What an orderer sees when asked for the next stage.
struct OrderContext {
  const UnitGraph& graph;
  const SumCache& sums;
  const Zones& zones;
  Rng& rng;
  int stage = 0;               // stages done so far in this task
  int epochs = 1;              // train.epochs: the experiment's training length
  double train_accuracy = 0;   // after the last stage
};

class ABLATE_API Orderer : public Plugin {
 public:
  /// The next stage, or none when training is done.
  virtual std::optional<Stage> next(const OrderContext& ctx) = 0;
};

}  // namespace ablate
