// ablate/nn.hpp: a stack of dense layers with dropout after each hidden one.
#include <string>
#include <string_view>

#include "ablate/error.hpp"
#include "ablate/nn.hpp"

namespace ablate::nn {

Mlp::Mlp(const Options& options, Rng& rng)
    : hidden_(static_cast<int>(options.sizes.size()) - 2), heads_(options.heads) {
  const auto& sizes = options.sizes;
  if (sizes.size() < 2)
    throw Error("an MLP needs at least an input and an output size, got " +
                std::to_string(sizes.size()) + " sizes");
  if (heads_ < 1) throw Error("an MLP needs at least one head, got " + std::to_string(heads_));
  layers_.reserve(depth() + static_cast<std::size_t>(heads_) - 1);  // parameters() points in
  for (int k = 0; k < hidden_; ++k)
    layers_.emplace_back(options.prefix + "layer" + std::to_string(k + 1), sizes[k], sizes[k + 1],
                         options.act, rng, options.masked);
  const std::string output = options.prefix + "layer" + std::to_string(hidden_ + 1);
  for (int t = 0; t < heads_; ++t)
    layers_.emplace_back(heads_ == 1 ? output : output + ".head" + std::to_string(t),
                         sizes[depth() - 1], sizes.back(), Activation::identity, rng,
                         options.masked);
  if (options.dropout > 0.0) dropouts_.assign(static_cast<std::size_t>(hidden_), Dropout(options.dropout));
  select_head(0);
}

void Mlp::select_head(int head) {
  if (head < 0 || head >= heads_)
    throw Error("head " + std::to_string(head) + " does not exist (the MLP has " +
                std::to_string(heads_) + " head" + (heads_ == 1 ? "" : "s") + ")");
  head_ = head;
  // Only the active head trains; an inactive one keeps zero gradients, so optimizer steps taken
  // while another task trains never move it by its last task's gradient.
  for (int t = 0; t < heads_; ++t) {
    Dense& out = layers_[static_cast<std::size_t>(hidden_ + t)];
    if (t == head_) continue;
    out.set_trainable_units({});
    out.weight.grad.setZero();
    out.bias.grad.setZero();
  }
  if (heads_ > 1) layer(depth() - 1).set_all_trainable();
}

void Mlp::reserve(int max_batch) {
  for (std::size_t k = 0; k < layers_.size(); ++k) {
    layers_[k].reserve(max_batch);
    if (k < dropouts_.size()) dropouts_[k].reserve(max_batch, layers_[k].out());
  }
}

void Mlp::forward(const ConstMatrixRef& x, Mode mode, Rng& rng) {
  for (std::size_t k = 0; k < depth(); ++k) {
    layer(k).forward(k == 0 ? x : ConstMatrixRef(layer(k - 1).output()));
    if (k < dropouts_.size()) dropouts_[k].forward(layer(k).output(), mode, rng);
  }
}

void Mlp::backward(const ConstMatrixRef& x, const ConstMatrixRef& dy, bool want_dx) {
  for (std::size_t k = depth(); k-- > 0;) {
    const bool top = k + 1 == depth();
    const ConstMatrixRef input = k == 0 ? x : ConstMatrixRef(layer(k - 1).output());
    const ConstMatrixRef grad = top ? dy : ConstMatrixRef(layer(k + 1).input_grad());
    layer(k).backward(input, grad, k > 0 || want_dx);
    if (k > 0 && k - 1 < dropouts_.size()) dropouts_[k - 1].backward(layer(k).input_grad());
  }
}

std::vector<Parameter*> Mlp::parameters() {
  std::vector<Parameter*> out;
  for (auto& dense : layers_) out.insert(out.end(), {&dense.weight, &dense.bias});
  return out;
}

std::vector<UnitLayer> Mlp::unit_layers(int first_index) const {
  std::vector<UnitLayer> out;
  for (std::size_t k = 0; k < depth(); ++k) {
    std::vector<int> inputs;
    if (k > 0) inputs.push_back(first_index + static_cast<int>(k) - 1);
    std::string name = layers_[k].weight.name;  // hidden layer k, or head 0 for the output
    name.resize(name.size() - std::string_view(".weight").size());
    // Every head is the same output unit layer: the one in use.
    if (k + 1 == depth() && heads_ > 1) name.resize(name.rfind(".head"));
    out.push_back({std::move(name), layer(k).out(), std::move(inputs)});
  }
  return out;
}

void Mlp::accumulate_unit_sums(std::span<std::int64_t> sums) const {
  std::size_t total = 0;
  for (std::size_t k = 0; k < depth(); ++k) total += static_cast<std::size_t>(layer(k).out());
  if (sums.size() < total)
    throw Error("accumulate_unit_sums: room for " + std::to_string(sums.size()) + " units, the " +
                "MLP has " + std::to_string(total));
  std::int64_t* at = sums.data();
  for (std::size_t k = 0; k < depth(); ++k) {
    const Dense& dense = layer(k);
    const int units = dense.out();
    if (k + 1 < depth()) {  // hidden: fires when the preactivation is positive
      const ConstMatrixRef pre = dense.preactivation();
      for (Eigen::Index r = 0; r < pre.rows(); ++r) {
        const float* row = pre.row(r).data();
        for (int j = 0; j < units; ++j) at[j] += row[j] > 0.0f ? 1 : -1;
      }
    } else {  // output: fires when it is the row's argmax
      const ConstMatrixRef scores = dense.output();
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
    for (std::size_t k = 0; k < depth(); ++k) layer(k).set_all_trainable();
    return;
  }
  std::vector<std::vector<int>> per_layer(depth());
  for (const UnitId& unit : selection.units) {
    if (unit.layer < 0 || unit.layer >= static_cast<int>(depth()))
      throw Error("unit layer " + std::to_string(unit.layer) + " does not exist (the MLP has " +
                  "layers 0.." + std::to_string(depth() - 1) + ")");
    per_layer[static_cast<std::size_t>(unit.layer)].push_back(unit.index);
  }
  for (std::size_t k = 0; k < depth(); ++k) layer(k).set_trainable_units(per_layer[k]);
}

}  // namespace ablate::nn
