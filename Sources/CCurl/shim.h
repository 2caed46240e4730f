#ifndef CIRCLE_CCURL_SHIM_H
#define CIRCLE_CCURL_SHIM_H
#include <curl/curl.h>

/// curl_easy_setopt is variadic, which Swift cannot call: one typed setter per argument kind.
static inline CURLcode circle_curl_set_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode circle_curl_set_pointer(CURL *h, CURLoption o, const void *v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode circle_curl_set_size(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode circle_curl_set_write_function(CURL *h, size_t (*f)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, f);
}
static inline CURLcode circle_curl_response_code(CURL *h, long *code) {
    return curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, code);
}
#endif
