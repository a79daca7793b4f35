/* smtp.h - the SMTP parser (RFC 5321, RFC 4954 AUTH, RFC 3207 STARTTLS, RFC 2920 PIPELINING,
 * RFC 3030 CHUNKING). */
#ifndef PLAINSIGHT_SMTP_H
#define PLAINSIGHT_SMTP_H

#include "proto.h"

/* The SMTP parser's operations (static; never freed). */
extern const struct parser_ops smtp_parser_ops;

#endif
