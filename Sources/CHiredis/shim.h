#ifndef CIRCLE_CHIREDIS_SHIM_H
#define CIRCLE_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libuv.h>

/// Attaches an async context to a libuv loop (`uv_loop_t *`, untyped so that Swift callers need not import libuv).
/// hiredis' adapter is static in its header; this wrapper is what Swift calls. Returns REDIS_OK or REDIS_ERR.
static inline int circle_redis_attach(redisAsyncContext *context, void *loop) {
    return redisLibuvAttach(context, (uv_loop_t *)loop);
}

/// The context's `data` slot (the Swift owner), readable from the const context the connect callbacks get.
static inline void *circle_redis_data(const redisAsyncContext *context) { return context->data; }
#endif
