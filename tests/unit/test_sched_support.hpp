#pragma once
// Helpers of the schedule tests (issue 4): the orderer and capacity-law plugins loaded from the
// build, made with their declared defaults; small unit graphs and sum caches written by hand.
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "ablate/capacity.hpp"
#include "ablate/orderer.hpp"
#include "plugins/registry.hpp"

namespace ablate::test {

/// The six schedule plugins, loaded once from the build's plugin folder.
inline Registry& schedule_plugins() {
  static Registry registry = [] {
    Registry r;
    for (const char* name :
         {"forward", "backward", "gold_zone", "instant", "moving_average", "exponential"})
      r.load(std::filesystem::path(ABLATE_PLUGIN_BUILD_DIR) / (std::string(name) + ".so"));
    return r;
  }();
  return registry;
}

/// Every declared default of plugin `name`, then `set` over them (as the config loader would).
inline Params plugin_params(const std::string& name, const std::map<std::string, Value>& set = {}) {
  const PluginEntry* entry = schedule_plugins().find(name);
  if (!entry) throw Error("test: no schedule plugin named " + name);
  Params params;
  for (const ParamSpec& spec : entry->info->params)
    if (spec.default_value) params.set(spec.name, *spec.default_value);
  for (const auto& [key, value] : set) params.set(key, value);
  return params;
}

inline std::shared_ptr<Orderer> make_orderer(const std::string& name,
                                             const std::map<std::string, Value>& set = {}) {
  return schedule_plugins().create<Orderer>(Kind::orderer, name, plugin_params(name, set));
}

inline std::shared_ptr<CapacityLaw> make_law(const std::string& name,
                                             const std::map<std::string, Value>& set = {}) {
  return schedule_plugins().create<CapacityLaw>(Kind::capacity_law, name, plugin_params(name, set));
}

/// An MLP-shaped unit graph: layers "h1".."hK" of the given sizes, then "out".
inline UnitGraph mlp_graph(const std::vector<int>& hidden, int outputs) {
  std::vector<UnitLayer> layers;
  for (std::size_t k = 0; k < hidden.size(); ++k) {
    std::string name = "h";
    name += std::to_string(k + 1);  // not "h" + ...: GCC 12 warns falsely on it (-Wrestrict)
    layers.push_back({std::move(name), hidden[k],
                      k == 0 ? std::vector<int>{} : std::vector<int>{static_cast<int>(k) - 1}});
  }
  layers.push_back({"out", outputs,
                    hidden.empty() ? std::vector<int>{}
                                   : std::vector<int>{static_cast<int>(hidden.size()) - 1}});
  return UnitGraph(std::move(layers));
}

}  // namespace ablate::test
