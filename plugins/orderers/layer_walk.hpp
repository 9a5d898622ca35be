#pragma once
// What the layer orderers share (forward, backward, gold_zone; issue 4, "Orderers"): a walk over
// the model's unit layers in a fixed order, `rounds` times, giving each layer a visit of up to
// `stages_per_layer` stages. Included by each orderer's folder; not a plugin.
//
// Stuck detection, from the backward-pipeline epic (shared/seeds/002: "forward skip mechanism if
// backward gets stuck"; risk table: "pipeline deadlock: timeout + forward skip after 3
// attempts"): a stage makes progress when train accuracy or the margin of a unit of the layer
// it trained moved by more than `tolerance`. After `patience` stages in a row without progress,
// the walk skips forward: it leaves the rest of that layer's visit and moves on to the next
// layer of its order. The skip is named in the next stage's label and counted in the state.
// Within a stage, the trainer ends it early after `epoch_patience` epochs without progress or
// after `stage_timeout` seconds (Stage::patience, timeout_seconds): the walk then skips forward
// too, so at the default of one stage per visit a stuck layer still gives way.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ablate/orderer.hpp"
#include "ablate/state.hpp"

namespace ablate::orderers {

/// The parameters every layer walk declares.
inline std::vector<ParamSpec> walk_params() {
  return {
      integer("rounds", 1, 1, kInf, "passes over the layers"),
      integer("epochs_per_stage", 0, 0, kInf, "epochs each stage trains (0: train.epochs)"),
      integer("stages_per_layer", 1, 1, kInf,
              "stages of a layer's visit before the walk moves to the next layer"),
      integer("patience", 3, 0, kInf,
              "stages in a row without progress after which the walk skips forward out of the "
              "layer (0: never)"),
      real("tolerance", 1e-3, 0, 1,
           "the least change of train accuracy, or of one unit's margin, that counts as progress"),
      integer("epoch_patience", 3, 0, kInf,
              "epochs in a row without progress of train accuracy after which a stage ends early "
              "and the walk skips forward (0: never)"),
      real("stage_timeout", 0, 0, kInf,
           "seconds after which a stage ends early and the walk skips forward (0: never; the "
           "machine's speed then decides where stages end, so runs are not bit-reproducible)"),
  };
}

/// Where the walk is: what the next stage trains.
struct Visit {
  int layer = 0;
  int stage_in_visit = 0;  // 0 for the visit's first stage
  bool phase0 = false;     // the backward pipeline's bootstrap: the output layer, first of all
  std::string note;        // why the walk moved here early, or empty
};

class LayerWalk {
 public:
  /// `phase0`: the first visit of the first round is the epic's phase 0.
  LayerWalk(const Params& params, bool phase0)
      : rounds_(static_cast<int>(params.integer("rounds"))),
        epochs_per_stage_(static_cast<int>(params.integer("epochs_per_stage"))),
        stages_per_layer_(static_cast<int>(params.integer("stages_per_layer"))),
        patience_(static_cast<int>(params.integer("patience"))),
        tolerance_(params.real("tolerance")),
        epoch_patience_(static_cast<int>(params.integer("epoch_patience"))),
        stage_timeout_(params.real("stage_timeout")),
        phase0_(phase0) {}

  /// Judges the stage given last, moves on, and returns the next visit (marked as given), or
  /// none when every round is done. `order`: the layers of one round.
  std::optional<Visit> next(const OrderContext& ctx, const std::vector<int>& order) {
    std::string note;
    if (last_layer_ >= 0) {
      no_progress_ = progressed(ctx) ? 0 : no_progress_ + 1;
      const bool visit_done = visit_stage_ >= stages_per_layer_;
      if (!ctx.ended_early.empty()) {
        ++skips_;
        note = "skipped forward from layer " + layer_name(ctx, last_layer_) + " after " +
               ctx.ended_early;
      } else if (!visit_done && patience_ > 0 && no_progress_ >= patience_) {
        ++skips_;
        note = "skipped forward from layer " + layer_name(ctx, last_layer_) + " after " +
               std::to_string(no_progress_) + " stages without progress";
      }
      if (visit_done || !note.empty()) {
        visit_stage_ = 0;
        no_progress_ = 0;
        if (++position_ >= static_cast<int>(order.size())) {
          position_ = 0;
          ++round_;
        }
      }
    }
    if (round_ >= rounds_ || order.empty()) return std::nullopt;
    Visit visit{order[static_cast<std::size_t>(position_)], visit_stage_,
                phase0_ && round_ == 0 && position_ == 0, std::move(note)};
    ++visit_stage_;
    last_layer_ = visit.layer;
    accuracy_before_ = ctx.train_accuracy;
    return visit;
  }

  /// The Stage for a visit: its layer, epochs, units and label (with the skip note, if any).
  Stage stage(const OrderContext& ctx, const Visit& visit, UnitSelection units,
              std::string label) const {
    if (!visit.note.empty()) label += " (" + visit.note + ")";
    return {std::move(units), stage_epochs(ctx.epochs), visit.layer, std::move(label),
            epoch_patience_, tolerance_, stage_timeout_};
  }

  /// The most epochs of one task: every visit of every round at its full length.
  int planned_epochs(std::size_t layers, int epochs) const {
    return rounds_ * static_cast<int>(layers) * stages_per_layer_ * stage_epochs(epochs);
  }

  /// Forward skips taken so far.
  int skips() const { return skips_; }

  void save(StateStore& out, const std::string& prefix) const {
    out.put(prefix + "walk", std::vector<std::int64_t>{round_, position_, visit_stage_,
                                                       no_progress_, skips_, last_layer_});
    out.put(prefix + "walk_accuracy", std::vector<double>{accuracy_before_});
  }
  void load(const StateStore& in, const std::string& prefix) {
    const auto walk = in.integers(prefix + "walk");
    if (walk.size() != 6) throw Error("orderer state '" + prefix + "walk' holds " +
                                      std::to_string(walk.size()) + " values, expected 6");
    round_ = static_cast<int>(walk[0]);
    position_ = static_cast<int>(walk[1]);
    visit_stage_ = static_cast<int>(walk[2]);
    no_progress_ = static_cast<int>(walk[3]);
    skips_ = static_cast<int>(walk[4]);
    last_layer_ = static_cast<int>(walk[5]);
    accuracy_before_ = in.reals(prefix + "walk_accuracy").at(0);
  }

  static std::string layer_name(const OrderContext& ctx, int layer) {
    return ctx.graph.layers().at(static_cast<std::size_t>(layer)).name;
  }
  /// Every unit of a layer.
  static UnitSelection whole_layer(const OrderContext& ctx, int layer) {
    UnitSelection units{false, {}};
    for (int i = 0; i < ctx.graph.layers().at(static_cast<std::size_t>(layer)).size; ++i)
      units.units.push_back({layer, i});
    return units;
  }

 private:
  /// Whether the stage given last moved train accuracy or a margin of its layer.
  bool progressed(const OrderContext& ctx) const {
    if (std::abs(ctx.train_accuracy - accuracy_before_) > tolerance_) return true;
    const int size = ctx.graph.layers().at(static_cast<std::size_t>(last_layer_)).size;
    for (int i = 0; i < size; ++i) {
      const auto recent = ctx.sums.trend({last_layer_, i}, 2);
      if (recent.size() < 2) return true;  // the first measurement: nothing to compare with
      if (std::abs(recent[1].margin() - recent[0].margin()) > tolerance_) return true;
    }
    return false;
  }

  int stage_epochs(int epochs) const { return epochs_per_stage_ > 0 ? epochs_per_stage_ : epochs; }

  int rounds_, epochs_per_stage_, stages_per_layer_, patience_;
  double tolerance_;
  int epoch_patience_;
  double stage_timeout_;
  bool phase0_;
  // The state a checkpoint keeps.
  int round_ = 0, position_ = 0, visit_stage_ = 0, no_progress_ = 0, skips_ = 0;
  int last_layer_ = -1;  // the layer of the stage given last; -1 before the first
  double accuracy_before_ = 0;
};

}  // namespace ablate::orderers
