// Orderer `forward`: layer 1 to the output layer, one layer trained at a time, the others frozen
// (issue 4, "Orderers"). The baseline the backward pipeline of shared/seeds/002 is compared with.
#include "../layer_walk.hpp"

namespace {

using ablate::orderers::LayerWalk;

class Forward final : public ablate::Orderer {
 public:
  explicit Forward(const ablate::Params& params) : walk_(params, false) {}

  std::optional<ablate::Stage> next(const ablate::OrderContext& ctx) override {
    const auto visit = walk_.next(ctx, ctx.graph.forward_order());
    if (!visit) return std::nullopt;
    return walk_.stage(ctx, *visit, LayerWalk::whole_layer(ctx, visit->layer),
                       "layer " + LayerWalk::layer_name(ctx, visit->layer));
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
      ablate::kAbiVersion, ablate::Kind::orderer, "forward", "1.0",
      "trains one layer at a time, from the first layer to the output layer",
      ablate::orderers::walk_params()};
  return record;
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params& params) {
  return std::make_unique<Forward>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
