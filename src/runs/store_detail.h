// JSON in and out of the store's TEXT columns, shared by store.cpp and store_read.cpp.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

#include "ptune/util/json.h"

namespace ptune::runs::detail {

// Invalid UTF-8 in data rows is replaced, not fatal: a record is never lost over one byte.
inline std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A column written by dump(); a store edited by hand gets an error naming the run and column
// (strict: a key twice is an error, as in every JSON ptune reads).
inline nlohmann::json parse(const std::string& text, int64_t run, const char* column) {
  try {
    return util::parse_json_strict(text);
  } catch (const util::JsonSyntaxError& e) {
    throw std::runtime_error("run " + std::to_string(run) + ": column " + column +
                             " is not JSON: " + e.what());
  }
}

}  // namespace ptune::runs::detail
