#pragma once
// Running a helper program (git, python) and reading what it prints, without a shell: arguments
// are passed as they are, so paths with spaces or quotes need no escaping.
#include <optional>
#include <string>
#include <vector>

namespace ablate {

struct ProgramResult {
  int exit_code = -1;  // -1 when the program could not be started or was killed by a signal
  std::string out;     // everything written to stdout
};

/// Runs `argv` (argv[0] looked up on PATH) with stdin from /dev/null and stderr discarded,
/// and waits for it.
ProgramResult run_program(const std::vector<std::string>& argv);

/// Its stdout when it exits with 0; nothing otherwise.
std::optional<std::string> program_output(const std::vector<std::string>& argv);

}  // namespace ablate
