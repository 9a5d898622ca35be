#pragma once
// Durable files. The rule they serve: a crash or kill -9 at any moment never corrupts a file
// already written and never leaves a half file under the file's own name.
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace ablate {

/// Replaces `path` with `bytes`, all or nothing: writes a temporary file in the same folder,
/// fsyncs it, renames it over `path` and fsyncs the folder so the rename itself survives a power
/// cut. On failure the old file is left as it was and the temporary is removed.
/// Throws ablate::Error naming the path and the system's reason.
void write_atomic(const std::filesystem::path& path, std::string_view bytes);

/// A file that only grows, one whole record at a time (metrics.jsonl): each append is one
/// O_APPEND write of the record, so its cost does not grow with the file. A write that fails part
/// way (a full disk) is cut back to the record's start, so the file holds whole records only.
/// Records reach the disk at sync() (the run calls it before every checkpoint) or when the
/// system writes them back; a record cut short by a power cut has no newline, and readers
/// drop an unterminated last line.
class AppendOnlyFile {
 public:
  explicit AppendOnlyFile(std::filesystem::path path);  // created if missing; Error naming it
  AppendOnlyFile(AppendOnlyFile&& other) noexcept;
  AppendOnlyFile& operator=(AppendOnlyFile&& other) noexcept;
  ~AppendOnlyFile();

  /// Writes `record` at the end; an Error naming the file, and the file as it was, on failure.
  void append(std::string_view record);
  /// fdatasync: everything appended is on the disk. An Error naming the file.
  void sync();

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

/// Creates `folder` and its missing parents; an Error naming it when that fails.
void create_folders(const std::filesystem::path& folder);

/// The whole file as bytes; an Error naming the path when it cannot be read.
std::string read_file(const std::filesystem::path& path);

/// Streams a file to `consume` in chunks (for files too large to hold); Errors as read_file.
void read_chunks(const std::filesystem::path& path,
                 const std::function<void(std::string_view chunk)>& consume);

/// Whether `filename` is the temporary name write_atomic uses (".<name>.ablate-tmp-<pid>-<n>").
bool is_temporary_name(const std::string& filename);

/// Deletes the temporaries a killed writer left anywhere under `folder`; returns how many.
/// Only for folders no other process is writing to (a run directory being resumed).
std::size_t remove_temporary_files(const std::filesystem::path& folder);

}  // namespace ablate
