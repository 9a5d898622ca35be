#pragma once
// What the research topologies (fixed_experts, router, random_chains) share: the forward input
// kept for backward, a model-wide UnitSelection split over blocks of layers, evaluation in
// batches, and small index-list codecs for checkpoints. Included by those plugins' folders; not a
// plugin itself (this folder holds no .cpp).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "ablate/model.hpp"
#include "ablate/nn.hpp"

namespace ablate::topologies {

/// The batch forward() saw. It must stay alive and unchanged until backward(), which reads it
/// again (as autograd keeps a layer's input); the trainer's batch buffer does.
class BatchInput {
 public:
  void keep(const ConstMatrixRef& x) { input_.emplace(x); }
  /// The kept batch; throws if backward() comes without the forward() of the same rows.
  const ConstMatrixRef& for_backward(const char* model, Eigen::Index gradient_rows) const {
    if (!input_ || input_->rows() != gradient_rows)
      throw Error(std::string(model) +
                  ": backward() needs the forward() of the same batch first (" +
                  std::to_string(gradient_rows) + " rows of gradient)");
    return *input_;
  }

 private:
  std::optional<ConstMatrixRef> input_;
};

/// backward() overwrites every grad: a part that takes no part in it gets zeros (without the
/// vector parameters() would allocate in the step loop).
inline void zero_grads(nn::Dense& layer) {
  layer.weight.grad.setZero();
  layer.bias.grad.setZero();
}
inline void zero_grads(nn::Mlp& mlp) {
  for (nn::Dense& layer : mlp.layers()) zero_grads(layer);
}

/// An Mlp block: features -> hidden... -> outputs (linear), named "<prefix>layerK".
inline nn::Mlp::Options mlp_options(int features, const std::vector<int>& hidden, int outputs,
                                    nn::Activation activation, double dropout, std::string prefix) {
  nn::Mlp::Options options;
  options.sizes.push_back(features);
  options.sizes.insert(options.sizes.end(), hidden.begin(), hidden.end());
  options.sizes.push_back(outputs);
  options.act = activation;
  options.dropout = dropout;
  options.prefix = std::move(prefix);
  return options;
}

/// A run of consecutive unit layers owned by one part of a model (an Mlp block, a gate).
struct LayerBlock {
  int first = 0;  // model-wide index of its first unit layer
  int count = 0;
};

/// Splits a model-wide selection into one selection per block, in each block's own layer
/// numbering (first layer = 0). Units outside every block are left to the caller, returned in
/// `rest` (an output layer made of no parameters of its own, say).
inline std::vector<UnitSelection> split_selection(const UnitSelection& selection,
                                                  const std::vector<LayerBlock>& blocks,
                                                  std::vector<UnitId>* rest = nullptr) {
  std::vector<UnitSelection> out(blocks.size());
  for (auto& s : out) s.all = selection.all;
  if (selection.all) return out;
  for (const UnitId& unit : selection.units) {
    bool placed = false;
    for (std::size_t b = 0; b < blocks.size() && !placed; ++b) {
      const LayerBlock& block = blocks[b];
      if (unit.layer >= block.first && unit.layer < block.first + block.count) {
        out[b].units.push_back({unit.layer - block.first, unit.index});
        placed = true;
      }
    }
    if (!placed) {
      if (!rest) throw Error("unit layer " + std::to_string(unit.layer) + " does not exist");
      rest->push_back(unit);
    }
  }
  return out;
}

/// Calls body(first_row, rows) over `samples` in batches of at most `batch` rows.
inline void for_each_batch(const Samples& samples, int batch,
                           const std::function<void(Eigen::Index, int)>& body) {
  const auto n = static_cast<Eigen::Index>(samples.size());
  for (Eigen::Index first = 0; first < n; first += batch)
    body(first, static_cast<int>(std::min<Eigen::Index>(batch, n - first)));
}

/// Index of the largest value of a row; ties go to the first (as nn::argmax).
template <class Row>
int argmax_of(const Row& row) {
  int best = 0;
  for (int j = 1; j < static_cast<int>(row.size()); ++j)
    if (row(j) > row(best)) best = j;
  return best;
}

/// Row-wise log-softmax and softmax of `logits` (n x k) into `log_probs` and `probs`.
inline void log_softmax(const ConstMatrixRef& logits, MatrixRef log_probs, MatrixRef probs) {
  for (Eigen::Index r = 0; r < logits.rows(); ++r) {
    const float top = logits.row(r).maxCoeff();
    double total = 0;
    for (Eigen::Index j = 0; j < logits.cols(); ++j) total += std::exp(double(logits(r, j)) - top);
    const float log_total = static_cast<float>(std::log(total)) + top;
    log_probs.row(r).array() = logits.row(r).array() - log_total;
    probs.row(r).array() = log_probs.row(r).array().exp();
  }
}

/// Entropy (nats) of a probability row; zero entries contribute nothing.
template <class Row>
double entropy_of(const Row& probs) {
  double h = 0;
  for (Eigen::Index j = 0; j < probs.size(); ++j)
    if (probs(j) > 0) h -= double(probs(j)) * std::log(double(probs(j)));
  return h;
}

/// "0 2 4" <-> {0, 2, 4}: how index lists travel through string parameters.
inline std::vector<int> parse_indices(const std::string& text, const std::string& what) {
  std::vector<int> out;
  std::istringstream in(text);
  std::string word;
  while (in >> word) {
    std::size_t used = 0;
    int value = -1;
    try {
      value = std::stoi(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != word.size() || value < 0)
      throw Error(what + ": '" + word + "' in \"" + text +
                  "\" is not a class index; write indices separated by spaces, as \"0 2 4\"");
    out.push_back(value);
  }
  return out;
}

/// Integers <-> a checkpoint tensor.
inline std::vector<std::int64_t> to_int64(const std::vector<int>& v) {
  return {v.begin(), v.end()};
}
inline std::vector<int> to_int(const std::vector<std::int64_t>& v) { return {v.begin(), v.end()}; }

}  // namespace ablate::topologies
