/* nntp.h - the NNTP parser (RFC 3977 responses and multi-line blocks, RFC 4643 AUTHINFO USER/PASS
 * and AUTHINFO SASL, RFC 4642 STARTTLS, RFC 8054 COMPRESS). */
#ifndef PLAINSIGHT_NNTP_H
#define PLAINSIGHT_NNTP_H

#include "proto.h"

/* The NNTP parser's operations (static; never freed). */
extern const struct parser_ops nntp_parser_ops;

#endif
