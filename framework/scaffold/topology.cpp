// Topology `@name@` (ablate/topology.hpp): builds the model an experiment trains. As written a
// model of one hidden layer of `width` ReLU units over ablate::nn::Mlp, which brings the unit
// view, gradient masking and allocation-free buffers; the hooks of ablate/model.hpp that a
// model may add (evaluate's figures, on_epoch_end, distribution, auxiliary_loss, capacity,
// save/load) are listed in that header.
#include <optional>

#include "ablate/nn.hpp"
#include "ablate/topology.hpp"

namespace {

class @Name@Model final : public ablate::GradientModel {
 public:
  @Name@Model(const ablate::nn::Mlp::Options& options, ablate::Rng& rng) : mlp_(options, rng) {}

  std::vector<ablate::UnitLayer> unit_layers() const override { return mlp_.unit_layers(); }
  void reserve(int max_batch) override { mlp_.reserve(max_batch); }
  std::vector<ablate::Parameter*> parameters() override { return mlp_.parameters(); }

  /// `x` stays alive until backward(), which reads it again (the trainer's batch buffer).
  void forward(const ablate::ConstMatrixRef& x, ablate::Mode mode, ablate::Rng& rng) override {
    mlp_.forward(x, mode, rng);
    input_.emplace(x);
  }
  ablate::ConstMatrixRef logits() const override { return mlp_.output(); }
  void backward(const ablate::ConstMatrixRef& dlogits) override {
    if (!input_) throw ablate::Error("@name@: backward() before forward()");
    mlp_.backward(*input_, dlogits, false);
  }

  void accumulate_unit_sums(std::span<std::int64_t> sums) const override {
    mlp_.accumulate_unit_sums(sums);
  }
  void set_trainable(const ablate::UnitSelection& units) override { mlp_.set_trainable(units); }

 private:
  ablate::nn::Mlp mlp_;
  std::optional<ablate::ConstMatrixRef> input_;
};

class @Name@ final : public ablate::Topology {
 public:
  explicit @Name@(const ablate::Params& params)
      : width_(static_cast<int>(params.integer("width"))) {}

  /// A new model for this data, initialised from `rng`.
  std::unique_ptr<ablate::Model> build(const ablate::BuildContext& ctx,
                                       ablate::Rng& rng) const override {
    ablate::nn::Mlp::Options options;
    options.sizes = {ctx.data.features, width_, ctx.data.classes};
    options.act = ablate::nn::Activation::relu;
    return std::make_unique<@Name@Model>(options, rng);
  }

  /// Whether a [capacity] section means anything to these models (hashtron-style units).
  bool uses_capacity() const override { return false; }

 private:
  int width_;
};

ablate::PluginInfo info() {
  return {ablate::kAbiVersion, ablate::Kind::topology, "@name@", "0.1",
          "one hidden layer of `width` ReLU units",
          {ablate::integer("width", 64, 1, 1'000'000, "hidden units")}};
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params& params) {
  return std::make_unique<@Name@>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
