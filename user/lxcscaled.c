/* lxcscaled — placeholder main until the foundation lands (issue 2). */
#include <stdio.h>
int main(void) { puts("lxcscaled " LXCSCALE_VERSION); return 0; }
