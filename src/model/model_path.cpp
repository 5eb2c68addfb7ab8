#include "ptune/model/model_path.h"

#include <cstdlib>

namespace ptune {

std::string default_model_path() {
  const char* env = std::getenv("PTUNE_MODEL");
  if (env && *env) return env;
  return PTUNE_DEFAULT_MODEL;
}

}  // namespace ptune
