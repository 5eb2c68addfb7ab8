// SHA-256 of text as 64 hex digits: the search's content keys (scores, proposals, candidate ids).
// Collisions would merge two different prompts' scores, so a cryptographic hash, not FNV.
#pragma once

#include <string>

namespace ptune::search {

std::string content_hash(const std::string& text);

}  // namespace ptune::search
