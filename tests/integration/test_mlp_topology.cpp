// The `mlp` topology plugin, loaded from its .so: declared parameters, the model it builds
// (units, parameter names, shapes) and that the model learns a separable task.
#include <catch2/catch.hpp>
#include <filesystem>

#include "ablate/nn.hpp"
#include "ablate/topology.hpp"
#include "optim/optimizer.hpp"
#include "plugins/registry.hpp"

using namespace ablate;

namespace {

Params mlp_params(std::vector<std::int64_t> hidden, std::string activation, double dropout,
                  std::string heads = "shared") {
  return Params({{"hidden", std::move(hidden)},
                 {"activation", std::move(activation)},
                 {"dropout", dropout},
                 {"heads", std::move(heads)}});
}

std::shared_ptr<GradientModel> build(const Registry& registry, const Params& params,
                                     const DataShape& shape, Rng& rng, int tasks = 1) {
  auto topology = registry.create<Topology>(Kind::topology, "mlp", params);
  auto model = tie_to(topology, topology->build({shape, tasks}, rng));
  auto gradient = std::dynamic_pointer_cast<GradientModel>(model);
  REQUIRE(gradient);
  return gradient;
}

}  // namespace

TEST_CASE("the mlp plugin declares its parameters", "[nn][mlp]") {
  Registry registry;
  const PluginEntry& entry =
      registry.load(std::filesystem::path(ABLATE_PLUGIN_BUILD_DIR) / "mlp.so");
  CHECK(entry.info->kind == Kind::topology);
  CHECK(entry.info->name == "mlp");
  std::vector<std::string> names;
  for (const ParamSpec& spec : entry.info->params) names.push_back(spec.name);
  CHECK(names == std::vector<std::string>{"hidden", "activation", "dropout", "heads"});
  CHECK(entry.info->params[1].choices == std::vector<std::string>{"relu", "tanh", "gelu"});
  CHECK(entry.info->params[2].max == 0.95);
}

TEST_CASE("the mlp model: units, named parameters, and it learns", "[nn][mlp]") {
  Registry registry;
  registry.load(std::filesystem::path(ABLATE_PLUGIN_BUILD_DIR) / "mlp.so");
  DataShape shape;
  shape.features = 4;
  shape.classes = 3;
  Rng rng(3);
  auto model = build(registry, mlp_params({16, 8}, "gelu", 0.1), shape, rng);

  const auto layers = model->unit_layers();
  REQUIRE(layers.size() == 3);
  CHECK(layers[0].size == 16);
  CHECK(layers[1].size == 8);
  CHECK(layers[2].size == 3);
  CHECK(layers[2].inputs == std::vector<int>{1});
  std::vector<std::string> names;
  for (Parameter* p : model->parameters()) names.push_back(p->name);
  CHECK(names == std::vector<std::string>{"layer1.weight", "layer1.bias", "layer2.weight",
                                          "layer2.bias", "layer3.weight", "layer3.bias"});
  CHECK(model->parameters()[0]->value.rows() == 16);
  CHECK(model->parameters()[0]->value.cols() == 4);

  // Three Gaussian blobs, one per class, centred on different features.
  const int n = 96;
  Matrix x(n, 4);
  std::vector<std::int32_t> y(n);
  for (int i = 0; i < n; ++i) {
    y[static_cast<std::size_t>(i)] = i % 3;
    for (int f = 0; f < 4; ++f)
      x(i, f) = static_cast<float>(0.5 * rng.normal() + (f == i % 3 ? 2.0 : 0.0));
  }
  model->reserve(n);
  auto params = model->parameters();
  auto optimizer = make_optimizer(Params({{"optimizer", std::string("adam")},
                                          {"weight_decay", 0.0},
                                          {"beta1", 0.9},
                                          {"beta2", 0.999},
                                          {"eps", 1e-8}}),
                                  params);
  Matrix probs(n, 3), dlogits(n, 3);
  double first_loss = 0, loss = 0;
  for (int step = 0; step < 60; ++step) {
    model->forward(x, Mode::train, rng);
    loss = nn::softmax_cross_entropy(model->logits(), y, probs, dlogits);
    if (step == 0) first_loss = loss;
    model->backward(dlogits);
    optimizer->step(0.02f);
  }
  CHECK(loss < 0.5 * first_loss);
  std::vector<std::int32_t> predicted(n);
  model->predict(x, predicted);
  int correct = 0;
  for (int i = 0; i < n; ++i)
    correct += predicted[static_cast<std::size_t>(i)] == y[static_cast<std::size_t>(i)];
  CHECK(correct >= 90);

  // Unit sums cover every unit; freezing the output layer keeps its gradients at zero.
  std::vector<std::int64_t> sums(16 + 8 + 3, 0);
  model->accumulate_unit_sums(sums);
  std::int64_t output_fired = 0;
  for (int j = 0; j < 3; ++j) output_fired += (sums[static_cast<std::size_t>(24 + j)] + n) / 2;
  CHECK(output_fired == n);  // exactly one output unit fires per row
  model->forward(x, Mode::train, rng);
  nn::softmax_cross_entropy(model->logits(), y, probs, dlogits);
  model->set_trainable({false, {{0, 0}, {1, 2}}});
  model->backward(dlogits);
  CHECK(params[4]->grad.isZero());
  CHECK(params[0]->grad.row(1).isZero());
  CHECK_FALSE(params[0]->grad.row(0).isZero());
}

TEST_CASE("the mlp model refuses data without features or classes", "[nn][mlp]") {
  Registry registry;
  registry.load(std::filesystem::path(ABLATE_PLUGIN_BUILD_DIR) / "mlp.so");
  auto topology = registry.create<Topology>(Kind::topology, "mlp", mlp_params({8}, "relu", 0.0));
  Rng rng(1);
  DataShape empty;
  REQUIRE_THROWS_WITH(topology->build({empty, 1}, rng), Catch::Contains("features"));
  DataShape shape;
  shape.features = 3;
  shape.classes = 2;
  auto model =
      std::dynamic_pointer_cast<GradientModel>(tie_to(topology, topology->build({shape, 1}, rng)));
  REQUIRE(model);
  Matrix dlogits(2, 2);
  REQUIRE_THROWS_WITH(model->backward(dlogits), Catch::Contains("forward"));
}

TEST_CASE("the mlp model with heads = per_task: one output layer per task, chosen by set_task",
          "[nn][mlp]") {
  Registry registry;
  registry.load(std::filesystem::path(ABLATE_PLUGIN_BUILD_DIR) / "mlp.so");
  DataShape shape;
  shape.features = 4;
  shape.classes = 3;
  Rng rng(5);
  auto model = build(registry, mlp_params({8}, "relu", 0.0, "per_task"), shape, rng, 2);
  CHECK(model->parameters().size() == 6);  // layer1, and layer2.head0 / head1
  CHECK(model->parameters()[4]->name == "layer2.head1.weight");
  Matrix x = Matrix::Random(5, 4);
  Rng unused(0);
  model->reserve(5);
  model->forward(x, Mode::eval, unused);
  const Matrix task0 = model->logits();
  model->set_task(1);
  model->forward(x, Mode::eval, unused);
  CHECK_FALSE(Matrix(model->logits()).isApprox(task0));
  model->set_task(0);
  model->forward(x, Mode::eval, unused);
  CHECK(Matrix(model->logits()) == task0);
  REQUIRE_THROWS_AS(model->set_task(2), Error);
}
