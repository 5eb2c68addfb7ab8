// Writing a file so that readers see the old content or the new, never a torn one.
#pragma once

#include <cstddef>
#include <string>

namespace ptune::io {

// Writes `size` bytes to path + ".tmp", then renames it over `path`. Returns "" on success, else
// a message naming the file and the failing step (the temporary file is removed); callers wrap
// it in their own error type.
std::string write_file_atomically(const std::string& path, const void* data, size_t size);

}  // namespace ptune::io
