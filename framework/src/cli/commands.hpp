#pragma once
// The subcommands; each takes the arguments after its name and returns the exit code.
#include <string>
#include <vector>

namespace ablate::cli {

int run(const std::vector<std::string>& args);
int resume(const std::vector<std::string>& args);
int check(const std::vector<std::string>& args);
int plugins(const std::vector<std::string>& args);
int describe(const std::vector<std::string>& args);
int graph(const std::vector<std::string>& args);  // cli/graph.cpp

}  // namespace ablate::cli
