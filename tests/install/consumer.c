/* consumer.c - the smallest program that uses an installed weft: it includes
 * the umbrella header, links the library and prints its version. The install
 * smoke test (smoke.sh) builds it with pkg-config and with find_package. */
#include <stdio.h>
#include <string.h>

#include <weft.h>

int main(void) {
  const char *v = weft_version();
  printf("%s\n", v);
  if (strcmp(v, WEFT_VERSION_STRING) != 0) {
    fprintf(stderr, "consumer: library %s, header %s\n", v,
            WEFT_VERSION_STRING);
    return 1;
  }
  return 0;
}
