/* ftp.h - the FTP control connection parser (RFC 959 USER/PASS/ACCT, RFC 4217 AUTH TLS, RFC 2389
 * FEAT, RFC 1635 anonymous logins). */
#ifndef PLAINSIGHT_FTP_H
#define PLAINSIGHT_FTP_H

#include "proto.h"

/* The FTP parser's operations (static; never freed). */
extern const struct parser_ops ftp_parser_ops;

#endif
