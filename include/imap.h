/* imap.h - the IMAP parser (RFC 9051 and RFC 3501 IMAP4rev2/rev1, RFC 7888 LITERAL+/LITERAL-,
 * RFC 4959 SASL-IR, RFC 2595 STARTTLS). */
#ifndef PLAINSIGHT_IMAP_H
#define PLAINSIGHT_IMAP_H

#include "proto.h"

/* The IMAP parser's operations (static; never freed). */
extern const struct parser_ops imap_parser_ops;

#endif
