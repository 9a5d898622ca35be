#include <unistd.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>

#include "runs/manifest.hpp"
#include "support.hpp"
#include "util/program.hpp"

namespace fs = std::filesystem;

namespace {

bool git(const fs::path& repo, std::vector<std::string> args) {
  std::vector<std::string> argv = {"git",
                                   "-C",
                                   repo.string(),
                                   "-c",
                                   "user.name=ablate test",
                                   "-c",
                                   "user.email=test@ablate.invalid"};
  argv.insert(argv.end(), args.begin(), args.end());
  return ablate::run_program(argv).exit_code == 0;
}

}  // namespace

TEST_CASE("git_commit reads the checked-out commit and whether tracked files changed", "[runs]") {
  if (ablate::run_program({"git", "--version"}).exit_code != 0) {
    WARN("skipped: git is not installed");
    return;
  }
  ablate::test::TempDir repo("ablate-git");
  bool dirty = true;
  CHECK(ablate::git_commit(repo.path(), &dirty) == "unknown");  // not a checkout
  CHECK_FALSE(dirty);

  REQUIRE(git(repo.path(), {"init", "-q"}));
  CHECK(ablate::git_commit(repo.path(), &dirty) == "unknown");  // a checkout without commits
  ablate::test::write_text(repo / "a.txt", "one\n");
  REQUIRE(git(repo.path(), {"add", "a.txt"}));
  REQUIRE(git(repo.path(), {"commit", "-q", "-m", "first"}));

  const auto head =
      ablate::program_output({"git", "-C", repo.path().string(), "rev-parse", "HEAD"});
  REQUIRE(head);
  const std::string commit = ablate::git_commit(repo.path(), &dirty);
  CHECK(std::regex_match(commit, std::regex("[0-9a-f]{40}")));
  CHECK(commit + "\n" == *head);
  CHECK_FALSE(dirty);

  ablate::test::write_text(repo / "untracked.txt", "new\n");
  ablate::git_commit(repo.path(), &dirty);
  CHECK_FALSE(dirty);  // untracked files do not count
  ablate::test::write_text(repo / "a.txt", "two\n");
  CHECK(ablate::git_commit(repo.path(), &dirty) == commit);
  CHECK(dirty);
  CHECK(ablate::git_commit(repo.path()) == commit);  // dirty is optional
}

TEST_CASE("host facts name this machine", "[runs]") {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, model;
  while (std::getline(cpuinfo, line))
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  CHECK(ablate::cpu_model() == (model.empty() ? "unknown" : model));

  char name[256] = {};
  gethostname(name, sizeof name - 1);
  CHECK(ablate::hostname() == name);
  CHECK_THAT(ablate::compiler(), Catch::Matches("(GNU|Clang) [0-9]+\\.[0-9]+.*"));

  const ablate::Json facts = ablate::host_facts();
  CHECK(facts.at("hostname").as_string() == name);
  CHECK(facts.at("cpu").as_string() == ablate::cpu_model());
  CHECK(facts.at("cores").as_integer() >= 1);
  CHECK(facts.at("compiler").as_string() == ablate::compiler());
  CHECK_THAT(facts.at("os").as_string(), Catch::StartsWith("Linux "));
  bool dirty = false;
  CHECK(facts.at("commit").as_string() == ablate::git_commit(ABLATE_SOURCE_DIR, &dirty));
  CHECK(facts.at("dirty").as_bool() == dirty);
}
