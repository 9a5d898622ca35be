// Every layer and loss of ablate/nn.hpp against central finite differences.
// The layers compute in float, so the checker perturbs by h = 1e-2 (float rounding of the loss,
// ~1e-6, then contributes ~1e-4 to a difference quotient, far below the tolerance), reads back
// the perturbation float actually applied, sums the loss in double, and skips coordinates
// whose perturbation flips a ReLU (a kink, where no derivative exists). Tolerance:
// |analytic - numeric| <= 1e-3 + 1e-2 max(|analytic|, |numeric|); a test below shows a
// gradient wrong by 3% in one entry fails it.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <numeric>
#include <vector>

#include "ablate/error.hpp"
#include "ablate/nn.hpp"
#include "tensor_support.hpp"

using namespace ablate;
using namespace ablate::nn;

namespace {

constexpr double kStep = 1e-2, kAbsTol = 1e-3, kRelTol = 1e-2;

/// A loss value and the sign pattern of every ReLU preactivation it went through.
struct Probe {
  double loss = 0;
  std::vector<bool> signs;
};

struct CheckResult {
  int checked = 0, skipped = 0, failed = 0;
  double worst = 0;  // largest |analytic - numeric| - tolerance seen (<= 0 when all pass)
};

/// Compares `analytic` (dLoss/dvalues) with central differences of `probe` over `values`,
/// skipping entries whose `mask` is 0 (absent connections: their gradient is 0 by definition).
CheckResult check_gradient(float* values, const float* analytic, Eigen::Index count,
                           const std::function<Probe()>& probe, const float* mask = nullptr) {
  CheckResult result;
  const std::vector<bool> base = probe().signs;
  for (Eigen::Index i = 0; i < count; ++i) {
    if (mask && mask[i] == 0.0f) continue;
    const float original = values[i];
    values[i] = static_cast<float>(original + kStep);
    const double up_step = static_cast<double>(values[i]) - original;
    const Probe up = probe();
    values[i] = static_cast<float>(original - kStep);
    const double down_step = original - static_cast<double>(values[i]);
    const Probe down = probe();
    values[i] = original;
    if (up.signs != base || down.signs != base) {
      ++result.skipped;
      continue;
    }
    const double numeric = (up.loss - down.loss) / (up_step + down_step);
    const double a = analytic[i];
    const double excess =
        std::abs(a - numeric) - (kAbsTol + kRelTol * std::max(std::abs(a), std::abs(numeric)));
    ++result.checked;
    result.failed += excess > 0;
    result.worst = std::max(result.worst, excess);
    if (excess > 0) UNSCOPED_INFO("entry " << i << ": analytic " << a << ", numeric " << numeric);
  }
  return result;
}

void require_matches(const CheckResult& r, const char* what) {
  INFO(what << ": checked " << r.checked << ", skipped at kinks " << r.skipped << ", failed "
            << r.failed);
  REQUIRE(r.failed == 0);
  REQUIRE(r.checked >= 3 * r.skipped);  // kinks are rare: most entries must be checked
  REQUIRE(r.checked > 0);
}

using ablate::test::random_matrix;

/// sum(weights .* m), in double: a loss whose gradient with respect to m is `weights`.
double projected(const ConstMatrixRef& m, const Matrix& weights) {
  double sum = 0;
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c) sum += static_cast<double>(m(r, c)) * weights(r, c);
  return sum;
}

void record_signs(const Dense& layer, std::vector<bool>& signs) {
  if (layer.activation() != Activation::relu) return;
  const ConstMatrixRef pre = layer.preactivation();
  for (Eigen::Index i = 0; i < pre.size(); ++i) signs.push_back(pre.data()[i] > 0);
}

/// Checks a Dense layer's weight, bias and input gradients for the loss sum(R .* output).
void check_dense(Activation act, bool masked) {
  Rng rng(7);
  Dense layer("dense", 5, 4, act, rng, masked);
  if (masked) {
    layer.weight.mask(0, 1) = layer.weight.mask(2, 3) = layer.weight.mask(3, 0) = 0;
    layer.apply_mask();
  }
  layer.reserve(3);
  Matrix x = random_matrix(3, 5, rng);
  const Matrix r = random_matrix(3, 4, rng);
  auto probe = [&] {
    layer.forward(x);
    Probe p{projected(layer.output(), r), {}};
    record_signs(layer, p.signs);
    return p;
  };
  probe();
  layer.backward(x, r, true);
  const Matrix weight_grad = layer.weight.grad, bias_grad = layer.bias.grad;
  const Matrix input_grad = layer.input_grad();

  require_matches(check_gradient(layer.weight.value.data(), weight_grad.data(), weight_grad.size(),
                                 probe, masked ? layer.weight.mask.data() : nullptr),
                  "weight");
  require_matches(
      check_gradient(layer.bias.value.data(), bias_grad.data(), bias_grad.size(), probe), "bias");
  require_matches(check_gradient(x.data(), input_grad.data(), input_grad.size(), probe), "input");
  if (masked) {
    for (auto [row, col] : {std::pair{0, 1}, {2, 3}, {3, 0}}) {
      CHECK(layer.weight.value(row, col) == 0.0f);
      CHECK(weight_grad(row, col) == 0.0f);
    }
  }
}

}  // namespace

TEST_CASE("dense layer gradients match finite differences for every activation", "[nn]") {
  for (Activation act :
       {Activation::identity, Activation::relu, Activation::tanh, Activation::gelu}) {
    DYNAMIC_SECTION(to_string(act)) { check_dense(act, false); }
  }
}

TEST_CASE("masked dense layer: absent connections stay 0, the rest match", "[nn]") {
  check_dense(Activation::relu, true);
  check_dense(Activation::tanh, true);
}

TEST_CASE("the checker catches a gradient wrong by 3% in one entry", "[nn]") {
  Rng rng(3);
  Dense layer("dense", 5, 4, Activation::tanh, rng);
  Matrix x = random_matrix(3, 5, rng);
  const Matrix r = random_matrix(3, 4, rng);
  auto probe = [&] {
    layer.forward(x);
    return Probe{projected(layer.output(), r), {}};
  };
  probe();
  layer.backward(x, r, false);
  Matrix grad = layer.weight.grad;
  REQUIRE(check_gradient(layer.weight.value.data(), grad.data(), grad.size(), probe).failed == 0);

  Eigen::Index row = 0, col = 0;
  grad.cwiseAbs().maxCoeff(&row, &col);
  const Eigen::Index largest = row * grad.cols() + col;  // row-major storage
  grad.data()[largest] *= 1.03f;
  CHECK(check_gradient(layer.weight.value.data(), grad.data(), grad.size(), probe).failed == 1);
  grad = layer.weight.grad;
  grad.data()[largest] = -grad.data()[largest];  // a sign error
  CHECK(check_gradient(layer.weight.value.data(), grad.data(), grad.size(), probe).failed == 1);
}

TEST_CASE("activations compute their exact definitions", "[nn]") {
  Rng rng(1);
  Matrix x(1, 7);
  x << -4.0f, -1.5f, -0.25f, 0.0f, 0.3f, 1.0f, 3.5f;
  for (Activation act : {Activation::relu, Activation::tanh, Activation::gelu}) {
    Dense layer("d", 7, 7, act, rng);
    layer.weight.value.setIdentity();
    layer.bias.value.setZero();
    layer.forward(x);
    for (int j = 0; j < 7; ++j) {
      const double v = x(0, j);
      const double expected = act == Activation::relu ? std::max(v, 0.0)
                              : act == Activation::tanh
                                  ? std::tanh(v)
                                  : 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
      INFO(to_string(act) << "(" << v << ")");
      CHECK(layer.output()(0, j) == Approx(expected).margin(2e-6).epsilon(1e-5));
    }
  }
}

TEST_CASE("activation names parse and unknown ones are refused with the choices", "[nn]") {
  CHECK(parse_activation("gelu") == Activation::gelu);
  CHECK(std::string(to_string(parse_activation("identity"))) == "identity");
  REQUIRE_THROWS_WITH(parse_activation("swish"),
                      Catch::Contains("swish") && Catch::Contains("relu, tanh, gelu"));
}

TEST_CASE("dropout: a fixed draw is differentiable, scaled, and off in evaluation", "[nn]") {
  const std::uint64_t seed = 11;
  Rng init(5);
  Dense layer("d", 6, 40, Activation::gelu, init);
  Dropout dropout(0.3);
  layer.reserve(4);
  dropout.reserve(4, 40);
  Matrix x = random_matrix(4, 6, init);
  const Matrix r = random_matrix(4, 40, init);
  auto probe = [&] {
    Rng draw(seed);  // the same mask on every evaluation
    layer.forward(x);
    dropout.forward(layer.output(), Mode::train, draw);
    return Probe{projected(layer.output(), r), {}};
  };
  probe();
  Matrix dy = r;
  dropout.backward(dy);
  layer.backward(x, dy, true);
  const Matrix input_grad = layer.input_grad(), weight_grad = layer.weight.grad;
  require_matches(check_gradient(x.data(), input_grad.data(), input_grad.size(), probe), "input");
  require_matches(
      check_gradient(layer.weight.value.data(), weight_grad.data(), weight_grad.size(), probe),
      "weight");

  // Each value is either dropped or scaled by 1/(1-p); about p of them are dropped.
  Rng draw(seed);
  layer.forward(x);
  const Matrix before = layer.output();
  dropout.forward(layer.output(), Mode::train, draw);
  int dropped = 0;
  for (Eigen::Index i = 0; i < before.size(); ++i) {
    const float after = layer.output().data()[i];
    if (after == 0.0f && before.data()[i] != 0.0f)
      ++dropped;
    else
      CHECK(after == Approx(before.data()[i] / 0.7f).epsilon(1e-6));
  }
  CHECK(dropped > 20);  // 160 values at p = 0.3: 48 expected
  CHECK(dropped < 80);
  Rng unused(1);
  layer.forward(x);
  dropout.forward(layer.output(), Mode::eval, unused);
  CHECK(layer.output() == before);
  REQUIRE_THROWS_AS(Dropout(1.0), Error);
}

TEST_CASE("softmax cross-entropy: loss, probabilities and dlogits", "[nn]") {
  Rng rng(2);
  Matrix logits = random_matrix(5, 4, rng, 2.0);
  const std::vector<std::int32_t> labels{0, 3, 1, 1, 2};
  Matrix probs(5, 4), dlogits(5, 4);
  const double loss = softmax_cross_entropy(logits, labels, probs, dlogits);

  double expected = 0;
  for (int r = 0; r < 5; ++r) {
    double norm = 0;
    for (int c = 0; c < 4; ++c) norm += std::exp(static_cast<double>(logits(r, c)));
    expected -= std::log(std::exp(static_cast<double>(logits(r, labels[r]))) / norm) / 5;
    CHECK(probs.row(r).sum() == Approx(1.0).epsilon(1e-6));
  }
  CHECK(loss == Approx(expected).epsilon(1e-6));

  const Matrix analytic = dlogits;
  Matrix scratch_p(5, 4), scratch_d(5, 4);
  auto probe = [&] {
    return Probe{softmax_cross_entropy(logits, labels, scratch_p, scratch_d), {}};
  };
  require_matches(check_gradient(logits.data(), analytic.data(), analytic.size(), probe),
                  "dlogits");

  // Stable for large logits: no overflow, the loss of a confident right answer is ~0.
  Matrix big(1, 3);
  big << 1000.0f, 0.0f, -1000.0f;
  Matrix p1(1, 3), d1(1, 3);
  CHECK(softmax_cross_entropy(big, std::vector<std::int32_t>{0}, p1, d1) ==
        Approx(0.0).margin(1e-12));
  CHECK(softmax_cross_entropy(big, std::vector<std::int32_t>{2}, p1, d1) == Approx(2000.0));
  CHECK(p1.allFinite());
  REQUIRE_THROWS_WITH(softmax_cross_entropy(big, std::vector<std::int32_t>{3}, p1, d1),
                      Catch::Contains("label 3") && Catch::Contains("[0, 3)"));
}

TEST_CASE("argmax takes the first maximum", "[nn]") {
  Matrix scores(3, 4);
  scores << 1, 5, 5, 0,   //
      -1, -2, -3, -0.5f,  //
      2, 2, 2, 2;
  std::vector<std::int32_t> out(3);
  argmax(scores, out);
  CHECK(out == std::vector<std::int32_t>{1, 3, 0});
  Matrix probs(3, 4);
  softmax(scores, probs);
  CHECK(probs(2, 0) == Approx(0.25));
}

TEST_CASE("MLP end to end: cross-entropy gradients of every parameter and the input", "[nn]") {
  for (Activation act : {Activation::relu, Activation::tanh, Activation::gelu}) {
    DYNAMIC_SECTION(to_string(act)) {
      Rng rng(21);
      Mlp mlp({{6, 7, 5, 3}, act, 0.0, false, "net."}, rng);
      mlp.reserve(4);
      Matrix x = random_matrix(4, 6, rng);
      const std::vector<std::int32_t> labels{2, 0, 1, 2};
      Matrix probs(4, 3), dlogits(4, 3);
      Rng unused(0);
      auto probe = [&] {
        mlp.forward(x, Mode::train, unused);
        Probe p{softmax_cross_entropy(mlp.output(), labels, probs, dlogits), {}};
        for (const Dense& layer : mlp.layers()) record_signs(layer, p.signs);
        return p;
      };
      probe();
      mlp.backward(x, dlogits, true);
      const Matrix input_grad = mlp.input_grad();
      for (Parameter* p : mlp.parameters()) {
        const Matrix grad = p->grad;
        require_matches(check_gradient(p->value.data(), grad.data(), grad.size(), probe),
                        p->name.c_str());
      }
      require_matches(check_gradient(x.data(), input_grad.data(), input_grad.size(), probe),
                      "input");
    }
  }
}

TEST_CASE("MLP with dropout: gradients through a fixed mask", "[nn]") {
  Rng rng(4);
  Mlp mlp({{5, 16, 16, 3}, Activation::tanh, 0.25, false, ""}, rng);
  mlp.reserve(3);
  Matrix x = random_matrix(3, 5, rng);
  const std::vector<std::int32_t> labels{1, 0, 2};
  Matrix probs(3, 3), dlogits(3, 3);
  auto probe = [&] {
    Rng draw(99);
    mlp.forward(x, Mode::train, draw);
    return Probe{softmax_cross_entropy(mlp.output(), labels, probs, dlogits), {}};
  };
  probe();
  mlp.backward(x, dlogits, true);
  const Matrix input_grad = mlp.input_grad();
  for (Parameter* p : mlp.parameters()) {
    const Matrix grad = p->grad;
    require_matches(check_gradient(p->value.data(), grad.data(), grad.size(), probe),
                    p->name.c_str());
  }
  require_matches(check_gradient(x.data(), input_grad.data(), input_grad.size(), probe), "input");
}

TEST_CASE("MLP names, unit layers, unit sums and trainable units", "[nn]") {
  Rng rng(8);
  Mlp mlp({{3, 4, 2}, Activation::relu, 0.0, false, "expert1."}, rng);
  std::vector<std::string> names;
  for (Parameter* p : mlp.parameters()) names.push_back(p->name);
  CHECK(names == std::vector<std::string>{"expert1.layer1.weight", "expert1.layer1.bias",
                                          "expert1.layer2.weight", "expert1.layer2.bias"});
  const auto layers = mlp.unit_layers(5);
  REQUIRE(layers.size() == 2);
  CHECK(layers[0].name == "expert1.layer1");
  CHECK(layers[0].size == 4);
  CHECK(layers[0].inputs.empty());
  CHECK(layers[1].inputs == std::vector<int>{5});

  // Hidden units fire where the preactivation is > 0, outputs where they are the argmax.
  Dense& hidden = mlp.layers()[0];
  hidden.weight.value.setZero();
  hidden.weight.value(0, 0) = 1;     // unit 0 copies x0
  hidden.weight.value(1, 0) = -1;    // unit 1 is -x0
  hidden.bias.value << 0, 0, 1, -1;  // unit 2 always fires, unit 3 never
  Dense& out = mlp.layers()[1];
  out.weight.value << 1, 0, 0, 0, 0, 1, 0, 0;  // output 0 = relu(x0), output 1 = relu(-x0)
  out.bias.value.setZero();
  Matrix x(3, 3);
  x << 2, 0, 0,  //
      -1, 0, 0,  //
      3, 0, 0;
  Rng unused(0);
  mlp.forward(x, Mode::eval, unused);
  std::vector<std::int64_t> sums(6, 10);
  mlp.accumulate_unit_sums(sums);
  CHECK(sums == std::vector<std::int64_t>{10 + 1, 10 - 1, 10 + 3, 10 - 3, 10 + 1, 10 - 1});

  // Freezing: only unit 1 of layer 0 and unit 0 of layer 1 keep gradients.
  Matrix dlogits = Matrix::Ones(3, 2);
  mlp.set_trainable({false, {{0, 1}, {1, 0}}});
  mlp.backward(x, dlogits, false);
  CHECK(hidden.weight.grad.row(0).isZero());
  CHECK(hidden.weight.grad.row(2).isZero());
  CHECK(hidden.bias.grad(0, 3) == 0.0f);
  CHECK(out.weight.grad.row(1).isZero());
  CHECK(out.bias.grad(0, 1) == 0.0f);
  CHECK(out.bias.grad(0, 0) == 3.0f);
  CHECK(hidden.weight.grad(1, 0) == -1.0f);  // unit 1 is active only on the row x0 = -1
  mlp.set_trainable(UnitSelection::everything());
  mlp.backward(x, dlogits, false);
  CHECK(out.bias.grad(0, 1) == 3.0f);
  REQUIRE_THROWS_AS(mlp.set_trainable({false, {{2, 0}}}), Error);
  REQUIRE_THROWS_AS(mlp.set_trainable({false, {{0, 4}}}), Error);
}

TEST_CASE("MLP with a head per task: names, the active head's gradients, the others frozen",
          "[nn]") {
  Rng rng(31);
  Mlp mlp({{5, 6, 3}, Activation::relu, 0.0, false, "", 3}, rng);
  mlp.reserve(4);
  std::vector<std::string> names;
  for (Parameter* p : mlp.parameters()) names.push_back(p->name);
  CHECK(names == std::vector<std::string>{"layer1.weight", "layer1.bias", "layer2.head0.weight",
                                          "layer2.head0.bias", "layer2.head1.weight",
                                          "layer2.head1.bias", "layer2.head2.weight",
                                          "layer2.head2.bias"});
  const auto layers = mlp.unit_layers();
  REQUIRE(layers.size() == 2);  // the heads are one output unit layer: the one in use
  CHECK(layers[1].name == "layer2");
  CHECK(layers[1].size == 3);

  Matrix x = random_matrix(4, 5, rng);
  const std::vector<std::int32_t> labels{2, 0, 1, 2};
  Matrix probs(4, 3), dlogits(4, 3);
  Rng unused(0);
  auto logits_of = [&](int head) {
    mlp.select_head(head);
    mlp.forward(x, Mode::eval, unused);
    return Matrix(mlp.output());
  };
  CHECK_FALSE(logits_of(0).isApprox(logits_of(1)));  // separate output layers

  // Head 0 trains first, then head 1: head 0 must end with zero gradients.
  mlp.select_head(0);
  mlp.forward(x, Mode::train, unused);
  softmax_cross_entropy(mlp.output(), labels, probs, dlogits);
  mlp.backward(x, dlogits, false);
  REQUIRE_FALSE(mlp.layers()[1].weight.grad.isZero());
  mlp.select_head(1);
  CHECK(mlp.layers()[1].weight.grad.isZero());
  CHECK(mlp.layers()[1].bias.grad.isZero());
  auto probe = [&] {
    mlp.forward(x, Mode::train, unused);
    Probe p{softmax_cross_entropy(mlp.output(), labels, probs, dlogits), {}};
    record_signs(mlp.layers()[0], p.signs);
    return p;
  };
  probe();
  mlp.backward(x, dlogits, false);
  CHECK(mlp.layers()[3].weight.grad.isZero());  // head 2: never active
  for (Parameter* p : mlp.parameters()) {
    const Matrix grad = p->grad;
    require_matches(check_gradient(p->value.data(), grad.data(), grad.size(), probe),
                    p->name.c_str());
  }
  REQUIRE_THROWS_AS(mlp.select_head(3), Error);
  REQUIRE_THROWS_AS(Mlp({{5, 3}, Activation::relu, 0.0, false, "", 0}, rng), Error);
}
