/* lxcscale — placeholder CLI main until the foundation lands (issue 2). */
#include <stdio.h>
int main(void) { puts("lxcscale " LXCSCALE_VERSION); return 0; }
