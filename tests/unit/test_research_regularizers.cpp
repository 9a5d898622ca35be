// The entropy and ewc regularizers (issue 5), loaded from their .so files: the entropy penalty's
// analytic gradient against finite differences and its direction; EWC's Fisher against one
// measured independently by finite differences, its penalty and gradient in both modes, and its
// state through save/load.
#include <catch2/catch.hpp>
#include <limits>

#include "ablate/state.hpp"
#include "test_research_support.hpp"

using namespace ablate;
using namespace ablate::test;

namespace {

/// A model that is nothing but a gate distribution (or none): what entropy's on_forward reads.
class GateStub final : public GradientModel {
 public:
  GateStub(Matrix logits, bool offers_gate) : logits_(std::move(logits)), offers_(offers_gate) {
    probs_ = Matrix::Zero(logits_.rows(), logits_.cols());
    grad_ = Matrix::Zero(logits_.rows(), logits_.cols());
  }
  std::vector<UnitLayer> unit_layers() const override { return {}; }
  void reserve(int) override {}
  std::vector<Parameter*> parameters() override { return {}; }
  void forward(const ConstMatrixRef&, Mode, Rng&) override {}
  ConstMatrixRef logits() const override { return logits_; }
  void backward(const ConstMatrixRef&) override {}
  void accumulate_unit_sums(std::span<std::int64_t>) const override {}
  void set_trainable(const UnitSelection&) override {}
  std::optional<Distribution> distribution(std::string_view name) override {
    if (!offers_ || name != "gate") return {};
    return Distribution{logits_, probs_, grad_};
  }
  Matrix logits_, probs_, grad_;
  bool offers_;
};

Matrix random_logits(int rows, int cols, std::uint64_t seed) {
  Rng rng(seed);
  Matrix z(rows, cols);
  for (Eigen::Index i = 0; i < z.size(); ++i) z.data()[i] = static_cast<float>(2.0 * rng.normal());
  return z;
}

/// The entropy penalty of `logits` as target `target` sees it; its gradient lands in `grad`.
double entropy_penalty(Regularizer& entropy, const std::string& target, const Matrix& logits,
                       Matrix& grad) {
  GateStub stub(logits, true);
  Matrix probs(logits.rows(), logits.cols()),
      output_grad = Matrix::Zero(logits.rows(), logits.cols());
  const Distribution output{logits, probs, output_grad};
  const double penalty = entropy.on_forward(stub, output);
  grad = target == "gate" ? stub.grad_ : output_grad;
  return penalty;
}

double mean_row_entropy(const Matrix& logits) {
  Matrix p(logits.rows(), logits.cols());
  nn::softmax(logits, p);
  double h = 0;
  for (Eigen::Index i = 0; i < p.size(); ++i)
    if (p.data()[i] > 0) h -= double(p.data()[i]) * std::log(double(p.data()[i]));
  return h / double(p.rows());
}

}  // namespace

TEST_CASE("entropy: the analytic gradient matches finite differences", "[research][entropy]") {
  for (const std::string target : {"output", "gate"})
    for (const std::string over : {"sample", "batch"})
      for (double beta : {0.3, -0.7}) {
        DYNAMIC_SECTION(target << ", over " << over << ", beta " << beta) {
          auto entropy = make_plugin<Regularizer>(
              Kind::regularizer, "entropy", {{"target", target}, {"over", over}, {"beta", beta}});
          Matrix logits = random_logits(5, 4, 3);
          // An outcome out of play (an inactive expert): probability 0, no gradient.
          logits(2, 1) = -std::numeric_limits<float>::infinity();
          Matrix grad;
          const double penalty = entropy_penalty(*entropy, target, logits, grad);
          REQUIRE(std::isfinite(penalty));
          CHECK(grad(2, 1) == 0.0f);
          if (over == "sample")
            CHECK(penalty == Approx(-beta * mean_row_entropy(logits)).epsilon(1e-5));
          const float step = 1e-3f;
          for (Eigen::Index r = 0; r < logits.rows(); ++r)
            for (Eigen::Index j = 0; j < logits.cols(); ++j) {
              if (r == 2 && j == 1) continue;
              Matrix shifted = logits, unused;
              shifted(r, j) = logits(r, j) + step;
              const double up = entropy_penalty(*entropy, target, shifted, unused);
              shifted(r, j) = logits(r, j) - step;
              const double down = entropy_penalty(*entropy, target, shifted, unused);
              const double numeric = (up - down) / (2.0 * step);
              INFO("logit (" << r << ", " << j << "): analytic " << grad(r, j) << ", numeric "
                             << numeric);
              CHECK(std::abs(grad(r, j) - numeric) <= 1e-4 + 1e-3 * std::abs(numeric));
            }
        }
      }
}

TEST_CASE("entropy: the sign of beta chooses the direction", "[research][entropy]") {
  for (double beta : {0.5, -0.5}) {
    auto entropy = make_plugin<Regularizer>(Kind::regularizer, "entropy", {{"beta", beta}});
    Matrix logits = random_logits(8, 5, 4);
    const double before = mean_row_entropy(logits);
    for (int step = 0; step < 20; ++step) {
      Matrix grad;
      entropy_penalty(*entropy, "output", logits, grad);
      logits -= 2.0f * grad;  // descent on the penalty alone
    }
    const double after = mean_row_entropy(logits);
    INFO("beta " << beta << ": entropy " << before << " -> " << after);
    if (beta > 0)
      CHECK(after > before + 0.05);
    else
      CHECK(after < before - 0.05);
  }
}

TEST_CASE("entropy: a gate target on a topology without a gate is an error naming it",
          "[research][entropy]") {
  auto entropy =
      make_plugin<Regularizer>(Kind::regularizer, "entropy", {{"target", std::string("gate")}});
  Matrix logits = random_logits(2, 3, 1), probs(2, 3), grad = Matrix::Zero(2, 3);
  GateStub no_gate(logits, false);
  REQUIRE_THROWS_WITH(entropy->on_forward(no_gate, Distribution{logits, probs, grad}),
                      Catch::Contains("gate") && Catch::Contains("target = \"output\""));
}

namespace {

/// The empirical Fisher of `model` over `samples`, measured independently of the plugin: each
/// sample's d log p(y|x) / d theta by central differences, squared, averaged.
std::vector<Matrix> fisher_by_differences(GradientModel& model, const Samples& samples) {
  auto params = model.parameters();
  std::vector<Matrix> fisher;
  for (Parameter* p : params) fisher.push_back(Matrix::Zero(p->value.rows(), p->value.cols()));
  Rng unused;
  auto log_likelihood = [&](Eigen::Index row) {
    model.forward(samples.x.middleRows(row, 1), Mode::eval, unused);
    Matrix probs(1, model.logits().cols()), dlogits(1, model.logits().cols());
    return -nn::softmax_cross_entropy(
        model.logits(), std::span(&samples.y[static_cast<std::size_t>(row)], 1), probs, dlogits);
  };
  const float step = 1e-2f;
  for (std::size_t k = 0; k < params.size(); ++k)
    for (Eigen::Index i = 0; i < params[k]->value.size(); ++i) {
      float& v = params[k]->value.data()[i];
      const float kept = v;
      for (Eigen::Index row = 0; row < static_cast<Eigen::Index>(samples.size()); ++row) {
        v = kept + step;
        const double up = log_likelihood(row);
        v = kept - step;
        const double down = log_likelihood(row);
        v = kept;
        const double g = (up - down) / (2.0 * step);
        fisher[k].data()[i] += static_cast<float>(g * g / double(samples.size()));
      }
    }
  return fisher;
}

Task small_task(int rows, std::uint64_t seed) {
  const Batch b = random_batch(rows, 4, 3, seed);
  Task task;
  task.name = std::to_string(seed);  // ("t" + to_string trips GCC 12's -Wrestrict)
  task.train.x = b.x;
  task.train.y = b.y;
  return task;
}

void shift_parameters(GradientModel& model, std::uint64_t seed, float size) {
  Rng rng(seed);
  for (Parameter* p : model.parameters())
    for (Eigen::Index i = 0; i < p->value.size(); ++i)
      p->value.data()[i] += static_cast<float>(size * rng.normal());
}

/// sum over parameters of sum F (theta - theta*)^2, from explicit tensors.
double quadratic(GradientModel& model, const std::vector<Matrix>& fisher,
                 const std::vector<Matrix>& star) {
  double total = 0;
  auto params = model.parameters();
  for (std::size_t k = 0; k < params.size(); ++k)
    total +=
        (fisher[k].array() * (params[k]->value - star[k]).array().square()).cast<double>().sum();
  return total;
}

std::vector<Matrix> values_of(GradientModel& model) {
  std::vector<Matrix> out;
  for (Parameter* p : model.parameters()) out.push_back(p->value);
  return out;
}

void zero_grads(GradientModel& model) {
  for (Parameter* p : model.parameters()) p->grad.setZero();
}

}  // namespace

TEST_CASE("ewc: the Fisher, penalty and gradient are those of the paper", "[research][ewc]") {
  const std::map<std::string, Value> mlp{{"hidden", std::vector<std::int64_t>{3}},
                                         {"activation", std::string("tanh")}};
  auto model = build_model("mlp", mlp, shape_of(4, 3));
  model->reserve(8);
  const Task first = small_task(6, 21);
  const double lambda = 3.0;
  auto ewc = make_plugin<Regularizer>(Kind::regularizer, "ewc",
                                      {{"lambda", lambda}, {"samples", std::int64_t{0}}});
  const auto fisher = fisher_by_differences(*model, first.train);
  const auto star = values_of(*model);
  Rng rng(1);
  ewc->end_task(*model, first, rng);

  zero_grads(*model);
  CHECK(ewc->on_backward(*model) == Approx(0.0).margin(1e-12));  // at theta*: no pull
  shift_parameters(*model, 5, 0.3f);
  zero_grads(*model);
  const double penalty = ewc->on_backward(*model);
  CHECK(penalty > 0);
  CHECK(penalty == Approx(0.5 * lambda * quadratic(*model, fisher, star)).epsilon(2e-2));
  auto params = model->parameters();
  for (std::size_t k = 0; k < params.size(); ++k) {
    const Matrix expected =
        lambda * (fisher[k].array() * (params[k]->value - star[k]).array()).matrix();
    INFO(params[k]->name);
    CHECK((params[k]->grad - expected).cwiseAbs().maxCoeff() <=
          1e-4 + 2e-2 * expected.cwiseAbs().maxCoeff());
  }
  // And as part of the loss the engine minimises.
  const Batch batch = random_batch(5, 4, 3, 9);
  CHECK(check_gradients(*model, batch, {ewc}) > 20);
}

TEST_CASE("ewc: separate keeps a term per task, online one decayed Fisher", "[research][ewc]") {
  const std::map<std::string, Value> mlp{{"hidden", std::vector<std::int64_t>{3}},
                                         {"activation", std::string("tanh")}};
  const Task first = small_task(5, 31), second = small_task(5, 32);
  const double lambda = 2.0, gamma = 0.5;
  auto separate_model = build_model("mlp", mlp, shape_of(4, 3));
  auto online_model = build_model("mlp", mlp, shape_of(4, 3));
  auto separate = make_plugin<Regularizer>(Kind::regularizer, "ewc",
                                           {{"lambda", lambda}, {"samples", std::int64_t{0}}});
  auto online = make_plugin<Regularizer>(Kind::regularizer, "ewc",
                                         {{"lambda", lambda},
                                          {"samples", std::int64_t{0}},
                                          {"mode", std::string("online")},
                                          {"gamma", gamma}});
  for (auto* m : {separate_model.get(), online_model.get()}) m->reserve(8);

  const auto fisher1 = fisher_by_differences(*separate_model, first.train);
  const auto star1 = values_of(*separate_model);
  Rng rng(1);
  separate->end_task(*separate_model, first, rng);
  online->end_task(*online_model, first, rng);
  for (auto* m : {separate_model.get(), online_model.get()}) shift_parameters(*m, 6, 0.2f);
  const auto fisher2 = fisher_by_differences(*separate_model, second.train);
  const auto star2 = values_of(*separate_model);
  separate->end_task(*separate_model, second, rng);
  online->end_task(*online_model, second, rng);
  for (auto* m : {separate_model.get(), online_model.get()}) shift_parameters(*m, 7, 0.2f);

  const double two_terms =
      quadratic(*separate_model, fisher1, star1) + quadratic(*separate_model, fisher2, star2);
  CHECK(separate->on_backward(*separate_model) == Approx(0.5 * lambda * two_terms).epsilon(2e-2));
  std::vector<Matrix> decayed;
  for (std::size_t k = 0; k < fisher1.size(); ++k)
    decayed.push_back(static_cast<float>(gamma) * fisher1[k] + fisher2[k]);
  CHECK(online->on_backward(*online_model) ==
        Approx(0.5 * lambda * quadratic(*online_model, decayed, star2)).epsilon(2e-2));
  CHECK(online->on_backward(*online_model) !=
        Approx(separate->on_backward(*separate_model)).epsilon(1e-3));
}

TEST_CASE("ewc: its state survives save and load exactly", "[research][ewc]") {
  const std::map<std::string, Value> mlp{{"hidden", std::vector<std::int64_t>{5}}};
  auto model = build_model("mlp", mlp, shape_of(4, 3));
  model->reserve(8);
  auto ewc = make_plugin<Regularizer>(Kind::regularizer, "ewc", {{"samples", std::int64_t{4}}});
  Rng rng(2);
  ewc->end_task(*model, small_task(9, 41), rng);
  shift_parameters(*model, 3, 0.1f);
  ewc->end_task(*model, small_task(9, 42), rng);
  shift_parameters(*model, 4, 0.1f);
  zero_grads(*model);
  const double penalty = ewc->on_backward(*model);
  std::vector<Matrix> grads;
  for (Parameter* p : model->parameters()) grads.push_back(p->grad);

  StateStore store;
  ewc->save(store, "regularizer0/");
  auto restored =
      make_plugin<Regularizer>(Kind::regularizer, "ewc", {{"samples", std::int64_t{4}}});
  restored->load(store, "regularizer0/");
  zero_grads(*model);
  CHECK(restored->on_backward(*model) == penalty);
  auto params = model->parameters();
  for (std::size_t k = 0; k < params.size(); ++k) CHECK(params[k]->grad == grads[k]);
  // Nothing consolidated yet: no penalty.
  auto fresh = make_plugin<Regularizer>(Kind::regularizer, "ewc");
  CHECK(fresh->on_backward(*model) == 0.0);
}

TEST_CASE("ewc: masked-out connections get no penalty gradient", "[research][ewc]") {
  auto model = build_model("random_chains",
                           {{"hidden", std::vector<std::int64_t>{4}},
                            {"min_span", std::int64_t{1}},
                            {"density", 0.5},
                            {"warmup", std::int64_t{0}},
                            {"chains", std::int64_t{0}},
                            {"activation", std::string("tanh")}},
                           shape_of(4, 3));
  model->reserve(8);
  auto ewc = make_plugin<Regularizer>(Kind::regularizer, "ewc", {{"lambda", 5.0}});
  Rng rng(3);
  ewc->end_task(*model, small_task(6, 51), rng);
  // A connection removed after the consolidation (as rewiring does): its theta* is not 0, yet it
  // must get no gradient, or it would come back.
  int removed = 0;
  for (Parameter* p : model->parameters()) {
    p->value.array() += 0.1f;
    if (!p->has_mask()) continue;
    for (Eigen::Index i = 0; i < p->mask.size() && removed < 2; ++i)
      if (p->mask.data()[i] != 0.0f) {
        p->mask.data()[i] = 0.0f;
        ++removed;
        break;
      }
    p->value.array() *= p->mask.array();
  }
  REQUIRE(removed == 2);
  zero_grads(*model);
  CHECK(ewc->on_backward(*model) > 0);
  for (Parameter* p : model->parameters())
    if (p->has_mask()) CHECK((p->grad.array() * (1.0f - p->mask.array())).abs().maxCoeff() == 0.0f);
  CHECK(check_gradients(*model, random_batch(5, 4, 3, 8), {ewc}) > 10);
}
