#pragma once
// The subcommands; each takes the arguments after its name and returns the exit code.
#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "config/experiment.hpp"

namespace ablate::cli {

// Shared by the subcommands (cli/commands.cpp).
/// Parses `args` against `options` (+ --help and positional names); prints help and returns
/// false when --help was asked for.
bool parse(const std::vector<std::string>& args, const char* usage,
           boost::program_options::options_description& options,
           const boost::program_options::positional_options_description& positional,
           boost::program_options::variables_map& vm);
/// The kind a command-line argument names; ConfigError listing the kinds otherwise.
Kind kind_argument(const std::string& text);
/// The --set texts (and --seed as experiment.seed) of a parsed command line.
std::vector<Override> overrides(const boost::program_options::variables_map& vm);

int run(const std::vector<std::string>& args);
int resume(const std::vector<std::string>& args);
int check(const std::vector<std::string>& args);
int plugins(const std::vector<std::string>& args);
int describe(const std::vector<std::string>& args);
int graph(const std::vector<std::string>& args);  // cli/graph.cpp
int cache(const std::vector<std::string>& args);  // cli/cache.cpp
// cli/study.cpp
int sweep(const std::vector<std::string>& args);
int reproduce(const std::vector<std::string>& args);
int compare(const std::vector<std::string>& args);
int trial(const std::vector<std::string>& args);  // hidden: one trial of a study (SLURM tasks)
int new_plugin(const std::vector<std::string>& args);  // cli/new_plugin.cpp
// cli/report.cpp
int report(const std::vector<std::string>& args);
int dashboard(const std::vector<std::string>& args);

}  // namespace ablate::cli
