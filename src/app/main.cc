// The `pixvault` binary.
#include <iostream>

#include "cli/cli.h"

int main(int argc, char** argv) { return pixvault::cli::RunCli(argc, argv, std::cout, std::cerr); }
