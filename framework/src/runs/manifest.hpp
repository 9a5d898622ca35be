#pragma once
// Facts about the machine and the source a run was made with, for manifest.json.
#include <filesystem>
#include <string>
#include <vector>

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

/// Whether process `pid` of machine `host` has ended. Only decidable for processes of this
/// host (and pids a pid_t holds): any other is taken as alive.
bool process_gone(double pid, const std::string& host);

/// The instruction-set extensions this build of ablate was compiled for (ABLATE_ARCH, CMake),
/// e.g. "x86-64 sse4.2 avx avx2 fma avx512f avx512bw avx512vl": the vector width of every
/// element-wise pass, so results are bit-identical only between builds that agree on it.
std::string build_isa();

/// The kernel OpenBLAS picked for this CPU at load time (openblas_get_corename), e.g.
/// "Haswell" or "SkylakeX": its blocking and accumulation order fix the GEMMs' rounding.
std::string blas_core();

/// {"hostname", "cpu", "cores", "os", "compiler", "commit", "dirty", "isa", "blas_core"}: the
/// commit of the source tree ablate was built from.
Json host_facts();

/// What makes a run's bits differ between machines: the CPU model, build_isa and blas_core of
/// `recorded` (a manifest) against this process's. Empty when all agree; else one line per
/// difference, "isa: <recorded> here <now>".
std::vector<std::string> numerics_differences(const Json& recorded);

}  // namespace ablate
