/* pop3.h - the POP3 parser (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH). */
#ifndef PLAINSIGHT_POP3_H
#define PLAINSIGHT_POP3_H

#include "proto.h"

/* The POP3 parser's operations (static; never freed). */
extern const struct parser_ops pop3_parser_ops;

#endif
