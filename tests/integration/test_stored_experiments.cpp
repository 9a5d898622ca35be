// Every stored experiment (experiments/*.toml) passes `ablate check`: its sections, plugins, arms
// and findings validate against the built plugins, so a stored finding that no longer parses, or
// whose arm sets a key that was renamed, fails here rather than when someone tries to reproduce it.
#include <catch2/catch.hpp>
#include <algorithm>
#include <filesystem>
#include <vector>

#include "support.hpp"

namespace fs = std::filesystem;

TEST_CASE("every stored experiment passes ablate check", "[e2e][experiments]") {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(fs::path(ABLATE_SOURCE_DIR) / "experiments"))
    if (entry.is_regular_file() && entry.path().extension() == ".toml")
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 6);  // quickstart and the five findings of the seeds, at least
  for (const auto& file : files) {
    const auto r = ablate::test::run_ablate("check " + file.string());
    INFO(file.filename().string() << ":\n" << r.output);
    CHECK(r.exit_code == 0);
  }
}
