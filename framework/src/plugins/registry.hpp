#pragma once
// Finds plugin .so files, checks their ABI, and makes plugin objects that keep their library
// loaded for as long as they live.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ablate/plugin.hpp"

namespace boost::dll {
class shared_library;
}

namespace ablate {

struct PluginEntry {
  std::filesystem::path file;
  const PluginInfo* info = nullptr;  // lives in the library
  std::shared_ptr<boost::dll::shared_library> library;
  PluginCreateFn* create = nullptr;
  std::string label;  // "plugin 'x' (orderer, /path/x.so)": how crash reports name it
};

class Registry {
 public:
  /// The host's own plugins: ablate/plugins beside the libablate this process runs with, in a
  /// build tree (build/lib/) as in an install (<prefix>/lib/).
  static std::filesystem::path own_folder();
  /// Folders searched, in order: own_folder(), then each entry of ABLATE_PLUGIN_PATH
  /// (colon-separated), then `extra` (an experiment's plugin_paths).
  static std::vector<std::filesystem::path> search_path(
      const std::vector<std::filesystem::path>& extra = {});

  /// Loads every .so in the folders (missing folders are skipped). Throws ablate::Error on an ABI
  /// or build-stamp mismatch (naming the file and both sides) and on two plugins with one name
  /// in one folder (naming both files). A name found again in a later folder is a warning naming
  /// both files; the first stays. A .so that is no plugin (no ablate_abi_version: a helper
  /// library a plugin ships beside itself) is skipped with a warning.
  void scan(const std::vector<std::filesystem::path>& folders);
  /// Loads one file; the same errors (a name already loaded is one), one for a missing file,
  /// and one for a library that is no plugin.
  const PluginEntry& load(const std::filesystem::path& file);

  const PluginEntry* find(std::string_view name) const;
  const PluginEntry* find(Kind kind, std::string_view name) const;
  std::vector<const PluginEntry*> entries(std::optional<Kind> kind = {}) const;
  /// "a, b, c": the names of one kind, for error messages.
  std::string names(Kind kind) const;

  /// Makes the plugin `name` of `kind` as interface T (Orderer, Topology...). The returned
  /// pointer keeps the library loaded.
  template <class T>
  std::shared_ptr<T> create(Kind kind, std::string_view name, const Params& params) const {
    auto [library, object] = make(kind, name, params);
    auto* typed = dynamic_cast<T*>(object.get());
    if (!typed) throw Error("plugin '" + std::string(name) + "' does not implement its kind's interface");
    return wrap(std::move(library), std::move(object), typed);
  }

 private:
  std::pair<std::shared_ptr<boost::dll::shared_library>, std::unique_ptr<Plugin>> make(
      Kind kind, std::string_view name, const Params& params) const;
  template <class T>
  static std::shared_ptr<T> wrap(std::shared_ptr<boost::dll::shared_library> library,
                                 std::unique_ptr<Plugin> object, T* typed) {
    // The holder destroys the object before releasing the library (members in reverse order).
    struct Holder {
      std::shared_ptr<boost::dll::shared_library> library;
      std::unique_ptr<Plugin> object;
    };
    auto holder = std::make_shared<Holder>(Holder{std::move(library), std::move(object)});
    return std::shared_ptr<T>(holder, typed);
  }
  std::vector<std::unique_ptr<PluginEntry>> entries_;
};

/// Keeps a plugin-made object (a Model from a Topology) alive no longer than its library:
/// the result shares ownership of `maker`.
template <class T, class Maker>
std::shared_ptr<T> tie_to(std::shared_ptr<Maker> maker, std::unique_ptr<T> object) {
  struct Holder {
    std::shared_ptr<Maker> maker;
    std::unique_ptr<T> object;
  };
  auto holder = std::make_shared<Holder>(Holder{std::move(maker), std::move(object)});
  return std::shared_ptr<T>(holder, holder->object.get());
}

}  // namespace ablate
