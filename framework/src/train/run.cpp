#include "train/run.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <chrono>
#include <utility>

#include "plugins/plugin_call.hpp"
#include "plugins/registry.hpp"
#include "runs/json.hpp"
#include "runs/log.hpp"
#include "runs/manifest.hpp"
#include "runs/run_dir.hpp"
#include "runs/safetensors.hpp"
#include "train/stop.hpp"
#include "train/trainer.hpp"
#include "util/sha256.hpp"

namespace ablate {
namespace {

constexpr const char* kCheckpoint = "checkpoints/last.safetensors";
constexpr const char* kSumCacheFile = "sumcache.bin";  // DESIGN.md's run directory
constexpr const char* kProgressFile = "progress.json";

Json manifest(const Experiment& experiment, const Trainer& trainer) {
  Json m = host_facts();  // commit and dirty flag, compiler, CPU
  m["seed"] = experiment.experiment.integer("seed");
  m["threads"] = threads();
  m["experiment"] = experiment.name;
  m["source"] = experiment.file.string();
  Json plugins = Json::array();
  for (const PluginEntry* entry : trainer.plugins_used()) {
    Json p = Json::object();
    p["name"] = entry->info->name;
    p["kind"] = to_string(entry->info->kind);
    p["version"] = entry->info->version;
    p["file"] = entry->file.string();
    p["sha256"] = sha256_file(entry->file);
    plugins.push_back(std::move(p));
  }
  m["plugins"] = std::move(plugins);
  return m;
}

/// Notes in manifest.json where a resume ran. On another CPU, build or BLAS kernel the run goes
/// on (a preempted job rarely gets its node back), but its bits may differ from an uninterrupted
/// run's: the log says so, naming what changed, and the manifest keeps it. Returns the manifest.
Json record_resume(RunDirectory& dir) {
  Json m = Json::parse(dir.read("manifest.json"), (dir.path() / "manifest.json").string());
  const std::vector<std::string> differences = numerics_differences(m);
  if (!differences.empty())
    spdlog::warn("resuming on another machine or build: the results may differ in the last bits "
                 "from an uninterrupted run ({})",
                 fmt::join(differences, "; "));
  Json entry = Json::object();
  entry["hostname"] = hostname();
  entry["cpu"] = cpu_model();
  entry["isa"] = build_isa();
  entry["blas_core"] = blas_core();
  Json changed = Json::array();
  for (const std::string& d : differences) changed.push_back(d);
  entry["numerics_differ"] = std::move(changed);
  m["resumes"].push_back(std::move(entry));
  dir.write("manifest.json", m.dump() + "\n");
  return m;
}

/// progress.json while the run trains: where it is (Progress::report_state_to), with the process
/// that writes it, for `ablate dashboard`. Removed when the run ends; a failed write only warns
/// (the run's results never depend on it).
void report_progress(const RunDirectory& dir, Trainer& trainer) {
  trainer.report_state_to([&dir, warned = false](const Json& state) mutable {
    Json s = state;
    s["pid"] = static_cast<std::int64_t>(::getpid());
    s["host"] = hostname();
    try {
      dir.write(kProgressFile, s.dump() + "\n");
    } catch (const std::exception& e) {
      if (!std::exchange(warned, true)) spdlog::warn("cannot write {}: {}", kProgressFile, e.what());
    }
  });
}

/// Trains in `dir` (fresh, or from its checkpoint) and writes summary.json.
RunResult train_in(RunDirectory& dir, const Experiment& experiment, Registry& registry,
                   bool resume) {
  add_run_log(dir.path() / "log.txt");
  install_stop_signals();
  install_crash_report();
  const auto started = std::chrono::steady_clock::now();
  RunResult result{dir.path(), "ok", 0};
  Json summary = Json::object();
  try {
    Trainer trainer(experiment, registry);
    report_progress(dir, trainer);
    // A resumed run keeps its manifest, and the GEMM threading it records, whose rounding its
    // bits carry; one killed before writing it gets it now.
    if (!resume || !dir.exists("manifest.json")) {
      Json m = manifest(experiment, trainer);
      m["gemm_threading"] = to_json(trainer.use_gemm_threading(nullptr));
      dir.write("manifest.json", m.dump() + "\n");
    } else {
      const Json m = record_resume(dir);
      // Manifests from before the choice was recorded: the host's cut was the only one then.
      const Json* recorded = m.find("gemm_threading");
      const Json host = Json(Json::Object{{"threading", Json("host")}});
      trainer.use_gemm_threading(recorded ? recorded : &host);
    }
    std::optional<StateStore> state;
    if (resume && dir.exists(kCheckpoint)) {
      state = read_safetensors(dir.path() / kCheckpoint);
      dir.keep_metrics(static_cast<std::size_t>(state->integers("trainer/rows").at(0)));
      spdlog::info("resuming {} from its checkpoint", dir.path().string());
    } else if (resume) {
      dir.keep_metrics(0);
      spdlog::info("{} has no checkpoint yet: starting it over", dir.path().string());
    }
    Outcome outcome = trainer.run(
        [&](const Json& row) { dir.append_metrics(row); },
        [&](const StateStore& s) {
          dir.sync_metrics();  // the rows the checkpoint counts are on the disk before it
          write_safetensors(dir.path() / kCheckpoint, s, {{"format", "ablate checkpoint"}});
          dir.write(kSumCacheFile, Trainer::sums_snapshot(s));
        },
        state ? &*state : nullptr);
    summary = std::move(outcome.summary);
    result.status = outcome.status;
    if (outcome.status != "ok") {
      summary["reason"] = outcome.reason;
      if (outcome.status == "interrupted")
        spdlog::warn("run {}; continue it with: ablate resume {}", outcome.reason,
                     dir.path().string());
      else
        spdlog::error("run {}: {}", outcome.status, outcome.reason);
      // Interrupted: 128 + the signal, as a shell reports a process the signal ended.
      result.exit_code = outcome.status == "interrupted" ? 128 + stop_signal() : 1;
    }
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception& e) {
    result.status = "failed";
    result.exit_code = 1;
    const std::string plugin = take_throwing_plugin();
    const std::string reason =
        plugin.empty() ? std::string(e.what()) : std::string(e.what()) + " (thrown while calling " + plugin + ")";
    summary["reason"] = reason;
    spdlog::error("run failed: {}", reason);
  }
  std::error_code ignored;  // a progress.json that cannot be removed is only stale
  std::filesystem::remove(dir.path() / kProgressFile, ignored);
  summary["status"] = result.status;
  summary["experiment"] = experiment.name;
  summary["seed"] = experiment.experiment.integer("seed");
  summary["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  try {
    dir.write("summary.json", summary.dump() + "\n");
  } catch (const std::exception& e) {  // a full disk or a read-only folder: say so, exit 1
    spdlog::error("cannot record the run's status ({}) in summary.json: {}", result.status,
                  e.what());
    result.status = "failed";
    result.exit_code = 1;
    return result;
  }
  if (result.status == "ok") {  // the figures a researcher looks for first, on the console too
    std::string figures;
    for (const auto& [key, label] : {std::pair{"test_accuracy", "test accuracy"},
                                     std::pair{"val_accuracy", "val accuracy"},
                                     std::pair{"forgetting", "forgetting"}})
      if (const Json* value = summary.find(key); value && value->is_number())
        figures += fmt::format("{}{} {:.2f}%", figures.empty() ? ": " : ", ", label,
                               100 * value->as_number());
    spdlog::info("done in {:.1f} s{}", summary.at("seconds").as_number(), figures);
  }
  return result;
}

}  // namespace

RunResult run_experiment(const std::filesystem::path& file, const RunOptions& options) {
  Registry registry;
  const Experiment experiment = load_experiment(file, options.overrides, registry);
  RunDirectory dir = RunDirectory::create(options.out, experiment.name, experiment.resolved_toml);
  spdlog::info("run {} -> {}", experiment.name, dir.path().string());
  return train_in(dir, experiment, registry, false);
}

RunResult resume_run(const std::filesystem::path& path) {
  RunDirectory dir = RunDirectory::open(path);
  if (dir.exists("summary.json")) {
    const Json summary = Json::parse(dir.read("summary.json"));
    if (summary.at("status").as_string() == "ok")
      throw Error(path.string() + " has already finished (summary.json says ok)");
  }
  Registry registry;
  const Experiment experiment = load_experiment(dir.path() / "config.toml", {}, registry);
  return train_in(dir, experiment, registry, true);
}

}  // namespace ablate
