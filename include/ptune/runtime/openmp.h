// Process-level OpenMP settings.
#pragma once

namespace ptune {

// OpenMP threads that spin while waiting are a disaster when cores are shared: libtorch's CPU
// attention runs one small threaded GEMM per (row, head), and every barrier then waits for a
// descheduled thread (measured here: 5-shot scoring 3-20x slower, 90% of cycles in libgomp).
// libgomp reads OMP_WAIT_POLICY only when it is loaded, so unless the user set the variable this
// re-executes the current program once with OMP_WAIT_POLICY=PASSIVE (threads sleep instead of
// spinning). Call it first thing in main(). Returns only when no re-exec happened.
void reexec_with_passive_openmp(char** argv);

}  // namespace ptune
