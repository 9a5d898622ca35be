#include "plugins/registry.hpp"
#include "plugins/plugin_call.hpp"

#include <algorithm>
#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <cstdlib>
#include <spdlog/spdlog.h>
#include <sstream>

namespace ablate {
namespace fs = std::filesystem;
namespace {
std::string with_article(Kind kind) {
  const std::string name = to_string(kind);
  return (name.front() == 'o' ? "an " : "a ") + name;
}
}  // namespace

fs::path Registry::own_folder() {
  // This function's own library, libablate: in a build tree and in an install alike, the
  // plugins sit in ablate/plugins beside it (CMakeLists.txt). Nothing absolute is compiled in.
  std::error_code ec;
  const fs::path library = fs::weakly_canonical(boost::dll::this_line_location(), ec);
  return library.parent_path() / "ablate" / "plugins";
}

std::vector<fs::path> Registry::search_path(const std::vector<fs::path>& extra) {
  std::vector<fs::path> folders{own_folder()};
  if (const char* env = std::getenv("ABLATE_PLUGIN_PATH")) {
    std::stringstream list(env);
    for (std::string item; std::getline(list, item, ':');)
      if (!item.empty()) folders.emplace_back(item);
  }
  folders.insert(folders.end(), extra.begin(), extra.end());
  return folders;
}

namespace {
/// A library without the plugin ABI symbol: loadable, but not ours.
struct NotAPlugin : Error {
  using Error::Error;
};
/// A plugin whose name an earlier one has.
struct SameName : Error {
  SameName(std::string message, const PluginEntry* first) : Error(std::move(message)), first(first) {}
  const PluginEntry* first;
};
}  // namespace

void Registry::scan(const std::vector<fs::path>& folders) {
  for (const auto& folder : folders) {
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) continue;
    std::vector<fs::path> files;
    for (const auto& item : fs::directory_iterator(folder))
      if (item.is_regular_file() && item.path().extension() == ".so") files.push_back(item.path());
    std::sort(files.begin(), files.end());  // a stable order: the same errors every time
    for (const auto& file : files) {
      try {
        load(file);
      } catch (const NotAPlugin& e) {
        spdlog::warn("skipping {} in the plugin folder: {}", file.string(), e.what());
      } catch (const SameName& e) {
        // Within one folder two plugins with one name are a mistake; across folders the one
        // searched first wins (the host's own before ABLATE_PLUGIN_PATH before the experiment's).
        if (e.first->file.parent_path() == fs::weakly_canonical(file).parent_path()) throw;
        spdlog::warn("{}; using the first, found earlier in the search path", e.what());
      }
    }
  }
}

const PluginEntry& Registry::load(const fs::path& file) {
  std::error_code ec;
  const fs::path canonical = fs::weakly_canonical(file, ec);
  for (const auto& entry : entries_)
    if (entry->file == canonical) return *entry;  // one folder listed twice in the path
  if (!fs::exists(canonical)) throw Error("plugin file not found: " + file.string());

  auto library = std::make_shared<boost::dll::shared_library>();
  try {
    library->load(canonical, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    throw Error("cannot load plugin " + canonical.string() + ": " + e.what());
  }
  // The ABI version first: nothing else in the library is touched before it matches.
  if (!library->has("ablate_abi_version"))
    throw NotAPlugin(canonical.string() + " is not an ablate plugin (it exports no ablate_abi_version)");
  const std::uint32_t abi = library->get_alias<const std::uint32_t>("ablate_abi_version");
  if (abi != kAbiVersion)
    throw Error(canonical.string() + " was built for plugin ABI " + std::to_string(abi) +
                ", this host speaks ABI " + std::to_string(kAbiVersion) +
                ": rebuild the plugin against this host's SDK");
  if (!library->has("ablate_build_stamp") || !library->has("ablate_plugin_info") ||
      !library->has("ablate_plugin_create"))
    throw Error(canonical.string() +
                " lacks ablate_build_stamp, ablate_plugin_info or ablate_plugin_create "
                "(export them with ABLATE_PLUGIN)");
  const std::string stamp = library->get_alias<const char*()>("ablate_build_stamp")();
  if (stamp != kBuildStamp)
    throw Error(canonical.string() + " was built with " + stamp + "; this host with " +
                kBuildStamp +
                ": rebuild the plugin with the host's flags (find_package(ablate) and "
                "ablate_add_plugin carry them)");

  auto entry = std::make_unique<PluginEntry>();
  entry->file = canonical;
  entry->info = &library->get_alias<PluginInfoFn>("ablate_plugin_info")();
  entry->create = &library->get_alias<PluginCreateFn>("ablate_plugin_create");
  entry->library = std::move(library);
  entry->label = "plugin '" + entry->info->name + "' (" + to_string(entry->info->kind) + ", " +
                 canonical.string() + ")";
  if (const PluginEntry* twin = find(entry->info->name))
    throw SameName("two plugins are named '" + entry->info->name + "': " + twin->file.string() +
                       " and " + canonical.string(),
                   twin);
  entries_.push_back(std::move(entry));
  return *entries_.back();
}

const PluginEntry* Registry::find(std::string_view name) const {
  for (const auto& entry : entries_)
    if (entry->info->name == name) return entry.get();
  return nullptr;
}

const PluginEntry* Registry::find(Kind kind, std::string_view name) const {
  const PluginEntry* entry = find(name);
  return entry && entry->info->kind == kind ? entry : nullptr;
}

std::vector<const PluginEntry*> Registry::entries(std::optional<Kind> kind) const {
  std::vector<const PluginEntry*> out;
  for (const auto& entry : entries_)
    if (!kind || entry->info->kind == *kind) out.push_back(entry.get());
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) {
    return std::pair(a->info->kind, a->info->name) < std::pair(b->info->kind, b->info->name);
  });
  return out;
}

std::string Registry::names(Kind kind) const {
  std::string out;
  for (const auto* entry : entries(kind)) out += (out.empty() ? "" : ", ") + entry->info->name;
  return out.empty() ? "(none found)" : out;
}

std::pair<std::shared_ptr<boost::dll::shared_library>, std::unique_ptr<Plugin>> Registry::make(
    Kind kind, std::string_view name, const Params& params) const {
  const PluginEntry* entry = find(name);
  if (!entry)
    throw Error("no plugin named '" + std::string(name) + "'; " + to_string(kind) +
                " plugins: " + names(kind));
  if (entry->info->kind != kind)
    throw Error("'" + std::string(name) + "' is " + with_article(entry->info->kind) + ", not " +
                with_article(kind));
  std::unique_ptr<Plugin> object;
  {
    const PluginCall call(entry);
    object = entry->create(params);
  }
  if (!object) throw Error("plugin '" + std::string(name) + "' returned no object");
  return {entry->library, std::move(object)};
}

}  // namespace ablate
