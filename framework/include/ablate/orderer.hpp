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
  /// The trainer ends the stage early after `patience` epochs in a row that did not raise train
  /// accuracy above the stage's best by more than `tolerance` (0: never), or once the stage has
  /// trained for `timeout_seconds` (0: never; a timeout makes where a stage ends depend on the
  /// machine's speed, so runs with one are not bit-reproducible).
  int patience = 0;
  double tolerance = 0;
  double timeout_seconds = 0;
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
  /// Why the last stage ended before its epochs were done (Stage::patience, timeout_seconds),
  /// e.g. "3 epochs without progress"; empty when it ran them all.
  std::string ended_early;
};

class ABLATE_API Orderer : public Plugin {
 public:
  /// The next stage, or none when training is done.
  virtual std::optional<Stage> next(const OrderContext& ctx) = 0;
  /// The most epochs a task takes (the progress line's count and ETA), given the graph and
  /// train.epochs; 0 when it cannot be known in advance.
  virtual int planned_epochs(const UnitGraph& /*graph*/, int /*epochs*/) const { return 0; }
};

}  // namespace ablate
