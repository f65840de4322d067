// Small text helpers shared by the CLI, the HTTP layer and configuration.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pixvault {

// "a, b,,c " -> {"a", "b", "c"}: comma-separated items, spaces trimmed, empty items dropped.
std::vector<std::string> SplitCommaList(std::string_view text);

}  // namespace pixvault
