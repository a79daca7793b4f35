-- Which server names do the clients use, and what did each expose? Per name: the TLS SNI when
-- the client sent one, else the certificate's first CN, else the domain an SMTP greeting names
-- ("220 mx.example.org ESMTP", RFC 5321 4.3.1) or a POP3 APOP greeting's msg-id carries
-- ("<1896.697170952@dbc.mtview.ca.us>"), else the host a SOCKS5 or HTTP CONNECT client asked
-- its proxy for; then the sessions to it by exposure, and the addresses that answered to it.
WITH named AS (
    SELECT s.*,
           coalesce(
               sni,
               CASE WHEN cert_subject LIKE 'CN=%'
                    THEN substr(cert_subject, 4,
                                CASE WHEN instr(cert_subject, ',') > 0
                                     THEN instr(cert_subject, ',') - 4
                                     ELSE length(cert_subject) END) END,
               CASE WHEN protocol = 'smtp' AND banner GLOB '220[ -]?*'
                    THEN substr(banner, 5,
                                CASE WHEN instr(substr(banner, 5), ' ') > 0
                                     THEN instr(substr(banner, 5), ' ') - 1
                                     ELSE length(banner) END) END,
               CASE WHEN protocol = 'pop3' AND banner GLOB '+OK *<*@*>*'
                    THEN substr(banner, instr(banner, '@') + 1,
                                instr(substr(banner, instr(banner, '@')), '>') - 2) END,
               CASE WHEN proxy_target IS NOT NULL
                    THEN substr(proxy_target, 1,
                                length(rtrim(proxy_target, '0123456789')) - 1) END
           ) AS server_name
    FROM sessions s
)
SELECT coalesce(server_name, '(unknown)') AS server_name,
       count(*) AS sessions,
       sum(exposure = 'credentials') AS credentials,
       sum(exposure = 'challenge-response') AS challenge_response,
       sum(exposure = 'cleartext') AS cleartext,
       sum(exposure = 'none') AS protected,
       group_concat(DISTINCT protocol) AS protocols,
       group_concat(DISTINCT server_ip || ':' || server_port) AS addresses
FROM named
GROUP BY server_name
ORDER BY credentials DESC, sessions DESC;
