/*
 * base/fsutil.h — small file-system steps several writers share.
 *
 * The daemon and the CLI write files whose folders may not exist yet on a fresh host
 * (the model, the suggestions log, the imported model): they create the folders first,
 * the same way everywhere, so the permissions do not depend on which writer came first.
 */
#ifndef LXCSCALE_FSUTIL_H
#define LXCSCALE_FSUTIL_H

/*
 * Creates the folders leading to the file PATH: the intermediate ones 0755, the one that
 * will hold the file 0750 (before the umask); ones that exist are left as they are (a
 * file standing where a folder should be counts as existing: opening PATH then fails with
 * ENOTDIR). A path with no folder part (or directly under /) needs nothing. 0, or -1 with
 * errno set.
 */
int fs_mkdir_parent(const char *path);

#endif
