// The unit graph as Boost.Graph, DOT and GraphML (issue 4, "Units and their graph"), and the fit
// of capacities to the capacity law.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include "stats/capacity_fit.hpp"
#include "stats/unit_graph_export.hpp"

using namespace ablate;

namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

const std::vector<UnitLayer> kMlp = {{"h1", 4, {}}, {"h2", 3, {0}}, {"out", 2, {1}}};

}  // namespace

TEST_CASE("units are vertices and edges follow the data, dense between layers", "[sched][graph]") {
  const UnitDigraph grouped = unit_digraph(kMlp, 10, 4);
  CHECK(boost::num_vertices(grouped) == 4 + 9);
  CHECK(boost::num_edges(grouped) == 4 * 4 + 4 * 3 + 3 * 2);
  CHECK(grouped[0].label == "x[0..1]");  // 10 features in 4 contiguous groups: 2, 3, 2, 3
  CHECK(grouped[1].label == "x[2..4]");
  CHECK(grouped[3].label == "x[7..9]");
  CHECK(grouped[4].unit == "0.0");
  CHECK(grouped[4].label == "h1.0");
  CHECK(grouped[12].unit == "2.1");

  const UnitDigraph bare = unit_digraph(kMlp, 10, 0);
  CHECK(boost::num_vertices(bare) == 9);
  CHECK(boost::num_edges(bare) == 4 * 3 + 3 * 2);
  const UnitDigraph every = unit_digraph(kMlp, 10, 1000);  // at most a vertex per feature
  CHECK(boost::num_vertices(every) == 10 + 9);
  CHECK(every[9].label == "x[9]");

  // A layer fed by two layers takes edges from both.
  const std::vector<UnitLayer> skip = {{"a", 2, {}}, {"b", 3, {0}}, {"c", 1, {0, 1}}};
  CHECK(boost::num_edges(unit_digraph(skip, 5, 0)) == 2 * 3 + (2 + 3) * 1);
  CHECK_THROWS_WITH(unit_digraph({{"a", 2, {}}, {"b", 1, {4}}}, 3, 0),
                    Catch::Contains("names input layer 4, which does not exist"));
}

TEST_CASE("DOT and GraphML name every unit as layer.index", "[sched][graph]") {
  const UnitDigraph graph = unit_digraph(kMlp, 10, 2);
  std::ostringstream dot, graphml;
  write_dot(dot, graph);
  write_graphml(graphml, graph);
  CHECK_THAT(dot.str(), Catch::StartsWith("digraph G {"));
  CHECK(count(dot.str(), "->") == boost::num_edges(graph));
  CHECK_THAT(dot.str(), Catch::Contains("\"u0.3\"->\"u1.2\""));
  CHECK_THAT(dot.str(), Catch::Contains("in1->\"u0.0\""));
  CHECK_THAT(dot.str(), Catch::Contains("label=\"h2.2\", layer=1, unit=1.2]"));
  CHECK(count(graphml.str(), "<node ") == boost::num_vertices(graph));
  CHECK(count(graphml.str(), "<edge ") == boost::num_edges(graph));
  CHECK_THAT(graphml.str(), Catch::Contains("edgedefault=\"directed\""));
  CHECK_THAT(graphml.str(), Catch::Contains("attr.name=\"layer\" attr.type=\"int\""));
  CHECK_THAT(graphml.str(), Catch::Contains(">out.1</data>"));
}

TEST_CASE("an MLP 784-256-256-10 stays a usable graph", "[sched][graph]") {
  const std::vector<UnitLayer> layers = {
      {"layer1", 256, {}}, {"layer2", 256, {0}}, {"layer3", 10, {1}}};
  const UnitDigraph graph = unit_digraph(layers, 784, 16);
  CHECK(boost::num_vertices(graph) == 16 + 522);
  CHECK(boost::num_edges(graph) == 16 * 256 + 256 * 256 + 256 * 10);
  std::ostringstream dot;
  write_dot(dot, graph);
  CHECK(dot.str().size() < 4u * 1000 * 1000);
}

TEST_CASE("capacity law fit: within each stage, across units, log capacity against log margin",
          "[sched][graph]") {
  SumCache sums;
  // Capacities that follow the law exactly: 100 / (|S| + 1) from the record before.
  for (std::int32_t t = 0; t < 6; ++t)
    for (int i = 0; i < 4; ++i) {
      const std::int32_t s = (t + 1) * (i + 2) * 3;
      const float capacity = t == 0 ? 0.0f : static_cast<float>(100.0 / (std::abs((t) * (i + 2) * 3) + 1.0));
      sums.record({0, i}, {s, 100, capacity, t});
    }
  const LawFit exact = capacity_law_fit(sums);
  CHECK(exact.points == 5 * 4);
  CHECK(exact.r_squared == Approx(1.0).epsilon(1e-6));
  // ...capacities unrelated to the sums...
  SumCache noise;
  Rng rng(3);
  for (std::int32_t t = 0; t < 30; ++t)
    for (int i = 0; i < 10; ++i)
      noise.record({0, i}, {static_cast<std::int32_t>(rng.below(100)), 100,
                            1.0f + 99.0f * rng.uniform_float(), t});
  const LawFit unrelated = capacity_law_fit(noise);
  CHECK(unrelated.points == 29 * 10);
  CHECK(unrelated.r_squared < 0.1);
  // ...and a law blind to the sums, halving every capacity at every stage while every margin
  // grows: pooled over stages the two fall together (R^2 near 1), within a stage nothing varies.
  SumCache blind;
  for (std::int32_t t = 0; t < 8; ++t)
    for (int i = 0; i < 6; ++i)
      blind.record({0, i}, {(t + 1) * 10 + i, 100, static_cast<float>(256 >> t), t});
  const LawFit halving = capacity_law_fit(blind);
  CHECK(halving.points == 7 * 6);
  CHECK(halving.r_squared == Approx(0.0).margin(1e-9));
  CHECK(std::isnan(capacity_law_fit(SumCache{}).r_squared));
}
