#pragma once
// Helpers for the tests of the research plugins (issue 5): plugins made from their real .so
// files with declared defaults plus overrides, models built from them, and a check of every
// parameter gradient against central finite differences.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ablate/nn.hpp"
#include "ablate/regularizer.hpp"
#include "ablate/topology.hpp"
#include "plugins/registry.hpp"

namespace ablate::test {

/// The build's plugins, loaded once.
inline Registry& research_registry() {
  static Registry registry = [] {
    Registry r;
    r.scan({ABLATE_PLUGIN_BUILD_DIR});
    return r;
  }();
  return registry;
}

/// Plugin `name` of `kind` with its declared defaults, `values` replacing some.
template <class T>
std::shared_ptr<T> make_plugin(Kind kind, const std::string& name,
                               const std::map<std::string, Value>& values = {}) {
  Registry& registry = research_registry();
  const PluginEntry* entry = registry.find(kind, name);
  REQUIRE(entry != nullptr);
  Params params;
  for (const auto& spec : entry->info->params)
    if (spec.default_value) params.set(spec.name, *spec.default_value);
  for (const auto& [key, value] : values) {
    bool declared = false;
    for (const auto& spec : entry->info->params) declared = declared || spec.name == key;
    if (!declared) throw Error("test bug: plugin " + name + " declares no parameter " + key);
    params.set(key, value);
  }
  return registry.create<T>(kind, name, params);
}

inline DataShape shape_of(int features, int classes) {
  DataShape shape;
  shape.features = features;
  shape.classes = classes;
  return shape;
}

/// A model from topology `name`, kept alive with its library.
inline std::shared_ptr<GradientModel> build_model(const std::string& name,
                                                  const std::map<std::string, Value>& values,
                                                  const DataShape& shape, int tasks = 1,
                                                  std::uint64_t seed = 7) {
  auto topology = make_plugin<Topology>(Kind::topology, name, values);
  Rng rng(seed);
  auto model = std::dynamic_pointer_cast<GradientModel>(
      tie_to(topology, topology->build({shape, tasks}, rng)));
  REQUIRE(model);
  return model;
}

/// A batch of `rows` rows of Gaussian features and labels cycling through the classes.
struct Batch {
  Matrix x;
  std::vector<std::int32_t> y;
};
inline Batch random_batch(int rows, int features, int classes, std::uint64_t seed) {
  Rng rng(seed);
  Batch b{Matrix(rows, features), std::vector<std::int32_t>(static_cast<std::size_t>(rows))};
  for (int r = 0; r < rows; ++r) {
    b.y[static_cast<std::size_t>(r)] = r % classes;
    for (int f = 0; f < features; ++f) b.x(r, f) = static_cast<float>(rng.normal());
  }
  return b;
}

/// The loss the gradient engine minimises for one batch: mean softmax cross-entropy, the
/// model's auxiliary loss and the regularizers' penalties. `backward` also fills every grad.
inline double engine_loss(GradientModel& model, const Batch& batch,
                          const std::vector<std::shared_ptr<Regularizer>>& regularizers,
                          bool backward) {
  Rng rng(0);  // no dropout in these tests: nothing is drawn
  const auto n = static_cast<Eigen::Index>(batch.y.size());
  model.forward(batch.x, Mode::train, rng);
  Matrix probs(n, model.logits().cols()), dlogits(n, model.logits().cols());
  double loss = nn::softmax_cross_entropy(model.logits(), batch.y, probs, dlogits);
  loss += model.auxiliary_loss();
  const Distribution output{model.logits(), probs, dlogits};
  for (auto& r : regularizers) loss += r->on_forward(model, output);
  if (backward) model.backward(dlogits);
  // Penalties on parameters count either way; without backward() their gradient lands in grads
  // nobody reads.
  for (auto& r : regularizers) loss += r->on_backward(model);
  return loss;
}

/// Every parameter's gradient against central finite differences of engine_loss: all entries of
/// small tensors, `per_tensor` drawn entries of larger ones. Masked-out entries must have a zero
/// gradient (they are no connection). Returns the number of entries compared.
inline int check_gradients(GradientModel& model, const Batch& batch,
                           const std::vector<std::shared_ptr<Regularizer>>& regularizers = {},
                           int per_tensor = 40, float step = 1e-2f) {
  engine_loss(model, batch, regularizers, true);
  std::vector<Matrix> analytic;
  for (Parameter* p : model.parameters()) analytic.push_back(p->grad);
  Rng pick(11);
  int compared = 0;
  auto params = model.parameters();
  for (std::size_t k = 0; k < params.size(); ++k) {
    Parameter& p = *params[k];
    std::vector<Eigen::Index> entries;
    if (p.value.size() <= per_tensor) {
      for (Eigen::Index i = 0; i < p.value.size(); ++i) entries.push_back(i);
    } else {
      for (int i = 0; i < per_tensor; ++i)
        entries.push_back(
            static_cast<Eigen::Index>(pick.below(static_cast<std::uint64_t>(p.value.size()))));
    }
    for (Eigen::Index i : entries) {
      const float a = analytic[k].data()[i];
      if (p.has_mask() && p.mask.data()[i] == 0.0f) {
        INFO(p.name << " entry " << i << " is masked out");
        CHECK(a == 0.0f);
        continue;
      }
      float& value = p.value.data()[i];
      const float kept = value;
      value = kept + step;
      const double up = engine_loss(model, batch, regularizers, false);
      value = kept - step;
      const double down = engine_loss(model, batch, regularizers, false);
      value = kept;
      const double numeric = (up - down) / (2.0 * step);
      INFO(p.name << " entry " << i << ": analytic " << a << ", numeric " << numeric);
      CHECK(std::abs(a - numeric) <=
            5e-4 + 2e-2 * std::max(std::abs(double(a)), std::abs(numeric)));
      ++compared;
    }
  }
  return compared;
}

}  // namespace ablate::test
