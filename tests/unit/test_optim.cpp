// optim/: SGD (momentum, Nesterov, weight decay), Adam and AdamW against steps worked by hand
// and against a double-precision transcription of torch.optim's update rules; schedules;
// clipping; masks; state save/load; bit-identical repeated runs.
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <numbers>
#include <vector>

#include "ablate/nn.hpp"
#include "ablate/state.hpp"
#include "optim/optimizer.hpp"
#include "optim/schedule.hpp"

using namespace ablate;

namespace {

Params train_params(std::map<std::string, Value> changes = {}) {
  std::map<std::string, Value> values{{"optimizer", std::string("sgd")},
                                      {"lr", 0.1},
                                      {"momentum", 0.0},
                                      {"nesterov", false},
                                      {"weight_decay", 0.0},
                                      {"beta1", 0.9},
                                      {"beta2", 0.999},
                                      {"eps", 1e-8},
                                      {"schedule", std::string("constant")},
                                      {"warmup_epochs", std::int64_t{0}},
                                      {"step_size", std::int64_t{10}},
                                      {"gamma", 0.1},
                                      {"min_lr", 0.0},
                                      {"epochs", std::int64_t{10}},
                                      {"clip_norm", 0.0}};
  for (auto& [key, value] : changes) values[key] = value;
  return Params(values);
}

Parameter make_parameter(std::vector<float> values, std::string name = "w") {
  Parameter p;
  p.name = std::move(name);
  p.value = Eigen::Map<Matrix>(values.data(), 1, static_cast<Eigen::Index>(values.size()));
  p.grad = Matrix::Zero(1, p.value.cols());
  return p;
}

/// torch.optim.SGD / Adam / AdamW (1.13, single-tensor path), transcribed in double for one
/// scalar parameter: the reference the float kernels are held to.
struct Reference {
  std::string kind;
  double momentum = 0, decay = 0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  bool nesterov = false;
  double p = 0, buf = 0, m = 0, v = 0;
  int t = 0;
  bool has_buf = false;

  void step(double g, double lr) {
    ++t;
    if (kind == "sgd") {
      double d = g + decay * p;
      if (momentum != 0) {
        buf = has_buf ? momentum * buf + d : d;
        has_buf = true;
        d = nesterov ? d + momentum * buf : buf;
      }
      p -= lr * d;
      return;
    }
    if (kind == "adamw") p *= 1 - lr * decay;
    if (kind == "adam") g += decay * p;
    m = beta1 * m + (1 - beta1) * g;
    v = beta2 * v + (1 - beta2) * g * g;
    const double c1 = 1 - std::pow(beta1, t), c2 = 1 - std::pow(beta2, t);
    p -= lr / c1 * m / (std::sqrt(v) / std::sqrt(c2) + eps);
  }
};

}  // namespace

TEST_CASE("SGD steps worked by hand", "[optim]") {
  SECTION("plain") {
    Parameter p = make_parameter({1.0f, -2.0f});
    auto opt = make_optimizer(train_params(), {&p});
    p.grad << 0.5f, 0.25f;
    opt->step(0.1f);
    CHECK(p.value(0, 0) == Approx(0.95));
    CHECK(p.value(0, 1) == Approx(-2.025));
  }
  SECTION("momentum: constant gradient g moves by lr g (1 + 1.9 + 2.71) in three steps") {
    Parameter p = make_parameter({1.0f});
    auto opt = make_optimizer(train_params({{"momentum", 0.9}}), {&p});
    for (int i = 0; i < 3; ++i) {
      p.grad(0, 0) = 0.5f;
      opt->step(0.1f);
    }
    CHECK(p.value(0, 0) == Approx(1.0 - 0.1 * 0.5 * 5.61).epsilon(1e-6));
  }
  SECTION("Nesterov: the same moves by lr g (1.9 + 2.71 + 3.439)") {
    Parameter p = make_parameter({1.0f});
    auto opt = make_optimizer(train_params({{"momentum", 0.9}, {"nesterov", true}}), {&p});
    for (int i = 0; i < 3; ++i) {
      p.grad(0, 0) = 0.5f;
      opt->step(0.1f);
    }
    CHECK(p.value(0, 0) == Approx(1.0 - 0.1 * 0.5 * 8.049).epsilon(1e-6));
  }
  SECTION("weight decay alone shrinks by (1 - lr wd) per step") {
    Parameter p = make_parameter({1.0f});
    auto opt = make_optimizer(train_params({{"weight_decay", 0.1}}), {&p});
    opt->step(0.5f);
    opt->step(0.5f);
    CHECK(p.value(0, 0) == Approx(0.95 * 0.95).epsilon(1e-6));
  }
}

TEST_CASE("Adam and AdamW steps worked by hand", "[optim]") {
  SECTION("Adam: step 1 moves by lr sign(g); step 2 by the bias-corrected ratio") {
    Parameter p = make_parameter({1.0f});
    auto opt = make_optimizer(train_params({{"optimizer", std::string("adam")}}), {&p});
    p.grad(0, 0) = 0.5f;
    opt->step(0.01f);
    CHECK(p.value(0, 0) == Approx(0.99).epsilon(1e-6));
    p.grad(0, 0) = -0.25f;
    opt->step(0.01f);
    // m = 0.9 * 0.05 - 0.1 * 0.25 = 0.02, v = 0.999 * 0.00025 + 0.001 * 0.0625 = 0.00031225,
    // m^ = 0.02 / 0.19, v^ = 0.00031225 / 0.001999.
    const double step2 = 0.01 * (0.02 / 0.19) / std::sqrt(0.00031225 / 0.001999);
    CHECK(p.value(0, 0) == Approx(0.99 - step2).epsilon(1e-6));
  }
  SECTION("AdamW decays the weight before the Adam step; Adam adds it to the gradient") {
    Parameter p = make_parameter({1.0f});
    auto opt = make_optimizer(
        train_params({{"optimizer", std::string("adamw")}, {"weight_decay", 0.1}}), {&p});
    p.grad(0, 0) = 0.5f;
    opt->step(0.01f);
    CHECK(p.value(0, 0) == Approx(1.0 * (1 - 0.01 * 0.1) - 0.01).epsilon(1e-6));

    Parameter q = make_parameter({1.0f});
    auto adam = make_optimizer(
        train_params({{"optimizer", std::string("adam")}, {"weight_decay", 0.1}}), {&q});
    q.grad(0, 0) = -0.05f;  // g + wd p = 0.05 > 0: the step goes down although g < 0
    adam->step(0.01f);
    CHECK(q.value(0, 0) == Approx(0.99).epsilon(1e-6));
  }
}

TEST_CASE("optimizers follow torch.optim's rules over many steps", "[optim]") {
  struct Case {
    std::string name;
    std::map<std::string, Value> changes;
    Reference reference;
  };
  const std::vector<Case> cases{
      {"sgd momentum decay", {{"momentum", 0.9}, {"weight_decay", 0.01}}, {"sgd", 0.9, 0.01}},
      {"sgd nesterov decay",
       {{"momentum", 0.8}, {"nesterov", true}, {"weight_decay", 0.05}},
       {"sgd", 0.8, 0.05, 0.9, 0.999, 1e-8, true}},
      {"adam decay",
       {{"optimizer", std::string("adam")}, {"weight_decay", 0.01}, {"beta1", 0.8}},
       {"adam", 0, 0.01, 0.8}},
      {"adamw",
       {{"optimizer", std::string("adamw")}, {"weight_decay", 0.1}, {"eps", 1e-6}},
       {"adamw", 0, 0.1, 0.9, 0.999, 1e-6}},
  };
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.name) {
      Rng rng(17);
      std::vector<float> start(64);
      for (auto& x : start) x = static_cast<float>(rng.normal());
      Parameter p = make_parameter(start);
      std::vector<Reference> refs(start.size(), c.reference);
      for (std::size_t i = 0; i < start.size(); ++i) refs[i].p = start[i];
      auto opt = make_optimizer(train_params(c.changes), {&p});
      for (int step = 0; step < 50; ++step) {
        const double lr = 0.05 * (1.0 + step % 3);  // the rate changes, as a schedule would
        for (std::size_t i = 0; i < start.size(); ++i) {
          const float g = static_cast<float>(rng.normal() + 0.3 * p.value(0, i));
          p.grad(0, static_cast<Eigen::Index>(i)) = g;
          refs[i].step(g, static_cast<float>(lr));
        }
        opt->step(static_cast<float>(lr));
      }
      CHECK(opt->steps_taken() == 50);
      for (std::size_t i = 0; i < start.size(); ++i) {
        INFO("entry " << i);
        CHECK(p.value(0, static_cast<Eigen::Index>(i)) ==
              Approx(refs[i].p).margin(2e-5).epsilon(1e-4));
      }
    }
  }
}

TEST_CASE("masked entries stay exactly zero, value and state, reset clears rewired state",
          "[optim]") {
  for (const char* name : {"sgd", "adam", "adamw"}) {
    DYNAMIC_SECTION(name) {
      Parameter p = make_parameter({0.5f, 0.0f, -0.5f, 0.0f});
      p.mask = Matrix::Ones(1, 4);
      p.mask(0, 1) = p.mask(0, 3) = 0;
      auto opt = make_optimizer(
          train_params(
              {{"optimizer", std::string(name)}, {"momentum", 0.9}, {"weight_decay", 0.1}}),
          {&p});
      for (int step = 0; step < 5; ++step) {
        p.grad << 1.0f, 2.0f, -1.0f, -3.0f;  // a regularizer may write into masked entries
        opt->step(0.1f);
      }
      CHECK(p.value(0, 1) == 0.0f);
      CHECK(p.value(0, 3) == 0.0f);
      CHECK(p.value(0, 0) != 0.5f);
      StateStore store;
      opt->save(store, "opt/");
      for (const auto& [key, tensor] : store.tensors()) {
        if (key == "opt/step") continue;
        const Matrix state = store.matrix(key);
        CHECK(state(0, 1) == 0.0f);
        CHECK(state(0, 0) != 0.0f);
      }
      // A rewiring removes connection 0: its state is cleared, the others' kept.
      p.mask(0, 0) = 0;
      p.value(0, 0) = 0;
      opt->reset(p);
      StateStore after;
      opt->save(after, "opt/");
      for (const auto& [key, tensor] : after.tensors()) {
        if (key == "opt/step") continue;
        const Matrix state = after.matrix(key);
        CHECK(state(0, 0) == 0.0f);
        CHECK(state(0, 2) != 0.0f);
      }
      Parameter stranger = make_parameter({1.0f}, "stranger");
      REQUIRE_THROWS_AS(opt->reset(stranger), Error);
    }
  }
}

TEST_CASE("optimizer state saves and loads: a resumed optimizer continues identically", "[optim]") {
  for (const char* name : {"sgd", "adamw"}) {
    DYNAMIC_SECTION(name) {
      const Params train = train_params({{"optimizer", std::string(name)}, {"momentum", 0.9}});
      Parameter a = make_parameter({1, 2, 3}), b = make_parameter({1, 2, 3});
      auto first = make_optimizer(train, {&a});
      auto gradient = [](Parameter& p, int step) {
        for (int i = 0; i < 3; ++i)
          p.grad(0, i) = std::sin(1.0f + static_cast<float>(step * 3 + i));
      };
      for (int step = 0; step < 3; ++step) {
        gradient(a, step);
        first->step(0.05f);
      }
      StateStore store;
      first->save(store, "optimizer/");
      CHECK(store.has(std::string("optimizer/w.") +
                      (std::string(name) == "sgd" ? "momentum_buffer" : "exp_avg_sq")));
      b.value = a.value;
      auto second = make_optimizer(train, {&b});
      second->load(store, "optimizer/");
      CHECK(second->steps_taken() == 3);
      for (int step = 3; step < 6; ++step) {
        gradient(a, step);
        gradient(b, step);
        first->step(0.05f);
        second->step(0.05f);
      }
      CHECK(a.value == b.value);
      StateStore empty;
      REQUIRE_THROWS_WITH(second->load(empty, "optimizer/"), Catch::Contains("optimizer/"));
    }
  }
}

TEST_CASE("invalid optimizer settings are refused", "[optim]") {
  Parameter p = make_parameter({1});
  REQUIRE_THROWS_AS(make_optimizer(train_params({{"nesterov", true}}), {&p}), ConfigError);
  REQUIRE_THROWS_WITH(make_optimizer(train_params({{"optimizer", std::string("lion")}}), {&p}),
                      Catch::Contains("lion") && Catch::Contains("sgd, adam, adamw"));
  Parameter twin = make_parameter({1});
  REQUIRE_THROWS_WITH(make_optimizer(train_params(), {&p, &twin}), Catch::Contains("'w'"));
}

TEST_CASE("learning-rate schedules", "[optim]") {
  const double lr = 0.2;
  SECTION("constant, with and without warmup") {
    const Params plain = train_params({{"lr", lr}});
    CHECK(scheduled_lr(plain, 0, 10) == lr);
    CHECK(scheduled_lr(plain, 12345, 10) == lr);
    const Params warm = train_params({{"lr", lr}, {"warmup_epochs", std::int64_t{2}}});
    CHECK(scheduled_lr(warm, 0, 10) == Approx(lr / 20));
    CHECK(scheduled_lr(warm, 9, 10) == Approx(lr / 2));
    CHECK(scheduled_lr(warm, 19, 10) == Approx(lr));
    CHECK(scheduled_lr(warm, 20, 10) == Approx(lr));
  }
  SECTION("step: gamma every step_size epochs, counted after warmup") {
    const Params step = train_params({{"lr", lr},
                                      {"schedule", std::string("step")},
                                      {"step_size", std::int64_t{2}},
                                      {"gamma", 0.5}});
    CHECK(scheduled_lr(step, 19, 10) == Approx(lr));
    CHECK(scheduled_lr(step, 20, 10) == Approx(lr / 2));
    CHECK(scheduled_lr(step, 45, 10) == Approx(lr / 4));
    const Params warm = train_params({{"lr", lr},
                                      {"schedule", std::string("step")},
                                      {"step_size", std::int64_t{2}},
                                      {"gamma", 0.5},
                                      {"warmup_epochs", std::int64_t{1}}});
    CHECK(scheduled_lr(warm, 4, 10) == Approx(lr / 2));
    CHECK(scheduled_lr(warm, 29, 10) == Approx(lr));
    CHECK(scheduled_lr(warm, 30, 10) == Approx(lr / 2));
  }
  SECTION("cosine from lr to min_lr over train.epochs, then flat") {
    const Params cosine = train_params({{"lr", lr},
                                        {"schedule", std::string("cosine")},
                                        {"min_lr", 0.02},
                                        {"epochs", std::int64_t{10}}});
    CHECK(scheduled_lr(cosine, 0, 10) == Approx(lr));
    const double quarter = 0.02 + 0.18 * 0.5 * (1 + std::cos(std::numbers::pi / 4));
    CHECK(scheduled_lr(cosine, 25, 10) == Approx(quarter));
    CHECK(scheduled_lr(cosine, 50, 10) == Approx(0.11));
    CHECK(scheduled_lr(cosine, 100, 10) == Approx(0.02));
    CHECK(scheduled_lr(cosine, 150, 10) == Approx(0.02));
    const Params warm = train_params({{"lr", lr},
                                      {"schedule", std::string("cosine")},
                                      {"min_lr", 0.0},
                                      {"epochs", std::int64_t{10}},
                                      {"warmup_epochs", std::int64_t{2}}});
    CHECK(scheduled_lr(warm, 10, 10) == Approx(lr * 11 / 20));
    CHECK(scheduled_lr(warm, 20, 10) == Approx(lr));
    CHECK(scheduled_lr(warm, 60, 10) == Approx(lr / 2));
  }
  REQUIRE_THROWS_AS(scheduled_lr(train_params(), 0, 0), Error);
}

TEST_CASE("gradient clipping scales to the global norm, as torch's clip_grad_norm_", "[optim]") {
  Parameter a = make_parameter({0, 0}, "a"), b = make_parameter({0}, "b");
  std::vector<Parameter*> params{&a, &b};
  auto set = [&] {
    a.grad << 3.0f, 0.0f;
    b.grad << 4.0f;
  };
  set();
  CHECK(clip_grad_norm(params, 1.0) == Approx(5.0));
  CHECK(a.grad(0, 0) == Approx(0.6).epsilon(1e-5));
  CHECK(b.grad(0, 0) == Approx(0.8).epsilon(1e-5));
  set();
  CHECK(clip_grad_norm(params, 10.0) == Approx(5.0));
  CHECK(b.grad(0, 0) == 4.0f);
  set();
  CHECK(clip_grad_norm(params, 0.0) == 0.0);  // off
  CHECK(b.grad(0, 0) == 4.0f);
  REQUIRE_THROWS_AS(clip_grad_norm(params, -1.0), ConfigError);
}

namespace {
/// N training steps of a small MLP with dropout, clipping and Adam; returns the weights.
std::vector<Matrix> train_run(int threads, int steps) {
  set_threads(threads);
  Rng init(123);
  nn::Mlp mlp({{20, 64, 32, 5}, nn::Activation::gelu, 0.2, false, ""}, init);
  mlp.reserve(16);
  const auto params = mlp.parameters();
  auto opt = make_optimizer(
      train_params({{"optimizer", std::string("adamw")}, {"weight_decay", 0.01}}), params);
  Rng data(5), dropout(6);
  Matrix x(16, 20), probs(16, 5), dlogits(16, 5);
  std::vector<std::int32_t> labels(16);
  for (int step = 0; step < steps; ++step) {
    for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(data.normal());
    for (auto& y : labels) y = static_cast<std::int32_t>(data.below(5));
    mlp.forward(x, Mode::train, dropout);
    nn::softmax_cross_entropy(mlp.output(), labels, probs, dlogits);
    mlp.backward(x, dlogits, false);
    clip_grad_norm(params, 0.5);
    opt->step(0.01f);
  }
  std::vector<Matrix> weights;
  for (Parameter* p : params) weights.push_back(p->value);
  return weights;
}
}  // namespace

TEST_CASE("two identical runs give bit-identical weights at each thread count", "[optim]") {
  const int before = threads();
  for (int t : {1, 2}) {
    const auto first = train_run(t, 30), second = train_run(t, 30);
    REQUIRE(first.size() == second.size());
    for (std::size_t i = 0; i < first.size(); ++i) CHECK(first[i] == second[i]);
  }
  set_threads(before);
}
