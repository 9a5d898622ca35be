// ablate/nn.hpp: a stack of dense layers with dropout after each hidden one.
#include <string>

#include "ablate/error.hpp"
#include "ablate/nn.hpp"

namespace ablate::nn {

Mlp::Mlp(const Options& options, Rng& rng) {
  const auto& sizes = options.sizes;
  if (sizes.size() < 2)
    throw Error("an MLP needs at least an input and an output size, got " +
                std::to_string(sizes.size()) + " sizes");
  const std::size_t count = sizes.size() - 1;
  layers_.reserve(count);  // parameters() hands out pointers into these layers
  for (std::size_t k = 0; k < count; ++k) {
    const bool hidden = k + 1 < count;
    layers_.emplace_back(options.prefix + "layer" + std::to_string(k + 1), sizes[k], sizes[k + 1],
                         hidden ? options.act : Activation::identity, rng, options.masked);
  }
  if (options.dropout > 0.0) dropouts_.assign(count - 1, Dropout(options.dropout));
}

void Mlp::reserve(int max_batch) {
  for (std::size_t k = 0; k < layers_.size(); ++k) {
    layers_[k].reserve(max_batch);
    if (k < dropouts_.size()) dropouts_[k].reserve(max_batch, layers_[k].out());
  }
}

void Mlp::forward(const ConstMatrixRef& x, Mode mode, Rng& rng) {
  for (std::size_t k = 0; k < layers_.size(); ++k) {
    layers_[k].forward(k == 0 ? x : ConstMatrixRef(layers_[k - 1].output()));
    if (k < dropouts_.size()) dropouts_[k].forward(layers_[k].output(), mode, rng);
  }
}

void Mlp::backward(const ConstMatrixRef& x, const ConstMatrixRef& dy, bool want_dx) {
  for (std::size_t k = layers_.size(); k-- > 0;) {
    const bool top = k + 1 == layers_.size();
    const ConstMatrixRef input = k == 0 ? x : ConstMatrixRef(layers_[k - 1].output());
    const ConstMatrixRef grad = top ? dy : ConstMatrixRef(layers_[k + 1].input_grad());
    layers_[k].backward(input, grad, k > 0 || want_dx);
    if (k > 0 && k - 1 < dropouts_.size()) dropouts_[k - 1].backward(layers_[k].input_grad());
  }
}

std::vector<Parameter*> Mlp::parameters() {
  std::vector<Parameter*> out;
  for (auto& layer : layers_) out.insert(out.end(), {&layer.weight, &layer.bias});
  return out;
}

std::vector<UnitLayer> Mlp::unit_layers(int first_index) const {
  std::vector<UnitLayer> out;
  for (std::size_t k = 0; k < layers_.size(); ++k) {
    std::string name = layers_[k].weight.name;
    name.resize(name.size() - std::string_view(".weight").size());
    std::vector<int> inputs;
    if (k > 0) inputs.push_back(first_index + static_cast<int>(k) - 1);
    out.push_back({std::move(name), layers_[k].out(), std::move(inputs)});
  }
  return out;
}

void Mlp::accumulate_unit_sums(std::span<std::int64_t> sums) const {
  std::size_t total = 0;
  for (const auto& layer : layers_) total += static_cast<std::size_t>(layer.out());
  if (sums.size() < total)
    throw Error("accumulate_unit_sums: room for " + std::to_string(sums.size()) + " units, the " +
                "MLP has " + std::to_string(total));
  std::int64_t* at = sums.data();
  for (std::size_t k = 0; k < layers_.size(); ++k) {
    const Dense& layer = layers_[k];
    const int units = layer.out();
    if (k + 1 < layers_.size()) {  // hidden: fires when the preactivation is positive
      const ConstMatrixRef pre = layer.preactivation();
      for (Eigen::Index r = 0; r < pre.rows(); ++r) {
        const float* row = pre.row(r).data();
        for (int j = 0; j < units; ++j) at[j] += row[j] > 0.0f ? 1 : -1;
      }
    } else {  // output: fires when it is the row's argmax
      const ConstMatrixRef scores = layer.output();
      for (Eigen::Index r = 0; r < scores.rows(); ++r) {
        std::int32_t best = 0;
        argmax(scores.row(r), std::span<std::int32_t>(&best, 1));
        for (int j = 0; j < units; ++j) at[j] += j == best ? 1 : -1;
      }
    }
    at += units;
  }
}

void Mlp::set_trainable(const UnitSelection& selection) {
  if (selection.all) {
    for (auto& layer : layers_) layer.set_all_trainable();
    return;
  }
  std::vector<std::vector<int>> per_layer(layers_.size());
  for (const UnitId& unit : selection.units) {
    if (unit.layer < 0 || unit.layer >= static_cast<int>(layers_.size()))
      throw Error("unit layer " + std::to_string(unit.layer) + " does not exist (the MLP has " +
                  "layers 0.." + std::to_string(layers_.size() - 1) + ")");
    per_layer[static_cast<std::size_t>(unit.layer)].push_back(unit.index);
  }
  for (std::size_t k = 0; k < layers_.size(); ++k) layers_[k].set_trainable_units(per_layer[k]);
}

}  // namespace ablate::nn
