#pragma once
// Validation of a merged experiment document against the host's sections and every plugin's
// declared parameters: everything is checked before anything runs.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "config/document.hpp"
#include "config/experiment.hpp"

namespace ablate {

/// The host's sections and the Experiment members that hold them, in the order they are written.
inline constexpr std::pair<const char*, Params Experiment::*> kHostSectionFields[] = {
    {"experiment", &Experiment::experiment},
    {"split", &Experiment::split},
    {"tasks", &Experiment::tasks},
    {"train", &Experiment::train},
    {"pipeline", &Experiment::pipeline},
};

/// [experiment] plugin_paths, checked (a list of existing folders) and absolute; relative ones
/// (only an override can leave one) are taken from the working directory.
std::vector<std::filesystem::path> experiment_plugin_paths(const Document& document);

/// The Experiment the document describes, every default filled in. `registry` must already
/// hold the plugins (scanned with experiment_plugin_paths).
Experiment validate_experiment(const Document& document, const Registry& registry);

/// ConfigError at the first key of `table` not in `valid`, with "did you mean" and the valid
/// keys; `prefix` names keys in the message ("train", "arm[1]"), `label` the section ("[train]").
void check_known_keys(const toml::table& table, const std::vector<std::string>& valid,
                      const std::string& prefix, const std::string& label);

/// The resolved experiment as TOML: every section and key written out, in declaration order.
std::string write_resolved_toml(const Experiment& experiment, const Registry& registry);

}  // namespace ablate
