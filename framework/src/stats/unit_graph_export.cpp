#include "stats/unit_graph_export.hpp"

#include <fmt/format.h>

#include <algorithm>
// GCC 12 reports boost::optional inside adjacency_list's edge iterator as maybe-uninitialized
// once the writers below are inlined (a false positive in these headers, not in our code).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/graphml.hpp>
#include <boost/graph/graphviz.hpp>
#pragma GCC diagnostic pop
#include <boost/property_map/function_property_map.hpp>

#include "ablate/error.hpp"

namespace ablate {
namespace {

/// A read-only property map over one member of the vertices.
template <class Value>
auto member_map(const UnitDigraph& graph, Value UnitVertex::*member) {
  return boost::make_function_property_map<UnitDigraph::vertex_descriptor, Value>(
      [&graph, member](UnitDigraph::vertex_descriptor v) { return graph[v].*member; });
}

boost::dynamic_properties vertex_properties(const UnitDigraph& graph) {
  boost::dynamic_properties dp;
  dp.property("node_id", member_map(graph, &UnitVertex::id));
  dp.property("unit", member_map(graph, &UnitVertex::unit));
  dp.property("label", member_map(graph, &UnitVertex::label));
  dp.property("kind", member_map(graph, &UnitVertex::kind));
  dp.property("layer", member_map(graph, &UnitVertex::layer));
  dp.property("index", member_map(graph, &UnitVertex::index));
  return dp;
}

}  // namespace

UnitDigraph unit_digraph(const std::vector<UnitLayer>& layers, int features, int input_groups) {
  UnitDigraph graph;
  std::vector<UnitDigraph::vertex_descriptor> inputs;
  const int groups = std::min(std::max(input_groups, 0), std::max(features, 0));
  for (int g = 0; g < groups; ++g) {
    // Contiguous ranges whose sizes differ by at most one.
    const int first = static_cast<int>(static_cast<long>(g) * features / groups);
    const int last = static_cast<int>(static_cast<long>(g + 1) * features / groups) - 1;
    inputs.push_back(boost::add_vertex(
        UnitVertex{fmt::format("in{}", g), fmt::format("input.{}", g),
                   first == last ? fmt::format("x[{}]", first) : fmt::format("x[{}..{}]", first, last),
                   "input", -1, g},
        graph));
  }
  std::vector<std::vector<UnitDigraph::vertex_descriptor>> units(layers.size());
  for (std::size_t l = 0; l < layers.size(); ++l)
    for (int i = 0; i < layers[l].size; ++i)
      units[l].push_back(boost::add_vertex(
          UnitVertex{fmt::format("u{}.{}", l, i), fmt::format("{}.{}", l, i),
                     fmt::format("{}.{}", layers[l].name, i), "unit", static_cast<int>(l), i},
          graph));
  for (std::size_t l = 0; l < layers.size(); ++l) {
    std::vector<UnitDigraph::vertex_descriptor> sources;
    if (layers[l].inputs.empty()) sources = inputs;
    for (int from : layers[l].inputs) {
      if (from < 0 || static_cast<std::size_t>(from) >= layers.size())
        throw Error(fmt::format("unit layer '{}' names input layer {}, which does not exist",
                                layers[l].name, from));
      const auto& feeding = units[static_cast<std::size_t>(from)];
      sources.insert(sources.end(), feeding.begin(), feeding.end());
    }
    for (auto source : sources)
      for (auto target : units[l]) boost::add_edge(source, target, graph);
  }
  return graph;
}

void write_dot(std::ostream& out, const UnitDigraph& graph) {
  boost::write_graphviz_dp(out, graph, vertex_properties(graph), "node_id");
}

void write_graphml(std::ostream& out, const UnitDigraph& graph) {
  boost::write_graphml(out, graph, vertex_properties(graph), true);
}

}  // namespace ablate
