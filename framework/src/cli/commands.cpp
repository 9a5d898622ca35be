#include "cli/commands.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/program_options.hpp>
#include <filesystem>
#include <iostream>
#include <set>

#include "config/experiment.hpp"
#include "plugins/plugin_call.hpp"
#include "plugins/registry.hpp"
#include "study/plan.hpp"
#include "train/run.hpp"
#include "train/trainer.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace ablate::cli {

/// Parses `args` against `options` (+ --help and positional names); prints help and returns
/// false when --help was asked for.
bool parse(const std::vector<std::string>& args, const char* usage, po::options_description& options,
           const po::positional_options_description& positional, po::variables_map& vm) {
  options.add_options()("help,h", "show this help");
  po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
  if (vm.count("help")) {
    std::cout << "usage: " << usage << "\n\n" << options << "\n";
    return false;
  }
  try {
    po::notify(vm);
  } catch (const po::required_option&) {
    // The missing option is a positional one (FILE, DIR...): its internal name means nothing.
    throw po::error(std::string("missing an argument; usage: ") + usage);
  }
  return true;
}

std::vector<Override> overrides(const po::variables_map& vm) {
  std::vector<Override> out;
  if (vm.count("set"))
    for (const auto& text : vm["set"].as<std::vector<std::string>>()) out.push_back(parse_override(text));
  if (vm.count("seed"))
    out.push_back({"experiment.seed", std::to_string(vm["seed"].as<std::int64_t>())});
  return out;
}

namespace {

void print_params(const std::vector<ParamSpec>& params) {
  if (params.empty()) {
    std::cout << "  (no parameters)\n";
    return;
  }
  std::size_t width = 4;
  for (const auto& p : params) width = std::max(width, p.name.size());
  for (const auto& p : params) {
    const std::string def = p.default_value ? to_toml(*p.default_value) : "(required)";
    std::cout << fmt::format("  {:<{}}  {:<12}  default {}\n  {:<{}}  {}\n  {:<{}}  {}\n", p.name,
                             width, to_string(p.type), def, "", width, p.describe_allowed(), "",
                             width, p.doc);
  }
}

}  // namespace

int run(const std::vector<std::string>& args) {
  po::options_description options("ablate run");
  options.add_options()("file", po::value<std::string>()->required(), "experiment TOML file")(
      "set", po::value<std::vector<std::string>>()->composing(), "override a key: --set train.lr=0.1")(
      "seed", po::value<std::int64_t>(), "the experiment's seed")(
      "out", po::value<std::string>()->default_value("runs"), "folder the run directory goes under");
  po::positional_options_description positional;
  positional.add("file", 1);
  po::variables_map vm;
  if (!parse(args, "ablate run FILE [--set key=value]... [--seed N] [--out DIR]", options,
             positional, vm))
    return 0;
  RunOptions run_options{vm["out"].as<std::string>(), overrides(vm)};
  const study::StudyOutline outline = study::study_outline(vm["file"].as<std::string>());
  if (outline.arms > 0)
    spdlog::info("running the base experiment; `ablate reproduce` runs its [[arm]]s ({})",
                 outline.arms);
  if (outline.sweep) spdlog::info("running the base experiment; `ablate sweep` runs its [sweep]");
  const RunResult result = run_experiment(vm["file"].as<std::string>(), run_options);
  std::cout << result.dir.string() << "\n";
  return result.exit_code;
}

int resume(const std::vector<std::string>& args) {
  po::options_description options("ablate resume");
  options.add_options()("dir", po::value<std::string>()->required(), "the run directory");
  po::positional_options_description positional;
  positional.add("dir", 1);
  po::variables_map vm;
  if (!parse(args, "ablate resume RUN_DIR", options, positional, vm)) return 0;
  const RunResult result = resume_run(vm["dir"].as<std::string>());
  std::cout << result.dir.string() << "\n";
  return result.exit_code;
}

namespace {

/// What `ablate run` sets up before its first step (plugins, data, the model): what only the
/// data's shape shows (a hashtron combiner that does not divide a layer) is a configuration
/// error, located at the section of the plugin that refused it.
void build_model(const Experiment& experiment, Registry& registry) {
  try {
    const Trainer trainer(experiment, registry);
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception& e) {
    const std::string plugin = take_throwing_plugin();
    std::string where = experiment.file.string();
    std::vector<const PluginChoice*> choices{&experiment.topology, &experiment.orderer};
    for (const auto& c : experiment.datasets) choices.push_back(&c);
    for (const auto& c : experiment.regularizers) choices.push_back(&c);
    if (experiment.capacity) choices.push_back(&*experiment.capacity);
    for (const PluginChoice* choice : choices)
      if (const PluginEntry* entry = registry.find(choice->kind, choice->plugin);
          entry && !plugin.empty() && entry->label == plugin)
        where = choice->where.str();
    throw ConfigError("the model cannot be built: " + std::string(e.what()) +
                          (plugin.empty() ? "" : " (thrown while calling " + plugin + ")"),
                      where);
  }
}

}  // namespace

int check(const std::vector<std::string>& args) {
  po::options_description options("ablate check");
  options.add_options()("file", po::value<std::string>()->required(), "experiment TOML file")(
      "set", po::value<std::vector<std::string>>()->composing(), "override a key: --set train.lr=0.1")(
      "seed", po::value<std::int64_t>(), "the experiment's seed")(
      "print", "print the resolved experiment");
  po::positional_options_description positional;
  positional.add("file", 1);
  po::variables_map vm;
  if (!parse(args, "ablate check FILE [--set key=value]... [--print]", options, positional, vm))
    return 0;
  Registry registry;
  const std::string file = vm["file"].as<std::string>();
  const Experiment experiment = load_experiment(file, overrides(vm), registry);
  build_model(experiment, registry);
  // Arms, findings and sweep points are validated too, each as a whole experiment.
  const study::StudyOutline outline = study::study_outline(file);
  std::string planned;
  if (outline.arms > 0) {
    const study::Study study = study::plan_reproduce(file, overrides(vm), registry);
    // Each arm (at each regime value) builds its model too: what `reproduce` would meet first.
    std::set<std::string> built;
    for (const study::Trial& trial : study.trials) {
      if (!built.insert(trial.group).second) continue;
      std::vector<Override> set = overrides(vm);
      set.insert(set.end(), trial.settings.begin(), trial.settings.end());
      try {
        build_model(load_experiment(file, set, registry), registry);
      } catch (const ConfigError& e) {
        throw ConfigError("arm '" + trial.group + "': " + e.what(), e.where());
      }
    }
    const std::size_t findings = study.expectations.size();
    planned += fmt::format("; {} arm{}, {} trials, {} finding{}", outline.arms,
                           outline.arms == 1 ? "" : "s", study.trials.size(), findings,
                           findings == 1 ? "" : "s");
  }
  if (outline.sweep)
    planned += fmt::format("; sweep of {} trials",
                           study::plan_sweep(file, overrides(vm), registry).trials.size());
  if (vm.count("print")) std::cout << experiment.resolved_toml;
  else std::cout << experiment.file.string() << ": ok (" << experiment.name << planned << ")\n";
  return 0;
}

Kind kind_argument(const std::string& text) {
  if (const std::optional<Kind> kind = parse_kind(text)) return *kind;
  std::string kinds;
  for (Kind kind : kAllKinds) kinds += (kinds.empty() ? "" : ", ") + std::string(to_string(kind));
  throw ConfigError("unknown kind '" + text + "'; kinds: " + kinds);
}

int plugins(const std::vector<std::string>& args) {
  po::options_description options("ablate plugins");
  options.add_options()("kind", po::value<std::string>(),
                        "only this kind: orderer, capacity_law, regularizer, topology, dataset");
  po::variables_map vm;
  if (!parse(args, "ablate plugins [--kind K]", options, {}, vm)) return 0;
  std::optional<Kind> kind;
  if (vm.count("kind")) kind = kind_argument(vm["kind"].as<std::string>());
  Registry registry;
  const std::vector<fs::path> folders = Registry::search_path();
  registry.scan(folders);
  for (const PluginEntry* entry : registry.entries(kind))
    std::cout << fmt::format("{:<18} {:<13} {:<6} {}\n{:<18} {:<13} {:<6} {}\n", entry->info->name,
                             to_string(entry->info->kind), entry->info->version,
                             entry->info->summary, "", "", "", entry->file.string());
  // Where they came from: a name found twice is taken from the first folder (and warned about).
  std::cout << "\nsearched, in order:\n";
  for (std::size_t i = 0; i < folders.size(); ++i) {
    std::error_code ec;
    std::cout << fmt::format("  {}  ({}{})\n", folders[i].string(),
                             i == 0 ? "this host's own" : "ABLATE_PLUGIN_PATH",
                             fs::is_directory(folders[i], ec) ? "" : ", missing");
  }
  return 0;
}

int describe(const std::vector<std::string>& args) {
  po::options_description options("ablate describe");
  options.add_options()("name", po::value<std::string>()->required(),
                        "a plugin's name, or a host section: experiment, split, tasks, train");
  po::positional_options_description positional;
  positional.add("name", 1);
  po::variables_map vm;
  if (!parse(args, "ablate describe NAME", options, positional, vm)) return 0;
  const std::string name = vm["name"].as<std::string>();
  if (auto it = host_sections().find(name); it != host_sections().end()) {
    std::cout << "[" << name << "]  (a section of the host)\n";
    print_params(it->second);
    return 0;
  }
  Registry registry;
  registry.scan(Registry::search_path());
  const PluginEntry* entry = registry.find(name);
  if (!entry) {
    std::string known;
    for (const PluginEntry* e : registry.entries()) known += (known.empty() ? "" : ", ") + e->info->name;
    throw ConfigError("no plugin or section named '" + name + "'; plugins: " + known +
                      "; sections: experiment, split, tasks, train");
  }
  const PluginInfo& info = *entry->info;
  std::cout << info.name << "  (" << to_string(info.kind) << ", version " << info.version << ")\n  "
            << info.summary << "\n  " << entry->file.string() << "\n\nparameters:\n";
  print_params(info.params);
  if (!info.figures.empty())  // what checks of [[expect]] may read (a trailing * is a prefix)
    std::cout << fmt::format("\nsummary figures:\n  {}\n", fmt::join(info.figures, ", "));
  return 0;
}

}  // namespace ablate::cli
