// `ablate graph FILE`: the experiment's model as a graph of units (issue 4, "Units and their
// graph"), written as GraphViz DOT and GraphML for Gephi, yEd, networkx or `dot -Tsvg`.
#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <iostream>
#include <sstream>

#include "ablate/dataset.hpp"
#include "ablate/stats.hpp"
#include "ablate/topology.hpp"
#include "cli/commands.hpp"
#include "config/experiment.hpp"
#include "data/prepare.hpp"
#include "plugins/registry.hpp"
#include "stats/unit_graph_export.hpp"
#include "util/atomic_file.hpp"

namespace po = boost::program_options;

namespace ablate::cli {

int graph(const std::vector<std::string>& args) {
  po::options_description options("ablate graph");
  options.add_options()("file", po::value<std::string>()->required(), "experiment TOML file")(
      "set", po::value<std::vector<std::string>>()->composing(),
      "override a key: --set topology.hidden=[64,32]")(
      "out", po::value<std::string>(),
      "write OUT.dot and OUT.graphml (default: the experiment's name, in this folder)")(
      "input-groups", po::value<int>()->default_value(16),
      "input features drawn as this many vertices of contiguous features (0: leave the data "
      "out; the feature count or more: a vertex per feature)")("help,h", "show this help");
  po::positional_options_description positional;
  positional.add("file", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
  if (vm.count("help")) {
    std::cout << "usage: ablate graph FILE [--set key=value]... [--out PREFIX] "
                 "[--input-groups N]\n\n"
              << options << "\n";
    return 0;
  }
  po::notify(vm);
  const int groups = vm["input-groups"].as<int>();
  if (groups < 0)
    throw ConfigError(fmt::format("--input-groups {} is negative; give 0 (no input vertices) or "
                                  "a positive number of groups",
                                  groups));
  std::vector<Override> overrides;
  if (vm.count("set"))
    for (const auto& text : vm["set"].as<std::vector<std::string>>())
      overrides.push_back(parse_override(text));

  Registry registry;
  const Experiment experiment = load_experiment(vm["file"].as<std::string>(), overrides, registry);
  const auto seed = static_cast<std::uint64_t>(experiment.experiment.integer("seed"));
  // The data shape exactly as the trainer sees it (task sequences may widen the classes).
  std::vector<Source> sources;
  for (std::size_t i = 0; i < experiment.datasets.size(); ++i) {
    const auto& choice = experiment.datasets[i];
    Rng rng = Rng::stream(seed, "data", i);
    sources.push_back(
        registry.create<Dataset>(Kind::dataset, choice.plugin, choice.params)->load(rng));
  }
  const PreparedData data =
      prepare_data(std::move(sources), experiment.split, experiment.tasks, seed);
  const auto topology = registry.create<Topology>(Kind::topology, experiment.topology.plugin,
                                                  experiment.topology.params);
  Rng init = Rng::stream(seed, "init");
  const std::vector<UnitLayer> layers =
      topology->build({data.shape, static_cast<int>(data.tasks.size())}, init)->unit_layers();
  const UnitGraph order(layers);  // refuses dangling inputs and cycles
  const UnitDigraph units = unit_digraph(layers, data.shape.features, groups);

  const std::string prefix = vm.count("out") ? vm["out"].as<std::string>() : experiment.name;
  std::ostringstream dot, graphml;
  write_dot(dot, units);
  write_graphml(graphml, units);
  write_atomic(prefix + ".dot", dot.str());
  write_atomic(prefix + ".graphml", graphml.str());
  std::string walk;
  for (int layer : order.forward_order())
    walk += (walk.empty() ? "" : " -> ") + layers[static_cast<std::size_t>(layer)].name;
  std::cout << fmt::format("{0}.dot, {0}.graphml: {1} vertices, {2} edges; layers forward: {3}\n",
                           prefix, boost::num_vertices(units), boost::num_edges(units), walk);
  return 0;
}

}  // namespace ablate::cli
