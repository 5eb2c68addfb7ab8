#pragma once

#include <string>

namespace ptune {

// The model `-m` defaults to: $PTUNE_MODEL when set, else the file scripts/setup fetched.
std::string default_model_path();

}  // namespace ptune
