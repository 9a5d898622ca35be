#pragma once
// An experiment as TOML: loading (includes, --set overrides), validation against every plugin's
// declared parameters, and the resolved form written into a run directory.
//
// Sections: [experiment] [split] [tasks] [train] [pipeline] are the host's; [dataset] [topology] [orderer]
// [capacity] and [[regularizer]] name a plugin (`plugin = "name"`) and hold its parameters.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ablate/params.hpp"
#include "ablate/plugin.hpp"

namespace ablate {

class Registry;

/// Where a value came from: "configs/x.toml:12:5", or "--set train.lr".
struct Location {
  std::string file;
  int line = 0;
  int column = 0;
  std::string str() const;
};

/// A section that selects a plugin: its kind, the plugin's name, validated parameters.
struct PluginChoice {
  Kind kind = Kind::orderer;
  std::string section;  // "topology", "regularizer[2]"
  std::string plugin;
  Params params;
  Location where;
};

/// "key = value" from --set: a dotted path and the text of a TOML value ("0.1", "[64, 64]",
/// "relu" or "\"relu\""); typed by the parameter's declared type.
struct Override {
  std::string path;
  std::string value;
};
Override parse_override(const std::string& text);  // "a.b=value"; ConfigError if malformed

struct Experiment {
  std::filesystem::path file;
  std::string name;
  Params experiment, split, tasks, train, pipeline;  // the host's sections, defaults filled in
  std::vector<PluginChoice> datasets;      // [dataset], or [[dataset]] for a sequence / joint tasks
  PluginChoice topology, orderer;          // [orderer] absent: the `all` orderer
  std::optional<PluginChoice> capacity;
  std::vector<PluginChoice> regularizers;
  std::vector<std::filesystem::path> plugin_paths;  // absolute
  std::string resolved_toml;  // the whole experiment, includes and overrides applied
};

/// The host's own sections and their parameters (for validation and `ablate describe`).
const std::map<std::string, std::vector<ParamSpec>>& host_sections();
/// One parameter of a host section; ablate::Error if it is not declared (a host bug).
const ParamSpec& host_param(const std::string& section, const std::string& name);

/// The one check that needs the built Topology: a [capacity] section is an error when the topology
/// does not use capacity. The trainer calls it right after building the plugins, before training;
/// the ConfigError points at the [capacity] section.
void check_capacity_use(const Experiment& experiment, bool topology_uses_capacity);

/// Reads, merges and validates. Every problem throws ConfigError whose where() is
/// "file:line:col" and whose message names the key and what would be valid.
/// `registry` is scanned first with the experiment's plugin_paths.
Experiment load_experiment(const std::filesystem::path& file,
                           const std::vector<Override>& overrides, Registry& registry);

}  // namespace ablate
