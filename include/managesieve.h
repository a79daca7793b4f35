/* managesieve.h - the ManageSieve parser (RFC 5804: AUTHENTICATE with SASL, STARTTLS, scripts
 * uploaded as literals). */
#ifndef PLAINSIGHT_MANAGESIEVE_H
#define PLAINSIGHT_MANAGESIEVE_H

#include "proto.h"

/* The ManageSieve parser's operations (static; never freed). */
extern const struct parser_ops managesieve_parser_ops;

#endif
