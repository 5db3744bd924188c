// main() of the integration tests: GoogleTest, and the hidden Git fetch command, because
// open_git_snapshot runs its fetch in a child process of this same program.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iostream>
#include <string_view>

#include "plumbline/git/git_source.h"

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == plumbline::kGitFetchCommand) {
    return plumbline::run_git_fetch_command(std::cin, std::cout, std::cerr);
  }
  ::testing::InitGoogleMock(&argc, argv);
  return RUN_ALL_TESTS();
}
