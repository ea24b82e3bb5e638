#!/usr/bin/env python3
"""shift-ids.py DIR OFFSET — add OFFSET to the owner and group of every file under DIR.

This is what an unprivileged Proxmox container's disk looks like: the container's uid 0 is
uid 100000 on the host (the idmap `u 0 100000 65536`). chown(2) clears the setuid and setgid
bits, so each file's mode is set again after it; file capabilities (security.capability) are
lost too and are counted, so the caller can see if anything relied on one."""
import os
import stat
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: shift-ids.py DIR OFFSET")
    top, offset = sys.argv[1], int(sys.argv[2])
    shifted = caps = 0
    paths = [top]
    for root, dirs, files in os.walk(top):
        paths.extend(os.path.join(root, n) for n in dirs + files)
    for path in paths:
        st = os.lstat(path)
        try:
            if os.getxattr(path, "security.capability", follow_symlinks=False):
                caps += 1
        except OSError:
            pass
        os.lchown(path, st.st_uid + offset, st.st_gid + offset)
        if not stat.S_ISLNK(st.st_mode):
            os.chmod(path, stat.S_IMODE(st.st_mode))
        shifted += 1
    print(f"shift-ids: {shifted} entries of {top} shifted by {offset}, "
          f"{caps} file capabilities dropped")


if __name__ == "__main__":
    main()
