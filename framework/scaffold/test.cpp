// `@name@` through the installed host: it loads, describes its parameters, and trains the
// example experiment for an epoch.
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

struct Result {
  int exit_code = -1;
  std::string output;
};

/// Runs the host with the plugin's folder on ABLATE_PLUGIN_PATH; stdout and stderr together.
Result host(const std::string& args) {
  const std::string command = "ABLATE_PLUGIN_PATH='" PLUGIN_DIR "' '" ABLATE_HOST "' " + args + " 2>&1";
  Result result;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe)) result.output += buffer.data();
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace

TEST_CASE("the host loads @name@ and describes its parameters") {
  const Result described = host("describe @name@");
  INFO(described.output);
  REQUIRE(described.exit_code == 0);
  CHECK_THAT(described.output, Catch::Contains("@name@  (@kind@"));
  CHECK_THAT(described.output, Catch::Contains("@param@"));
}

TEST_CASE("the example experiment trains with @name@ for an epoch") {
  const auto out = std::filesystem::temp_directory_path() / "test_@name@_run";
  std::filesystem::remove_all(out);
  const Result run = host("run '" EXPERIMENT "' --out '" + out.string() + "'");
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  std::filesystem::path dir;  // the run directory: <out>/<experiment>/<stamp>/
  for (const auto& item : std::filesystem::recursive_directory_iterator(out))
    if (item.path().filename() == "summary.json") dir = item.path().parent_path();
  REQUIRE(!dir.empty());
  std::ifstream config(dir / "config.toml");
  const std::string text((std::istreambuf_iterator<char>(config)), {});
  CHECK_THAT(text, Catch::Contains("\"@name@\""));  // the run used this plugin
  std::filesystem::remove_all(out);
}
