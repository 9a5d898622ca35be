// The `ablate` command line: one subcommand per verb, each with --help.
// Exit codes: 0 ok, 1 the run failed, 2 usage or configuration error, 128 + N a run stopped by
// signal N (train/stop.hpp).
#include <spdlog/spdlog.h>

#include <boost/program_options.hpp>
#include <functional>
#include <iostream>
#include <map>

#include "ablate/error.hpp"
#include "cli/commands.hpp"
#include "runs/log.hpp"

namespace po = boost::program_options;

namespace {

struct Command {
  const char* summary;
  std::function<int(const std::vector<std::string>&)> run;
};

const std::map<std::string, Command>& commands() {
  static const std::map<std::string, Command> table{
      {"run", {"train an experiment: ablate run FILE [--set k=v]... [--seed N] [--out DIR]",
               ablate::cli::run}},
      {"resume", {"continue a killed run from its last checkpoint: ablate resume RUN_DIR",
                  ablate::cli::resume}},
      {"check", {"validate an experiment without running it: ablate check FILE [--set k=v]...",
                 ablate::cli::check}},
      {"plugins", {"list the plugins found: ablate plugins [--kind K]", ablate::cli::plugins}},
      {"new", {"write a plugin project to build out of tree: ablate new KIND NAME [--dir D]",
               ablate::cli::new_plugin}},
      {"describe", {"a plugin's (or host section's) parameters: ablate describe NAME",
                    ablate::cli::describe}},
      {"graph", {"write the model's unit graph (DOT, GraphML): ablate graph FILE [--out PREFIX]",
                 ablate::cli::graph}},
      {"cache", {"a run's sum cache: stages, layer zones and trends, a unit's history, or an "
                 "export: ablate cache RUN_DIR [--unit L.I] [--export FILE]",
                 ablate::cli::cache}},
      {"sweep", {"run a [sweep] of an experiment: ablate sweep FILE [-j N] | --resume DIR | --status DIR",
                 ablate::cli::sweep}},
      {"reproduce", {"run the arms x seeds and check the findings: ablate reproduce FILE [-j N]",
                     ablate::cli::reproduce}},
      {"compare", {"runs and studies side by side: ablate compare DIR...", ablate::cli::compare}},
      {"report", {"one self-contained HTML page of runs and studies: ablate report DIR... [-o FILE]",
                  ablate::cli::report}},
      {"dashboard", {"the report, live, on 127.0.0.1: ablate dashboard DIR... [--port N]",
                     ablate::cli::dashboard}},
      {"trial", {"", ablate::cli::trial}},  // hidden: one trial of a study (SLURM array tasks)
  };
  return table;
}

void usage(std::ostream& out) {
  out << "usage: ablate COMMAND [options]   (ablate COMMAND --help for its options)\n\ncommands:\n";
  for (const auto& [name, command] : commands())
    if (*command.summary)  // commands without a summary are internal
      out << "  " << name << std::string(10 - name.size(), ' ') << command.summary << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  ablate::setup_console_logging(false);
  if (argc < 2) {
    usage(std::cerr);
    return 2;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    usage(std::cout);
    return 0;
  }
  auto it = commands().find(name);
  if (it == commands().end()) {
    std::cerr << "ablate: unknown command '" << name << "'\n\n";
    usage(std::cerr);
    return 2;
  }
  try {
    return it->second.run(std::vector<std::string>(argv + 2, argv + argc));
  } catch (const ablate::ConfigError& e) {
    std::cerr << "error: " << (e.where().empty() ? "" : e.where() + ": ") << e.what() << "\n";
    return 2;
  } catch (const po::error& e) {
    std::cerr << "ablate " << name << ": " << e.what() << " (see ablate " << name << " --help)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
