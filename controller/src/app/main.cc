// The `plumbline` binary: a thin entry point over app/cli.h.
#include <iostream>
#include <string>
#include <vector>

#include "app/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return plumbline::app::main_entry(args, std::cout, std::cerr);
}
