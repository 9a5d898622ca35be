#pragma once
// One ablate process per run or study directory: two writers interleaving metrics.jsonl or a
// study's status files would each leave whole files, but a mixture of two runs. The lock is
// flock(2) on <folder>/.lock, so it dies with its process (a SIGKILL never leaves it stale).
#include <filesystem>
#include <string>

#include "ablate/error.hpp"

namespace ablate {

/// Another process holds the folder: nothing was written.
class BusyError : public Error {
 public:
  using Error::Error;
};

class DirectoryLock {
 public:
  DirectoryLock() = default;
  /// Locks `folder` (`what` names it in the message: "run directory", "study directory").
  /// BusyError "<what> <folder> is in use by another ablate process (pid N)" when another holds
  /// it; an Error naming the lock file when it cannot be created.
  DirectoryLock(const std::filesystem::path& folder, const std::string& what);
  DirectoryLock(DirectoryLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DirectoryLock& operator=(DirectoryLock&& other) noexcept;
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;
  ~DirectoryLock();

 private:
  int fd_ = -1;
};

}  // namespace ablate
