// The build's version: `git describe --always --dirty --tags` at build time (cmake/version.cmake),
// or the project version outside a git checkout. Recorded with every run.
#pragma once

namespace ptune {
const char* version();
}  // namespace ptune
