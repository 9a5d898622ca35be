// Test plugin for the configuration tests: a topology declaring a parameter of every type, one
// of them required. Its models are a constant baseline (every row predicted as class 0) with
// the declared layer structure, enough to be built and inspected.
#include <algorithm>
#include <cmath>

#include "ablate/topology.hpp"

namespace {

class ConstantModel : public ablate::Model {
 public:
  explicit ConstantModel(std::vector<ablate::UnitLayer> layers) : layers_(std::move(layers)) {}
  std::vector<ablate::UnitLayer> unit_layers() const override { return layers_; }
  void predict(const ablate::ConstMatrixRef& /*x*/, std::span<std::int32_t> out) override {
    std::fill(out.begin(), out.end(), 0);
  }

 private:
  std::vector<ablate::UnitLayer> layers_;
};

class CfgNet : public ablate::Topology {
 public:
  explicit CfgNet(const ablate::Params& params) : params_(params) {}

  std::unique_ptr<ablate::Model> build(const ablate::BuildContext& ctx,
                                       ablate::Rng& /*rng*/) const override {
    std::vector<ablate::UnitLayer> layers;
    const auto& widths = params_.integers("widths");
    for (std::int64_t i = 0; i < params_.integer("depth"); ++i) {
      const int width = static_cast<int>(widths[std::min<std::size_t>(i, widths.size() - 1)]);
      layers.push_back({"hidden" + std::to_string(i + 1), width,
                        i == 0 ? std::vector<int>{} : std::vector<int>{static_cast<int>(i - 1)}});
    }
    layers.push_back(
        {"output", ctx.data.classes, std::vector<int>{static_cast<int>(layers.size()) - 1}});
    return std::make_unique<ConstantModel>(std::move(layers));
  }
  bool uses_capacity() const override { return params_.boolean("capacity_aware"); }

 private:
  ablate::Params params_;
};

ablate::PluginInfo info() {
  using namespace ablate;
  return {kAbiVersion,
          Kind::topology,
          "cfg_net",
          "1.0",
          "configuration-test topology",
          {
              integer("depth", std::nullopt, 1, 8, "hidden layers"),
              integers("widths", std::vector<std::int64_t>{16}, 1, 4096, "units per hidden layer"),
              real("dropout", 0.0, 0, std::nextafter(1.0, 0.0), "dropout probability"),
              choice("activation", "relu", {"relu", "tanh", "gelu"}, "hidden activation"),
              flag("bias", true, "whether layers have a bias"),
              text("init", "he", "initialisation scheme"),
              reals("scales", std::vector<double>{}, 0, kInf, "per-layer output scales"),
              texts("tags", std::vector<std::string>{}, "free labels"),
              flag("capacity_aware", false, "whether its models use a capacity"),
          }};
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params& params) {
  return std::make_unique<CfgNet>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
