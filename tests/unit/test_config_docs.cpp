// docs/EXPERIMENT_FILES.md documents every key of every host section, with its default.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "config/experiment.hpp"

TEST_CASE("the experiment file reference lists every host key", "[config]") {
  std::ifstream in(ABLATE_SOURCE_DIR "/docs/EXPERIMENT_FILES.md");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  for (const auto& [section, specs] : ablate::host_sections()) {
    const auto start = doc.find("### `[" + section + "]`");
    INFO("section [" << section << "]");
    REQUIRE(start != std::string::npos);
    const auto end = doc.find("\n#", start + 1);
    const std::string part = doc.substr(start, end - start);
    for (const auto& spec : specs) {
      INFO("key " << spec.name);
      const auto row = part.find("| `" + spec.name + "` | " + ablate::to_string(spec.type) + " |");
      CHECK(row != std::string::npos);
      if (row == std::string::npos || !spec.default_value) continue;
      // The default as written in the table: the TOML text, trailing ".0" dropped.
      std::string shown = ablate::to_toml(*spec.default_value);
      if (shown.ends_with(".0")) shown.resize(shown.size() - 2);
      const std::string line = part.substr(row, part.find('\n', row) - row);
      CHECK_THAT(line, Catch::Matchers::Contains("`" + shown + "`"));
    }
  }
}
