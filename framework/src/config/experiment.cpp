// load_experiment: read, override, find the plugins, validate.
#include "config/experiment.hpp"

#include "config/document.hpp"
#include "config/validate.hpp"
#include "plugins/registry.hpp"

namespace ablate {

Experiment load_experiment(const std::filesystem::path& file,
                           const std::vector<Override>& overrides, Registry& registry) {
  Document document = read_document(file);
  apply_overrides(document, overrides);
  registry.scan(Registry::search_path(experiment_plugin_paths(document)));
  return validate_experiment(document, registry);
}

void check_capacity_use(const Experiment& experiment, bool topology_uses_capacity) {
  if (!experiment.capacity || topology_uses_capacity) return;
  throw ConfigError("[capacity] is set (plugin '" + experiment.capacity->plugin +
                        "'), but topology '" + experiment.topology.plugin +
                        "' does not use capacity: remove [capacity] or choose a topology that "
                        "applies it",
                    experiment.capacity->where.str());
}

}  // namespace ablate
