// The plugin loader on real .so files: discovery, ABI check, duplicates, non-plugins, lifetime.
#include <catch2/catch.hpp>

#include "ablate/orderer.hpp"
#include "plugins/registry.hpp"
#include "support.hpp"

using namespace ablate;
namespace fs = std::filesystem;

namespace {
fs::path test_plugin(const std::string& name) {
  return fs::path(ABLATE_TEST_PLUGIN_DIR) / name / (name + ".so");
}
}  // namespace

TEST_CASE("the build's plugins are found with their info records", "[registry]") {
  Registry registry;
  registry.scan({ABLATE_PLUGIN_BUILD_DIR});
  const PluginEntry* all = registry.find(Kind::orderer, "all");
  REQUIRE(all != nullptr);
  CHECK(all->info->abi_version == kAbiVersion);
  CHECK(all->file.filename() == "all.so");
  CHECK(registry.find(Kind::topology, "all") == nullptr);  // right name, wrong kind
  CHECK(registry.names(Kind::orderer).find("all") != std::string::npos);
}

TEST_CASE("a plugin built for another ABI is refused, naming the file and both versions",
          "[registry]") {
  Registry registry;
  try {
    registry.load(test_plugin("abi_mismatch"));
    FAIL("an ABI mismatch was accepted");
  } catch (const Error& e) {
    const std::string message = e.what();
    CHECK_THAT(message, Catch::Contains("abi_mismatch.so"));
    CHECK_THAT(message, Catch::Contains("ABI " + std::to_string(kAbiVersion + 41)));
    CHECK_THAT(message, Catch::Contains("ABI " + std::to_string(kAbiVersion)));
  }
  CHECK(registry.entries().empty());
}

TEST_CASE("a plugin of the previous SDK is refused on its ABI version, naming both", "[registry]") {
  Registry registry;
  CHECK_THROWS_WITH(registry.load(test_plugin("old_abi")),
                    Catch::Contains("old_abi.so") &&
                        Catch::Contains("built for plugin ABI 2, this host speaks ABI " +
                                        std::to_string(kAbiVersion)));
  CHECK(registry.entries().empty());
}

TEST_CASE("a plugin built with other Eigen settings is refused, naming both build stamps",
          "[registry]") {
  Registry registry;
  try {
    registry.load(test_plugin("stamp_mismatch"));
    FAIL("a plugin with another build stamp was accepted");
  } catch (const Error& e) {
    const std::string message = e.what();
    CHECK_THAT(message, Catch::Contains("stamp_mismatch.so"));
    CHECK_THAT(message, Catch::Contains("align 16/"));           // the plugin's
    CHECK_THAT(message, Catch::Contains(std::string(kBuildStamp)));  // the host's
    CHECK_THAT(message, Catch::Contains("find_package(ablate)"));
  }
  CHECK(std::string(kBuildStamp).find("align 64/") != std::string::npos);
  CHECK(registry.entries().empty());
}

TEST_CASE("the host's own plugins are the ones beside its libablate", "[registry]") {
  CHECK(fs::equivalent(Registry::own_folder(), ABLATE_PLUGIN_BUILD_DIR));
}

TEST_CASE("one name in two folders: the first folder's plugin stays, with a warning", "[registry]") {
  Registry registry;
  CHECK_NOTHROW(registry.scan({ABLATE_PLUGIN_BUILD_DIR, test_plugin("twin_all").parent_path()}));
  const PluginEntry* all = registry.find(Kind::orderer, "all");
  REQUIRE(all != nullptr);
  CHECK(all->file.parent_path() == fs::canonical(ABLATE_PLUGIN_BUILD_DIR));
  for (const PluginEntry* entry : registry.entries()) CHECK(entry->file.filename() != "twin_all.so");
}

TEST_CASE("one name twice in one folder: an error naming both files", "[registry]") {
  test::TempDir folder("ablate-twins");
  fs::copy_file(fs::path(ABLATE_PLUGIN_BUILD_DIR) / "all.so", folder / "all.so");
  fs::copy_file(test_plugin("twin_all"), folder / "twin_all.so");
  Registry registry;
  CHECK_THROWS_WITH(registry.scan({folder.path()}),
                    Catch::Contains("two plugins are named 'all'") &&
                        Catch::Contains((folder / "all.so").string()) &&
                        Catch::Contains((folder / "twin_all.so").string()));
}

TEST_CASE("loading a second plugin of a loaded name: an error naming both files", "[registry]") {
  Registry registry;
  registry.scan({ABLATE_PLUGIN_BUILD_DIR});
  try {
    registry.load(test_plugin("twin_all"));
    FAIL("a duplicate name was accepted");
  } catch (const Error& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains("twin_all.so"));
    CHECK_THAT(std::string(e.what()), Catch::Contains("all.so"));
  }
}

TEST_CASE("missing files and libraries that are no plugins are refused clearly", "[registry]") {
  Registry registry;
  CHECK_THROWS_WITH(registry.load("/nonexistent/folder/ghost.so"),
                    Catch::Contains("not found") && Catch::Contains("ghost.so"));
  CHECK_THROWS_WITH(registry.load(test_plugin("not_a_plugin")),
                    Catch::Contains("not an ablate plugin") && Catch::Contains("not_a_plugin.so"));
  // A folder that does not exist is skipped: search paths list optional places.
  CHECK_NOTHROW(registry.scan({"/nonexistent/folder"}));
}

TEST_CASE("a library in a plugin folder that is no plugin is skipped, the plugins beside it load",
          "[registry]") {
  // A plugin may ship a helper .so next to itself: scanning the folder must not fail on it.
  Registry registry;
  const auto helper_folder = test_plugin("not_a_plugin").parent_path();
  CHECK_NOTHROW(registry.scan({helper_folder, ABLATE_PLUGIN_BUILD_DIR}));
  CHECK(registry.find(Kind::orderer, "all") != nullptr);
  for (const PluginEntry* entry : registry.entries())
    CHECK(entry->file.filename() != "not_a_plugin.so");
}

TEST_CASE("ABLATE_PLUGIN_PATH adds folders after the host's own", "[registry]") {
  setenv("ABLATE_PLUGIN_PATH", "/tmp/a:/tmp/b", 1);
  const auto path = Registry::search_path({"/tmp/c"});
  unsetenv("ABLATE_PLUGIN_PATH");
  REQUIRE(path.size() == 4);
  CHECK(path[0] == Registry::own_folder());
  CHECK(path[1] == "/tmp/a");
  CHECK(path[2] == "/tmp/b");
  CHECK(path[3] == "/tmp/c");
}

TEST_CASE("a plugin object keeps its library loaded after the registry is gone", "[registry]") {
  std::shared_ptr<Orderer> orderer;
  {
    Registry registry;
    registry.scan({ABLATE_PLUGIN_BUILD_DIR});
    orderer = registry.create<Orderer>(Kind::orderer, "all", Params{});
  }
  // The registry (and its handles) died; calling into the plugin still works.
  UnitGraph graph({{"out", 3, {}}});
  SumCache sums;
  Zones zones;
  Rng rng(1);
  OrderContext ctx{graph, sums, zones, rng, 0, 4, 0.0};
  auto stage = orderer->next(ctx);
  REQUIRE(stage);
  CHECK(stage->epochs == 4);
  CHECK(stage->units.all);
}

TEST_CASE("creating a plugin in the wrong role names both kinds", "[registry]") {
  Registry registry;
  registry.scan({ABLATE_PLUGIN_BUILD_DIR});
  CHECK_THROWS_WITH(registry.create<Orderer>(Kind::topology, "all", Params{}),
                    Catch::Contains("'all' is an orderer, not a topology"));
}
