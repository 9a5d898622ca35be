#pragma once
// Facts about the machine and the source a run was made with, for manifest.json.
#include <filesystem>
#include <string>

#include "runs/json.hpp"

namespace ablate {

/// The commit checked out at `source_dir` (40 hex digits), or "unknown" when it is not a git
/// checkout (or git is missing). `dirty`, when given, is set to whether tracked files differ
/// from that commit (untracked files do not count).
std::string git_commit(const std::filesystem::path& source_dir, bool* dirty = nullptr);

/// The CPU's model name from /proc/cpuinfo, or "unknown".
std::string cpu_model();

/// The compiler this build of ablate was made with, e.g. "GNU 12.2.0".
std::string compiler();

/// This machine's host name, or "unknown".
std::string hostname();

/// {"hostname", "cpu", "cores", "os", "compiler", "commit", "dirty"}: the commit of the source
/// tree ablate was built from.
Json host_facts();

}  // namespace ablate
