// What a tune run holds and writes on disk, made safe against concurrent runs and failures:
//
//   PathLock     an exclusive lock on a path (an output folder, a checkpoint) for the whole run,
//                so two runs on the same -o or --checkpoint cannot both write it (the second is
//                refused at start, not silently overwritten by the last writer)
//   replace_dir  a folder's output written all or nothing: into a temporary sibling, synced,
//                then swapped into place, so a full disk or a crash never leaves a new adapter
//                next to an old record
#pragma once

#include <functional>
#include <string>

namespace ptune::train {

// An exclusive advisory lock (flock) on the lock file `path + ".lock"` beside `path` (which need
// not exist; the folder it would be in is created when missing), held until destruction; the
// lock file is removed then. Locks are per open file, so
// two PathLocks on one path conflict within one process as well as between processes.
class PathLock {
 public:
  // Throws std::runtime_error naming `path` when another ptune holds the lock, or when the lock
  // file cannot be created (its folder not writable).
  explicit PathLock(const std::string& path);
  ~PathLock();
  PathLock(const PathLock&) = delete;
  PathLock& operator=(const PathLock&) = delete;

  const std::string& lock_file() const { return lock_file_; }

 private:
  std::string lock_file_;
  int fd_ = -1;
};

// Makes folder `dir` hold what `write` writes into the folder it is given (a fresh temporary
// sibling, `dir.tmp-XXXXXX`), all or nothing: the files are synced, entries of the old `dir`
// that `write` did not produce (a checkpoint, a metrics log, the user's files) are moved across,
// and the two folders are swapped with one rename (RENAME_EXCHANGE; two renames where the file
// system lacks it); then the old folder is removed. When `write` or any step throws, `dir` is
// as it was and the temporary folder is removed; the error names the step. A symbolic link `dir`
// stays: its target is replaced. `dir`'s parent is created when missing and must be writable.
void replace_dir(const std::string& dir, const std::function<void(const std::string& tmp)>& write);

}  // namespace ptune::train
