// The resolved experiment as TOML: what a run directory's config.toml holds. Loading it again
// gives the same Experiment, so a run can be repeated from its record alone.
#include <algorithm>
#include <regex>
#include <sstream>

#include "config/validate.hpp"
#include "plugins/registry.hpp"

namespace ablate {
namespace {

std::string key_text(const std::string& name) {
  static const std::regex bare("[A-Za-z0-9_-]+");
  return std::regex_match(name, bare) ? name : to_toml(Value(name));
}

void write_params(std::ostream& out, const Params& params, const std::vector<ParamSpec>& specs) {
  for (const auto& spec : specs) {
    if (!params.has(spec.name)) continue;
    out << key_text(spec.name) << " = " << to_toml(params.values().at(spec.name));
    std::string doc = spec.doc;
    std::replace(doc.begin(), doc.end(), '\n', ' ');
    if (!doc.empty()) out << "  # " << doc;
    out << "\n";
  }
}

void write_choice(std::ostream& out, const PluginChoice& choice, const Registry& registry) {
  const auto bracket = choice.section.find('[');
  if (bracket == std::string::npos)
    out << "\n[" << choice.section << "]\n";
  else
    out << "\n[[" << choice.section.substr(0, bracket) << "]]\n";
  out << "plugin = " << to_toml(Value(choice.plugin)) << "\n";
  const PluginEntry* entry = registry.find(choice.kind, choice.plugin);
  if (!entry) throw Error("plugin '" + choice.plugin + "' left the registry after validation");
  write_params(out, choice.params, entry->info->params);
}

}  // namespace

std::string write_resolved_toml(const Experiment& experiment, const Registry& registry) {
  std::ostringstream out;
  out << "# The resolved experiment: includes merged, --set overrides applied, every default "
         "filled in.\n";
  for (const auto& [name, field] : kHostSectionFields) {
    std::vector<ParamSpec> specs = host_sections().at(name);
    // Already merged: writing the list again would read the files twice.
    std::erase_if(specs, [](const ParamSpec& spec) { return spec.name == "include"; });
    out << "\n[" << name << "]\n";
    write_params(out, experiment.*field, specs);
  }
  for (const auto& dataset : experiment.datasets) write_choice(out, dataset, registry);
  write_choice(out, experiment.topology, registry);
  write_choice(out, experiment.orderer, registry);
  if (experiment.capacity) write_choice(out, *experiment.capacity, registry);
  for (const auto& regularizer : experiment.regularizers) write_choice(out, regularizer, registry);
  return out.str();
}

}  // namespace ablate
