#pragma once
// An experiment's TOML before validation: the file and its includes merged into one table,
// --set overrides applied, every node keeping the file:line:col it came from.
#include <toml++/toml.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "config/experiment.hpp"

namespace ablate {

struct Document {
  std::filesystem::path file;
  toml::table root;
  /// The override texts as typed, by origin ("--set a.b"): a string parameter takes the text
  /// itself when it does not read as a TOML string (`--set train.optimizer=adam`).
  std::map<std::string, std::string> override_text;
};

/// Reads `file` and the files its [experiment] include lists (relative to it, recursively),
/// deep-merged: tables merge key by key, anything else (arrays included) is replaced; later
/// includes win over earlier ones and the including file over all. plugin_paths are made
/// absolute relative to the file that names them; `include` is removed.
Document read_document(const std::filesystem::path& file);

/// Sets each override's value into the document under the origin "--set a.b". Paths are
/// section.key or section[i].key (the i-th [[section]] table, from 0).
void apply_overrides(Document& document, const std::vector<Override>& overrides);

/// Moves every entry of `overlay` into `base`: tables merge recursively, other values replace.
void merge_into(toml::table& base, toml::table&& overlay);

}  // namespace ablate
