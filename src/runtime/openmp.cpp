#include "ptune/runtime/openmp.h"

#include <unistd.h>

#include <cstdlib>

namespace ptune {

void reexec_with_passive_openmp(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY")) return;  // the user's choice (or we already re-executed)
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  execv("/proc/self/exe", argv);
  unsetenv("OMP_WAIT_POLICY");  // exec failed: carry on as we are
}

}  // namespace ptune
