// Small filesystem helpers shared by the layers that write folders (the CLI's -o, the run store).
#pragma once

#include <string>

namespace ptune::util {

// mkdir -p: makes `dir` and every missing folder above it; throws std::runtime_error
// "cannot create PART: reason" naming the part that cannot be made. An existing folder (or
// file) is left as it is.
void make_dirs(const std::string& dir);

}  // namespace ptune::util
