#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/topological_sort.hpp>

#include "ablate/stats.hpp"

namespace ablate {

UnitGraph::UnitGraph(std::vector<UnitLayer> layers) : layers_(std::move(layers)) {
  if (layers_.empty()) throw Error("a model declared no unit layers");
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
  Graph graph(layers_.size());
  for (std::size_t i = 0; i < layers_.size(); ++i)
    for (int from : layers_[i].inputs) {
      if (from < 0 || static_cast<std::size_t>(from) >= layers_.size())
        throw Error("unit layer '" + layers_[i].name + "' names input layer " +
                    std::to_string(from) + ", which does not exist");
      boost::add_edge(static_cast<std::size_t>(from), i, graph);
    }
  std::vector<std::size_t> reversed;
  try {
    boost::topological_sort(graph, std::back_inserter(reversed));
  } catch (const boost::not_a_dag&) {
    throw Error("the model's unit layers form a cycle");
  }
  forward_.assign(reversed.rbegin(), reversed.rend());
  // The declared output layer (the last one) must close the forward order even when layers
  // that do not feed it sort after it.
  const int output = static_cast<int>(layers_.size()) - 1;
  std::erase(forward_, output);
  forward_.push_back(output);
  offsets_.resize(layers_.size());
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    offsets_[i] = total_;
    total_ += layers_[i].size;
  }
}

}  // namespace ablate
