#include "study/study_dir.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ablate/error.hpp"
#include "runs/manifest.hpp"
#include "runs/run_dir.hpp"
#include "util/atomic_file.hpp"
#include "util/sha256.hpp"

namespace fs = std::filesystem;

namespace ablate::study {
namespace {

constexpr const char* kManifest = "manifest.json";
constexpr const char* kStatus = "status.json";


Json strings(const std::vector<std::string>& items) {
  Json out = Json::array();
  for (const auto& item : items) out.push_back(item);
  return out;
}

/// The manifest's backend, and its SLURM options when it is slurm.
void set_backend(Json& m, const StudyDir& dir) {
  m["backend"] = dir.backend;
  if (dir.backend != "slurm") return;
  Json slurm = Json::object();
  slurm["partition"] = dir.slurm.partition;
  slurm["time"] = dir.slurm.time;
  slurm["cpus_per_task"] = dir.slurm.cpus_per_task;
  m["slurm"] = std::move(slurm);
}

Json manifest_json(const StudyDir& dir, const std::vector<std::string>& command) {
  const Study& study = dir.study;
  Json m = Json::object();
  m["kind"] = to_string(study.kind);
  m["name"] = study.name;
  m["source"] = study.file.string();
  m["source_sha256"] = fs::exists(study.file) ? sha256_file(study.file) : "";
  m["created"] = utc_time_now();
  m["command"] = strings(command);
  m["parameters"] = strings(study.parameters);
  set_backend(m, dir);
  Json trials = Json::array();
  for (const Trial& trial : study.trials) {
    Json t = Json::object();
    t["id"] = trial.id;
    t["group"] = trial.group;
    t["seed"] = trial.seed;
    Json settings = Json::object();
    for (const Override& o : trial.settings) settings[o.path] = o.value;
    t["settings"] = std::move(settings);
    trials.push_back(std::move(t));
  }
  m["trials"] = std::move(trials);
  if (study.kind == StudyKind::reproduce) {
    Json expectations = Json::array();
    for (const Expectation& e : study.expectations) {
      Json x = Json::object();
      x["finding"] = e.finding;
      x["check"] = e.text;
      Json where = Json::object();
      where["file"] = e.where.file;
      where["line"] = e.where.line;
      where["column"] = e.where.column;
      x["where"] = std::move(where);
      if (!e.holds_for.empty()) x["holds_for"] = strings(e.holds_for);
      expectations.push_back(std::move(x));
    }
    m["expectations"] = std::move(expectations);
    if (study.regime) {
      Json regime = Json::object();
      regime["key"] = study.regime->key;
      regime["values"] = strings(study.regime->values);
      regime["controls"] =
          strings(std::vector<std::string>(study.regime->controls.begin(), study.regime->controls.end()));
      m["regime"] = std::move(regime);
    }
  }
  return m;
}

}  // namespace

fs::path new_study_path(const fs::path& root, const Study& study) {
  const std::string stamp =
      (study.kind == StudyKind::reproduce ? "reproduce-" : "") + timestamp_now();
  const fs::path base = root / study.name / stamp;
  fs::path candidate = base;
  for (int n = 2; fs::exists(candidate); ++n) candidate = base.string() + "-" + std::to_string(n);
  return candidate;
}

void write_study(const StudyDir& dir, const std::vector<std::string>& command) {
  if (fs::exists(dir.path / kManifest))
    throw Error(dir.path.string() + " already holds a study (manifest.json)");
  for (const Trial& trial : dir.study.trials) {
    check_folder_name(trial.id, "trial id");  // refuse anything that could leave trials/
    const fs::path folder = trial_path(dir.path, trial.id);
    create_folders(folder);
    write_atomic(folder / "config.toml", trial.config);
  }
  write_atomic(dir.path / kManifest, manifest_json(dir, command).dump() + "\n");
}

void record_backend(const StudyDir& dir) {
  Json m = Json::parse(read_file(dir.path / kManifest));
  set_backend(m, dir);
  write_atomic(dir.path / kManifest, m.dump() + "\n");
}

namespace {

/// The manifest at `path` when it is a study's (an object with kind and trials), parsed once.
std::optional<Json> study_manifest(const fs::path& path) {
  if (!fs::is_regular_file(path / kManifest)) return std::nullopt;
  try {
    Json m = Json::parse(read_file(path / kManifest));
    if (m.is_object() && m.contains("trials") && m.contains("kind")) return m;
  } catch (const Error&) {
  }
  return std::nullopt;
}

}  // namespace

bool is_study_dir(const fs::path& path) { return study_manifest(path).has_value(); }

StudyDir open_study(const fs::path& path) {
  const std::optional<Json> manifest = study_manifest(path);
  if (!manifest)
    throw ConfigError(path.string() +
                      " is not a study directory (no manifest.json with trials; "
                      "ablate sweep and ablate reproduce make them)");
  const Json& m = *manifest;
  StudyDir dir;
  dir.path = path;
  Study& study = dir.study;
  study.kind = m.at("kind").as_string() == to_string(StudyKind::sweep) ? StudyKind::sweep
                                                                      : StudyKind::reproduce;
  study.name = m.at("name").as_string();
  study.file = m.at("source").as_string();
  for (const Json& p : m.at("parameters").as_array()) study.parameters.push_back(p.as_string());
  dir.backend = m.at("backend").as_string();
  if (const Json* slurm = m.find("slurm")) {
    dir.slurm.partition = slurm->at("partition").as_string();
    dir.slurm.time = slurm->at("time").as_string();
    dir.slurm.cpus_per_task = static_cast<int>(slurm->at("cpus_per_task").as_integer());
  }
  for (const Json& t : m.at("trials").as_array()) {
    Trial trial;
    trial.id = t.at("id").as_string();
    check_folder_name(trial.id, "trial id");  // refuse anything that could leave trials/
    trial.group = t.at("group").as_string();
    trial.seed = t.at("seed").as_integer();
    for (const auto& [key, value] : t.at("settings").as_object())
      trial.settings.push_back({key, value.as_string()});
    trial.config = read_file(trial_path(path, trial.id) / "config.toml");
    study.trials.push_back(std::move(trial));
  }
  if (const Json* expectations = m.find("expectations"))
    for (const Json& x : expectations->as_array()) {
      Expectation e;
      e.finding = x.at("finding").as_string();
      e.text = x.at("check").as_string();
      const Json& where = x.at("where");
      e.where = {where.at("file").as_string(), static_cast<int>(where.at("line").as_integer()),
                 static_cast<int>(where.at("column").as_integer())};
      e.check = parse_check(e.text, e.where);
      if (const Json* holds_for = x.find("holds_for"))
        for (const Json& v : holds_for->as_array()) e.holds_for.push_back(v.as_string());
      study.expectations.push_back(std::move(e));
    }
  if (const Json* regime = m.find("regime")) {
    study.regime = Regime{regime->at("key").as_string(), {}, {}};
    for (const Json& v : regime->at("values").as_array())
      study.regime->values.push_back(v.as_string());
    if (const Json* controls = regime->find("controls"))
      for (const Json& arm : controls->as_array()) study.regime->controls.insert(arm.as_string());
  }
  return dir;
}

fs::path trial_path(const fs::path& study_dir, const std::string& id) {
  return study_dir / "trials" / id;
}

const Trial& find_trial(const StudyDir& dir, const std::string& id) {
  for (const Trial& trial : dir.study.trials)
    if (trial.id == id) return trial;
  throw Error("no trial '" + id + "' in " + dir.path.string());
}

Json TrialStatus::to_json() const {
  Json j = Json::object();
  j["status"] = status;
  j["reason"] = reason;
  j["exit_code"] = exit_code;
  j["signal"] = signal;
  j["run_dir"] = run_dir;
  j["seconds"] = seconds;
  if (status == "running") {
    j["pid"] = pid;
    j["host"] = host;
  }
  return j;
}

TrialStatus TrialStatus::from_json(const Json& json) {
  TrialStatus s;
  s.status = json.at("status").as_string();
  auto text = [&](const char* key) {
    const Json* v = json.find(key);
    return v && v->is_string() ? v->as_string() : std::string();
  };
  auto number = [&](const char* key) {
    const Json* v = json.find(key);
    return v && v->is_number() ? v->as_number() : 0.0;
  };
  s.reason = text("reason");
  s.signal = text("signal");
  s.run_dir = text("run_dir");
  s.host = text("host");
  // Range first: casting a number no int holds is undefined (tests/fuzz/fuzz_study found one).
  auto integer = [&](const char* key, int missing) {
    const Json* v = json.find(key);
    if (!v || !v->is_number()) return missing;
    const double d = v->as_number();
    if (!(d >= std::numeric_limits<int>::min() && d <= std::numeric_limits<int>::max()) ||
        d != std::floor(d))
      throw Error("status.json: " + std::string(key) + " is " + Json(d).dump() +
                  ", not an integer of int's range");
    return static_cast<int>(d);
  };
  s.exit_code = integer("exit_code", -1);
  s.seconds = number("seconds");
  s.pid = integer("pid", 0);
  return s;
}

TrialStatus read_status(const fs::path& study_dir, const std::string& id) {
  const fs::path file = trial_path(study_dir, id) / kStatus;
  if (!fs::exists(file)) return {};
  return TrialStatus::from_json(Json::parse(read_file(file), file.string()));
}

void write_status(const fs::path& study_dir, const std::string& id, const TrialStatus& status) {
  write_atomic(trial_path(study_dir, id) / kStatus, status.to_json().dump() + "\n");
}

bool is_stale(const TrialStatus& status) {
  return status.status == "running" && process_gone(status.pid, status.host);
}

std::set<fs::path> run_dirs(const fs::path& trial_dir) {
  std::set<fs::path> dirs;
  std::error_code ec;
  for (const auto& experiment : fs::directory_iterator(trial_dir, ec))
    if (experiment.is_directory())
      for (const auto& run : fs::directory_iterator(experiment.path(), ec))
        if (run.is_directory() && fs::exists(run.path() / "config.toml")) dirs.insert(run.path());
  return dirs;
}

std::optional<fs::path> latest_run_dir(const fs::path& trial_dir) {
  std::optional<fs::path> newest;
  for (const fs::path& run : run_dirs(trial_dir))
    if (!newest || run.filename() > newest->filename()) newest = run;
  return newest;
}

std::vector<TrialOutcome> collect_outcomes(const StudyDir& dir) {
  std::vector<TrialOutcome> outcomes;
  for (const Trial& trial : dir.study.trials) {
    TrialOutcome outcome{&trial, read_status(dir.path, trial.id), Json()};
    if (!outcome.status.run_dir.empty()) {
      const fs::path summary = dir.path / outcome.status.run_dir / "summary.json";
      if (fs::exists(summary)) outcome.summary = Json::parse(read_file(summary), summary.string());
    }
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

}  // namespace ablate::study
