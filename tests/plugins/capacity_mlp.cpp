// A topology only the schedule tests load: an MLP whose units take their capacity as a budget of
// incoming connections (DESIGN.md: "random chains: the unit's budget of incoming connections"),
// so that capacity laws act on a real model before the random_chains topology exists.
// Each unit keeps the first `budget` inputs of a fixed seeded order of its inputs; the rest are
// masked off (their weights held at 0).
#include <cmath>
#include <numeric>
#include <optional>

#include "ablate/nn.hpp"
#include "ablate/topology.hpp"

namespace {

using namespace ablate;

class CapacityMlp final : public GradientModel {
 public:
  CapacityMlp(const BuildContext& ctx, const std::vector<std::int64_t>& hidden, Rng& rng)
      : mlp_(options(ctx, hidden), rng) {
    for (const nn::Dense& layer : mlp_.layers()) {
      std::vector<std::vector<int>> orders(static_cast<std::size_t>(layer.out()));
      for (auto& order : orders) {
        order.resize(static_cast<std::size_t>(layer.in()));
        std::iota(order.begin(), order.end(), 0);
        rng.shuffle(std::span<int>(order));
      }
      input_order_.push_back(std::move(orders));
    }
  }

  std::vector<UnitLayer> unit_layers() const override { return mlp_.unit_layers(); }
  bool uses_capacity() const override { return true; }
  void apply_capacity(UnitId unit, double capacity) override {
    nn::Dense& layer = mlp_.layers().at(static_cast<std::size_t>(unit.layer));
    const auto& order = input_order_[static_cast<std::size_t>(unit.layer)]
                                    [static_cast<std::size_t>(unit.index)];
    const auto budget = std::clamp<long>(std::lround(capacity), 1, layer.in());
    for (long k = 0; k < layer.in(); ++k)
      layer.weight.mask(unit.index, order[static_cast<std::size_t>(k)]) = k < budget ? 1.0f : 0.0f;
    layer.apply_mask();
  }

  void reserve(int max_batch) override { mlp_.reserve(max_batch); }
  std::vector<Parameter*> parameters() override { return mlp_.parameters(); }
  void forward(const ConstMatrixRef& x, Mode mode, Rng& rng) override {
    input_.emplace(x);
    mlp_.forward(x, mode, rng);
  }
  ConstMatrixRef logits() const override { return mlp_.output(); }
  void backward(const ConstMatrixRef& dlogits) override {
    mlp_.backward(*input_, dlogits, false);
  }
  void accumulate_unit_sums(std::span<std::int64_t> sums) const override {
    mlp_.accumulate_unit_sums(sums);
  }
  void set_trainable(const UnitSelection& units) override { mlp_.set_trainable(units); }

 private:
  static nn::Mlp::Options options(const BuildContext& ctx, const std::vector<std::int64_t>& hidden) {
    nn::Mlp::Options o;
    o.sizes.push_back(ctx.data.features);
    for (auto h : hidden) o.sizes.push_back(static_cast<int>(h));
    o.sizes.push_back(ctx.data.classes);
    o.masked = true;
    return o;
  }

  nn::Mlp mlp_;
  std::vector<std::vector<std::vector<int>>> input_order_;  // [layer][unit] -> inputs, in order
  std::optional<ConstMatrixRef> input_;                     // the batch of the last forward()
};

class CapacityMlpTopology final : public Topology {
 public:
  explicit CapacityMlpTopology(const Params& params) : hidden_(params.integers("hidden")) {}
  std::unique_ptr<Model> build(const BuildContext& ctx, Rng& rng) const override {
    return std::make_unique<CapacityMlp>(ctx, hidden_, rng);
  }
  bool uses_capacity() const override { return true; }

 private:
  std::vector<std::int64_t> hidden_;
};

const PluginInfo& info() {
  static const PluginInfo record{
      kAbiVersion, Kind::topology, "capacity_mlp", "1.0",
      "test only: an MLP whose units keep as many incoming connections as their capacity",
      {integers("hidden", std::vector<std::int64_t>{32}, 1, 4096, "hidden layer sizes")}};
  return record;
}

std::unique_ptr<Plugin> create(const Params& params) {
  return std::make_unique<CapacityMlpTopology>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
