// The `plumbline` binary: a thin entry point over app/cli.h.
#include <iostream>
#include <string>
#include <vector>

#include "app/cli.h"
#include "plumbline/git/git_source.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  // The Git fetch runs in a child process of this same binary (git/fetch.h).
  if (args.size() == 1 && args[0] == plumbline::kGitFetchCommand) {
    return plumbline::run_git_fetch_command(std::cin, std::cout, std::cerr);
  }
  return plumbline::app::main_entry(args, std::cout, std::cerr);
}
