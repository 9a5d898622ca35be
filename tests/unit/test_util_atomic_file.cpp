#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "ablate/error.hpp"
#include "support.hpp"
#include "util/atomic_file.hpp"

using ablate::read_file;
using ablate::write_atomic;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("write_atomic creates and replaces a file", "[util]") {
  ablate::test::TempDir dir("ablate-atomic");
  const fs::path file = dir / "data.bin";
  const std::string binary("a\0b\nc\xff", 6);
  write_atomic(file, binary);
  CHECK(read_file(file) == binary);
  write_atomic(file, "second");
  CHECK(read_file(file) == "second");
  write_atomic(file, "");
  CHECK(read_file(file).empty());
  CHECK(names_in(dir.path()) == std::vector<std::string>{"data.bin"});  // no temporaries left
}

TEST_CASE("write_atomic into a missing folder fails naming the path", "[util]") {
  ablate::test::TempDir dir("ablate-atomic");
  const fs::path file = dir / "missing" / "data.txt";
  CHECK_THROWS_WITH(write_atomic(file, "x"), Catch::Contains(file.string()));
  CHECK_FALSE(fs::exists(file));
}

TEST_CASE("a write that fails midway leaves the old file intact and no temporary", "[util]") {
  ablate::test::TempDir dir("ablate-atomic");
  const fs::path file = dir / "state.json";
  write_atomic(file, "old contents");

  // A file size limit makes write() fail partway (EFBIG) even for root, which ignores
  // read-only folders.
  struct sigaction ignore {
  }, previous{};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGXFSZ, &ignore, &previous);
  rlimit old_limit{};
  getrlimit(RLIMIT_FSIZE, &old_limit);
  rlimit small = old_limit;
  small.rlim_cur = 4096;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
  std::string error;
  try {
    write_atomic(file, std::string(100'000, 'n'));
  } catch (const ablate::Error& e) {
    error = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &old_limit);
  sigaction(SIGXFSZ, &previous, nullptr);

  CHECK_THAT(error, Catch::Contains(file.string()) && Catch::Contains("too large"));
  CHECK(read_file(file) == "old contents");
  CHECK(names_in(dir.path()) == std::vector<std::string>{"state.json"});
}

TEST_CASE("a writer killed at any moment leaves the old or the new file, whole", "[util]") {
  ablate::test::TempDir dir("ablate-atomic");
  const fs::path file = dir / "checkpoint.bin";
  // Large enough that one write() takes milliseconds, so kills land inside writes too.
  const std::string a(8 << 20, 'a'), b(8 << 20, 'b');
  write_atomic(file, a);
  std::mt19937 rng(7);
  for (int round = 0; round < 12; ++round) {
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      for (int i = 0;; ++i) write_atomic(file, i % 2 ? a : b);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(2000 + rng() % 30000));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    REQUIRE(WIFSIGNALED(status));
    const std::string now = read_file(file);
    INFO("round " << round << ": " << now.size() << " bytes");
    CHECK((now == a || now == b));
  }
  // The killed writers' temporaries are recognizable, and removable.
  for (const auto& name : names_in(dir.path()))
    if (name != "checkpoint.bin") CHECK(ablate::is_temporary_name(name));
  ablate::remove_temporary_files(dir.path());
  CHECK(names_in(dir.path()) == std::vector<std::string>{"checkpoint.bin"});
}

TEST_CASE("read_file names a missing file", "[util]") {
  CHECK_THROWS_WITH(
      read_file("/no/such/run/metrics.jsonl"),
      Catch::Contains("/no/such/run/metrics.jsonl") && Catch::Contains("No such file"));
  ablate::test::TempDir dir("ablate-atomic");
  CHECK_THROWS_WITH(read_file(dir.path()), Catch::Contains("Is a directory"));
}

TEST_CASE("temporary names are told apart from real files", "[util]") {
  CHECK(ablate::is_temporary_name(".metrics.jsonl.ablate-tmp-123-0"));
  CHECK_FALSE(ablate::is_temporary_name("metrics.jsonl"));
  CHECK_FALSE(ablate::is_temporary_name(".hidden"));
  CHECK_FALSE(ablate::is_temporary_name("x.ablate-tmp-1-1"));
}

TEST_CASE("create_folders makes parents and names a folder it cannot make", "[util]") {
  ablate::test::TempDir dir("ablate-atomic");
  ablate::create_folders(dir / "a" / "b" / "c");
  CHECK(fs::is_directory(dir / "a" / "b" / "c"));
  ablate::create_folders(dir / "a");  // already there: fine
  write_atomic(dir / "file", "x");
  CHECK_THROWS_WITH(ablate::create_folders(dir / "file" / "sub"),
                    Catch::Contains((dir / "file" / "sub").string()));
}
