// The hashtron engine (ablate/hashtron.hpp): hashing and collisions, the one-unit fit against a
// naive re-derivation of its votes, the layer cache, reject_worse, determinism, model files.
#include <catch2/catch.hpp>

#include <functional>
#include <map>
#include <set>
#include <tuple>

#include "ablate/hashtron.hpp"
#include "ablate/tensor.hpp"
#include "runs/safetensors.hpp"
#include "support.hpp"
#include "test_hashtron_support.hpp"

using namespace ablate;
using namespace ablate::test;

namespace {

// Every byte as 8 bit-features (lowest first), labelled by `label`.
Samples byte_samples(int classes, const std::function<int(int)>& label) {
  Samples s;
  s.x.resize(256, 8);
  for (int v = 0; v < 256; ++v) {
    for (int b = 0; b < 8; ++b) s.x(v, b) = static_cast<float>((v >> b) & 1);
    s.y.push_back(label(v) % classes);
  }
  return s;
}

int random_label(int v) { return static_cast<int>(hashtron_mix(static_cast<std::uint32_t>(v), 7) & 1); }
int isqrt(int v) {
  int r = 0;
  while ((r + 1) * (r + 1) <= v) ++r;
  return r;
}

HashtronSpec one_neuron(std::uint64_t premodulo) {
  HashtronSpec spec;
  spec.input.features = 8;
  spec.layers = {{1, 1, premodulo}};
  return spec;
}

// Three layers with every combiner kind and multi-bit neurons: 8 -> 2d pool -> 2 neurons x 2
// bits -> 1d pool -> 1 neuron x 4 bits (the 16 classes of floor(sqrt(x)) for x < 256).
HashtronSpec deep_spec(std::uint64_t premodulo = 64) {
  HashtronSpec spec;
  spec.input.features = 8;
  spec.layers = {{8, 1, premodulo}, {2, 2, premodulo}, {1, 4, premodulo}};
  spec.combiners = {Combiner::parse("majority2d:4x2:2x1"), Combiner::parse("majority:2")};
  spec.classes = 16;
  spec.reject_worse = false;
  return spec;
}

std::vector<UnitId> all_units(const HashtronModel& model) {
  std::vector<UnitId> units;
  const auto layers = model.unit_layers();
  for (int l = 0; l < static_cast<int>(layers.size()); ++l)
    for (int i = 0; i < layers[static_cast<std::size_t>(l)].size; ++i) units.push_back({l, i});
  return units;
}

// The record save() keeps of a unit: next salt, next premodulo, table salt, table modulus
// (docs/HASHTRON.md, "Model files").
std::vector<std::int64_t> unit_record(const HashtronModel& model, UnitId unit) {
  StateStore state;
  model.save(state, "");
  const auto units = state.integers("units");
  int g = 0;
  for (int l = 0; l < unit.layer; ++l) g += model.unit_layers()[static_cast<std::size_t>(l)].size;
  g += unit.index;
  return {units.begin() + 4 * g, units.begin() + 4 * g + 4};
}

std::vector<std::int32_t> predictions(HashtronModel& model, const Samples& s) {
  std::vector<std::int32_t> out(s.size());
  model.predict(s.x, out);
  return out;
}

// Tensors by name, compared by type, shape and bytes.
using Tensors = std::map<std::string, std::tuple<DType, std::vector<std::int64_t>, std::vector<std::byte>>>;
Tensors tensors(const StateStore& state) {
  Tensors out;
  for (const auto& [name, t] : state.tensors()) out[name] = {t.dtype, t.shape, t.bytes};
  return out;
}

class ThreadCount {
 public:
  explicit ThreadCount(int n) : saved_(threads()) { set_threads(n); }
  ~ThreadCount() { set_threads(saved_); }

 private:
  int saved_;
};

}  // namespace

TEST_CASE("hashtron_hash stays below the premodulo, spreads keys evenly, and without a "
          "premodulo never collides", "[hashtron]") {
  constexpr std::uint64_t kBuckets = 64;
  constexpr std::uint32_t kKeys = 64 * 1024;
  std::vector<int> counts(kBuckets);
  for (std::uint32_t k = 0; k < kKeys; ++k) {
    const auto h = hashtron_hash(k, 12345, kBuckets);
    REQUIRE(h < kBuckets);
    ++counts[h];
    CHECK(hashtron_hash(k, 99, 1) == 0);
  }
  // 1024 expected per bucket; a chi-square over 63 degrees of freedom stays far below 150.
  double chi2 = 0;
  for (int c : counts) chi2 += (c - 1024.0) * (c - 1024.0) / 1024.0;
  CHECK(chi2 < 150);

  std::set<std::uint32_t> seen;
  for (std::uint32_t k = 0; k < kKeys; ++k) seen.insert(hashtron_hash(k, 5, kNoPremodulo));
  CHECK(seen.size() == kKeys);
  // The salt matters.
  int differ = 0;
  for (std::uint32_t k = 0; k < 1000; ++k)
    differ += hashtron_hash(k, 1, kNoPremodulo) != hashtron_hash(k, 2, kNoPremodulo);
  CHECK(differ > 990);
}

TEST_CASE("keys that collide under a unit's premodulo share one answer", "[hashtron]") {
  const Samples data = byte_samples(2, random_label);
  const UnitId unit{0, 0};

  SECTION("premodulo 8: at most 8 answers, equal for equal hashed keys") {
    Rng rng(1);
    HashtronModel model(one_neuron(8), rng);
    model.fit_unit(unit, data, rng);
    const auto record = unit_record(model, unit);
    const auto salt = static_cast<std::uint32_t>(record[2]);
    CHECK(record[3] == 8);
    std::map<std::uint32_t, bool> answer;
    for (std::uint32_t k = 0; k < 256; ++k) {
      const auto h = hashtron_hash(k, salt, 8);
      const bool out = model.unit_output(unit, k);
      if (answer.count(h)) CHECK(answer[h] == out);
      answer[h] = out;
    }
    CHECK(answer.size() <= 8);
    // 256 random labels in 8 buckets cannot all be right.
    CHECK(model.accuracy(data) < 0.75);
  }
  SECTION("premodulo 1: one answer for every key, the majority label") {
    Rng rng(2);
    HashtronModel model(one_neuron(1), rng);
    model.fit_unit(unit, data, rng);
    int ones = 0;
    for (auto y : data.y) ones += y;
    const bool majority = 2 * ones > 256;
    for (std::uint32_t k = 0; k < 256; ++k) CHECK(model.unit_output(unit, k) == majority);
  }
  SECTION("no premodulo: no collisions, random labels learned exactly") {
    Rng rng(3);
    HashtronModel model(one_neuron(kNoPremodulo), rng);
    const FitResult fit = model.fit_unit(unit, data, rng);
    CHECK(fit.accuracy_after == 1.0);
    CHECK(fit.keys == 256);
    CHECK(model.accuracy(data) == 1.0);
  }
}

TEST_CASE("a fitted unit answers the sign of the votes of the samples where exactly one of "
          "its output as is and negated gives the right class, other keys keep their answer",
          "[hashtron]") {
  const Samples data = byte_samples(16, isqrt);
  Rng rng(11);
  HashtronModel model(deep_spec(), rng);
  const NaiveNet naive{model};
  // Backward, forward and backward again, checking every unit's new table against votes
  // re-derived by the naive evaluator from the model before that fit.
  auto order = all_units(model);
  std::vector<UnitId> schedule(order.rbegin(), order.rend());
  schedule.insert(schedule.end(), order.begin(), order.end());
  int voted_units = 0;
  for (const UnitId unit : schedule) {
    INFO("unit " << unit.layer << "." << unit.index);
    std::vector<std::uint32_t> keys;
    std::vector<int> keep;  // +1: the output as is, -1: negated, 0: no vote
    std::vector<bool> now, previous;
    for (std::uint32_t k = 0; k < 256; ++k) previous.push_back(model.unit_output(unit, k));
    for (std::size_t s = 0; s < data.size(); ++s) {
      const float* row = data.x.row(static_cast<Eigen::Index>(s)).data();
      keys.push_back(naive.key(row, unit));
      now.push_back(naive.layers(row)[static_cast<std::size_t>(unit.layer)]
                                     [static_cast<std::size_t>(unit.index)]);
      const bool right = naive.predict(row) == data.y[s];
      const bool right_negated =
          static_cast<int>(naive.output(row, unit) % 16) == data.y[s];
      keep.push_back(right == right_negated ? 0 : (right ? 1 : -1));
    }
    const double accuracy = model.accuracy(data);
    const FitResult fit = model.fit_unit(unit, data, rng);
    // Same hash, exact votes: each key takes the side most of its pivotal samples want.
    CHECK(model.accuracy(data) >= accuracy);
    const auto record = unit_record(model, unit);
    const auto salt = static_cast<std::uint32_t>(record[2]);
    const auto modulus = static_cast<std::uint64_t>(record[3]);
    std::map<std::uint32_t, int> votes;
    for (std::size_t s = 0; s < data.size(); ++s)
      if (keep[s] != 0)
        votes[hashtron_hash(keys[s], salt, modulus)] += (keep[s] > 0 ? now[s] : !now[s]) ? 1 : -1;
    CHECK(fit.votes == std::count_if(keep.begin(), keep.end(), [](int k) { return k != 0; }));
    CHECK(fit.accepted == !votes.empty());
    if (fit.accepted) CHECK(fit.keys == static_cast<std::int64_t>(votes.size()));
    voted_units += !votes.empty();
    for (std::uint32_t k = 0; k < 256; ++k) {
      const auto it = votes.find(hashtron_hash(k, salt, modulus));
      const bool expected = (it != votes.end() && it->second != 0) ? it->second > 0 : previous[k];
      CHECK(model.unit_output(unit, k) == expected);
    }
  }
  CHECK(voted_units >= 8);
  CHECK(model.accuracy(data) > 0.1);
}

TEST_CASE("outputs cached across fits equal a fresh evaluation, unit sums match a brute-force "
          "count", "[hashtron]") {
  const Samples train = byte_samples(16, isqrt);
  const Samples copy = train;  // another object: evaluated afresh, not from the cache
  Rng rng(21);
  HashtronModel model(deep_spec(16), rng);
  for (int round = 0; round < 2; ++round)
    for (const UnitId unit : all_units(model)) model.fit_unit(unit, train, rng);

  const NaiveNet naive{model};
  std::vector<std::int64_t> expected(static_cast<std::size_t>(model.unit_count()));
  std::vector<std::int32_t> naive_predictions;
  for (std::size_t s = 0; s < train.size(); ++s) {
    const float* row = train.x.row(static_cast<Eigen::Index>(s)).data();
    std::size_t u = 0;
    for (const auto& layer : naive.layers(row))
      for (int bit : layer) expected[u++] += bit ? 1 : -1;
    naive_predictions.push_back(naive.predict(row));
  }
  std::vector<std::int64_t> cached(expected.size()), fresh(expected.size());
  model.accumulate_unit_sums(train, cached);
  model.accumulate_unit_sums(copy, fresh);
  CHECK(cached == expected);
  CHECK(fresh == expected);
  CHECK(predictions(model, train) == naive_predictions);
  CHECK(model.accuracy(train) == Approx(model.accuracy(copy)));
  // Accumulates: a second call doubles the sums.
  model.accumulate_unit_sums(copy, fresh);
  for (std::size_t u = 0; u < fresh.size(); ++u) CHECK(fresh[u] == 2 * expected[u]);
  std::vector<std::int64_t> wrong(3);
  CHECK_THROWS_AS(model.accumulate_unit_sums(train, wrong), Error);
}

TEST_CASE("with reject_worse a fit never lowers training accuracy, without, some do",
          "[hashtron]") {
  const Samples train = byte_samples(16, [](int v) { return isqrt(v) ^ (v & 3); });
  // The graded vote and fresh salts under tight premodulos make worse fits likely.
  const auto run = [&](bool reject) {
    HashtronSpec spec = deep_spec(4);
    spec.vote = VoteRule::hamming;
    spec.resalt = true;
    spec.reject_worse = reject;
    Rng rng(31);
    HashtronModel model(spec, rng);
    int worse = 0, rejected = 0;
    double accuracy = model.accuracy(train);
    for (int round = 0; round < 4; ++round)
      for (const UnitId unit : all_units(model)) {
        const FitResult fit = model.fit_unit(unit, train, rng);
        CHECK(fit.accuracy_before == Approx(accuracy));
        const double now = model.accuracy(train);
        CHECK(now == Approx(fit.accepted ? fit.accuracy_after : fit.accuracy_before));
        worse += now < accuracy;
        rejected += !fit.accepted && fit.votes > 0;
        accuracy = now;
      }
    return std::pair{worse, rejected};
  };
  const auto [worse_kept, rejected] = run(true);
  CHECK(worse_kept == 0);
  CHECK(rejected > 0);
  const auto [worse_free, none_rejected] = run(false);
  CHECK(worse_free > 0);
  CHECK(none_rejected == 0);
}

TEST_CASE("fitting is deterministic: the same seed gives the same model, at 1 and 2 threads",
          "[hashtron]") {
  const Samples train = byte_samples(16, isqrt);
  const auto train_model = [&](int threads, std::uint64_t seed) {
    ThreadCount scope(threads);
    HashtronSpec spec = deep_spec(32);
    spec.resalt = true;
    Rng rng(seed);
    auto model = std::make_unique<HashtronModel>(spec, rng);
    for (int round = 0; round < 2; ++round)
      for (const UnitId unit : all_units(*model)) model->fit_unit(unit, train, rng);
    StateStore state;
    model->save(state, "");
    return std::pair{tensors(state), predictions(*model, train)};
  };
  const auto one = train_model(1, 5);
  CHECK(train_model(1, 5) == one);
  CHECK(train_model(2, 5) == one);
  CHECK(train_model(2, 5) == train_model(2, 5));
  CHECK(train_model(2, 6).first != one.first);  // the seed matters
}

TEST_CASE("save/load and model files restore a model exactly", "[hashtron]") {
  const Samples train = byte_samples(16, isqrt);
  Rng rng(41);
  HashtronSpec spec = deep_spec(64);
  HashtronModel model(spec, rng);
  for (const UnitId unit : all_units(model)) model.fit_unit(unit, train, rng);
  model.set_premodulo({1, 2}, 77);
  StateStore saved;
  model.save(saved, "m/");

  SECTION("checkpoint state into a model built with another seed") {
    Rng other(999);
    HashtronModel restored(spec, other);
    CHECK(predictions(restored, train) != predictions(model, train));
    restored.load(saved, "m/");
    StateStore again;
    restored.save(again, "m/");
    CHECK(tensors(again) == tensors(saved));
    CHECK(predictions(restored, train) == predictions(model, train));
    CHECK(restored.premodulo({1, 2}) == 77);
  }
  SECTION("a standalone file holds the architecture too") {
    TempDir dir("hashtron-file");
    model.save_model(dir / "model.safetensors");
    const auto loaded = HashtronModel::load_model(dir / "model.safetensors");
    CHECK(loaded->spec() == spec);
    CHECK(predictions(*loaded, train) == predictions(model, train));
    StateStore again;
    loaded->save(again, "m/");
    CHECK(tensors(again) == tensors(saved));
  }
  SECTION("another architecture or a corrupted table is refused") {
    Rng other(1);
    HashtronModel different(deep_spec(32), other);
    CHECK_THROWS_WITH(different.load(saved, "m/"), Catch::Contains("another architecture"));
    StateStore broken = saved;
    auto offsets = broken.integers("m/exception_offsets");
    REQUIRE(offsets.back() > 1);
    auto exceptions = broken.integers("m/exceptions");
    exceptions.front() = 1 << 20;  // beyond every unit's premodulo of 64
    broken.put("m/exceptions", exceptions);
    Rng again(2);
    HashtronModel target(spec, again);
    CHECK_THROWS_AS(target.load(broken, "m/"), Error);
  }
  SECTION("a file that is not a hashtron model is refused with its name") {
    TempDir dir("hashtron-file");
    write_safetensors(dir / "plain.safetensors", saved, {});
    CHECK_THROWS_WITH(HashtronModel::load_model(dir / "plain.safetensors"),
                      Catch::Contains("not a hashtron model file"));
    write_text(dir / "x.safetensors", "not safetensors at all");
    CHECK_THROWS_AS(HashtronModel::load_model(dir / "x.safetensors"), Error);
  }
}

TEST_CASE("apply_capacity sets premodulo = round(c^2) for the unit's next fit", "[hashtron]") {
  const Samples data = byte_samples(2, random_label);
  Rng rng(51);
  HashtronSpec spec = one_neuron(kNoPremodulo);
  spec.reject_worse = false;  // 7 buckets fit random labels worse than none
  HashtronModel model(spec, rng);
  const UnitId unit{0, 0};
  model.fit_unit(unit, data, rng);
  std::vector<bool> before;
  for (std::uint32_t k = 0; k < 256; ++k) before.push_back(model.unit_output(unit, k));

  model.apply_capacity(unit, 2.6);
  CHECK(model.premodulo(unit) == 7);  // 6.76 rounds to 7
  for (std::uint32_t k = 0; k < 256; ++k) CHECK(model.unit_output(unit, k) == before[k]);
  const FitResult fit = model.fit_unit(unit, data, rng);
  CHECK(fit.premodulo == 7);
  CHECK(fit.keys <= 7);
  CHECK(unit_record(model, unit)[3] == 7);

  model.apply_capacity(unit, 0.3);
  CHECK(model.premodulo(unit) == 1);
  model.apply_capacity(unit, 1e6);
  CHECK(model.premodulo(unit) == kNoPremodulo);
  CHECK(premodulo_for_capacity(100.0) == 10000);
  CHECK_THROWS_AS(model.set_premodulo(unit, 0), Error);
  CHECK_THROWS_AS(model.apply_capacity({0, 1}, 4.0), Error);
  CHECK_THROWS_AS(model.premodulo({1, 0}), Error);
}

TEST_CASE("quantized features: bits_per_feature levels feed the keys", "[hashtron]") {
  // One feature in four levels, the class is the level.
  Samples data;
  const float values[] = {0.1f, 0.3f, 0.6f, 0.9f};
  data.x.resize(400, 1);
  for (int i = 0; i < 400; ++i) {
    data.x(i, 0) = values[i % 4];
    data.y.push_back(i % 4);
  }
  HashtronSpec spec;
  spec.input = {1, 2, 0.5, 1};
  spec.layers = {{2, 1, kNoPremodulo}};
  spec.classes = 4;
  spec.vote = VoteRule::hamming;  // two output bits: the exact rule can deadlock on both wrong
  Rng rng(61);
  HashtronModel model(spec, rng);
  for (int round = 0; round < 2; ++round)
    for (const UnitId unit : all_units(model)) model.fit_unit(unit, data, rng);
  CHECK(model.accuracy(data) == 1.0);
  // Binarized, two levels fall together: at most 2 of the 4 classes can be told apart.
  spec.input.bits_per_feature = 1;
  HashtronModel binary(spec, rng);
  for (int round = 0; round < 2; ++round)
    for (const UnitId unit : all_units(binary)) binary.fit_unit(unit, data, rng);
  CHECK(binary.accuracy(data) <= 0.5);
}

TEST_CASE("architectures are validated with messages saying what would be valid", "[hashtron]") {
  Rng rng(71);
  const auto fails = [&](HashtronSpec spec, const std::string& text) {
    INFO(text);
    CHECK_THROWS_WITH(HashtronModel(spec, rng), Catch::Contains(text));
  };
  HashtronSpec spec = deep_spec();
  spec.combiners.pop_back();
  fails(spec, "need 2 combiners");
  spec = deep_spec();
  spec.combiners[0] = Combiner::parse("majority:3");
  fails(spec, "do not split into groups of 3");
  spec = deep_spec();
  spec.combiners[0] = Combiner::parse("majority2d:4x2:3x1");
  fails(spec, "does not tile");
  spec = deep_spec();
  spec.layers[1].neurons = 3;
  fails(spec, "split evenly");
  spec = deep_spec();
  spec.classes = 17;
  fails(spec, "17 classes need 5");
  spec = one_neuron(8);
  spec.input.features = 40;
  fails(spec, "set taps to at most 32");
  spec.input.taps = 41;
  fails(spec, "use 0 (all of them) to 40");
  CHECK_THROWS_WITH(Combiner::parse("majority2d:4x2"), Catch::Contains("majority2d:WxH:wxh"));
  CHECK_THROWS_WITH(Combiner::parse("pool"), Catch::Contains("unknown combiner 'pool'"));
  CHECK(Combiner::parse("majority2d:4x2:2x1").str() == "majority2d:4x2:2x1");
  CHECK(HashtronSpec::from_json(deep_spec().to_json()) == deep_spec());

  HashtronModel model(deep_spec(), rng);
  Samples wrong_label = byte_samples(16, isqrt);
  wrong_label.y[9] = 16;
  CHECK_THROWS_WITH(model.fit_unit({0, 0}, wrong_label, rng),
                    Catch::Contains("sample 9 has label 16; the model has classes 0 to 15"));
  Matrix three(2, 3);
  std::vector<std::int32_t> out(2);
  CHECK_THROWS_WITH(model.predict(three, out), Catch::Contains("built for 8"));
}
