/* Lets a moved-date run (Debian's libfaketime with FAKETIME_DONT_FAKE_MONOTONIC=1) sleep.
 *
 * Python 3.11's time.sleep calls clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, deadline); libfaketime 0.9.10
 * rewrites that absolute deadline even when it leaves the monotonic clock alone, and the kernel answers EINVAL.
 * With the monotonic clock unfaked the call needs no rewriting, so this passes it straight to the kernel. It is
 * preloaded before libfaketime, so only the wall clock moves. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int clock_nanosleep(clockid_t clock_id, int flags, const struct timespec *request, struct timespec *remain) {
    long rc = syscall(SYS_clock_nanosleep, clock_id, flags, request, remain);
    return rc == 0 ? 0 : errno;
}
