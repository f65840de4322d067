// Entry point of the `pixvault` command line: parses arguments and runs one command.
#pragma once

#include <iosfwd>

namespace pixvault::cli {

// Returns the process exit code: 0 on success, the ErrorCode's code for an error (see
// ExitCodeFor), 1 when an import or fsck found failures, 2 for a usage error.
int RunCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace pixvault::cli
