#pragma once
// The model's units as a Boost.Graph digraph, edges following the data (issue 4, "Units and
// their graph"), written as GraphViz DOT and GraphML for `ablate graph`.
// A unit layer fed by layers takes an edge from every unit of each (dense connectivity, which is
// all a UnitLayer declares); one fed by the data takes an edge from every input vertex. Input
// features are grouped into contiguous ranges so that an MLP on 784 pixels stays readable.
#include <boost/graph/adjacency_list.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "ablate/model.hpp"

namespace ablate {

struct UnitVertex {
  std::string id;          // "u<layer>.<index>", "in<group>": unique, also the DOT node id
  std::string unit;        // "<layer>.<index>"; for inputs "input.<group>"
  std::string label;       // "<layer name>.<index>"; for inputs "x[first..last]"
  std::string kind;        // "unit" or "input"
  int layer = -1;          // -1 for inputs
  int index = 0;           // within the layer (or the input group)
};

using UnitDigraph =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, UnitVertex>;

/// `input_groups`: 0 leaves the data out; otherwise min(input_groups, features) vertices, each
/// a contiguous range of features. Error on an input layer index that does not exist.
UnitDigraph unit_digraph(const std::vector<UnitLayer>& layers, int features, int input_groups);

void write_dot(std::ostream& out, const UnitDigraph& graph);
void write_graphml(std::ostream& out, const UnitDigraph& graph);

}  // namespace ablate
