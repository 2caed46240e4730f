#ifndef CIRCLE_COPENSSL_SHIM_H
#define CIRCLE_COPENSSL_SHIM_H
#include <openssl/sha.h>
#include <openssl/hmac.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/bio.h>
#include <openssl/x509.h>

/* ---- CircleTLS: OpenSSL macros that Swift cannot import, as thin functions (no policy here). ---- */

static inline int circle_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}
static inline int circle_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}
static inline int circle_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list) {
    return (int)SSL_CTX_set1_groups_list(ctx, list);
}
static inline void circle_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) { (void)SSL_CTX_set_mode(ctx, mode); }
static inline void circle_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    (void)SSL_CTX_set_session_cache_mode(ctx, mode);
}
static inline int circle_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}
/* SSL_OP_* are built with the SSL_OP_BIT(n) function-like macro. */
static inline uint64_t circle_SSL_OP_NO_COMPRESSION(void) { return SSL_OP_NO_COMPRESSION; }
static inline uint64_t circle_SSL_OP_NO_RENEGOTIATION(void) { return SSL_OP_NO_RENEGOTIATION; }
static inline uint64_t circle_SSL_OP_CIPHER_SERVER_PREFERENCE(void) { return SSL_OP_CIPHER_SERVER_PREFERENCE; }
static inline uint64_t circle_SSL_OP_NO_TICKET(void) { return SSL_OP_NO_TICKET; }
static inline void circle_BIO_set_retry_read(BIO *bio) { BIO_set_retry_read(bio); }
static inline void circle_BIO_set_retry_write(BIO *bio) { BIO_set_retry_write(bio); }
static inline void circle_BIO_clear_retry_flags(BIO *bio) { BIO_clear_retry_flags(bio); }
#endif
