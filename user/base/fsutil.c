/*
 * base/fsutil.c — see base/fsutil.h.
 */
#include "base/fsutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int fs_mkdir_parent(const char *path)
{
	char *dir = strdup(path);
	if (!dir)
		return -1;
	int rc = 0;
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		for (char *p = dir + 1; *p && rc == 0; p++) {
			if (*p != '/')
				continue;
			*p = '\0';
			if (mkdir(dir, 0755) != 0 && errno != EEXIST)
				rc = -1;
			*p = '/';
		}
		if (rc == 0 && mkdir(dir, 0750) != 0 && errno != EEXIST)
			rc = -1;
	}
	int saved = errno;
	free(dir);
	errno = saved;
	return rc;
}
