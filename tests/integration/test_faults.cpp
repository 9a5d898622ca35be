// Faults end to end (docs/ARCHITECTURE.md, "Faults"): a second process on a busy run or study
// directory, SIGTERM / SIGINT mid-run, and a full disk or a read-only folder under a real
// `ablate` process (an LD_PRELOAD shim, tests/faults/fail_writes.cpp, fails its write calls).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <future>
#include <map>

#include "runs/json.hpp"
#include "study/study_dir.hpp"
#include "state_support.hpp"
#include "support.hpp"
#include "util/sha256.hpp"

using namespace ablate::test;
namespace fs = std::filesystem;

namespace {

// Digits, MLP, 6 epochs in two stages (study_probe: 1 epoch, then 5); a fresh run pauses
// `pause` seconds between them, which is where the tests signal it.
std::string experiment(double pause) {
  return "[experiment]\nname = \"faults\"\nseed = 5\nplugin_paths = [\"" ABLATE_TEST_PLUGIN_DIR
         "/study_probe\"]\n\n[dataset]\nplugin = \"digits\"\n\n"
         "[topology]\nplugin = \"mlp\"\nhidden = [32]\n\n"
         "[orderer]\nplugin = \"study_probe\"\npause_seconds = " +
         std::to_string(pause) +
         "\n\n[train]\nepochs = 6\nbatch_size = 64\nlr = 0.05\nthreads = 1\n"
         "checkpoint_every = 1\n";
}

ablate::Json read_json(const fs::path& file) { return ablate::Json::parse(read_text(file)); }

/// The uninterrupted run's metrics.jsonl and final checkpoint.
struct Reference {
  std::string metrics, checkpoint;
};

/// Also leaves the experiment, without a pause, as tmp/run.toml.
Reference reference_run(const TempDir& tmp) {
  write_text(tmp / "run.toml", experiment(0));
  const auto r = run_ablate("run " + (tmp / "run.toml").string() + " --out " + (tmp / "ref").string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const fs::path dir = run_dir_of(r);
  return {without_clock(read_text(dir / "metrics.jsonl")),
          checkpoint_without_clock(dir / "checkpoints/last.safetensors")};
}

/// sha256 of every file under `dir` but log.txt (which a failed attempt appends to).
std::map<std::string, std::string> hashes(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename() != "log.txt")
      out[fs::relative(e.path(), dir).string()] = ablate::sha256_file(e.path());
  return out;
}

}  // namespace

TEST_CASE("SIGTERM and SIGINT end a run with a checkpoint, status interrupted and 128+N, a "
          "second process on the busy directory is refused, resume is bit-identical",
          "[faults][e2e]") {
  TempDir tmp("ablate-faults-signal");
  const Reference reference = reference_run(tmp);
  write_text(tmp / "paused.toml", experiment(3));
  for (int signal : {SIGTERM, SIGINT}) {
    DYNAMIC_SECTION("signal " << signal) {
      const fs::path out = tmp / ("out" + std::to_string(signal));
      std::string refused;
      int refused_code = 0;
      const KilledRun stopped = kill_run_when(
          {(tmp / "paused.toml").string(), "--out", out.string()}, out, "faults",
          [&](const fs::path& run) {
            if (count_lines(without_clock(read_text(run / "metrics.jsonl"))) < 1) return false;
            // Paused after epoch 1: a second process on the directory is refused.
            const auto second = run_ablate("resume " + run.string());
            refused = second.output;
            refused_code = second.exit_code;
            return true;
          },
          std::chrono::seconds(60), tmp / "signal.log", signal);
      INFO(read_text(tmp / "signal.log"));
      REQUIRE(!stopped.dir.empty());
      CHECK(refused_code == 1);
      CHECK_THAT(refused, Catch::Contains("run directory " + stopped.dir.string() +
                                          " is in use by another ablate process (pid "));
      CHECK(stopped.exit.signal == 0);  // it ended itself
      CHECK(stopped.exit.exit_code == 128 + signal);
      const auto summary = read_json(stopped.dir / "summary.json");
      CHECK(summary.at("status").as_string() == "interrupted");
      CHECK_THAT(summary.at("reason").as_string(),
                 Catch::Contains(signal == SIGTERM ? "SIGTERM" : "SIGINT"));
      CHECK_THAT(read_text(tmp / "signal.log"), Catch::Contains("ablate resume"));
      REQUIRE(fs::exists(stopped.dir / "checkpoints/last.safetensors"));
      const auto resumed = run_ablate("resume " + stopped.dir.string());
      INFO(resumed.output);
      REQUIRE(resumed.exit_code == 0);
      CHECK(without_clock(read_text(stopped.dir / "metrics.jsonl")) == reference.metrics);
      CHECK(checkpoint_without_clock(stopped.dir / "checkpoints/last.safetensors") == reference.checkpoint);
    }
  }
}

TEST_CASE("a second sweep --resume on a study being run is refused, SIGTERM to the sweep "
          "interrupts its trial and --resume finishes it",
          "[faults][study][e2e]") {
  TempDir tmp("ablate-faults-study");
  write_text(tmp / "sweep.toml",
             "[experiment]\nname = \"faults\"\nseeds = [1]\nplugin_paths = [\"" ABLATE_TEST_PLUGIN_DIR
             "/study_probe\"]\n\n[dataset]\nplugin = \"digits\"\n\n"
             "[topology]\nplugin = \"mlp\"\nhidden = [32]\n\n"
             "[orderer]\nplugin = \"study_probe\"\n\n"
             "[train]\nepochs = 3\nbatch_size = 64\nthreads = 1\ncheckpoint_every = 1\n\n"
             "[sweep]\nmode = \"grid\"\nkeys = { \"orderer.pause_seconds\" = [3] }\n");
  const int pid = ablate::start_program(
      {"env", "-u", "ABLATE_PLUGIN_PATH", ABLATE_BINARY, "sweep", (tmp / "sweep.toml").string(),
       "--out", (tmp / "sweeps").string()},
      tmp / "sweep.log");
  fs::path study;
  for (int i = 0; i < 1200 && study.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto r = CommandResult{0, read_text(tmp / "sweep.log")};
    const fs::path planned = study_dir_of(r);
    if (!planned.empty() && r.output.find("running 1 trials") != std::string::npos) study = planned;
  }
  REQUIRE(!study.empty());
  const auto second = run_ablate("sweep --resume " + study.string());
  INFO(second.output);
  CHECK(second.exit_code == 1);
  CHECK_THAT(second.output, Catch::Contains("study directory " + study.string() +
                                            " is in use by another ablate process (pid "));
  ::kill(pid, SIGTERM);
  const ablate::ProgramExit exit = ablate::wait_program(pid);
  INFO(read_text(tmp / "sweep.log"));
  CHECK(exit.exit_code == 1);
  const std::string id = ablate::study::open_study(study).study.trials.at(0).id;
  const auto status = ablate::study::read_status(study, id);
  CHECK(status.status == "interrupted");
  const auto resumed = run_ablate("sweep --resume " + study.string());
  INFO(resumed.output);
  CHECK(resumed.exit_code == 0);
  CHECK(ablate::study::read_status(study, id).status == "ok");
}

TEST_CASE("a full disk while writing metrics, a checkpoint or the sum cache: the file and the "
          "reason named, status failed, nothing written damaged, resume finishes the run",
          "[faults][e2e]") {
  TempDir tmp("ablate-faults-enospc");
  const Reference reference = reference_run(tmp);
  const std::size_t checkpoint_bytes = fs::file_size(newest_run_in(tmp / "ref", "faults") / "checkpoints/last.safetensors");
  for (const auto& [file, budget] :
       std::vector<std::pair<std::string, std::size_t>>{{"metrics.jsonl", 1500},
                                                        {"last.safetensors", 2 * checkpoint_bytes + 100},
                                                        {"sumcache.bin", 100}}) {
    DYNAMIC_SECTION(file) {
      const fs::path out = tmp / ("out-" + file.substr(0, 4));  // not matching the shim
      const auto r = run_command("env -u ABLATE_PLUGIN_PATH LD_PRELOAD=" ABLATE_FAULT_PRELOAD
                                 " ABLATE_FAULT_PATH=" + file + " ABLATE_FAULT_AFTER_BYTES=" +
                                 std::to_string(budget) + " " ABLATE_BINARY " run " +
                                 (tmp / "run.toml").string() + " --out " + out.string());
      INFO(r.output);
      CHECK(r.exit_code == 1);
      CHECK_THAT(r.output, Catch::Contains(file + ": No space left on device"));
      const fs::path dir = newest_run_in(out, "faults");
      REQUIRE(!dir.empty());
      const auto summary = read_json(dir / "summary.json");
      CHECK(summary.at("status").as_string() == "failed");
      CHECK_THAT(summary.at("reason").as_string(), Catch::Contains(file + ": No space left on device"));
      // Whole rows only: what metrics.jsonl holds is the start of the uninterrupted run's.
      const std::string metrics = without_clock(read_text(dir / "metrics.jsonl"));
      CHECK(reference.metrics.compare(0, metrics.size(), metrics) == 0);
      for (const auto& e : fs::recursive_directory_iterator(dir))
        CHECK(e.path().filename().string().find("ablate-tmp") == std::string::npos);

      // A resume that fails at once changes none of the files (its metrics cut aside).
      if (fs::exists(dir / "checkpoints/last.safetensors")) {
        auto before = hashes(dir);
        const auto again = run_command("env -u ABLATE_PLUGIN_PATH LD_PRELOAD=" ABLATE_FAULT_PRELOAD
                                       " ABLATE_FAULT_PATH=last.safetensors " ABLATE_BINARY
                                       " resume " + dir.string());
        CHECK(again.exit_code == 1);
        auto after = hashes(dir);
        for (const char* changed : {"metrics.jsonl", "manifest.json", "summary.json", ".lock"}) {
          before.erase(changed);
          after.erase(changed);
        }
        CHECK(before == after);
      }
      const auto resumed = run_ablate("resume " + dir.string());
      INFO(resumed.output);
      REQUIRE(resumed.exit_code == 0);
      CHECK(without_clock(read_text(dir / "metrics.jsonl")) == reference.metrics);
      CHECK(checkpoint_without_clock(dir / "checkpoints/last.safetensors") == reference.checkpoint);
    }
  }
}

TEST_CASE("an fsync or a rename that fails: the file and the reason named, status failed, "
          "nothing written damaged, resume finishes the run", "[faults][e2e]") {
  TempDir tmp("ablate-faults-sync");
  const Reference reference = reference_run(tmp);
  struct Fault {
    const char *call, *file, *error, *message;
  };
  for (const Fault& fault :
       {Fault{"fsync", "metrics.jsonl", "EIO", "cannot sync "},
        Fault{"fsync", "last.safetensors", "EIO", "cannot sync "},
        Fault{"rename", "sumcache.bin", "EROFS", "cannot rename a temporary file to "}}) {
    DYNAMIC_SECTION(fault.call << " of " << fault.file) {
      const fs::path out = tmp / (std::string("out-") + fault.call + "-" + std::string(fault.file).substr(0, 4));
      const auto r = run_command(std::string("env -u ABLATE_PLUGIN_PATH LD_PRELOAD=" ABLATE_FAULT_PRELOAD
                                             " ABLATE_FAULT_CALL=") + fault.call +
                                 " ABLATE_FAULT_PATH=" + fault.file + " ABLATE_FAULT_ERRNO=" +
                                 fault.error + " " ABLATE_BINARY " run " +
                                 (tmp / "run.toml").string() + " --out " + out.string());
      INFO(r.output);
      CHECK(r.exit_code == 1);
      const std::string reason = std::string(fault.error) == "EIO" ? "Input/output error"
                                                                   : "Read-only file system";
      CHECK_THAT(r.output, Catch::Contains(fault.message) &&
                               Catch::Contains(std::string(fault.file) + ": " + reason));
      const fs::path dir = newest_run_in(out, "faults");
      REQUIRE(!dir.empty());
      const auto summary = read_json(dir / "summary.json");
      CHECK(summary.at("status").as_string() == "failed");
      CHECK_THAT(summary.at("reason").as_string(), Catch::Contains(reason));
      const std::string metrics = without_clock(read_text(dir / "metrics.jsonl"));
      CHECK(reference.metrics.compare(0, metrics.size(), metrics) == 0);
      for (const auto& e : fs::recursive_directory_iterator(dir))
        CHECK(e.path().filename().string().find("ablate-tmp") == std::string::npos);
      const auto resumed = run_ablate("resume " + dir.string());
      INFO(resumed.output);
      REQUIRE(resumed.exit_code == 0);
      CHECK(without_clock(read_text(dir / "metrics.jsonl")) == reference.metrics);
      CHECK(checkpoint_without_clock(dir / "checkpoints/last.safetensors") == reference.checkpoint);
    }
  }
}

TEST_CASE("a read-only checkpoints folder: the run fails naming the file, the checkpoint is "
          "untouched, and resume finishes once it is writable",
          "[faults][e2e]") {
  TempDir tmp("ablate-faults-readonly");
  const Reference reference = reference_run(tmp);
  // A run with a checkpoint and no end: killed after its second row.
  const fs::path dir = kill_run_when({(tmp / "run.toml").string(), "--out", (tmp / "runs").string()},
                                     tmp / "runs", "faults",
                                     [](const fs::path& run) {
                                       return count_lines(without_clock(read_text(run / "metrics.jsonl"))) >= 2 &&
                                              fs::exists(run / "checkpoints/last.safetensors");
                                     },
                                     std::chrono::seconds(60), tmp / "killed.log")
                           .dir;
  REQUIRE(!dir.empty());
  const std::string checkpoint = ablate::sha256_file(dir / "checkpoints/last.safetensors");
  std::string env = "env -u ABLATE_PLUGIN_PATH ";
  if (::geteuid() == 0) {  // root writes into read-only folders: the shim plays the file system
    WARN("running as root, where chmod a-w does not stop writes: EACCES comes from the shim");
    env += "LD_PRELOAD=" ABLATE_FAULT_PRELOAD " ABLATE_FAULT_PATH=last.safetensors "
           "ABLATE_FAULT_ERRNO=EACCES ";
  }
  fs::permissions(dir / "checkpoints", fs::perms::owner_write | fs::perms::group_write |
                                           fs::perms::others_write,
                  fs::perm_options::remove);
  const auto r = run_command(env + ABLATE_BINARY " resume " + dir.string());
  fs::permissions(dir / "checkpoints", fs::perms::owner_write, fs::perm_options::add);
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("checkpoints/last.safetensors: Permission denied"));
  const auto summary = read_json(dir / "summary.json");
  CHECK(summary.at("status").as_string() == "failed");
  CHECK_THAT(summary.at("reason").as_string(), Catch::Contains("Permission denied"));
  CHECK(ablate::sha256_file(dir / "checkpoints/last.safetensors") == checkpoint);
  const auto resumed = run_ablate("resume " + dir.string());
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  CHECK(without_clock(read_text(dir / "metrics.jsonl")) == reference.metrics);
}

TEST_CASE("a read-only run directory: resume is refused naming the folder and the reason, and "
          "changes nothing", "[faults][e2e]") {
  TempDir tmp("ablate-faults-readonly-dir");
  const Reference reference = reference_run(tmp);
  const fs::path dir =
      kill_run_when({(tmp / "run.toml").string(), "--out", (tmp / "runs").string()}, tmp / "runs",
                    "faults",
                    [](const fs::path& run) {
                      return fs::exists(run / "checkpoints/last.safetensors");
                    },
                    std::chrono::seconds(60), tmp / "killed.log")
          .dir;
  REQUIRE(!dir.empty());
  const auto before = hashes(dir);
  std::string env = "env -u ABLATE_PLUGIN_PATH ";
  if (::geteuid() == 0) {  // root writes into read-only folders: the shim plays the file system
    WARN("running as root, where chmod a-w does not stop writes: EROFS comes from the shim");
    env += "LD_PRELOAD=" ABLATE_FAULT_PRELOAD " ABLATE_FAULT_CALL=open ABLATE_FAULT_PATH=" +
           dir.string() + " ABLATE_FAULT_ERRNO=EROFS ";
  }
  auto set_writable = [&](bool writable) {
    for (const auto& e : fs::recursive_directory_iterator(dir))
      fs::permissions(e.path(), fs::perms::owner_write,
                      writable ? fs::perm_options::add : fs::perm_options::remove);
    fs::permissions(dir, fs::perms::owner_write,
                    writable ? fs::perm_options::add : fs::perm_options::remove);
  };
  set_writable(false);
  const auto r = run_command(env + ABLATE_BINARY " resume " + dir.string());
  set_writable(true);
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains(dir.string()) &&
                           (Catch::Contains("Read-only file system") ||
                            Catch::Contains("Permission denied")));
  auto after = hashes(dir);
  CHECK(after == before);
  const auto resumed = run_ablate("resume " + dir.string());
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  CHECK(without_clock(read_text(dir / "metrics.jsonl")) == reference.metrics);
}

TEST_CASE("a plugin that throws, aborts or segfaults fails its sweep trial alone, named with "
          "the signal, the sweep goes on and writes its results",
          "[faults][study][e2e]") {
  TempDir tmp("ablate-faults-crash");
  write_text(tmp / "sweep.toml",
             "[experiment]\nname = \"crashy\"\nseeds = [1]\nplugin_paths = [\"" ABLATE_TEST_PLUGIN_DIR
             "/study_probe\"]\n\n[dataset]\nplugin = \"digits\"\n\n"
             "[topology]\nplugin = \"mlp\"\nhidden = [32]\n\n"
             "[orderer]\nplugin = \"study_probe\"\n\n"
             "[train]\nepochs = 2\nbatch_size = 64\nthreads = 1\n\n"
             "[sweep]\nmode = \"grid\"\n"
             "keys = { \"orderer.crash\" = [\"\", \"throw\", \"abort\", \"segfault\"] }\n");
  const auto r = run_ablate("sweep " + (tmp / "sweep.toml").string() + " -j 2 --out " +
                            (tmp / "sweeps").string());
  INFO(r.output);
  CHECK(r.exit_code == 1);
  const fs::path study = study_dir_of(r);
  REQUIRE(!study.empty());
  std::map<std::string, ablate::study::TrialStatus> by_crash;
  const auto plan = ablate::study::open_study(study);
  for (const auto& trial : plan.study.trials) {
    const std::string config = read_text(study / "trials" / trial.id / "config.toml");
    std::string crash = "none";
    for (const char* kind : {"throw", "abort", "segfault"})
      if (config.find(std::string("crash = \"") + kind + "\"") != std::string::npos) crash = kind;
    by_crash[crash] = ablate::study::read_status(study, trial.id);
  }
  REQUIRE(by_crash.size() == 4);
  CHECK(by_crash["none"].status == "ok");
  const std::string plugin = "while calling plugin 'study_probe' (orderer, ";
  CHECK(by_crash["throw"].status == "failed");
  CHECK_THAT(by_crash["throw"].reason, Catch::Contains("probe threw on purpose"));
  CHECK_THAT(by_crash["throw"].reason, Catch::Contains(plugin));
  CHECK(by_crash["abort"].status == "failed");
  CHECK(by_crash["abort"].signal == "SIGABRT");
  CHECK_THAT(by_crash["abort"].reason, Catch::Contains("crashed: SIGABRT " + plugin));
  CHECK(by_crash["segfault"].status == "failed");
  CHECK(by_crash["segfault"].signal == "SIGSEGV");
  CHECK_THAT(by_crash["segfault"].reason, Catch::Contains("crashed: SIGSEGV " + plugin));
  CHECK_THAT(read_text(study / "results.csv"), Catch::Contains(",ok,"));
  CHECK(fs::exists(study / "table.txt"));
}
