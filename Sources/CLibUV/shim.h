#ifndef CIRCLE_CLIBUV_SHIM_H
#define CIRCLE_CLIBUV_SHIM_H
#include <uv.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <pthread.h>
#include <errno.h>
#include <unistd.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

/// Ignore SIGPIPE (a macro cast that Swift cannot import).
static inline void circle_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

/// Unblock a signal in the calling thread's mask. A process may inherit a mask with SIGTERM blocked (some launchers
/// and test harnesses spawn children from threads that block signals); a server must not depend on that.
static inline void circle_unblock_signal(int signum) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signum);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}
#endif
