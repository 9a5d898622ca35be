#include "config/validate.hpp"

#include <algorithm>
#include <optional>

#include "config/location.hpp"
#include "config/study_sections.hpp"
#include "config/suggest.hpp"
#include "config/values.hpp"
#include "plugins/registry.hpp"

namespace ablate {
namespace fs = std::filesystem;
namespace {

/// A section that names a plugin with `plugin = "name"` and holds that plugin's parameters.
/// Sections of other shapes (the [[arm]], [[expect]] and [sweep] of stored experiments) get a
/// reader of their own in Validator::run and their name in known_sections().
struct PluginSection {
  const char* name;
  Kind kind;
  bool many;  // may be an array of tables, [[name]]
  bool required;
  const char* default_plugin;  // taken when the section is absent; nullptr: none
};

constexpr PluginSection kPluginSections[] = {
    {"dataset", Kind::dataset, true, true, nullptr},
    {"topology", Kind::topology, false, true, nullptr},
    {"orderer", Kind::orderer, false, false, "all"},
    {"capacity", Kind::capacity_law, false, false, nullptr},
    {"regularizer", Kind::regularizer, true, false, nullptr},
};

std::vector<std::string> known_sections() {
  std::vector<std::string> names;
  for (const auto& [name, field] : kHostSectionFields) names.emplace_back(name);
  for (const auto& section : kPluginSections) names.emplace_back(section.name);
  for (const char* name : kStudySections) names.emplace_back(name);
  return names;
}

/// "an orderer", "a topology".
std::string a(Kind kind) {
  const std::string word = to_string(kind);
  return (word.front() == 'o' ? "an " : "a ") + word;
}

bool contains(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

/// The host section that declares `key`, if one does.
std::optional<std::string> host_section_of(const std::string& key) {
  for (const auto& [section, specs] : host_sections())
    for (const auto& spec : specs)
      if (spec.name == key) return section;
  return std::nullopt;
}

const ParamSpec& plugin_key_spec() {
  static const ParamSpec spec = text("plugin", std::nullopt, "the plugin's name");
  return spec;
}

class Validator {
 public:
  Validator(const Document& document, const Registry& registry)
      : document_(document), registry_(registry), root_(document.root) {}

  Experiment run() {
    check_known_sections();
    // Their shape only: they plan studies (study/plan.cpp) and stay out of the resolved run.
    read_study_sections(root_);
    Experiment experiment;
    experiment.file = document_.file;
    for (const auto& [name, field] : kHostSectionFields) experiment.*field = host_section(name);
    check_experiment_section(experiment);
    for (const auto& section : kPluginSections) read_plugin_section(section, experiment);
    check_tasks(experiment);
    check_train(experiment.train);
    check_pipeline(experiment.pipeline);
    experiment.resolved_toml = write_resolved_toml(experiment, registry_);
    return experiment;
  }

 private:
  Location file_location() const { return {document_.file.string()}; }

  /// Where a top-level section starts; the file when the section is absent.
  Location section_location(const std::string& name) const {
    auto it = root_.find(name);
    return it == root_.end() ? file_location() : location_of(it->first.source());
  }

  /// Where section.key's value is; the section when the key is absent.
  std::string key_location(const std::string& section, const std::string& key) const {
    if (const toml::node* node = root_[section][key].node()) return location_of(*node).str();
    return section_location(section).str();
  }

  void check_known_sections() const {
    const std::vector<std::string> known = known_sections();
    for (auto&& [key, node] : root_) {
      const std::string name(key.str());
      if (contains(known, name)) continue;
      const std::string where = location_of(key.source()).str();
      if (!node.is_table() && !node.is_array_of_tables()) {
        if (const auto home = host_section_of(name))
          throw ConfigError("'" + name + "' is outside any section: it belongs in [" + *home + "]",
                            where);
        throw ConfigError("'" + name + "' is outside any section; sections: " + join(known), where);
      }
      throw ConfigError("unknown section [" + name + "];" + did_you_mean(name, known) +
                            " valid sections: " + join(known),
                        where);
    }
  }

  /// The value of a declared parameter. A string parameter set from the command line takes the
  /// text as typed when it did not read as a TOML string (`--set dataset.split=2024`).
  Value value_of(const toml::node& node, const ParamSpec& spec, const std::string& key) const {
    if (spec.type == ParamType::string && !node.is_string()) {
      const Location where = location_of(node);
      auto typed = document_.override_text.find(where.file);
      if (typed != document_.override_text.end()) {
        Value value(typed->second);
        check_allowed(value, spec, key, where.str());
        return value;
      }
    }
    return read_value(node, spec, key);
  }

  /// Every declared parameter of a section: its value, or its default. `prefix` names keys in
  /// messages ("train", "regularizer[1]"); `label` names the section ("[train]").
  Params read_params(const toml::table* table, const std::vector<ParamSpec>& specs,
                     const std::string& prefix, const std::string& label, const Location& where,
                     const std::vector<std::string>& other_keys) const {
    std::vector<std::string> valid = other_keys;
    for (const auto& spec : specs) valid.push_back(spec.name);
    if (table) check_known_keys(*table, valid, prefix, label);
    Params params;
    for (const auto& spec : specs) {
      const toml::node* node = table ? table->get(spec.name) : nullptr;
      if (node) {
        params.set(spec.name, value_of(*node, spec, prefix + "." + spec.name));
      } else if (spec.default_value) {
        check_default(spec, label);
        params.set(spec.name, *spec.default_value);
      } else {
        throw ConfigError(prefix + "." + spec.name + " is required in " + label + ": " +
                              spec.describe_allowed() +
                              (spec.doc.empty() ? "" : " (" + spec.doc + ")"),
                          where.str());
      }
    }
    return params;
  }

  Params host_section(const std::string& name) const {
    const toml::node* node = root_.get(name);
    const toml::table* table = node ? node->as_table() : nullptr;
    if (node && !table)
      throw ConfigError(
          "'" + name + "' must be a section [" + name + "], got " + describe_node(*node),
          section_location(name).str());
    return read_params(table, host_sections().at(name), name, "[" + name + "]",
                       section_location(name), {});
  }

  void check_experiment_section(Experiment& experiment) const {
    experiment.name = experiment.experiment.string("name");
    const std::string& name = experiment.name;
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
      throw ConfigError(
          "experiment.name = " + to_toml(Value(name)) +
              " cannot name a folder: runs go to runs/<name>/; use a name without '/'",
          key_location("experiment", "name"));
    // Includes are merged while the files are read; only an override can leave one here.
    if (!experiment.experiment.strings("include").empty())
      throw ConfigError(
          "experiment.include cannot be set from the command line: includes are "
          "read with the file",
          key_location("experiment", "include"));
    experiment.plugin_paths = experiment_plugin_paths(document_);
    std::vector<std::string> absolute;
    for (const auto& path : experiment.plugin_paths) absolute.push_back(path.string());
    experiment.experiment.set("plugin_paths", absolute);
  }

  void read_plugin_section(const PluginSection& section, Experiment& experiment) const {
    std::vector<PluginChoice> choices = plugin_choices(section);
    switch (section.kind) {
      case Kind::dataset:
        experiment.datasets = std::move(choices);
        break;
      case Kind::topology:
        experiment.topology = std::move(choices.front());
        break;
      case Kind::orderer:
        experiment.orderer = std::move(choices.front());
        break;
      case Kind::capacity_law:
        if (!choices.empty()) experiment.capacity = std::move(choices.front());
        break;
      case Kind::regularizer:
        experiment.regularizers = std::move(choices);
        break;
    }
  }

  std::vector<PluginChoice> plugin_choices(const PluginSection& section) const {
    const std::string name = section.name;
    const toml::node* node = root_.get(name);
    const Location where = section_location(name);
    if (!node) {
      if (section.default_plugin) return {default_choice(section)};
      if (section.required)
        throw ConfigError("missing section [" + name + "]: it names " + a(section.kind) +
                              " plugin, plugin = \"...\"; " + to_string(section.kind) +
                              " plugins: " + registry_.names(section.kind),
                          file_location().str());
      return {};
    }
    if (const toml::table* table = node->as_table())
      return {plugin_choice(*table, section.kind, name, where)};
    const toml::array* array = node->as_array();
    if (array && array->is_array_of_tables()) {
      if (!section.many)
        throw ConfigError("only one [" + name + "] table is allowed, found " +
                              std::to_string(array->size()) + " [[" + name + "]] tables",
                          where.str());
      std::vector<PluginChoice> choices;
      for (std::size_t i = 0; i < array->size(); ++i) {
        const toml::node& item = *array->get(i);
        choices.push_back(plugin_choice(*item.as_table(), section.kind,
                                        name + "[" + std::to_string(i) + "]", location_of(item)));
      }
      return choices;
    }
    throw ConfigError("'" + name + "' must be a table [" + name + "]" +
                          (section.many ? " or tables [[" + name + "]]" : "") + ", got " +
                          describe_node(*node),
                      where.str());
  }

  PluginChoice plugin_choice(const toml::table& table, Kind kind, const std::string& section,
                             const Location& where) const {
    const toml::node* plugin = table.get("plugin");
    if (!plugin)
      throw ConfigError(section + ".plugin is required: the name of " + a(kind) + " plugin (" +
                            registry_.names(kind) + ")",
                        where.str());
    const std::string key = section + ".plugin";
    const std::string name = std::get<std::string>(value_of(*plugin, plugin_key_spec(), key));
    const PluginEntry& entry = find_plugin(kind, name, key, location_of(*plugin).str());
    const bool in_array = section.find('[') != std::string::npos;
    const std::string label =
        (in_array ? section : "[" + section + "]") + " of plugin '" + name + "'";
    return {kind, section, name,
            read_params(&table, entry.info->params, section, label, where, {"plugin"}), where};
  }

  PluginChoice default_choice(const PluginSection& section) const {
    const std::string name = section.name;
    const std::string plugin = section.default_plugin;
    const PluginEntry& entry =
        find_plugin(section.kind, plugin, name + ".plugin (the default without [" + name + "])",
                    file_location().str());
    return {section.kind, name, plugin,
            read_params(nullptr, entry.info->params, name,
                        "[" + name + "] of plugin '" + plugin + "'", file_location(), {"plugin"}),
            file_location()};
  }

  const PluginEntry& find_plugin(Kind kind, const std::string& name, const std::string& key,
                                 const std::string& where) const {
    const PluginEntry* entry = registry_.find(name);
    if (!entry) {
      std::vector<std::string> names;
      for (const PluginEntry* candidate : registry_.entries(kind))
        names.push_back(candidate->info->name);
      throw ConfigError(key + " = " + to_toml(Value(name)) + ": there is no " + to_string(kind) +
                            " plugin of that name;" + did_you_mean(name, names) + " " +
                            to_string(kind) + " plugins: " + registry_.names(kind),
                        where);
    }
    if (entry->info->kind != kind)
      throw ConfigError(key + ": '" + name + "' is " + a(entry->info->kind) + ", not " + a(kind) +
                            "; " + to_string(kind) + " plugins: " + registry_.names(kind),
                        where);
    return *entry;
  }

  void check_tasks(const Experiment& experiment) const {
    const std::string& mode = experiment.tasks.string("mode");
    const bool takes_several = mode == "sequence" || mode == "joint";
    const std::size_t count = experiment.datasets.size();
    if (count > 1 && !takes_several)
      throw ConfigError(std::to_string(count) +
                            " [[dataset]] tables need tasks.mode = \"sequence\" "
                            "or \"joint\", not \"" +
                            mode + "\"",
                        experiment.datasets[1].where.str());
    if (takes_several && count < 2)
      throw ConfigError("tasks.mode = \"" + mode +
                            "\" needs two or more [[dataset]] tables, found " +
                            std::to_string(count),
                        key_location("tasks", "mode"));
  }

  void check_train(const Params& train) const {
    if (train.string("optimizer") == "sgd" && train.boolean("nesterov") &&
        train.real("momentum") == 0)
      throw ConfigError("train.nesterov = true needs train.momentum > 0",
                        key_location("train", "nesterov"));
  }

  /// pipeline.sums_from: an existing sumcache.bin, or a run directory holding one; made absolute
  /// (a --set value is taken from the working directory), so a resumed run finds it again.
  void check_pipeline(Params& pipeline) const {
    const std::string from = pipeline.string("sums_from");
    if (from.empty()) return;
    fs::path file = fs::absolute(from).lexically_normal();
    std::error_code error;
    if (fs::is_directory(file, error)) file /= "sumcache.bin";
    if (!fs::is_regular_file(file, error))
      throw ConfigError("pipeline.sums_from = \"" + from + "\": no sum cache at " + file.string() +
                            " (give a run directory holding sumcache.bin, or the file itself)",
                        key_location("pipeline", "sums_from"));
    pipeline.set("sums_from", file.string());
  }

  const Document& document_;
  const Registry& registry_;
  const toml::table& root_;
};

}  // namespace

void check_known_keys(const toml::table& table, const std::vector<std::string>& valid,
                      const std::string& prefix, const std::string& label) {
  for (auto&& [key, node] : table) {
    const std::string name(key.str());
    if (contains(valid, name)) continue;
    std::string hint = did_you_mean(name, valid);
    // A key of another section usually means that section's header is missing above it.
    if (const auto home = host_section_of(name); hint.empty() && home && *home != prefix)
      hint = " '" + name + "' is a key of [" + *home + "]: is the [" + *home +
             "] header missing above it?";
    throw ConfigError("unknown key '" + prefix + "." + name + "';" + hint + " valid keys in " +
                          label + ": " + join(valid),
                      location_of(key.source()).str());
  }
}

std::vector<fs::path> experiment_plugin_paths(const Document& document) {
  const toml::node* node = document.root["experiment"]["plugin_paths"].node();
  if (!node) return {};
  const auto paths = std::get<std::vector<std::string>>(
      read_value(*node, host_param("experiment", "plugin_paths"), "experiment.plugin_paths"));
  std::vector<fs::path> folders;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    const fs::path folder = fs::absolute(paths[i]).lexically_normal();
    std::error_code error;
    if (!fs::is_directory(folder, error))
      throw ConfigError("experiment.plugin_paths[" + std::to_string(i) + "]: '" + folder.string() +
                            "' is not a folder (plugin_paths are relative to the file naming them)",
                        location_of(*node->as_array()->get(i)).str());
    folders.push_back(folder);
  }
  return folders;
}

Experiment validate_experiment(const Document& document, const Registry& registry) {
  return Validator(document, registry).run();
}

}  // namespace ablate
