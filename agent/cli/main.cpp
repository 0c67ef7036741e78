#include <cstdio>

int main(int, char**) {
  std::puts("sessionwatch: under construction");
  return 0;
}
