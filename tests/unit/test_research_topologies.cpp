// The research topologies (issue 5) loaded from their .so files: every parameter gradient
// against central finite differences, their unit views, and what each adds: fixed_experts'
// top-k, load balancing, task gates and growth; router's two-level likelihood, hard routing,
// figures and training phases; random_chains' structural invariants after every change, its
// capacity budgets, GraphML export and its state through save/load.
#include <catch2/catch.hpp>
#include <fstream>
#include <set>

#include "optim/optimizer.hpp"
#include "support.hpp"
#include "test_research_support.hpp"

using namespace ablate;
using namespace ablate::test;

namespace {

std::int64_t units_in(const std::vector<UnitLayer>& layers) {
  std::int64_t total = 0;
  for (const auto& layer : layers) total += layer.size;
  return total;
}

Figures epoch_end(GradientModel& model, int epoch, std::uint64_t seed = 5) {
  Figures figures;
  Rng rng(seed + static_cast<std::uint64_t>(epoch));
  model.on_epoch_end(epoch, rng, figures);
  return figures;
}

Samples as_samples(const Batch& b) { return Samples{b.x, b.y}; }

int argmax_row(const ConstMatrixRef& m, Eigen::Index row) {
  Eigen::Index best = 0;
  m.row(row).maxCoeff(&best);
  return static_cast<int>(best);
}

Parameter* find_parameter(GradientModel& model, const std::string& name) {
  for (Parameter* p : model.parameters())
    if (p->name == name) return p;
  return nullptr;
}

}  // namespace

// ---- fixed_experts -------------------------------------------------------------------------

TEST_CASE("fixed_experts: gradients match finite differences", "[research][experts]") {
  const std::map<std::string, Value> base{{"experts", std::int64_t{3}},
                                          {"expert_hidden", std::vector<std::int64_t>{4}},
                                          {"activation", std::string("tanh")}};
  const Batch batch = random_batch(6, 5, 3, 1);
  SECTION("a dense mixture") {
    auto model = build_model("fixed_experts", base, shape_of(5, 3));
    CHECK(check_gradients(*model, batch) > 60);
  }
  SECTION("top-2 with load balancing and a gate entropy penalty") {
    auto values = base;
    values["top_k"] = std::int64_t{2};
    values["balance"] = 0.5;
    auto model = build_model("fixed_experts", values, shape_of(5, 3));
    auto entropy = make_plugin<Regularizer>(Kind::regularizer, "entropy",
                                            {{"target", std::string("gate")}, {"beta", 0.3}});
    CHECK(check_gradients(*model, batch, {entropy}) > 60);
  }
  SECTION("noisy top-2 gating with load balancing (the noise fixed by the rng)") {
    auto values = base;
    values["top_k"] = std::int64_t{2};
    values["balance"] = 0.5;
    values["gate_noise"] = 1.0;
    auto model = build_model("fixed_experts", values, shape_of(5, 3));
    CHECK(check_gradients(*model, batch) > 60);
    // Noise while training only: evaluation's gate is the softmax of the clean logits.
    Rng a(1), b(2);
    model->forward(batch.x, Mode::train, a);
    const Matrix noisy_a = model->distribution("gate")->probs;
    model->forward(batch.x, Mode::train, b);
    const Matrix noisy_b = model->distribution("gate")->probs;
    CHECK_FALSE(noisy_a.isApprox(noisy_b));
    model->forward(batch.x, Mode::eval, a);
    const Matrix clean_a = model->distribution("gate")->probs;
    model->forward(batch.x, Mode::eval, b);
    CHECK(model->distribution("gate")->probs == clean_a);
  }
  SECTION("growing: experts not yet added have no gradient") {
    auto values = base;
    values["experts"] = std::int64_t{4};
    values["grow"] = true;
    values["start"] = std::int64_t{2};
    auto model = build_model("fixed_experts", values, shape_of(5, 3));
    CHECK(check_gradients(*model, batch) > 60);
    engine_loss(*model, batch, {}, true);
    CHECK(find_parameter(*model, "expert3.layer1.weight")->grad.isZero());
    CHECK(find_parameter(*model, "gate.weight")->grad.row(2).isZero());
    CHECK_FALSE(find_parameter(*model, "gate.weight")->grad.row(1).isZero());
  }
  SECTION("task gates: only the current task's gate learns") {
    auto values = base;
    values["task_gates"] = true;
    auto model = build_model("fixed_experts", values, shape_of(5, 3), 2);
    model->set_task(1);
    CHECK(check_gradients(*model, batch) > 60);
    CHECK(find_parameter(*model, "gate0.weight")->grad.isZero());
    CHECK_FALSE(find_parameter(*model, "gate1.weight")->grad.isZero());
    CHECK_THROWS_WITH(model->set_task(2), Catch::Contains("task 2"));
  }
}

TEST_CASE("fixed_experts: top-k mixing and the Switch load-balancing loss", "[research][experts]") {
  const int experts = 4, k = 2, n = 16;
  const double alpha = 0.7;
  auto model = build_model("fixed_experts",
                           {{"experts", std::int64_t{experts}},
                            {"top_k", std::int64_t{k}},
                            {"balance", alpha},
                            {"expert_hidden", std::vector<std::int64_t>{6}}},
                           shape_of(5, 3));
  const Batch batch = random_batch(n, 5, 3, 2);
  Rng rng(0);
  model->forward(batch.x, Mode::train, rng);
  const auto gate = model->distribution("gate");
  REQUIRE(gate);
  CHECK_FALSE(model->distribution("router_of_nothing"));
  // alpha N sum f_i P_i, computed here from the gate's probabilities.
  std::vector<double> f(experts, 0.0), p(experts, 0.0);
  for (int r = 0; r < n; ++r) {
    std::vector<int> order{0, 1, 2, 3};
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return gate->probs(r, a) > gate->probs(r, b); });
    for (int j = 0; j < k; ++j)
      f[static_cast<std::size_t>(order[static_cast<std::size_t>(j)])] += 1.0 / (n * k);
    for (int i = 0; i < experts; ++i) p[static_cast<std::size_t>(i)] += gate->probs(r, i) / n;
  }
  double expected = 0;
  for (int i = 0; i < experts; ++i)
    expected += alpha * experts * f[static_cast<std::size_t>(i)] * p[static_cast<std::size_t>(i)];
  CHECK(model->auxiliary_loss() == Approx(expected).epsilon(1e-5));
  model->forward(batch.x, Mode::eval, rng);
  CHECK(model->auxiliary_loss() == 0.0);  // a training loss only

  // Each row's gate fires for exactly k experts; exactly one output class fires per row.
  const auto layers = model->unit_layers();
  REQUIRE(layers.front().name == "gate");
  REQUIRE(layers.back().name == "output");
  CHECK(layers.back().inputs.size() == static_cast<std::size_t>(experts + 1));
  std::vector<std::int64_t> sums(static_cast<std::size_t>(units_in(layers)), 0);
  model->accumulate_unit_sums(sums);
  std::int64_t gate_fired = 0, output_fired = 0;
  for (int i = 0; i < experts; ++i) gate_fired += (sums[static_cast<std::size_t>(i)] + n) / 2;
  for (int c = 0; c < 3; ++c)
    output_fired += (sums[sums.size() - 3 + static_cast<std::size_t>(c)] + n) / 2;
  CHECK(gate_fired == n * k);
  CHECK(output_fired == n);
}

TEST_CASE("fixed_experts: growth, its state, figures and trainable units", "[research][experts]") {
  const std::map<std::string, Value> values{{"experts", std::int64_t{4}},
                                            {"grow", true},
                                            {"start", std::int64_t{1}},
                                            {"grow_every", std::int64_t{2}},
                                            {"expert_hidden", std::vector<std::int64_t>{4}}};
  auto model = build_model("fixed_experts", values, shape_of(5, 3));
  const Batch batch = random_batch(12, 5, 3, 3);
  engine_loss(*model, batch, {}, true);
  Figures figures = epoch_end(*model, 1);
  CHECK(figures.at("active_experts") == 1);
  CHECK(figures.at("train_gate_entropy") == 0.0);  // one expert: no choice
  CHECK(figures.count("train_usage_balance"));
  CHECK(epoch_end(*model, 2).at("active_experts") == 1);
  CHECK(epoch_end(*model, 3).at("active_experts") == 2);  // grown at the end of epoch 2
  for (int e = 4; e <= 12; ++e) epoch_end(*model, e);
  Figures eval;
  model->evaluate(as_samples(batch), eval);
  CHECK(eval.at("active_experts") == 4);  // capped at experts
  double shares = 0;
  for (int i = 0; i < 4; ++i) shares += eval.at("expert_share_" + std::to_string(i));
  CHECK(shares == Approx(1.0));
  for (const char* key : {"gate_entropy", "usage_balance", "experts_used"}) CHECK(eval.count(key));

  StateStore store;
  model->save(store, "model/");
  auto resumed = build_model("fixed_experts", values, shape_of(5, 3));
  resumed->load(store, "model/");
  Figures again;
  resumed->evaluate(as_samples(batch), again);
  CHECK(again.at("active_experts") == 4);

  // Training only expert 0's output layer: the gate and every other weight keep no gradient.
  const auto layers = model->unit_layers();
  model->set_trainable({false, {{2, 0}}});  // layer 2 = expert0.layer2
  engine_loss(*model, batch, {}, true);
  CHECK(find_parameter(*model, "gate.weight")->grad.isZero());
  CHECK(find_parameter(*model, "expert0.layer1.weight")->grad.isZero());
  CHECK_FALSE(find_parameter(*model, "expert0.layer2.weight")->grad.row(0).isZero());
  CHECK(find_parameter(*model, "expert0.layer2.weight")->grad.row(1).isZero());
  CHECK(find_parameter(*model, "expert1.layer2.weight")->grad.isZero());
  // An output unit is its class's row of every expert.
  model->set_trainable({false, {{static_cast<int>(layers.size()) - 1, 2}}});
  engine_loss(*model, batch, {}, true);
  CHECK_FALSE(find_parameter(*model, "expert3.layer2.weight")->grad.row(2).isZero());
  CHECK(find_parameter(*model, "expert3.layer2.weight")->grad.row(1).isZero());
  CHECK_THROWS_WITH(model->set_trainable({false, {{99, 0}}}), Catch::Contains("does not exist"));
}

TEST_CASE("fixed_experts: impossible settings are refused with what is valid",
          "[research][experts]") {
  CHECK_THROWS_WITH(
      make_plugin<Topology>(Kind::topology, "fixed_experts",
                            {{"experts", std::int64_t{3}}, {"top_k", std::int64_t{4}}}),
      Catch::Contains("top_k = 4") && Catch::Contains("0 (a dense mixture) to 3"));
  CHECK_THROWS_WITH(make_plugin<Topology>(
                        Kind::topology, "fixed_experts",
                        {{"experts", std::int64_t{3}}, {"grow", true}, {"start", std::int64_t{5}}}),
                    Catch::Contains("start = 5"));
}

// ---- router ------------------------------------------------------------------------------

TEST_CASE("router: gradients match finite differences", "[research][router]") {
  const Batch batch = random_batch(7, 4, 5, 4);
  auto model = build_model("router",
                           {{"groups", std::string("given")},
                            {"group_lists", std::vector<std::string>{"0 2", "1 3 4"}},
                            {"router_depth", std::int64_t{2}},
                            {"router_width", std::int64_t{4}},
                            {"specialist_hidden", std::vector<std::int64_t>{3}},
                            {"activation", std::string("tanh")}},
                           shape_of(4, 5));
  auto entropy = make_plugin<Regularizer>(Kind::regularizer, "entropy",
                                          {{"target", std::string("gate")}, {"beta", -0.4}});
  CHECK(check_gradients(*model, batch, {entropy}) > 60);
}

TEST_CASE("router: logits are the two-level log-likelihood, inference routes hard",
          "[research][router]") {
  const Batch batch = random_batch(40, 4, 6, 5);
  auto model = build_model("router",
                           {{"groups", std::string("contiguous")},
                            {"group_count", std::int64_t{3}},
                            {"specialist_hidden", std::vector<std::int64_t>{5}}},
                           shape_of(4, 6));
  Rng rng(0);
  model->forward(batch.x, Mode::eval, rng);
  const Matrix logits = model->logits();
  const auto gate = model->distribution("gate");
  REQUIRE(gate);
  REQUIRE(gate->probs.cols() == 3);
  for (Eigen::Index r = 0; r < logits.rows(); ++r) {
    CHECK(logits.row(r).array().exp().sum() == Approx(1.0).epsilon(1e-5));
    // Within a group the probabilities sum to the router's probability of that group.
    for (int g = 0; g < 3; ++g)
      CHECK(logits.row(r).segment(2 * g, 2).array().exp().sum() ==
            Approx(gate->probs(r, g)).epsilon(1e-4));
  }
  std::vector<std::int32_t> predicted(batch.y.size());
  model->predict(batch.x, predicted);
  for (Eigen::Index r = 0; r < logits.rows(); ++r) {
    const int group = argmax_row(gate->probs, r);
    const auto c = static_cast<int>(predicted[static_cast<std::size_t>(r)]);
    CHECK(c / 2 == group);  // the predicted class is in the routed group
    CHECK(logits(r, c) >= logits(r, 2 * group + (1 - c % 2)));
  }
}

TEST_CASE("router: figures of routing, oracle and final accuracy", "[research][router]") {
  Batch batch = random_batch(60, 4, 4, 6);
  auto model = build_model(
      "router", {{"groups", std::string("contiguous")}, {"group_count", std::int64_t{2}}},
      shape_of(4, 4));
  // Train briefly so that routing is neither perfect nor hopeless.
  auto params = model->parameters();
  auto optimizer = make_optimizer(Params({{"optimizer", std::string("adam")},
                                          {"weight_decay", 0.0},
                                          {"beta1", 0.9},
                                          {"beta2", 0.999},
                                          {"eps", 1e-8}}),
                                  params);
  for (int step = 0; step < 30; ++step) {
    engine_loss(*model, batch, {}, true);
    optimizer->step(0.01f);
  }
  Figures f;
  model->evaluate(as_samples(batch), f);
  std::vector<std::int32_t> predicted(batch.y.size());
  model->predict(batch.x, predicted);
  double right = 0;
  for (std::size_t i = 0; i < predicted.size(); ++i) right += predicted[i] == batch.y[i];
  CHECK(f.at("final_accuracy") == Approx(right / 60));
  CHECK(f.at("oracle_accuracy") >= f.at("final_accuracy"));
  CHECK(f.at("accuracy_given_wrong_routing") == 0.0);  // a wrong group has no right answer
  CHECK(f.at("final_accuracy") ==
        Approx(f.at("routing_accuracy") * f.at("accuracy_given_correct_routing")));
}

TEST_CASE("router: two_phase and mixed freeze the right part in each phase", "[research][router]") {
  const Batch batch = random_batch(10, 4, 4, 7);
  auto within_group = [](const Matrix& logits) {  // specialist log-probabilities only
    Matrix out = logits;
    for (int g = 0; g < 2; ++g) {
      for (Eigen::Index r = 0; r < logits.rows(); ++r) {
        const float norm = std::log(logits.row(r).segment(2 * g, 2).array().exp().sum());
        out.row(r).segment(2 * g, 2).array() -= norm;
      }
    }
    return out;
  };
  for (const std::string training : {"two_phase", "mixed"}) {
    DYNAMIC_SECTION(training) {
      auto model = build_model("router",
                               {{"groups", std::string("contiguous")},
                                {"group_count", std::int64_t{2}},
                                {"training", training},
                                {"phase_epochs", std::int64_t{2}},
                                {"dropout", 0.5}},
                               shape_of(4, 4));
      auto router_grad = [&] { return find_parameter(*model, "router.layer1.weight")->grad; };
      auto specialist_grad = [&] {
        return find_parameter(*model, "specialist1.layer1.weight")->grad;
      };
      engine_loss(*model, batch, {}, true);
      CHECK(router_grad().isZero());
      CHECK_FALSE(specialist_grad().isZero());
      CHECK(epoch_end(*model, 1).at("training_phase") == 1);
      CHECK(epoch_end(*model, 2).at("training_phase") == 1);
      engine_loss(*model, batch, {}, true);
      CHECK_FALSE(router_grad().isZero());
      CHECK(specialist_grad().isZero() == (training == "two_phase"));
      // Frozen specialists run in eval mode: two training forwards agree on them.
      Rng a(1), b(2);
      model->forward(batch.x, Mode::train, a);
      const Matrix first = within_group(model->logits());
      model->forward(batch.x, Mode::train, b);
      const Matrix second = within_group(model->logits());
      CHECK(first.isApprox(second) == (training == "two_phase"));
      CHECK(epoch_end(*model, 3).at("training_phase") == 2);

      StateStore store;  // the phase survives a checkpoint
      model->save(store, "model/");
      auto resumed = build_model("router",
                                 {{"groups", std::string("contiguous")},
                                  {"group_count", std::int64_t{2}},
                                  {"training", training},
                                  {"phase_epochs", std::int64_t{2}}},
                                 shape_of(4, 4));
      resumed->load(store, "model/");
      engine_loss(*resumed, batch, {}, true);
      CHECK(find_parameter(*resumed, "router.layer1.weight")->grad.isZero() == false);
    }
  }
}

TEST_CASE("router: groupings, and bad ones refused with what is valid", "[research][router]") {
  auto groups_of = [](const std::map<std::string, Value>& values, int classes) {
    return build_model("router", values, shape_of(3, classes));
  };
  auto fashion = groups_of({{"groups", std::string("fashion-superclasses")}}, 10);
  CHECK(fashion->unit_layers().front().size == 3);
  auto fashion_gate = fashion->distribution("gate");
  REQUIRE(fashion_gate);
  CHECK(fashion_gate->probs.cols() == 3);
  CHECK_THROWS_WITH(groups_of({{"groups", std::string("fashion-superclasses")}}, 6),
                    Catch::Contains("10 classes"));
  const auto given = [](std::vector<std::string> lists) {
    return std::map<std::string, Value>{{"groups", std::string("given")},
                                        {"group_lists", std::move(lists)}};
  };
  CHECK_THROWS_WITH(groups_of(given({"0 1", "1 2 3"}), 4),
                    Catch::Contains("class 1 is in two groups"));
  CHECK_THROWS_WITH(groups_of(given({"0 1", "2"}), 4), Catch::Contains("class 3 is in no group"));
  CHECK_THROWS_WITH(groups_of(given({"0 1", "2 x"}), 4), Catch::Contains("'x'"));
  CHECK_THROWS_WITH(groups_of(given({"0 1 2 3"}), 4), Catch::Contains("at least 2 groups"));
  CHECK_THROWS_WITH(groups_of({{"group_count", std::int64_t{5}}}, 4),
                    Catch::Contains("group_count = 5"));
}

// ---- random_chains -----------------------------------------------------------------------

namespace {

struct ChainView {
  int to, to_unit, from, from_unit;
  auto operator<=>(const ChainView&) const = default;
};

std::vector<ChainView> chains_of(const GradientModel& model) {
  StateStore store;
  model.save(store, "model/");
  const auto flat = store.integers("model/chains");
  std::vector<ChainView> out;
  for (std::size_t i = 0; i + 3 < flat.size(); i += 4)
    out.push_back({int(flat[i]), int(flat[i + 1]), int(flat[i + 2]), int(flat[i + 3])});
  return out;
}

/// The parameter holding connections from layer a to layer b.
std::string weight_name(int from, int to) {
  return to - from == 1 ? "layer" + std::to_string(to) + ".weight"
                        : "skip" + std::to_string(from) + "to" + std::to_string(to) + ".weight";
}

/// Every invariant of the structure: no duplicate or dangling chain, spans in range, chains and
/// masks the same set, weights (and optimizer state, when given) zero where there is no
/// connection.
void check_chain_invariants(GradientModel& model, const std::vector<int>& sizes, int min_span,
                            int max_span, const Optimizer* optimizer = nullptr) {
  const auto chains = chains_of(model);
  std::set<ChainView> unique(chains.begin(), chains.end());
  CHECK(unique.size() == chains.size());
  std::map<std::string, int> per_parameter;
  for (const ChainView& c : chains) {
    INFO("chain " << c.from << ":" << c.from_unit << " -> " << c.to << ":" << c.to_unit);
    REQUIRE(c.from >= 0);
    REQUIRE(c.to < static_cast<int>(sizes.size()));
    REQUIRE(c.from_unit >= 0);
    REQUIRE(c.from_unit < sizes[static_cast<std::size_t>(c.from)]);
    REQUIRE(c.to_unit >= 0);
    REQUIRE(c.to_unit < sizes[static_cast<std::size_t>(c.to)]);
    CHECK(c.to - c.from >= min_span);
    CHECK(c.to - c.from <= max_span);
    Parameter* p = find_parameter(model, weight_name(c.from, c.to));
    REQUIRE(p != nullptr);
    CHECK(p->mask(c.to_unit, c.from_unit) == 1.0f);
    ++per_parameter[p->name];
  }
  StateStore state;
  if (optimizer) optimizer->save(state, "optimizer/");
  for (Parameter* p : model.parameters()) {
    if (!p->has_mask()) continue;
    INFO(p->name);
    CHECK(((p->mask.array() == 0.0f) || (p->mask.array() == 1.0f)).all());
    CHECK((p->value.array() * (1.0f - p->mask.array())).abs().maxCoeff() == 0.0f);
    const bool holds_chains =
        per_parameter.count(p->name) || p->name.rfind("skip", 0) == 0 || min_span == 1;
    if (holds_chains) CHECK(p->mask.sum() == static_cast<float>(per_parameter[p->name]));
    if (!optimizer) continue;
    for (const auto& [name, tensor] : state.tensors()) {
      if (name.rfind("optimizer/" + p->name + ".", 0) != 0) continue;
      const Matrix slot = state.matrix(name);
      CHECK((slot.array() * (1.0f - p->mask.array())).abs().maxCoeff() == 0.0f);
    }
  }
}

/// One epoch as the host runs it: minibatch steps, then on_epoch_end and the optimizer reset of
/// masked parameters (GradientEngine::end_epoch).
Figures host_epoch(GradientModel& model, Optimizer& optimizer, const Batch& data, int epoch) {
  const int batch = 8;
  Batch part;
  for (int first = 0; first < static_cast<int>(data.y.size()); first += batch) {
    const int rows = std::min<int>(batch, static_cast<int>(data.y.size()) - first);
    part.x = data.x.middleRows(first, rows);
    part.y.assign(data.y.begin() + first, data.y.begin() + first + rows);
    engine_loss(model, part, {}, true);
    optimizer.step(0.05f);
  }
  Figures figures = epoch_end(model, epoch);
  for (Parameter* p : model.parameters())
    if (p->has_mask()) optimizer.reset(*p);
  return figures;
}

std::unique_ptr<Optimizer> adam_for(GradientModel& model) {
  return make_optimizer(Params({{"optimizer", std::string("adam")},
                                {"weight_decay", 0.0},
                                {"beta1", 0.9},
                                {"beta2", 0.999},
                                {"eps", 1e-8}}),
                        model.parameters());
}

}  // namespace

TEST_CASE("random_chains: gradients match finite differences, skips included",
          "[research][chains]") {
  const Batch batch = random_batch(6, 4, 3, 8);
  SECTION("dense adjacent layers and chains of span >= 2") {
    auto model = build_model("random_chains",
                             {{"hidden", std::vector<std::int64_t>{5, 4}},
                              {"activation", std::string("tanh")},
                              {"warmup", std::int64_t{0}},
                              {"chains", std::int64_t{25}}},
                             shape_of(4, 3));
    REQUIRE(chains_of(*model).size() == 25);
    CHECK(check_gradients(*model, batch) > 80);
    CHECK(find_parameter(*model, "skip0to3.weight") != nullptr);
    // Layer 3 (the outputs) reads layer 2 and, through skips, layers 1 and 0 (the input).
    const auto layers = model->unit_layers();
    REQUIRE(layers.size() == 3);
    CHECK(layers[2].inputs == std::vector<int>{0, 1});
  }
  SECTION("sparse adjacent layers rewired too (min_span 1)") {
    auto model = build_model("random_chains",
                             {{"hidden", std::vector<std::int64_t>{5}},
                              {"activation", std::string("tanh")},
                              {"min_span", std::int64_t{1}},
                              {"density", 0.4},
                              {"warmup", std::int64_t{0}},
                              {"chains", std::int64_t{3}}},
                             shape_of(4, 3));
    CHECK(check_gradients(*model, batch) > 20);
  }
}

TEST_CASE("random_chains: structure, masks and optimizer state stay consistent at every change",
          "[research][chains]") {
  const std::vector<int> sizes{6, 8, 7, 5, 3};
  const Batch data = random_batch(32, 6, 3, 9);
  for (const std::string policy : {"random", "set", "rigl"})
    for (int min_span : {1, 2}) {
      DYNAMIC_SECTION(policy << ", min_span " << min_span) {
        auto model =
            build_model("random_chains",
                        {{"hidden", std::vector<std::int64_t>{8, 7, 5}},
                         {"policy", policy},
                         {"min_span", std::int64_t{min_span}},
                         {"max_span", std::int64_t{3}},
                         {"density", min_span == 1 ? 0.5 : 1.0},
                         {"chains", std::int64_t{40}},
                         {"warmup", std::int64_t{2}},
                         {"interval", std::int64_t{2}},
                         {"p_remove", 0.3},
                         {"p_add", 0.4},
                         {"decay_epochs", std::int64_t{8}},
                         {"activation", std::string("tanh")}},  // smooth: for the final check
                        shape_of(6, 3));
        auto optimizer = adam_for(*model);
        std::size_t previous = chains_of(*model).size();
        int changes = 0;
        for (int epoch = 1; epoch <= 12; ++epoch) {
          const Figures f = host_epoch(*model, *optimizer, data, epoch);
          INFO("epoch " << epoch);
          check_chain_invariants(*model, sizes, min_span, 3, optimizer.get());
          const std::size_t now = chains_of(*model).size();
          CHECK(f.at("chains") == static_cast<double>(now));
          CHECK(static_cast<double>(now) - static_cast<double>(previous) ==
                f.at("chains_added") - f.at("chains_removed"));
          if (epoch == 2) CHECK(f.at("chains_added") == 40);
          if (epoch > 2 && (epoch - 2) % 2 == 0 && policy != "rigl") {
            CHECK(f.at("chains_removed") == std::llround(0.3 * static_cast<double>(previous)));
            CHECK(f.at("chains_added") == std::llround(0.4 * static_cast<double>(previous)));
          }
          if (epoch % 2 == 1) CHECK(f.at("churn") == 0.0);  // no change between intervals
          if (policy == "rigl" && epoch >= 10) CHECK(f.at("churn") == 0.0);  // fully decayed
          changes += f.at("churn") > 0;
          double by_span = 0;
          for (int s = min_span; s <= 3; ++s) by_span += f.at("chains_span_" + std::to_string(s));
          CHECK(by_span == f.at("chains"));
          previous = now;
        }
        CHECK(changes >= 3);
        // Connections still learn after all that rewiring.
        CHECK(check_gradients(*model, random_batch(4, 6, 3, 10), {}, 10) > 20);
      }
    }
}

TEST_CASE("random_chains: set and rigl remove the weakest chains, rigl grows where the gradient is",
          "[research][chains]") {
  for (const std::string policy : {"set", "rigl"}) {
    DYNAMIC_SECTION(policy) {
      auto model = build_model("random_chains",
                               {{"hidden", std::vector<std::int64_t>{6}},
                                {"policy", policy},
                                {"chains", std::int64_t{20}},
                                {"warmup", std::int64_t{0}},
                                {"interval", std::int64_t{1}},
                                {"p_remove", 0.25},
                                {"p_add", 0.25},
                                {"decay_epochs", std::int64_t{1000}}},
                               shape_of(10, 4));
      Parameter* skip = find_parameter(*model, "skip0to2.weight");
      REQUIRE(skip != nullptr);
      std::vector<float> magnitudes;
      for (Eigen::Index i = 0; i < skip->value.size(); ++i)
        if (skip->mask.data()[i] != 0) magnitudes.push_back(std::abs(skip->value.data()[i]));
      REQUIRE(magnitudes.size() == 20);
      std::sort(magnitudes.begin(), magnitudes.end());
      const Matrix before_mask = skip->mask, before_value = skip->value;
      // The epoch's gradient, as training sums it; here also read densely (mask all ones for
      // one backward: absent weights are 0, so the forward is the same).
      const Batch data = random_batch(16, 10, 4, 12);
      skip->mask.setOnes();
      engine_loss(*model, data, {}, true);
      const Matrix dense_grad = skip->grad;
      skip->mask = before_mask;
      epoch_end(*model, 1);
      std::vector<Eigen::Index> removed, grown;
      for (Eigen::Index i = 0; i < skip->value.size(); ++i) {
        if (before_mask.data()[i] != 0 && skip->mask.data()[i] == 0) removed.push_back(i);
        if (before_mask.data()[i] == 0 && skip->mask.data()[i] != 0) grown.push_back(i);
      }
      REQUIRE(removed.size() == 5);
      for (Eigen::Index i : removed) CHECK(std::abs(before_value.data()[i]) <= magnitudes[4]);
      REQUIRE(grown.size() == 5);
      if (policy == "rigl") {
        // New ones start at 0, where the gradient was largest among the slots free before.
        std::vector<float> free_scores;
        for (Eigen::Index i = 0; i < skip->value.size(); ++i)
          if (before_mask.data()[i] == 0) free_scores.push_back(std::abs(dense_grad.data()[i]));
        std::sort(free_scores.rbegin(), free_scores.rend());
        for (Eigen::Index i : grown) {
          CHECK(skip->value.data()[i] == 0.0f);
          CHECK(std::abs(dense_grad.data()[i]) >= free_scores[4]);
        }
      }
    }
  }
}

TEST_CASE("random_chains: a capacity is each unit's budget of incoming chains",
          "[research][chains]") {
  auto model = build_model("random_chains",
                           {{"hidden", std::vector<std::int64_t>{4}},
                            {"chains", std::int64_t{9}},
                            {"warmup", std::int64_t{0}},
                            {"interval", std::int64_t{1}},
                            {"p_remove", 0.0},
                            {"p_add", 1.0}},
                           shape_of(5, 3));
  REQUIRE(model->uses_capacity());
  auto incoming = [&](int unit) {
    int count = 0;
    for (const auto& c : chains_of(*model)) count += c.to == 2 && c.to_unit == unit;
    return count;
  };
  REQUIRE(incoming(0) > 1);  // 9 chains from 5 inputs to 3 outputs
  Parameter* skip = find_parameter(*model, "skip0to2.weight");
  const Matrix before = skip->value;
  model->apply_capacity({1, 0}, 1.6);  // unit layer 1 = the outputs: output 0 may keep 1 chain
  const Figures f = epoch_end(*model, 1);
  CHECK(incoming(0) == 1);
  CHECK(f.at("chains_pruned_by_budget") > 0);
  // The one it kept is the strongest it had.
  float strongest = 0;
  for (Eigen::Index i = 0; i < before.cols(); ++i)
    strongest = std::max(strongest, std::abs(before(0, i)));
  CHECK(skip->value.row(0).cwiseAbs().maxCoeff() == strongest);
  epoch_end(*model, 2);  // adds chains everywhere else, none to the full unit
  CHECK(incoming(0) == 1);
  check_chain_invariants(*model, {5, 4, 3}, 2, 2);
  CHECK_THROWS_WITH(model->apply_capacity({2, 0}, 3.0), Catch::Contains("no unit"));
}

TEST_CASE("random_chains: a model loaded from a checkpoint continues identically",
          "[research][chains]") {
  const std::string policy = GENERATE(std::string("random"), std::string("rigl"));
  INFO("policy " << policy);
  const std::map<std::string, Value> values{{"hidden", std::vector<std::int64_t>{6, 5}},
                                            {"chains", std::int64_t{30}},
                                            {"warmup", std::int64_t{1}},
                                            {"interval", std::int64_t{1}},
                                            {"p_remove", 0.3},
                                            {"p_add", 0.3},
                                            {"policy", policy}};
  const Batch data = random_batch(24, 5, 3, 13);
  auto model = build_model("random_chains", values, shape_of(5, 3));
  auto optimizer = adam_for(*model);
  for (int epoch = 1; epoch <= 3; ++epoch) host_epoch(*model, *optimizer, data, epoch);
  // What the host saves: the model's structure, then every value and mask.
  StateStore store;
  model->save(store, "model/");
  for (Parameter* p : model->parameters()) {
    store.put("param/" + p->name, p->value);
    if (p->has_mask()) store.put("mask/" + p->name, p->mask);
  }
  optimizer->save(store, "optimizer/");
  auto resumed = build_model("random_chains", values, shape_of(5, 3), 1, 99);  // other init
  resumed->load(store, "model/");
  for (Parameter* p : resumed->parameters()) {
    store.get("param/" + p->name, p->value);
    if (p->has_mask()) store.get("mask/" + p->name, p->mask);
  }
  auto resumed_optimizer = adam_for(*resumed);
  resumed_optimizer->load(store, "optimizer/");
  CHECK(chains_of(*resumed) == chains_of(*model));
  for (int epoch = 4; epoch <= 6; ++epoch) {
    const Figures a = host_epoch(*model, *optimizer, data, epoch);
    const Figures b = host_epoch(*resumed, *resumed_optimizer, data, epoch);
    CHECK(a == b);
  }
  CHECK(chains_of(*resumed) == chains_of(*model));
  auto params = model->parameters(), other = resumed->parameters();
  for (std::size_t k = 0; k < params.size(); ++k) CHECK(params[k]->value == other[k]->value);
  check_chain_invariants(*resumed, {5, 6, 5, 3}, 2, 3);
}

TEST_CASE("random_chains: the graph is exported as GraphML at each change", "[research][chains]") {
  TempDir dir("ablate-graphml");
  auto model = build_model("random_chains",
                           {{"hidden", std::vector<std::int64_t>{4}},
                            {"chains", std::int64_t{6}},
                            {"warmup", std::int64_t{1}},
                            {"interval", std::int64_t{2}},
                            {"graphml_dir", dir.path().string()}},
                           shape_of(5, 2));
  epoch_end(*model, 1);  // the chains appear
  epoch_end(*model, 2);  // no change
  epoch_end(*model, 3);  // rewired
  CHECK(std::filesystem::exists(dir / "chains_epoch_1.graphml"));
  CHECK_FALSE(std::filesystem::exists(dir / "chains_epoch_2.graphml"));
  REQUIRE(std::filesystem::exists(dir / "chains_epoch_3.graphml"));
  const std::string text = read_text(dir / "chains_epoch_3.graphml");
  std::size_t edges = 0, nodes = 0;
  for (std::size_t at = text.find("<edge "); at != std::string::npos;
       at = text.find("<edge ", at + 1))
    ++edges;
  for (std::size_t at = text.find("<node "); at != std::string::npos;
       at = text.find("<node ", at + 1))
    ++nodes;
  CHECK(edges == chains_of(*model).size());
  CHECK(nodes == 5 + 4 + 2);
  CHECK_THAT(text,
             Catch::Contains("attr.name=\"span\"") && Catch::Contains("attr.name=\"weight\""));
}

TEST_CASE("random_chains: impossible spans are refused with what is valid", "[research][chains]") {
  auto topology = make_plugin<Topology>(
      Kind::topology, "random_chains",
      {{"hidden", std::vector<std::int64_t>{4}}, {"min_span", std::int64_t{3}}});
  Rng rng(1);
  CHECK_THROWS_WITH(topology->build({shape_of(3, 2), 1}, rng),
                    Catch::Contains("min_span = 3") && Catch::Contains("use min_span 1 to 2"));
  CHECK_THROWS_WITH(
      make_plugin<Topology>(Kind::topology, "random_chains",
                            {{"min_span", std::int64_t{3}}, {"max_span", std::int64_t{2}}}),
      Catch::Contains("max_span = 2"));
}
