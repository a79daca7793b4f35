-- Which sensors saw logins in the clear, and where: per sensor, the exposed accounts (a token
-- sent without a user name, HTTP Bearer, counts once per token), the sessions they were seen
-- in, the servers they went to and how many logins worked.
SELECT coalesce(s.sensor, '(none)') AS sensor,
       count(DISTINCT coalesce(c.username, c.secret_fingerprint)) AS accounts,
       count(DISTINCT s.id) AS sessions,
       count(DISTINCT s.server_ip || ':' || s.server_port) AS servers,
       sum(c.result = 'success') AS accepted_logins,
       group_concat(DISTINCT s.protocol) AS protocols,
       min(s.ts_start) AS first_seen, max(s.ts_start) AS last_seen
FROM credentials c JOIN sessions s ON s.id = c.session_id
WHERE c.secret_len IS NOT NULL AND NOT c.anonymous
GROUP BY s.sensor
ORDER BY accounts DESC, sessions DESC;
