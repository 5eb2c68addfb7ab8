// See include/ptune/util/files.h.
#include "ptune/util/files.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace ptune::util {

void make_dirs(const std::string& dir) {
  std::string cur;
  for (size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      if (!cur.empty() && mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) {
        throw std::runtime_error("cannot create " + cur + ": " + std::strerror(errno));
      }
    }
    if (i < dir.size()) cur += dir[i];
  }
}

}  // namespace ptune::util
