/*
 * base/lockfile.h — one lxcscaled per host.
 *
 * The lock is flock(LOCK_EX) on `lock_file`, held through an open descriptor for the life
 * of the process; the file holds the owner's PID for people and for the refusal message.
 * The kernel drops the lock when the owner dies, however it dies, so a file left behind
 * by a SIGKILLed daemon never blocks a restart (unlike the reference's O_EXCL + kill(0)).
 * The file is never unlinked: unlinking a flock'd path lets two processes each lock a
 * different inode under the same name.
 */
#ifndef LXCSCALE_LOCKFILE_H
#define LXCSCALE_LOCKFILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Take the lock. Returns the descriptor (keep it open), or -1:
 *   errno EWOULDBLOCK: another process holds it; *holder is its PID (0 if not yet written);
 *   other errno: could not open/lock the file (err describes it).
 */
int lockfile_acquire(const char *path, pid_t *holder, char *err, size_t errlen);
/* Rewrite the PID (after fork). */
int lockfile_write_pid(int fd, pid_t pid);
/* Empty the file and drop the lock. */
void lockfile_release(int fd);

#endif
