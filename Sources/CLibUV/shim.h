#ifndef CIRCLE_CLIBUV_SHIM_H
#define CIRCLE_CLIBUV_SHIM_H
#include <uv.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <errno.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/// Ignore SIGPIPE (a macro cast that Swift cannot import).
static inline void circle_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }
#endif
