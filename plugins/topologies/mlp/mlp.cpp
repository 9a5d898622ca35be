// The `mlp` topology: a multilayer perceptron (ablate/nn.hpp's Mlp) with ReLU, tanh or GELU
// hidden layers and optional dropout. Its units are the hidden neurons, layer by layer, and the
// outputs; parameters are named layer1.weight, layer1.bias, ... as PyTorch's nn.Linear stack.
// With heads = "per_task", each task of a sequence has its own output layer over the shared
// hidden layers (multi-head continual learning, as in Li & Hoiem 2016 and the task-incremental
// setting of van de Ven & Tolias 2019): "layerK.head<t>.*".
#include <algorithm>
#include <memory>
#include <optional>
#include <string>

#include "ablate/nn.hpp"
#include "ablate/topology.hpp"

namespace {

using namespace ablate;

class MlpModel final : public GradientModel {
 public:
  MlpModel(const nn::Mlp::Options& options, Rng& rng) : mlp_(options, rng) {}

  std::vector<UnitLayer> unit_layers() const override { return mlp_.unit_layers(); }
  void reserve(int max_batch) override { mlp_.reserve(max_batch); }
  std::vector<Parameter*> parameters() override { return mlp_.parameters(); }

  /// `x` must stay alive and unchanged until backward(), which reads it again (as autograd
  /// keeps a layer's input); the trainer's batch buffer does.
  void forward(const ConstMatrixRef& x, Mode mode, Rng& rng) override {
    mlp_.forward(x, mode, rng);
    input_.emplace(x);
  }
  ConstMatrixRef logits() const override { return mlp_.output(); }
  void backward(const ConstMatrixRef& dlogits) override {
    if (!input_ || input_->rows() != dlogits.rows())
      throw Error("mlp: backward() needs the forward() of the same batch first (" +
                  std::to_string(dlogits.rows()) + " rows of gradient)");
    mlp_.backward(*input_, dlogits, false);
  }

  void accumulate_unit_sums(std::span<std::int64_t> sums) const override {
    mlp_.accumulate_unit_sums(sums);
  }
  void set_trainable(const UnitSelection& units) override { mlp_.set_trainable(units); }
  void set_task(int task) override {
    if (mlp_.heads() > 1) mlp_.select_head(task);
  }

 private:
  nn::Mlp mlp_;
  std::optional<ConstMatrixRef> input_;
};

class MlpTopology final : public Topology {
 public:
  explicit MlpTopology(const Params& params)
      : activation_(nn::parse_activation(params.string("activation"))),
        dropout_(params.real("dropout")),
        per_task_heads_(params.string("heads") == "per_task") {
    for (std::int64_t width : params.integers("hidden")) hidden_.push_back(static_cast<int>(width));
  }

  std::unique_ptr<Model> build(const BuildContext& ctx, Rng& rng) const override {
    if (ctx.data.features < 1 || ctx.data.classes < 2)
      throw Error("the mlp topology needs data with features and at least 2 classes, got " +
                  std::to_string(ctx.data.features) + " features and " +
                  std::to_string(ctx.data.classes) + " classes");
    nn::Mlp::Options options;
    options.sizes.push_back(ctx.data.features);
    options.sizes.insert(options.sizes.end(), hidden_.begin(), hidden_.end());
    options.sizes.push_back(ctx.data.classes);
    options.act = activation_;
    options.dropout = dropout_;
    options.heads = per_task_heads_ ? std::max(ctx.tasks, 1) : 1;
    return std::make_unique<MlpModel>(options, rng);
  }

 private:
  std::vector<int> hidden_;
  nn::Activation activation_;
  double dropout_;
  bool per_task_heads_;
};

PluginInfo info() {
  return PluginInfo{
      kAbiVersion,
      Kind::topology,
      "mlp",
      "1.0",
      "a multilayer perceptron: dense layers with ReLU, tanh or GELU, optional dropout",
      {integers("hidden", std::vector<std::int64_t>{256, 256}, 1, 1 << 16,
                "widths of the hidden layers, input side first ([] for softmax regression)"),
       choice("activation", "relu", {"relu", "tanh", "gelu"}, "the hidden layers' activation"),
       real("dropout", 0.0, 0.0, 0.95,
            "dropout probability after each hidden layer (training only)"),
       choice("heads", "shared", {"shared", "per_task"},
              "output layers: one for all tasks, or one per task of a sequence (multi-head)")}};
}

std::unique_ptr<Plugin> create(const Params& params) {
  return std::make_unique<MlpTopology>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
