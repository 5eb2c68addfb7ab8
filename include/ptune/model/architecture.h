// The architecture registry: GGUF `general.architecture` -> how to build a Model from the file.
//
// Each architecture is one file in src/model/arch/ that defines register_architecture_<file>()
// and calls register_architecture() from it; the build generates the call of every such
// function (cmake/registrations.cmake), so adding a family is adding its file. Tests may
// register more at run time.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ptune/model/model.h"

namespace ptune {

struct Architecture {
  std::string name;         // general.architecture, e.g. "llama"
  std::string description;  // one line, for `ptune info` and errors
  std::function<std::unique_ptr<Model>(const gguf::GgufFile&, torch::Device, torch::ScalarType)>
      build;
};

// Throws std::invalid_argument when the name is empty, taken, or build is missing.
void register_architecture(Architecture architecture);
// Null when no architecture has that name.
const Architecture* find_architecture(const std::string& name);
// Registered names, sorted.
std::vector<std::string> architecture_names();

}  // namespace ptune
