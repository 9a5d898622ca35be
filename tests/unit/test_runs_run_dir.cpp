#include <unistd.h>

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <fstream>

#include <optional>
#include <regex>
#include <set>

#include "ablate/error.hpp"
#include "runs/run_dir.hpp"
#include "support.hpp"

using ablate::Json;
using ablate::RunDirectory;
namespace fs = std::filesystem;

namespace {

Json row(int epoch, double loss) {
  Json r = Json::object();
  r["kind"] = "epoch";
  r["epoch"] = epoch;
  r["train_loss"] = loss;
  return r;
}

}  // namespace

TEST_CASE("run directories are named runs/<experiment>/<yyyymmdd-hhmmss>-<6 hex>", "[runs]") {
  ablate::test::TempDir root("ablate-runs");
  const RunDirectory run = RunDirectory::create(root / "runs", "quickstart", "[experiment]\n");
  CHECK(fs::is_directory(run.path()));
  CHECK(run.path().parent_path() == root / "runs" / "quickstart");
  // It appears with its config in it (a kill at the first instant leaves a resumable run), and
  // the hidden folder it was filled in under is gone.
  CHECK(run.read("config.toml") == "[experiment]\n");
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(root / "runs" / "quickstart")) ++entries;
  CHECK(entries == 1);
  const std::string name = run.path().filename();
  CHECK(std::regex_match(name, std::regex(R"(\d{8}-\d{6}-[0-9a-f]{6})")));

  // The stamp is this moment's local time (allowing for a second boundary).
  char now[32];
  const std::time_t t = std::time(nullptr);
  std::strftime(now, sizeof now, "%Y%m%d-%H%M", std::localtime(&t));
  CHECK(name.substr(0, 13) == std::string(now));
}

TEST_CASE("run directories are never reused, even within one second", "[runs]") {
  ablate::test::TempDir root("ablate-runs");
  std::set<fs::path> made;
  for (int i = 0; i < 200; ++i) made.insert(RunDirectory::create(root.path(), "sweep", "").path());
  CHECK(made.size() == 200);
  std::size_t on_disk = 0;
  for (const auto& entry : fs::directory_iterator(root / "sweep")) on_disk += entry.is_directory();
  CHECK(on_disk == 200);
}

TEST_CASE("experiment names that are not folder names are refused", "[runs]") {
  ablate::test::TempDir root("ablate-runs");
  for (const char* bad : {"", ".", "..", "a/b"})
    CHECK_THROWS_WITH(RunDirectory::create(root.path(), bad, ""),
                      Catch::Contains("cannot be a folder name"));
}

TEST_CASE("run directory files are written whole, in subfolders, never outside", "[runs]") {
  ablate::test::TempDir root("ablate-runs");
  const RunDirectory run = RunDirectory::create(root.path(), "exp", "");
  run.write("config.toml", "[experiment]\nname = \"exp\"\n");
  run.write("checkpoints/last.safetensors", "bytes");
  CHECK(run.exists("checkpoints/last.safetensors"));
  CHECK(run.read("config.toml") == "[experiment]\nname = \"exp\"\n");
  run.write("config.toml", "replaced");
  CHECK(ablate::test::read_text(run.path() / "config.toml") == "replaced");
  CHECK_FALSE(run.exists("summary.json"));
  CHECK_THROWS_WITH(run.read("summary.json"), Catch::Contains("summary.json"));
  CHECK_THROWS_WITH(run.write("../escape.txt", "x"),
                    Catch::Contains("not a file inside the run directory"));
  CHECK_THROWS_WITH(run.write("/tmp/abs.txt", "x"),
                    Catch::Contains("not a file inside the run directory"));
  CHECK_FALSE(fs::exists(run.path().parent_path() / "escape.txt"));
}

TEST_CASE("metrics rows append one JSON object per line, and are kept up to a count", "[runs]") {
  ablate::test::TempDir root("ablate-runs");
  RunDirectory run = RunDirectory::create(root.path(), "exp", "");
  CHECK(run.metrics().empty());
  for (int epoch = 1; epoch <= 5; ++epoch) run.append_metrics(row(epoch, 1.0 / epoch));
  CHECK(run.read("metrics.jsonl") ==
        "{\"kind\":\"epoch\",\"epoch\":1,\"train_loss\":1}\n"
        "{\"kind\":\"epoch\",\"epoch\":2,\"train_loss\":0.5}\n"
        "{\"kind\":\"epoch\",\"epoch\":3,\"train_loss\":0.3333333333333333}\n"
        "{\"kind\":\"epoch\",\"epoch\":4,\"train_loss\":0.25}\n"
        "{\"kind\":\"epoch\",\"epoch\":5,\"train_loss\":0.2}\n");
  std::vector<Json> rows = run.metrics();
  REQUIRE(rows.size() == 5);
  CHECK(rows[2] == row(3, 1.0 / 3));

  run.keep_metrics(3);  // a resume from a checkpoint taken after row 3
  rows = run.metrics();
  REQUIRE(rows.size() == 3);
  CHECK(rows.back().at("epoch").as_integer() == 3);
  run.append_metrics(row(4, 0.125));
  CHECK(run.metrics().back() == row(4, 0.125));
  CHECK_THROWS_WITH(run.keep_metrics(9),
                    Catch::Contains("has 4 rows, but the checkpoint counts 9"));
  run.keep_metrics(0);
  CHECK(run.metrics().empty());
  CHECK_THROWS_WITH(run.append_metrics(Json::Array{1}), Catch::Contains("must be a JSON object"));
}

TEST_CASE("metrics rows are appended, not rewritten, and a torn last row never counts", "[runs]") {
  ablate::test::TempDir root("ablate-runs");
  RunDirectory run = RunDirectory::create(root.path(), "exp", "");
  run.append_metrics(row(1, 1.0));
  const auto file = run.path() / "metrics.jsonl";
  struct stat first {};
  REQUIRE(::stat(file.c_str(), &first) == 0);
  for (int epoch = 2; epoch <= 200; ++epoch) run.append_metrics(row(epoch, 1.0 / epoch));
  struct stat later {};
  REQUIRE(::stat(file.c_str(), &later) == 0);
  // The same file grew: a rewrite (write, rename) would have given it a new inode each time.
  CHECK(later.st_ino == first.st_ino);
  run.sync_metrics();
  CHECK(run.metrics().size() == 200);

  // A row a power cut cut short has no newline: it is not a row, and a resume drops it.
  std::ofstream(file, std::ios::app) << "{\"kind\":\"epoch\",\"epo";
  CHECK(run.metrics().size() == 200);
  run.keep_metrics(200);
  CHECK(run.read("metrics.jsonl").back() == '\n');
  run.append_metrics(row(201, 0.0));
  const std::vector<Json> rows = run.metrics();
  REQUIRE(rows.size() == 201);
  CHECK(rows.back() == row(201, 0.0));
}

TEST_CASE("a damaged metrics row is reported with its line", "[runs]") {
  ablate::test::TempDir root("ablate-runs");
  const RunDirectory run = RunDirectory::create(root.path(), "exp", "");
  run.write("metrics.jsonl", "{\"epoch\":1}\n{\"epoch\":\n");
  CHECK_THROWS_WITH(run.metrics(),
                    Catch::Contains("metrics.jsonl row 2") && Catch::Contains("invalid JSON"));
  run.write("metrics.jsonl", "{\"epoch\":1}\n[2]\n");
  CHECK_THROWS_WITH(run.metrics(), Catch::Contains("row 2 is not a JSON object"));
}

TEST_CASE("opening a run directory for resume", "[runs]") {
  ablate::test::TempDir root("ablate-runs");
  CHECK_THROWS_WITH(RunDirectory::open(root / "nope"), Catch::Contains("no run directory at"));
  CHECK_THROWS_WITH(RunDirectory::open(root.path()),
                    Catch::Contains("is not a run directory (it has no config.toml)"));

  std::optional<RunDirectory> made = RunDirectory::create(root.path(), "exp", "[experiment]\n");
  made->append_metrics(row(1, 0.5));
  // What a writer killed mid-write leaves: a temporary beside the real file.
  ablate::test::write_text(made->path() / "checkpoints" / ".last.safetensors.ablate-tmp-99-0",
                           "half");
  ablate::test::write_text(made->path() / ".metrics.jsonl.ablate-tmp-99-1", "{\"epo");
  // The writer still holds the folder: opening it is refused and removes nothing.
  CHECK_THROWS_AS(RunDirectory::open(made->path()), ablate::BusyError);
  CHECK_THROWS_WITH(RunDirectory::open(made->path()),
                    Catch::Contains("is in use by another ablate process (pid " +
                                    std::to_string(::getpid()) + ")"));
  CHECK(fs::exists(made->path() / ".metrics.jsonl.ablate-tmp-99-1"));
  const fs::path path = made->path();
  made.reset();  // the writer ends

  RunDirectory opened = RunDirectory::open(path);
  CHECK(opened.path() == path);
  CHECK(opened.metrics() == std::vector<Json>{row(1, 0.5)});
  CHECK_FALSE(fs::exists(path / "checkpoints" / ".last.safetensors.ablate-tmp-99-0"));
  CHECK_FALSE(fs::exists(path / ".metrics.jsonl.ablate-tmp-99-1"));
  CHECK(fs::exists(path / "config.toml"));
}
