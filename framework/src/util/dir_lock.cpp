#include "util/dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace ablate {

DirectoryLock::DirectoryLock(const std::filesystem::path& folder, const std::string& what) {
  const std::filesystem::path file = folder / ".lock";
  // O_CLOEXEC: a child (a sweep's trial) must not keep its parent's folder locked.
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0)
    throw Error("cannot create the lock file " + file.string() + ": " + std::strerror(errno),
                file.string());
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    char pid[32] = {};
    const ssize_t got = ::pread(fd, pid, sizeof pid - 1, 0);
    ::close(fd);
    std::string holder(pid, got > 0 ? static_cast<std::size_t>(got) : 0);
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    if (error == EWOULDBLOCK)
      throw BusyError(what + " " + folder.string() + " is in use by another ablate process" +
                          (holder.empty() ? std::string() : " (pid " + holder + ")"),
                      folder.string());
    throw Error("cannot lock " + file.string() + ": " + std::strerror(error), file.string());
  }
  // The holder's pid, for the message a second process prints; informative only.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0 && ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
  }
  fd_ = fd;
}

DirectoryLock& DirectoryLock::operator=(DirectoryLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace ablate
