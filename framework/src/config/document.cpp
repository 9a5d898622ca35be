#include "config/document.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>

#include "config/location.hpp"
#include "config/values.hpp"

namespace ablate {
namespace fs = std::filesystem;
namespace {

toml::table parse_file(const fs::path& file, const std::string& read_from) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    // Why, as the system says it (no such file, permission denied, file name too long...).
    std::string why = errno ? std::strerror(errno) : "cannot be opened";
    why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
    throw ConfigError("cannot read experiment file '" + file.string() + "': " + why,
                      read_from.empty() ? file.string() : read_from);
  }
  std::stringstream content;
  content << in.rdbuf();
  try {
    return toml::parse(content.str(), file.string());
  } catch (const toml::parse_error& error) {
    throw ConfigError("TOML syntax error: " + std::string(error.description()),
                      location_of(error.source()).str());
  }
}

/// plugin_paths and pipeline.sums_from name paths relative to the file that holds them: resolved
/// before merging, while that file is still known. Anything that is not a string is left for
/// validation.
void make_paths_absolute(toml::table& root, const fs::path& file) {
  const fs::path base = fs::absolute(file).parent_path();
  auto resolve = [&](toml::node& node) {
    if (auto* path = node.as_string(); path && !path->get().empty() &&
                                       fs::path(path->get()).is_relative())
      path->get() = (base / path->get()).lexically_normal().string();
  };
  if (toml::array* paths = root["experiment"]["plugin_paths"].as_array())
    for (auto& item : *paths) resolve(item);
  if (toml::node* from = root["pipeline"]["sums_from"].node()) resolve(*from);
}

class IncludeReader {
 public:
  toml::table read(const fs::path& file, const std::string& read_from) {
    toml::table root = parse_file(file, read_from);
    make_paths_absolute(root, file);
    toml::table merged;
    if (toml::table* experiment = root["experiment"].as_table()) {
      if (const toml::node* include = experiment->get("include")) {
        read_value(*include, host_param("experiment", "include"), "experiment.include");
        chain_.push_back(file);
        for (const auto& item : *include->as_array()) {
          const fs::path included =
              (file.parent_path() / item.as_string()->get()).lexically_normal();
          const std::string where = location_of(item).str();
          check_no_cycle(included, where);
          merge_into(merged, read(included, where));
        }
        chain_.pop_back();
        experiment->erase("include");
      }
    }
    merge_into(merged, std::move(root));
    return merged;
  }

 private:
  void check_no_cycle(const fs::path& included, const std::string& where) const {
    std::error_code error;
    const fs::path target = fs::weakly_canonical(included, error);
    for (std::size_t i = 0; i < chain_.size(); ++i) {
      if (fs::weakly_canonical(chain_[i], error) != target) continue;
      std::string cycle;
      for (std::size_t j = i; j < chain_.size(); ++j) cycle += chain_[j].string() + " -> ";
      throw ConfigError("include cycle: " + cycle + included.string(), where);
    }
  }

  std::vector<fs::path> chain_;  // the files being read, outermost first
};

struct OverrideTarget {
  std::string section;
  std::optional<std::size_t> index;
  std::string key;
};

OverrideTarget parse_target(const std::string& path, const std::string& origin) {
  static const std::regex pattern(R"(([A-Za-z0-9_-]+)(?:\[([0-9]+)\])?\.([A-Za-z0-9_-]+))");
  std::smatch match;
  if (!std::regex_match(path, match, pattern))
    throw ConfigError("'" + path +
                          "' is not a parameter path: write section.key (train.lr) or "
                          "section[i].key for the i-th [[section]] table (regularizer[0].weight)",
                      origin);
  OverrideTarget target{match[1], std::nullopt, match[3]};
  if (match[2].matched) target.index = std::stoul(match[2]);
  return target;
}

toml::source_region origin_region(const std::string& origin) {
  toml::source_region region;
  region.begin = region.end = {1, 1};
  region.path = std::make_shared<const std::string>(origin);
  return region;
}

toml::table& target_table(toml::table& root, const OverrideTarget& target,
                          const std::string& origin) {
  toml::node* section = root.get(target.section);
  const std::string name = target.section;
  if (!section) {
    if (target.index)
      throw ConfigError("the experiment has no [[" + name + "]] tables to index", origin);
    return *root.emplace<toml::table>(toml::key(name, origin_region(origin)))
                .first->second.as_table();
  }
  if (toml::table* table = section->as_table()) {
    if (target.index)
      throw ConfigError("[" + name + "] is a single table: write " + name + "." + target.key,
                        origin);
    return *table;
  }
  toml::array* array = section->as_array();
  if (!array || !array->is_array_of_tables())
    throw ConfigError("'" + name + "' is not a section (a table) in the experiment", origin);
  const std::string count = std::to_string(array->size());
  if (!target.index && array->size() != 1)
    throw ConfigError("there are " + count + " [[" + name + "]] tables: say which, as " + name +
                          "[0]." + target.key,
                      origin);
  const std::size_t index = target.index.value_or(0);
  if (index >= array->size())
    throw ConfigError("there are " + count + " [[" + name + "]] tables, numbered from 0: " + name +
                          "[" + std::to_string(index) + "] does not exist",
                      origin);
  return *array->get(index)->as_table();
}

/// The value as TOML reads it, or else the text itself as a string (a bare word).
toml::table parse_override_value(const std::string& text, const std::string& origin) {
  try {
    toml::table parsed = toml::parse("v = " + text, origin);
    if (parsed.size() == 1 && parsed.contains("v")) return parsed;
  } catch (const toml::parse_error&) {
  }
  try {
    return toml::parse("v = " + to_toml(Value(text)), origin);
  } catch (const toml::parse_error& error) {
    throw ConfigError("the value is not valid text: " + std::string(error.description()), origin);
  }
}

bool is_plugin_key(const Override& item) {
  return parse_target(item.path, std::string(kOverrideOrigin) + item.path).key == "plugin";
}

/// Before `parsed` ({v = name}) replaces the plugin of `table`: a different plugin drops every
/// other key of the table, logged.
void drop_old_plugin_keys(toml::table& table, const toml::table& parsed, const std::string& origin) {
  const std::optional<std::string> old = table["plugin"].value<std::string>();
  const std::optional<std::string> now = parsed["v"].value<std::string>();
  if (!old || !now || *old == *now) return;
  std::vector<std::string> dropped;
  for (auto&& [key, node] : table)
    if (key.str() != "plugin") dropped.emplace_back(key.str());
  for (const auto& key : dropped) table.erase(key);
  if (!dropped.empty())
    spdlog::info("{} replaces plugin '{}', so the keys set for it are dropped: {}", origin, *old,
                 fmt::join(dropped, ", "));
}

}  // namespace

Override parse_override(const std::string& text) {
  auto trim = [](std::string s) {
    const auto first = s.find_first_not_of(" \t");
    const auto last = s.find_last_not_of(" \t");
    return first == std::string::npos ? std::string() : s.substr(first, last - first + 1);
  };
  const auto equals = text.find('=');
  Override result;
  if (equals != std::string::npos)
    result = {trim(text.substr(0, equals)), trim(text.substr(equals + 1))};
  if (result.path.empty() || result.value.empty())
    throw ConfigError("'" + text +
                          "' is not an override: write section.key=value, e.g. --set "
                          "train.lr=0.01",
                      std::string(kOverrideOrigin) + text);
  return result;
}

void merge_into(toml::table& base, toml::table&& overlay) {
  for (auto&& [key, node] : overlay) {
    toml::node* existing = base.get(key.str());
    if (existing && existing->is_table() && node.is_table()) {
      merge_into(*existing->as_table(), std::move(*node.as_table()));
      continue;
    }
    // Replaced together with its key, so both locations point at the file that won.
    base.erase(key.str());
    node.visit([&, &key = key](auto& concrete) { base.insert(key, std::move(concrete)); });
  }
}

Document read_document(const fs::path& file) {
  Document document;
  document.file = file;
  document.root = IncludeReader().read(file, {});
  return document;
}

void apply_overrides(Document& document, const std::vector<Override>& overrides) {
  // A section whose plugin changes starts from the new plugin's defaults: the keys the file (or
  // an earlier --set) gave the old plugin are dropped, and said so. Plugin overrides go first,
  // so `--set orderer.units=1000 --set orderer.plugin=gold_zone` works in either order.
  std::vector<const Override*> ordered;
  for (const auto& item : overrides) ordered.push_back(&item);
  std::stable_partition(ordered.begin(), ordered.end(),
                        [](const Override* item) { return is_plugin_key(*item); });
  for (const Override* override : ordered) {
    const Override& item = *override;
    const std::string origin = std::string(kOverrideOrigin) + item.path;
    const OverrideTarget target = parse_target(item.path, origin);
    toml::table& table = target_table(document.root, target, origin);
    toml::table parsed = parse_override_value(item.value, origin);
    if (target.key == "plugin") drop_old_plugin_keys(table, parsed, origin);
    table.erase(target.key);
    parsed.get("v")->visit([&](auto& concrete) {
      table.insert(toml::key(target.key, origin_region(origin)), std::move(concrete));
    });
    document.override_text[origin] = item.value;
  }
}

}  // namespace ablate
