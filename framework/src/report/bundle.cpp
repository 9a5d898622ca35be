#include "report/bundle.hpp"

#include <algorithm>
#include <deque>
#include <sstream>

#include "ablate/error.hpp"
#include "runs/manifest.hpp"
#include "runs/run_dir.hpp"
#include "stats/layer_summary.hpp"
#include "stats/sum_cache_io.hpp"
#include "study/study_dir.hpp"
#include "util/atomic_file.hpp"

namespace fs = std::filesystem;

namespace ablate::report {
namespace {

// A report of a huge model stays a file a browser opens: past this many sum-cache records the
// units shown are an even sample of each layer (the counts say how many there are).
constexpr std::size_t kMaxSumRecords = 60000;
constexpr std::size_t kLogLines = 200;

const Json* member(const Json& json, std::string_view key) {
  return json.is_object() ? json.find(key) : nullptr;
}

bool is_run_dir(const fs::path& dir) { return fs::is_regular_file(dir / "config.toml"); }

/// Reads the sources' files, noting every one that exists and cannot be used.
class Reader {
 public:
  explicit Reader(fs::path dir) : dir_(std::move(dir)) {}

  Json text(const std::string& name) {
    const fs::path file = dir_ / name;
    if (!fs::exists(file)) return {};
    try {
      return read_file(file);
    } catch (const std::exception& e) {
      errors_.push_back(name + ": " + e.what());
      return {};
    }
  }

  Json json(const std::string& name) {
    const Json raw = text(name);
    if (!raw.is_string()) return {};
    try {
      return Json::parse(raw.as_string());
    } catch (const std::exception& e) {
      errors_.push_back(name + " is not valid JSON: " + e.what());
      return {};
    }
  }

  Json tail(const std::string& name, std::size_t lines) {
    const Json raw = text(name);
    if (!raw.is_string()) return raw;
    std::deque<std::string> kept;
    std::istringstream in(raw.as_string());
    for (std::string line; std::getline(in, line);) {
      kept.push_back(std::move(line));
      if (kept.size() > lines) kept.pop_front();
    }
    std::string out;
    for (const std::string& line : kept) out += line + "\n";
    return out;
  }

  void error(std::string message) { errors_.push_back(std::move(message)); }

  Json errors() const {
    Json list = Json::array();
    for (const std::string& e : errors_) list.push_back(e);
    return list;
  }

 private:
  fs::path dir_;
  std::vector<std::string> errors_;
};

Json sum_cache_json(const SumSnapshot& snapshot) {
  const SumCache& sums = snapshot.sums;
  Json out = Json::object();
  out["run"] = snapshot.identity.run;
  out["keep"] = static_cast<double>(sums.keep());
  out["bytes"] = static_cast<double>(sums.bytes());
  Json layers = Json::array();
  for (const UnitLayer& layer : snapshot.identity.layers) {
    Json l = Json::object();
    l["name"] = layer.name;
    l["size"] = layer.size;
    layers.push_back(std::move(l));
  }
  out["layers"] = std::move(layers);
  Json stages = Json::array();
  for (const StageRecord& s : sums.stages()) stages.push_back(to_json(s));
  out["stages"] = std::move(stages);

  std::size_t records = 0;
  for (const auto& [unit, history] : sums.units()) records += history.size();
  // Every `stride`-th unit of each layer when the whole history would be too large to show.
  const std::size_t stride = records <= kMaxSumRecords ? 1 : (records + kMaxSumRecords - 1) / kMaxSumRecords;
  Json units = Json::array();
  std::map<int, std::size_t> seen;
  for (const auto& [unit, history] : sums.units()) {
    if (seen[unit.layer]++ % stride != 0) continue;
    Json u = Json::object();
    u["layer"] = unit.layer;
    u["index"] = unit.index;
    Json list = Json::array();
    for (const SumRecord& r : history) list.push_back(to_json(r));
    u["records"] = std::move(list);
    units.push_back(std::move(u));
  }
  out["units"] = std::move(units);
  out["units_total"] = static_cast<double>(sums.units().size());
  out["records_total"] = static_cast<double>(records);
  out["unit_stride"] = static_cast<double>(stride);
  return out;
}

}  // namespace

std::vector<fs::path> expand_sources(const std::vector<fs::path>& dirs) {
  std::vector<fs::path> out;
  for (const fs::path& dir : dirs) {
    if (!fs::is_directory(dir))
      throw ConfigError(dir.string() + " is not a directory (give run directories, study "
                                       "directories, or folders holding them)");
    if (is_run_dir(dir) || study::is_study_dir(dir)) {
      out.push_back(dir);
      continue;
    }
    // A folder of runs or studies (runs/quickstart/, sweeps/): what it holds, without entering
    // them (a study's trials are its own).
    std::vector<fs::path> found;
    for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
         ++it) {
      if (!it->is_directory()) continue;
      if (is_run_dir(it->path()) || study::is_study_dir(it->path())) {
        found.push_back(it->path());
        it.disable_recursion_pending();
      } else if (it.depth() >= 2) {
        it.disable_recursion_pending();
      }
    }
    if (found.empty())
      throw ConfigError(dir.string() +
                        " holds no run or study: a run directory has config.toml (ablate run "
                        "makes them), a study directory a manifest.json with trials (ablate "
                        "sweep, ablate reproduce)");
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

Json collect_run(const fs::path& dir) {
  Reader read(dir);
  Json run = Json::object();
  run["type"] = "run";
  run["path"] = fs::absolute(dir).lexically_normal().string();
  run["id"] = dir.filename().string();
  run["name"] = dir.parent_path().filename().string();
  Json files = Json::object();
  files["config.toml"] = read.text("config.toml");
  files["manifest.json"] = read.json("manifest.json");
  files["summary.json"] = read.json("summary.json");
  files["metrics.jsonl"] = read.text("metrics.jsonl");
  files["log.txt"] = read.tail("log.txt", kLogLines);
  files["progress.json"] = read.json("progress.json");
  // progress.json is removed when a run ends: one left by a process gone was killed.
  if (Json& progress = files["progress.json"]; progress.is_object()) {
    const Json* pid = member(progress, "pid");
    const Json* host = member(progress, "host");
    if (pid && pid->is_number() && host && host->is_string() && host->as_string() == hostname())
      progress["alive"] = !process_gone(pid->as_number(), host->as_string());
  }
  if (const Json* m = member(files["manifest.json"], "experiment"); m && m->is_string())
    run["name"] = m->as_string();
  run["files"] = std::move(files);
  run["sum_cache"] = Json();
  if (fs::exists(dir / "sumcache.bin")) {
    try {
      run["sum_cache"] = sum_cache_json(decode_sums(read_file(dir / "sumcache.bin"),
                                                    (dir / "sumcache.bin").string()));
    } catch (const std::exception& e) {
      read.error(std::string("sumcache.bin: ") + e.what());
    }
  }
  run["errors"] = read.errors();
  return run;
}

Json collect_study(const fs::path& dir) {
  Reader read(dir);
  Json out = Json::object();
  out["type"] = "study";
  out["path"] = fs::absolute(dir).lexically_normal().string();
  out["id"] = dir.filename().string();
  Json files = Json::object();
  files["manifest.json"] = read.json("manifest.json");
  files["results.csv"] = read.text("results.csv");
  files["table.txt"] = read.text("table.txt");
  files["findings.json"] = read.json("findings.json");
  const Json& manifest = files["manifest.json"];
  const Json* name = member(manifest, "name");
  out["name"] = name ? *name : Json(dir.parent_path().filename().string());
  const Json* kind = member(manifest, "kind");
  out["kind"] = kind ? *kind : Json();
  Json trials = Json::array();
  if (const Json* list = member(manifest, "trials"); list && list->is_array()) {
    for (std::size_t i = 0; i < list->size(); ++i) {
      const Json& trial = list->at(i);
      Json t = Json::object();
      for (const char* key : {"id", "group", "seed", "settings"}) {
        const Json* value = member(trial, key);
        t[key] = value ? *value : Json();
      }
      if (!t["id"].is_string()) continue;
      const std::string id = t["id"].as_string();
      study::TrialStatus status;
      try {
        status = study::read_status(dir, id);
        t["status"] = status.status == "pending" ? Json() : status.to_json();
      } catch (const std::exception& e) {
        read.error("trials/" + id + "/status.json: " + e.what());
        t["status"] = Json();
      }
      // A trial never started is queued; a "running" one whose process is gone was killed.
      std::string state = status.status == "pending" ? "queued" : status.status;
      if (state == "running" && study::is_stale(status)) state = "killed";
      t["state"] = state;
      std::optional<fs::path> run_dir;
      if (!status.run_dir.empty() && is_run_dir(dir / status.run_dir))
        run_dir = dir / status.run_dir;
      else
        run_dir = study::latest_run_dir(study::trial_path(dir, id));
      t["run"] = run_dir ? collect_run(*run_dir) : Json();
      trials.push_back(std::move(t));
    }
  }
  out["files"] = std::move(files);
  out["trials"] = std::move(trials);
  out["errors"] = read.errors();
  return out;
}

Json collect_bundle(const std::vector<fs::path>& sources, Json live) {
  Json bundle = Json::object();
  bundle["generated"] = utc_time_now();
  bundle["ablate_version"] = ABLATE_VERSION;
  bundle["live"] = std::move(live);
  Json list = Json::array();
  for (const fs::path& dir : sources)
    list.push_back(study::is_study_dir(dir) ? collect_study(dir) : collect_run(dir));
  bundle["sources"] = std::move(list);
  return bundle;
}

}  // namespace ablate::report
