-- Which sessions negotiated SSLv3, TLS 1.0 or TLS 1.1 (after STARTTLS or on implicit TLS)?
SELECT server_ip, server_port, protocol, tls, tls_version, count(*) AS sessions
FROM sessions
WHERE tls_weak = 1
GROUP BY server_ip, server_port, protocol, tls, tls_version
ORDER BY sessions DESC;
