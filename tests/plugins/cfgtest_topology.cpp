// Test plugin for the configuration tests: a topology declaring a parameter of every type, one
// of them required. Its models are a constant baseline (logits all 0: every row predicted as
// class 0, nothing to learn) with the declared layer structure, enough to be built, inspected
// and trained by the gradient engine without cost.
#include <algorithm>
#include <cmath>

#include "ablate/model.hpp"
#include "ablate/topology.hpp"

namespace {

class ConstantModel : public ablate::GradientModel {
 public:
  ConstantModel(std::vector<ablate::UnitLayer> layers, int classes)
      : layers_(std::move(layers)), classes_(classes) {}
  std::vector<ablate::UnitLayer> unit_layers() const override { return layers_; }
  void reserve(int max_batch) override { logits_.setZero(max_batch, classes_); }
  std::vector<ablate::Parameter*> parameters() override { return {}; }
  void forward(const ablate::ConstMatrixRef& x, ablate::Mode /*mode*/, ablate::Rng& /*rng*/) override {
    if (logits_.rows() < x.rows()) reserve(static_cast<int>(x.rows()));
    rows_ = x.rows();
  }
  ablate::ConstMatrixRef logits() const override { return logits_.topRows(rows_); }
  void backward(const ablate::ConstMatrixRef& /*dlogits*/) override {}
  void accumulate_unit_sums(std::span<std::int64_t> sums) const override {
    for (auto& sum : sums) sum -= rows_;  // no unit ever fires
  }
  void set_trainable(const ablate::UnitSelection& /*units*/) override {}

 private:
  std::vector<ablate::UnitLayer> layers_;
  int classes_;
  ablate::Matrix logits_;
  Eigen::Index rows_ = 0;
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
    return std::make_unique<ConstantModel>(std::move(layers), ctx.data.classes);
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
