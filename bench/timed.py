#!/usr/bin/env python3
"""Run a command and write "<wall seconds> <peak RSS KiB>" to a file, like `/usr/bin/time -f '%e %M' -o FILE`
but with a millisecond clock: GNU time prints wall time in hundredths, which cannot tell 0.04 s from 0.05 s.

    bench/timed.py OUT_FILE CMD [ARGS...]

The command's stdin, stdout and stderr are inherited; the exit status is passed through. The peak RSS comes
from GNU time around the command (a process spawned straight from Python would report Python's own RSS,
which exec carries over into the child's high-water mark); its fork and exec add about a millisecond to
both tools' wall time alike.
"""
import os
import sys
import time


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    out = sys.argv[1]
    rss_file = out + ".rss"
    cmd = ["/usr/bin/time", "-f", "%M", "-o", rss_file, *sys.argv[2:]]
    start = time.perf_counter()
    try:
        pid = os.posix_spawnp(cmd[0], cmd, os.environ)
    except OSError as e:
        print(f"timed.py: cannot run /usr/bin/time (Debian package time): {e}", file=sys.stderr)
        return 127
    _, status = os.waitpid(pid, 0)
    wall = time.perf_counter() - start
    try:
        with open(rss_file) as f:
            # GNU time writes "Command exited with non-zero status N" first when the command fails.
            rss = int(f.read().split()[-1])
        os.unlink(rss_file)
    except (OSError, ValueError, IndexError):
        rss = 0
    with open(out, "w") as f:
        f.write(f"{wall:.3f} {rss}\n")
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
