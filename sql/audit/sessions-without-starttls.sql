-- Which mail sessions never upgraded to TLS, grouped by server and by why (starttls verdict)?
SELECT server_ip, server_port, protocol, starttls, count(*) AS sessions,
       min(ts_start) AS first_seen, max(ts_start) AS last_seen
FROM sessions_without_tls
GROUP BY server_ip, server_port, protocol, starttls
ORDER BY sessions DESC;
