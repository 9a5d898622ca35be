#pragma once
// Running a helper program (git, python) and reading what it prints, without a shell: arguments
// are passed as they are, so paths with spaces or quotes need no escaping.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ablate {

struct ProgramResult {
  int exit_code = -1;  // -1 when the program could not be started or was killed by a signal
  std::string out;     // everything written to stdout
  std::string err;     // everything written to stderr
  bool started = false;  // false when argv[0] could not be found or executed
};

/// Runs `argv` (argv[0] looked up on PATH) with stdin from /dev/null, and waits for it.
ProgramResult run_program(const std::vector<std::string>& argv);

/// Its stdout when it exits with 0; nothing otherwise.
std::optional<std::string> program_output(const std::vector<std::string>& argv);

/// How a child started with start_program ended: an exit code, or the signal that killed it.
struct ProgramExit {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;      // 0 when it exited
};

/// Starts `argv` (argv[0] a path or looked up on PATH) with stdin from /dev/null and stdout and
/// stderr appended to `log` (created if missing); returns its pid without waiting.
/// Throws ablate::Error naming the program when it cannot be started.
int start_program(const std::vector<std::string>& argv, const std::filesystem::path& log);

/// Waits for a child of start_program (retrying on EINTR).
ProgramExit wait_program(int pid);

/// The absolute path of the running program (/proc/self/exe resolved): how the host re-runs itself.
std::filesystem::path current_executable();

}  // namespace ablate
