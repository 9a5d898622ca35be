#pragma once
// SIGINT (Ctrl-C) and SIGTERM (kill, SLURM's preemption) stop a run cleanly: the handler only
// records the signal; the Trainer looks at it between epochs, saves a checkpoint there and ends
// the run "interrupted", so `ablate resume` continues it bit for bit. A second signal while the
// first is being honoured ends the process at once (the signal's default action): every file is
// written atomically, so that loses at most the epoch under way.
#include <string>

namespace ablate {

/// Installs the handlers for SIGINT and SIGTERM (for the rest of the process).
void install_stop_signals();

/// The signal that asked the run to stop, or 0.
int stop_signal();

/// "SIGTERM", "SIGSEGV"; "signal N" for one without a name.
std::string signal_name(int signal);

}  // namespace ablate
