#include <iostream>

int main() {
  std::cerr << "plumbline: not yet wired\n";
  return 2;
}
