#ifndef CIRCLE_CLIBPQ_SHIM_H
#define CIRCLE_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
