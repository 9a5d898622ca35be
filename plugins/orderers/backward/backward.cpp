// Orderer `backward`: the backward pipeline of shared/seeds/002 ("Backward Pipeline
// Orchestration"). Phase 0 trains the output layer alone: it learns the dataset prior, the
// "bias" (an "always yes" final unit is that prior, not a bug). Then layer N back to layer 1,
// one layer at a time, the others frozen; with rounds > 1 the walk starts again at the output.
// Stuck layers are skipped forward (layer_walk.hpp).
#include "../layer_walk.hpp"

namespace {

using ablate::orderers::LayerWalk;

class Backward final : public ablate::Orderer {
 public:
  explicit Backward(const ablate::Params& params) : walk_(params, true) {}

  std::optional<ablate::Stage> next(const ablate::OrderContext& ctx) override {
    const auto visit = walk_.next(ctx, ctx.graph.backward_order());
    if (!visit) return std::nullopt;
    return walk_.stage(ctx, *visit, LayerWalk::whole_layer(ctx, visit->layer),
                       visit->phase0 ? "phase0"
                                     : "layer " + LayerWalk::layer_name(ctx, visit->layer));
  }
  int planned_epochs(const ablate::UnitGraph& graph, int epochs) const override {
    return walk_.planned_epochs(graph.layers().size(), epochs);
  }
  void save(ablate::StateStore& out, const std::string& prefix) const override {
    walk_.save(out, prefix);
  }
  void load(const ablate::StateStore& in, const std::string& prefix) override {
    walk_.load(in, prefix);
  }

 private:
  LayerWalk walk_;
};

const ablate::PluginInfo& info() {
  static const ablate::PluginInfo record{
      ablate::kAbiVersion, ablate::Kind::orderer, "backward", "1.0",
      "phase 0 trains the output layer alone (the dataset prior), then layer N back to layer 1",
      ablate::orderers::walk_params()};
  return record;
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params& params) {
  return std::make_unique<Backward>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
