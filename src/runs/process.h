// Who is writing a run: host name, pid and the process's start time, so that a run left
// "running" by a killed process can be told from one still in progress (pids are reused; a pid
// with another start time is another process).
#pragma once

#include <cstdint>
#include <string>

namespace ptune::runs::detail {

std::string host_name();
int64_t current_pid();
// The start time of process `pid` (field 22 of /proc/PID/stat, clock ticks since boot) as
// text; "" when there is no such process.
std::string process_start(int64_t pid);

}  // namespace ptune::runs::detail
