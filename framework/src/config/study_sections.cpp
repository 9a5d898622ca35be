#include "config/study_sections.hpp"

#include <algorithm>
#include <cmath>
#include <regex>
#include <sstream>

#include "config/location.hpp"
#include "config/suggest.hpp"
#include "config/validate.hpp"
#include "config/values.hpp"

namespace ablate {
namespace {

// The declared keys of the study tables: read_value checks their types and ranges.
const ParamSpec kArmName =
    text("name", std::nullopt, "the arm's name, as checks write it: name.metric");
const ParamSpec kArmDescription = text("description", "", "what the arm changes, and why");
const ParamSpec kFinding = text("finding", std::nullopt, "the finding, as a sentence");
const ParamSpec kCheck = text("check", std::nullopt, "a condition over arm.metric figures");
const ParamSpec kRegimeKey =
    text("key", std::nullopt, "the key whose values every arm is run at, as --set writes it");
const ParamSpec kMode = choice("mode", "grid", {"grid", "zip", "random"},
                               "grid: every combination; zip: the i-th values together; random: "
                               "`trials` points drawn");
const ParamSpec kTrials = integer("trials", std::nullopt, 1, kInf, "points drawn (random)");
const ParamSpec kSeed =
    integer("seed", std::nullopt, 0, kInf, "seed of the random draws (default experiment.seed)");
const ParamSpec kMin = real("min", std::nullopt, -kInf, kInf, "smallest value drawn");
const ParamSpec kMax = real("max", std::nullopt, -kInf, kInf, "largest value drawn");
const ParamSpec kLog = flag("log", false, "draw uniformly in log space (min > 0)");
const ParamSpec kInteger = flag("integer", false, "draw integers");

// Keys a study decides itself: seeds come from experiment.seeds, includes from the file.
const char* const kReservedPaths[] = {"experiment.seed", "experiment.seeds", "experiment.include"};

/// The entries of a table in the order the file writes them (toml++ keeps them sorted by name).
std::vector<std::pair<std::string, const toml::node*>> in_file_order(const toml::table& table) {
  std::vector<std::pair<std::string, const toml::node*>> entries;
  for (auto&& [key, node] : table) entries.emplace_back(std::string(key.str()), &node);
  auto position = [&](const std::string& name) { return table.find(name)->first.source().begin; };
  std::stable_sort(entries.begin(), entries.end(), [&](const auto& a, const auto& b) {
    const auto pa = position(a.first), pb = position(b.first);
    return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
  });
  return entries;
}

/// A declared key of a study table: its value, its default, or a ConfigError when required.
Value read_key(const toml::table& table, const ParamSpec& spec, const std::string& prefix,
               const Location& where) {
  const std::string key = prefix + "." + spec.name;
  if (const toml::node* node = table.get(spec.name)) return read_value(*node, spec, key);
  if (spec.default_value) return *spec.default_value;
  throw ConfigError(key + " is required: " + spec.describe_allowed() + " (" + spec.doc + ")",
                    where.str());
}

std::string read_string(const toml::table& table, const ParamSpec& spec, const std::string& prefix,
                        const Location& where) {
  return std::get<std::string>(read_key(table, spec, prefix, where));
}

void check_path(const Setting& setting, const std::string& owner) {
  for (const char* reserved : kReservedPaths)
    if (setting.path == reserved)
      throw ConfigError(owner + " sets " + setting.path +
                            ": a study runs every trial with each seed of experiment.seeds "
                            "(and includes come from the file); set experiment.seeds instead",
                        setting.where.str());
}

/// A range table of a random sweep: { min = , max = , log = , integer = }.
bool is_range(const toml::table& table) {
  return table.contains("min") || table.contains("max") || table.contains("log") ||
         table.contains("integer");
}

/// `set` of an arm, nested tables flattened into dotted paths ({ train = { lr = 1 } } is
/// "train.lr"); each entry stops at a non-table value, or at a range when `ranges` is set.
template <class Visit>
void flatten(const toml::table& table, const std::string& prefix, bool ranges, Visit visit) {
  for (const auto& [name, node] : in_file_order(table)) {
    const std::string path = prefix.empty() ? name : prefix + "." + name;
    const toml::table* inner = node->as_table();
    if (inner && !(ranges && is_range(*inner)))
      flatten(*inner, path, ranges, visit);
    else
      visit(path, *node);
  }
}

const toml::table& require_table(const toml::node& node, const std::string& key,
                                 const std::string& what) {
  if (const toml::table* table = node.as_table()) return *table;
  throw ConfigError(key + ": expected " + what + ", got " + describe_node(node),
                    location_of(node).str());
}

/// The tables of [[name]]: ConfigError for [name] or a value.
const toml::array* array_of_tables(const toml::table& root, const std::string& name) {
  const toml::node* node = root.get(name);
  if (!node) return nullptr;
  const toml::array* array = node->as_array();
  if (array && array->is_array_of_tables()) return array;
  throw ConfigError("'" + name + "' must be written as tables [[" + name + "]] (one per " + name +
                        "), got " + describe_node(*node),
                    location_of(root.find(name)->first.source()).str());
}

ArmSection read_arm(const toml::table& table, std::size_t index) {
  const std::string prefix = "arm[" + std::to_string(index) + "]";
  const Location where = location_of(table);
  check_known_keys(table, {"name", "description", "set"}, prefix, "[[arm]]");
  ArmSection arm;
  arm.where = where;
  arm.name = read_string(table, kArmName, prefix, where);
  static const std::regex identifier("[A-Za-z_][A-Za-z0-9_]*");
  if (!std::regex_match(arm.name, identifier) || arm.name == "and" || arm.name == "or" ||
      arm.name == "not")
    throw ConfigError(prefix + ".name = " + to_toml(Value(arm.name)) +
                          ": an arm's name is an identifier (letters, digits, _; not and/or/not) "
                          "so that checks can write it as name.metric",
                      location_of(*table.get("name")).str());
  arm.description = read_string(table, kArmDescription, prefix, where);
  const std::string owner = "arm '" + arm.name + "'";
  if (const toml::node* set = table.get("set"))
    flatten(require_table(*set, prefix + ".set", "a table of \"section.key\" = value"), "", false,
            [&](const std::string& path, const toml::node& value) {
              Setting setting{path, toml_text(value), location_of(value)};
              check_path(setting, owner);
              for (const Setting& earlier : arm.settings)
                if (earlier.path == path)
                  throw ConfigError(
                      owner + " sets " + path + " twice (also at " + earlier.where.str() + ")",
                      setting.where.str());
              arm.settings.push_back(std::move(setting));
            });
  return arm;
}

std::vector<ArmSection> read_arms(const toml::table& root) {
  std::vector<ArmSection> arms;
  const toml::array* array = array_of_tables(root, "arm");
  if (!array) return arms;
  for (std::size_t i = 0; i < array->size(); ++i) {
    ArmSection arm = read_arm(*array->get(i)->as_table(), i);
    for (const ArmSection& earlier : arms)
      if (earlier.name == arm.name)
        throw ConfigError("two arms are named '" + arm.name + "' (the other at " +
                              earlier.where.str() + "): arm names must be unique",
                          location_of(*array->get(i)->as_table()->get("name")).str());
    arms.push_back(std::move(arm));
  }
  return arms;
}

/// A non-empty list of distinct values, each as a Setting of `path`.
std::vector<Setting> read_values(const toml::node& node, const std::string& key,
                                 const std::string& path, const std::string& what) {
  const toml::array* values = node.as_array();
  if (!values || values->empty())
    throw ConfigError(key + ": expected a non-empty list of " + what + ", got " +
                          describe_node(node),
                      location_of(node).str());
  std::vector<Setting> out;
  for (const toml::node& value : *values) {
    Setting setting{path, toml_text(value), location_of(value)};
    for (const Setting& earlier : out)
      if (earlier.value == setting.value)
        throw ConfigError(key + " lists " + setting.value + " twice", setting.where.str());
    out.push_back(std::move(setting));
  }
  return out;
}

std::optional<RegimeSection> read_regime(const toml::table& root) {
  const toml::node* node = root.get("regime");
  if (!node) return std::nullopt;
  const Location where = location_of(root.find("regime")->first.source());
  const toml::table& table = require_table(*node, "regime", "a table [regime]");
  check_known_keys(table, {"key", "values"}, "regime", "[regime]");
  RegimeSection regime;
  regime.where = where;
  regime.path = read_string(table, kRegimeKey, "regime", where);
  check_path({regime.path, "", location_of(*table.get("key"))}, "[regime]");
  const toml::node* values = table.get("values");
  if (!values)
    throw ConfigError("regime.values is required: the values of " + regime.path +
                          " to run every arm at, e.g. values = [250, 1000, 4000]",
                      where.str());
  regime.values = read_values(*values, "regime.values", regime.path, "values of " + regime.path);
  return regime;
}

std::vector<ExpectSection> read_expectations(const toml::table& root) {
  std::vector<ExpectSection> expectations;
  const toml::array* array = array_of_tables(root, "expect");
  if (!array) return expectations;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::table& table = *array->get(i)->as_table();
    const std::string prefix = "expect[" + std::to_string(i) + "]";
    const Location where = location_of(table);
    check_known_keys(table, {"finding", "check", "holds_for"}, prefix, "[[expect]]");
    ExpectSection expect;
    expect.finding = read_string(table, kFinding, prefix, where);
    expect.check = read_string(table, kCheck, prefix, where);
    expect.where = location_of(*table.get("check"));
    if (const toml::node* holds_for = table.get("holds_for"))
      expect.holds_for = read_values(*holds_for, prefix + ".holds_for", "", "[regime] values");
    expectations.push_back(std::move(expect));
  }
  return expectations;
}

bool is_whole(double x) { return std::isfinite(x) && x == std::floor(x); }

SweepRange read_range(const toml::table& table, const std::string& key) {
  check_known_keys(table, {"min", "max", "log", "integer"}, key, "a range of [sweep.keys]");
  const Location where = location_of(table);
  SweepRange range;
  range.min = std::get<double>(read_key(table, kMin, key, where));
  range.max = std::get<double>(read_key(table, kMax, key, where));
  range.log = std::get<bool>(read_key(table, kLog, key, where));
  range.integer = std::get<bool>(read_key(table, kInteger, key, where));
  auto fail = [&](const std::string& message) {
    throw ConfigError(key + ": " + message, where.str());
  };
  if (!std::isfinite(range.min) || !std::isfinite(range.max) || range.min > range.max)
    fail("min and max must be finite, with min <= max (got min = " + to_toml(Value(range.min)) +
         ", max = " + to_toml(Value(range.max)) + ")");
  if (range.log && range.min <= 0) fail("log = true needs min > 0");
  if (range.integer && (!is_whole(range.min) || !is_whole(range.max)))
    fail("integer = true needs whole numbers as min and max");
  return range;
}

SweepKey read_sweep_key(const std::string& path, const toml::node& node, const std::string& mode) {
  const std::string key = "sweep.keys.\"" + path + "\"";
  SweepKey sweep_key{path, location_of(node), {}, std::nullopt};
  check_path({path, "", sweep_key.where}, "[sweep]");
  if (const toml::table* table = node.as_table()) {
    if (mode != "random")
      throw ConfigError(key + ": a range { min, max } needs mode = \"random\"; mode = \"" + mode +
                            "\" takes a list of values",
                        sweep_key.where.str());
    sweep_key.range = read_range(*table, key);
    return sweep_key;
  }
  const toml::array* values = node.as_array();
  if (!values || values->empty())
    throw ConfigError(key + ": expected a non-empty list of the values to try" +
                          std::string(mode == "random" ? " or a range { min = , max = }" : "") +
                          ", got " + describe_node(node),
                      sweep_key.where.str());
  for (const toml::node& value : *values)
    sweep_key.choices.push_back({path, toml_text(value), location_of(value)});
  return sweep_key;
}

std::optional<SweepSection> read_sweep(const toml::table& root) {
  const toml::node* node = root.get("sweep");
  if (!node) return std::nullopt;
  const Location where = location_of(root.find("sweep")->first.source());
  const toml::table& table = require_table(*node, "sweep", "a table [sweep]");
  check_known_keys(table, {"mode", "keys", "trials", "seed"}, "sweep", "[sweep]");
  SweepSection sweep;
  sweep.where = where;
  sweep.mode = read_string(table, kMode, "sweep", where);
  const bool random = sweep.mode == "random";
  for (const ParamSpec* spec : {&kTrials, &kSeed}) {
    const toml::node* value = table.get(spec->name);
    if (value && !random)
      throw ConfigError("sweep." + spec->name +
                            " is only read by mode = \"random\" (this sweep is \"" + sweep.mode +
                            "\")",
                        location_of(*value).str());
  }
  if (random) {
    sweep.trials = std::get<std::int64_t>(read_key(table, kTrials, "sweep", where));
    if (table.contains("seed"))
      sweep.seed = std::get<std::int64_t>(read_key(table, kSeed, "sweep", where));
  }
  const toml::node* keys = table.get("keys");
  if (!keys)
    throw ConfigError(
        "sweep.keys is required: a table of \"section.key\" = [values...], e.g. "
        "keys = { \"train.lr\" = [0.01, 0.1] }",
        where.str());
  flatten(require_table(*keys, "sweep.keys", "a table of \"section.key\" = [values...]"), "", true,
          [&](const std::string& path, const toml::node& value) {
            sweep.keys.push_back(read_sweep_key(path, value, sweep.mode));
          });
  if (sweep.keys.empty())
    throw ConfigError("sweep.keys is empty: name at least one key to vary",
                      location_of(*keys).str());
  if (sweep.mode == "zip")
    for (const SweepKey& other : sweep.keys)
      if (other.choices.size() != sweep.keys.front().choices.size())
        throw ConfigError(
            "mode = \"zip\" takes the i-th value of every key together, so the lists "
            "need the same length: " +
                sweep.keys.front().path + " has " +
                std::to_string(sweep.keys.front().choices.size()) + ", " + other.path + " has " +
                std::to_string(other.choices.size()),
            other.where.str());
  return sweep;
}

}  // namespace

StudySections read_study_sections(const toml::table& root) {
  StudySections sections{read_arms(root), read_expectations(root), read_sweep(root),
                         read_regime(root)};
  for (const ExpectSection& expect : sections.expectations) {
    if (!expect.holds_for) continue;
    if (!sections.regime)
      throw ConfigError("holds_for names values of a [regime], and this file has none: add "
                        "[regime] key = \"...\" values = [...], or drop holds_for",
                        expect.holds_for->front().where.str());
    for (const Setting& value : *expect.holds_for) {
      std::vector<std::string> valid;
      for (const Setting& v : sections.regime->values) valid.push_back(v.value);
      if (std::find(valid.begin(), valid.end(), value.value) == valid.end())
        throw ConfigError("holds_for lists " + value.value + ", which is not a value of " +
                              sections.regime->path + "; its values: " + join(valid),
                          value.where.str());
    }
  }
  // An arm that sets the regime key is a control the regime does not move; if all are, the
  // regime moves nothing.
  if (sections.regime && !sections.arms.empty() &&
      std::all_of(sections.arms.begin(), sections.arms.end(),
                  [&](const ArmSection& arm) { return arm.sets(sections.regime->path); }))
    throw ConfigError("every arm sets " + sections.regime->path +
                          " itself, so the [regime] moves none of them: let at least one arm "
                          "follow it, or drop [regime]",
                      sections.regime->where.str());
  return sections;
}

std::string toml_text(const toml::node& node) {
  if (const auto* text = node.as_string()) return to_toml(Value(text->get()));
  if (const auto* number = node.as_integer()) return std::to_string(number->get());
  if (const auto* number = node.as_floating_point()) return to_toml(Value(number->get()));
  if (const auto* flag = node.as_boolean()) return flag->get() ? "true" : "false";
  if (const auto* array = node.as_array()) {
    std::vector<std::string> items;
    for (const toml::node& item : *array) items.push_back(toml_text(item));
    return "[" + join(items) + "]";
  }
  if (const auto* table = node.as_table()) {
    std::vector<std::string> items;
    for (const auto& [name, item] : in_file_order(*table))
      items.push_back(to_toml(Value(name)) + " = " + toml_text(*item));
    return "{ " + join(items) + " }";
  }
  std::ostringstream out;  // dates and times, as TOML writes them
  node.visit([&](const auto& value) { out << value; });
  return out.str();
}

}  // namespace ablate
