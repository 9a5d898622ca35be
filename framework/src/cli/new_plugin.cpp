// `ablate new KIND NAME [--dir D]`: a plugin project that builds out of tree against the
// installed SDK and passes its test as written (docs/PLUGINS.md). The templates are
// framework/scaffold/, compiled in (framework/CMakeLists.txt); @name@, @Name@, @kind@ and
// @param@ are filled in here.
#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>
#include <regex>
#include <string_view>

#include "ablate/error.hpp"
#include "cli/commands.hpp"
#include "plugins/registry.hpp"
#include "util/atomic_file.hpp"

namespace ablate::cli {
namespace scaffold {
// scaffold_assets.cpp, generated
extern const std::string_view cmake, test;
extern const std::string_view orderer_cpp, orderer_toml, capacity_law_cpp, capacity_law_toml,
    regularizer_cpp, regularizer_toml, topology_cpp, topology_toml, dataset_cpp, dataset_toml;
}  // namespace scaffold

namespace {
namespace fs = std::filesystem;
namespace po = boost::program_options;

struct Template {
  std::string_view source, experiment;
  const char* param;  // the parameter the source declares (the test looks for it)
};

Template template_for(Kind kind) {
  switch (kind) {
    case Kind::orderer: return {scaffold::orderer_cpp, scaffold::orderer_toml, "stages"};
    case Kind::capacity_law: return {scaffold::capacity_law_cpp, scaffold::capacity_law_toml, "window"};
    case Kind::regularizer: return {scaffold::regularizer_cpp, scaffold::regularizer_toml, "strength"};
    case Kind::topology: return {scaffold::topology_cpp, scaffold::topology_toml, "width"};
    case Kind::dataset: return {scaffold::dataset_cpp, scaffold::dataset_toml, "separation"};
  }
  throw Error("no template for this kind");
}

/// "l2_anchor" -> "L2Anchor": the class name.
std::string camel(const std::string& name) {
  std::string out;
  bool upper = true;
  for (char c : name) {
    if (c == '_') { upper = true; continue; }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

std::string fill(std::string_view text, const std::string& name, Kind kind, const char* param) {
  std::string out(text);
  const std::pair<std::string, std::string> fields[] = {
      {"@name@", name}, {"@Name@", camel(name)}, {"@kind@", to_string(kind)}, {"@param@", param}};
  for (const auto& [key, value] : fields)
    for (std::size_t at = 0; (at = out.find(key, at)) != std::string::npos; at += value.size())
      out.replace(at, key.size(), value);
  return out;
}

}  // namespace

int new_plugin(const std::vector<std::string>& args) {
  po::options_description options("ablate new");
  options.add_options()
      ("kind", po::value<std::string>()->required(),
       "orderer, capacity_law, regularizer, topology or dataset")
      ("name", po::value<std::string>()->required(),
       "the plugin's name: lower case, digits and _, starting with a letter")
      ("dir", po::value<std::string>(), "the project folder to create (default: ./NAME)");
  po::positional_options_description positional;
  positional.add("kind", 1).add("name", 1);
  po::variables_map vm;
  if (!parse(args, "ablate new KIND NAME [--dir D]", options, positional, vm)) return 0;

  const std::string name = vm["name"].as<std::string>();
  const Kind kind = kind_argument(vm["kind"].as<std::string>());
  if (!std::regex_match(name, std::regex("[a-z][a-z0-9_]*")))
    throw ConfigError("'" + name + "' cannot name a plugin: use lower case letters, digits and _, "
                      "starting with a letter (it is a C++ identifier, a file and a TOML string)");
  Registry registry;  // plugin names are global: a scaffold must not shadow one the host has
  registry.scan(Registry::search_path());
  if (const PluginEntry* twin = registry.find(name))
    throw ConfigError("a plugin named '" + name + "' exists already (" + twin->file.string() +
                      "); choose another name");

  const fs::path dir = vm.count("dir") ? fs::path(vm["dir"].as<std::string>()) : fs::path(name);
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec))
    throw ConfigError(dir.string() + " exists and is not empty: ablate new writes a new project "
                      "(choose another --dir)");
  fs::create_directories(dir);

  const Template t = template_for(kind);
  const std::pair<std::string, std::string_view> files[] = {
      {"CMakeLists.txt", scaffold::cmake},
      {name + ".cpp", t.source},
      {"test_" + name + ".cpp", scaffold::test},
      {name + ".toml", t.experiment}};
  for (const auto& [file, text] : files) write_atomic(dir / file, fill(text, name, kind, t.param));

  std::cout << "wrote the " << to_string(kind) << " plugin '" << name << "' to " << dir.string()
            << "/:\n  CMakeLists.txt  " << name << ".cpp  test_" << name << ".cpp  " << name
            << ".toml\nbuild and test it, then run its example experiment:\n"
            << "  cd " << dir.string() << "\n"
            << "  cmake -S . -B build && cmake --build build && ctest --test-dir build\n"
            << "  ablate run " << name << ".toml\n"
            << "(for an ablate installed outside /usr/local, add -DCMAKE_PREFIX_PATH=<its prefix> "
               "to the first cmake)\n";
  return 0;
}

}  // namespace ablate::cli
