#!/bin/sh
# make valgrind: every test binary under valgrind; definite leaks and memory errors fail.
# (OpenCV's TBB workers leave "possibly lost" thread-local blocks: not counted.)
set -u
status=0
for t in "$@"; do
    echo "== valgrind $t"
    G_SLICE=always-malloc G_DEBUG=gc-friendly PCBDIFF_VALGRIND=1 \
        valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
        --suppressions=/usr/share/glib-2.0/valgrind/glib.supp "$t" >/tmp/pcbdiff-valgrind.log 2>&1
    rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "   FAILED (exit $rc):"
        grep -E '==[0-9]+==|^not ok|ERROR' /tmp/pcbdiff-valgrind.log | head -40
        status=1
    else
        echo "   clean"
    fi
done
exit $status
