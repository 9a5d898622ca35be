// The host's data preparation: validation split, subsamples, label-shift check, task modes.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "config/experiment.hpp"
#include "data/prepare.hpp"
#include "test_data_support.hpp"

using namespace ablate;
using namespace ablate::test;

namespace {

// `per_class[c]` training rows of class c (and a quarter as many test rows), interleaved.
// Column 0 holds a unique row id (train ids from 1, test ids from 100000) so tests can trace
// rows; the other columns are the id times the column, to make permutations visible.
Source make_source(const std::string& name, const std::vector<int>& per_class, int features = 4) {
  Source source;
  source.name = name;
  source.shape.features = features;
  source.shape.classes = static_cast<int>(per_class.size());
  for (int c = 0; c < source.shape.classes; ++c)
    source.shape.class_names.push_back(fmt::format("c{}", c));
  const auto fill = [&](Samples& samples, int divisor, float first_id) {
    std::vector<std::int32_t> labels;
    const int rounds = *std::max_element(per_class.begin(), per_class.end()) / divisor;
    for (int round = 0; round < rounds; ++round)
      for (int c = 0; c < source.shape.classes; ++c)
        if (round < per_class[static_cast<std::size_t>(c)] / divisor) labels.push_back(c);
    samples.y = labels;
    samples.x.resize(static_cast<Eigen::Index>(labels.size()), features);
    for (Eigen::Index r = 0; r < samples.x.rows(); ++r)
      for (Eigen::Index j = 0; j < features; ++j)
        samples.x(r, j) = (first_id + static_cast<float>(r)) * static_cast<float>(j + 1);
  };
  fill(source.train, 1, 1.0f);
  fill(source.test, 4, 100000.0f);
  return source;
}

Params defaults(const std::vector<ParamSpec>& specs, const std::map<std::string, Value>& values) {
  Params params;
  for (const auto& spec : specs) params.set(spec.name, *spec.default_value);
  for (const auto& [key, value] : values) {
    REQUIRE(params.has(key));
    params.set(key, value);
  }
  return params;
}

Params split_with(const std::map<std::string, Value>& values = {}) {
  return defaults(host_sections().at("split"), values);
}
Params tasks_with(const std::map<std::string, Value>& values = {}) {
  return defaults(host_sections().at("tasks"), values);
}

std::set<float> ids(const Samples& samples) {
  std::set<float> out;
  for (Eigen::Index r = 0; r < samples.x.rows(); ++r) out.insert(samples.x(r, 0));
  return out;
}

void check_same(const Task& a, const Task& b) {
  CHECK(a.name == b.name);
  CHECK(a.classes == b.classes);
  for (auto [x, y] : {std::pair(&a.train, &b.train), std::pair(&a.val, &b.val),
                      std::pair(&a.test, &b.test)}) {
    CHECK(x->y == y->y);
    CHECK(x->x == y->x);  // bit for bit
  }
}

}  // namespace

TEST_CASE("single: validation is carved stratified from the train pool, test kept", "[data]") {
  Source source = make_source("toy", {100, 60, 40, 20});
  const auto pool = class_counts(source.train.y, 4);
  const auto pool_ids = ids(source.train);
  const std::size_t test_size = source.test.size();
  const PreparedData data = prepare_data({source}, split_with({{"val_fraction", 0.15}}),
                                         tasks_with(), 7);
  REQUIRE(data.tasks.size() == 1);
  const Task& task = data.tasks.front();
  CHECK(task.classes == std::vector<int>{0, 1, 2, 3});
  CHECK(data.shape.classes == 4);
  CHECK(data.shape.class_names == std::vector<std::string>{"c0", "c1", "c2", "c3"});
  CHECK(task.val.size() == 33);  // round(0.15 * 220)
  CHECK(task.train.size() == 220 - 33);
  CHECK(task.test.size() == test_size);
  const auto val = class_counts(task.val.y, 4);
  for (std::size_t c = 0; c < 4; ++c)
    CHECK(std::abs(static_cast<double>(val[c]) - 0.15 * static_cast<double>(pool[c])) < 1.0);
  // Train and val partition the pool.
  auto train_ids = ids(task.train), val_ids = ids(task.val);
  std::set<float> both;
  std::set_intersection(train_ids.begin(), train_ids.end(), val_ids.begin(), val_ids.end(),
                        std::inserter(both, both.begin()));
  CHECK(both.empty());
  train_ids.insert(val_ids.begin(), val_ids.end());
  CHECK(train_ids == pool_ids);
  CHECK(data.label_shift < 0.01);
  CHECK(data.warnings.empty());
}

TEST_CASE("n_train and n_test subsample stratified, too many is an error", "[data]") {
  const Source source = make_source("toy", {100, 60, 40});
  const PreparedData data = prepare_data(
      {source}, split_with({{"val_fraction", 0.1}, {"n_train", std::int64_t{30}},
                            {"n_test", std::int64_t{10}}}),
      tasks_with(), 3);
  const Task& task = data.tasks.front();
  CHECK(task.train.size() == 30);
  CHECK(task.val.size() == 20);
  CHECK(task.test.size() == 10);
  const auto train = class_counts(task.train.y, 3), test = class_counts(task.test.y, 3);
  // The pool after validation keeps 90/54/36 of 180: shares 1/2, 3/10, 1/5.
  CHECK(train == std::vector<std::size_t>{15, 9, 6});
  CHECK(test == std::vector<std::size_t>{5, 3, 2});
  for (float id : ids(task.train)) CHECK(ids(task.val).count(id) == 0);

  CHECK_THROWS_WITH(prepare_data({source}, split_with({{"n_train", std::int64_t{500}}}),
                                 tasks_with(), 3),
                    Catch::Contains("n_train = 500") && Catch::Contains("only 180"));
  CHECK_THROWS_WITH(prepare_data({source}, split_with({{"n_test", std::int64_t{51}}}),
                                 tasks_with(), 3),
                    Catch::Contains("n_test = 51") && Catch::Contains("only 50"));
}

TEST_CASE("every split keeps its rows whole, with their labels, in the pool's order", "[data]") {
  // The training and test pools are cut down in place (no copy): each row must arrive intact.
  const Source source = make_source("toy", {100, 60, 40});
  std::map<float, std::int32_t> label_of;
  for (const Samples* pool : {&source.train, &source.test})
    for (Eigen::Index r = 0; r < pool->x.rows(); ++r)
      label_of[pool->x(r, 0)] = pool->y[static_cast<std::size_t>(r)];
  for (const auto& split : {split_with({{"val_fraction", 0.1}, {"n_train", std::int64_t{70}},
                                        {"n_test", std::int64_t{20}}}),
                            split_with({{"val_fraction", 0.2}})}) {
    const Task task = prepare_data({source}, split, tasks_with(), 5).tasks.front();
    for (const Samples* part : {&task.train, &task.val, &task.test}) {
      REQUIRE(static_cast<std::size_t>(part->x.rows()) == part->size());
      for (Eigen::Index r = 0; r < part->x.rows(); ++r) {
        const float id = part->x(r, 0);
        REQUIRE(label_of.count(id) == 1);
        CHECK(part->y[static_cast<std::size_t>(r)] == label_of[id]);
        for (Eigen::Index j = 1; j < part->x.cols(); ++j)
          CHECK(part->x(r, j) == id * static_cast<float>(j + 1));
        if (r > 0) CHECK(part->x(r - 1, 0) < id);
      }
    }
  }
}

TEST_CASE("splits are deterministic: same seed bit for bit, another seed differs", "[data]") {
  const Source source = make_source("toy", {80, 50, 30});
  const auto split = split_with({{"val_fraction", 0.2}, {"n_train", std::int64_t{40}},
                                 {"n_test", std::int64_t{12}}});
  for (const std::string mode : {"single", "split_classes", "permuted"}) {
    const auto tasks = tasks_with({{"mode", mode}, {"count", std::int64_t{3}}});
    const PreparedData a = prepare_data({source}, split, tasks, 11);
    const PreparedData b = prepare_data({source}, split, tasks, 11);
    const PreparedData c = prepare_data({source}, split, tasks, 12);
    REQUIRE(a.tasks.size() == b.tasks.size());
    for (std::size_t t = 0; t < a.tasks.size(); ++t) check_same(a.tasks[t], b.tasks[t]);
    CHECK(ids(a.tasks[0].val) != ids(c.tasks[0].val));
  }
}

TEST_CASE("a shifted validation or test split is measured and warned about", "[data]") {
  // Two balanced classes, 8 rows; a validation of 2 rows drawn without stratification is of one
  // class for some seeds (distance 0.5) and of both for others (distance 0).
  const Source source = make_source("toy", {4, 4});
  int shifted = 0;
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    const PreparedData data = prepare_data(
        {source}, split_with({{"val_fraction", 0.25}, {"stratified", false}}), tasks_with(), seed);
    const Task& task = data.tasks.front();
    const double measured = label_distance(task.train.y, task.val.y, 2);
    const double on_test = label_distance(task.train.y, task.test.y, 2);
    CHECK(data.label_shift == Approx(std::max(measured, on_test)));
    const bool warned = std::any_of(data.warnings.begin(), data.warnings.end(), [](auto& w) {
      return w.find("validation labels") != std::string::npos;
    });
    CHECK(warned == (measured > 0.05));
    shifted += warned;
  }
  CHECK(shifted > 0);  // P(no shifted split in 40 seeds) = (16/28)^40 < 1e-9

  // Stratified, the same split is never shifted.
  for (std::uint64_t seed = 0; seed < 10; ++seed)
    CHECK(prepare_data({source}, split_with({{"val_fraction", 0.25}}), tasks_with(), seed)
              .warnings.empty());

  // A test pool of one class only: distance 0.5 from the balanced training labels.
  Source skewed = make_source("skewed", {40, 40});
  for (auto& label : skewed.test.y) label = 0;
  const PreparedData data = prepare_data({skewed}, split_with(), tasks_with(), 1);
  CHECK(data.label_shift == Approx(0.5));
  REQUIRE(data.warnings.size() == 1);
  CHECK_THAT(data.warnings[0], Catch::Contains("test labels") && Catch::Contains("0.500") &&
                                   Catch::Contains("skewed"));
  // Below the threshold, no warning, but still measured.
  const PreparedData lenient =
      prepare_data({skewed}, split_with({{"shift_warn", 0.6}}), tasks_with(), 1);
  CHECK(lenient.warnings.empty());
  CHECK(lenient.label_shift == Approx(0.5));
}

TEST_CASE("val_rows = sorted_tail takes the largest labels out of training, and is warned about",
          "[data]") {
  // Four balanced classes of 10: a validation of 10 rows from the label-sorted tail is class 3.
  const Source source = make_source("sorted", {10, 10, 10, 10});
  const PreparedData data = prepare_data(
      {source}, split_with({{"val_fraction", 0.25}, {"val_rows", std::string("sorted_tail")}}),
      tasks_with(), 7);
  const Task& task = data.tasks.front();
  CHECK(task.val.y == std::vector<std::int32_t>(10, 3));
  CHECK(std::count(task.train.y.begin(), task.train.y.end(), 3) == 0);
  CHECK(task.train.size() == 30);
  CHECK(data.label_shift == Approx(1.0));  // disjoint label sets
  REQUIRE_FALSE(data.warnings.empty());
  CHECK_THAT(data.warnings[0], Catch::Contains("validation labels") &&
                                   Catch::Contains("sorted_tail"));
  // Every row once: the split is a partition of the pool, whatever the seed.
  std::set<float> all = ids(task.train);
  for (float id : ids(task.val)) CHECK(all.insert(id).second);
  CHECK(all.size() == 40);
  const PreparedData again = prepare_data(
      {source}, split_with({{"val_fraction", 0.25}, {"val_rows", std::string("sorted_tail")}}),
      tasks_with(), 8);
  check_same(task, again.tasks.front());  // no draw: the seed changes nothing
}

TEST_CASE("label_distance is the total-variation distance", "[data]") {
  const std::vector<std::int32_t> a = {0, 0, 1, 1}, b = {0, 0, 0, 2};
  CHECK(label_distance(a, a, 3) == 0.0);
  CHECK(label_distance(a, b, 3) == Approx(0.5 * (0.25 + 0.5 + 0.25)));
  CHECK(label_distance(a, {}, 3) == 0.0);
  CHECK_THROWS_WITH(label_distance(a, b, 2), Catch::Contains("label 2"));
}

TEST_CASE("split_classes: classes_per_task classes per task in label order, labels global",
          "[data]") {
  const Source source = make_source("toy", {20, 20, 20, 20, 20});
  const PreparedData data = prepare_data(
      {source}, split_with(), tasks_with({{"mode", "split_classes"},
                                          {"classes_per_task", std::int64_t{2}}}), 5);
  const PreparedData whole = prepare_data({source}, split_with(), tasks_with(), 5);
  REQUIRE(data.tasks.size() == 3);
  CHECK(data.tasks[0].classes == std::vector<int>{0, 1});
  CHECK(data.tasks[1].classes == std::vector<int>{2, 3});
  CHECK(data.tasks[2].classes == std::vector<int>{4});
  CHECK(data.shape.classes == 5);
  std::size_t train_rows = 0;
  for (const Task& task : data.tasks) {
    for (const Samples* part : {&task.train, &task.val, &task.test}) {
      CHECK(!part->y.empty());
      for (auto label : part->y)
        CHECK(std::find(task.classes.begin(), task.classes.end(), label) != task.classes.end());
    }
    train_rows += task.train.size();
  }
  CHECK(train_rows == whole.tasks[0].train.size());  // the same split, partitioned
  CHECK_THROWS_WITH(prepare_data({source}, split_with(),
                                 tasks_with({{"mode", "split_classes"},
                                             {"classes_per_task", std::int64_t{6}}}), 5),
                    Catch::Contains("classes_per_task = 6") && Catch::Contains("5 classes"));
}

TEST_CASE("permuted: task 0 as is, the others one fixed column permutation each", "[data]") {
  const Source source = make_source("toy", {12, 12}, 6);
  const PreparedData single = prepare_data({source}, split_with(), tasks_with(), 9);
  const PreparedData data = prepare_data(
      {source}, split_with(), tasks_with({{"mode", "permuted"}, {"count", std::int64_t{3}}}), 9);
  REQUIRE(data.tasks.size() == 3);
  CHECK(data.tasks[0].train.x == single.tasks[0].train.x);
  std::vector<std::vector<int>> permutations;
  for (std::size_t t = 1; t < 3; ++t) {
    const Task& task = data.tasks[t];
    const Task& base = data.tasks[0];
    CHECK(task.train.y == base.train.y);
    CHECK(task.classes == base.classes);
    // Column j of the task is column p[j] of the base, the same p for every row of every part.
    std::vector<int> p(6, -1);
    for (int j = 0; j < 6; ++j)
      for (int k = 0; k < 6; ++k)
        if (task.train.x(0, j) == base.train.x(0, k)) p[static_cast<std::size_t>(j)] = k;
    for (const auto& [mine, theirs] : {std::pair(&task.train, &base.train),
                                       std::pair(&task.val, &base.val),
                                       std::pair(&task.test, &base.test)})
      for (Eigen::Index r = 0; r < mine->x.rows(); ++r)
        for (int j = 0; j < 6; ++j) CHECK(mine->x(r, j) == theirs->x(r, p[static_cast<std::size_t>(j)]));
    std::vector<int> sorted = p;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == std::vector<int>{0, 1, 2, 3, 4, 5});
    permutations.push_back(p);
  }
  CHECK(permutations[0] != permutations[1]);
  CHECK(permutations[0] != std::vector<int>{0, 1, 2, 3, 4, 5});
}

TEST_CASE("sequence and joint: labels of each dataset offset, never shared", "[data]") {
  const Source first = make_source("first", {20, 20, 20});
  const Source second = make_source("second", {30, 10});
  const PreparedData sequence =
      prepare_data({first, second}, split_with(), tasks_with({{"mode", "sequence"}}), 4);
  REQUIRE(sequence.tasks.size() == 2);
  CHECK(sequence.shape.classes == 5);
  CHECK(sequence.shape.class_names ==
        std::vector<std::string>{"first/c0", "first/c1", "first/c2", "second/c0", "second/c1"});
  CHECK(sequence.tasks[0].name == "first");
  CHECK(sequence.tasks[0].classes == std::vector<int>{0, 1, 2});
  CHECK(sequence.tasks[1].classes == std::vector<int>{3, 4});
  CHECK(class_counts(sequence.tasks[1].train.y, 5)[3] > 0);
  for (auto label : sequence.tasks[1].test.y) CHECK(label >= 3);
  for (auto label : sequence.tasks[0].train.y) CHECK(label < 3);

  const PreparedData joint =
      prepare_data({first, second}, split_with(), tasks_with({{"mode", "joint"}}), 4);
  REQUIRE(joint.tasks.size() == 1);
  CHECK(joint.tasks[0].classes == std::vector<int>{0, 1, 2, 3, 4});
  CHECK(joint.tasks[0].train.size() ==
        sequence.tasks[0].train.size() + sequence.tasks[1].train.size());
  CHECK(joint.tasks[0].train.y == [&] {
    auto labels = sequence.tasks[0].train.y;
    labels.insert(labels.end(), sequence.tasks[1].train.y.begin(), sequence.tasks[1].train.y.end());
    return labels;
  }());
  CHECK(joint.tasks[0].test.x.bottomRows(static_cast<Eigen::Index>(sequence.tasks[1].test.size())) ==
        sequence.tasks[1].test.x);
}

TEST_CASE("datasets that cannot be combined, and modes of one dataset given two", "[data]") {
  const Source narrow = make_source("narrow", {10, 10}, 3);
  const Source wide = make_source("wide", {10, 10}, 5);
  CHECK_THROWS_WITH(
      prepare_data({narrow, wide}, split_with(), tasks_with({{"mode", "sequence"}}), 1),
      Catch::Contains("narrow") && Catch::Contains("wide") && Catch::Contains("5 features"));
  CHECK_THROWS_WITH(prepare_data({narrow, narrow}, split_with(), tasks_with(), 1),
                    Catch::Contains("mode = single takes one dataset"));
  Source broken = make_source("broken", {10, 10});
  broken.train.y[3] = 7;
  CHECK_THROWS_WITH(prepare_data({broken}, split_with(), tasks_with(), 1),
                    Catch::Contains("broken") && Catch::Contains("label 7"));
}

TEST_CASE("synthetic_labels: exactly that share of training labels changed, seeded, val and "
          "test untouched", "[data]") {
  const Source source = make_source("toy", {100, 60, 40, 20});
  for (const std::string mode : {"single", "split_classes"}) {
    INFO("mode " << mode);
    const auto tasks = tasks_with({{"mode", mode}});
    const PreparedData clean = prepare_data({source}, split_with(), tasks, 5);
    const auto noisy_split = split_with({{"synthetic_labels", 0.25}});
    const PreparedData noisy = prepare_data({source}, noisy_split, tasks, 5);
    REQUIRE(noisy.tasks.size() == clean.tasks.size());
    for (std::size_t t = 0; t < clean.tasks.size(); ++t) {
      const Task &before = clean.tasks[t], &after = noisy.tasks[t];
      CHECK(after.train.x == before.train.x);  // the same rows in the same order
      CHECK(after.val.y == before.val.y);
      CHECK(after.val.x == before.val.x);
      CHECK(after.test.y == before.test.y);
      CHECK(after.test.x == before.test.x);
      REQUIRE(after.train.y.size() == before.train.y.size());
      const auto n = before.train.y.size();
      std::vector<std::size_t> changed_per_class(4, 0);
      std::size_t changed = 0;
      for (std::size_t i = 0; i < n; ++i) {
        if (after.train.y[i] == before.train.y[i]) continue;
        ++changed;
        ++changed_per_class[static_cast<std::size_t>(before.train.y[i])];
        const auto& classes = after.classes;
        CHECK(std::find(classes.begin(), classes.end(), after.train.y[i]) != classes.end());
      }
      CHECK(changed == static_cast<std::size_t>(std::llround(0.25 * static_cast<double>(n))));
      // Stratified: each class gives its share of the changed rows, within one.
      const auto pool = class_counts(before.train.y, 4);
      for (std::size_t c = 0; c < 4; ++c)
        CHECK(std::abs(static_cast<double>(changed_per_class[c]) -
                       0.25 * static_cast<double>(pool[c])) < 1.0);
    }
    // Seeded: the same seed gives the same labels, another seed other rows.
    const PreparedData again = prepare_data({source}, noisy_split, tasks, 5);
    for (std::size_t t = 0; t < noisy.tasks.size(); ++t)
      check_same(noisy.tasks[t], again.tasks[t]);
    const PreparedData other = prepare_data({source}, noisy_split, tasks, 6);
    CHECK(other.tasks[0].train.y != noisy.tasks[0].train.y);
  }
  // Every label of the training split replaced: none keeps its class.
  const PreparedData all = prepare_data({source}, split_with({{"synthetic_labels", 1.0}}),
                                        tasks_with(), 5);
  const PreparedData none = prepare_data({source}, split_with(), tasks_with(), 5);
  for (std::size_t i = 0; i < all.tasks[0].train.y.size(); ++i)
    CHECK(all.tasks[0].train.y[i] != none.tasks[0].train.y[i]);
  // A task of one class has no other label to give.
  CHECK_THROWS_WITH(prepare_data({source}, split_with({{"synthetic_labels", 0.1}}),
                                 tasks_with({{"mode", "split_classes"},
                                             {"classes_per_task", std::int64_t{1}}}),
                                 5),
                    Catch::Contains("split.synthetic_labels = 0.1") &&
                        Catch::Contains("two classes"));
}
