-- Which accounts had a password or token cross the wire in the clear, and did the login work?
SELECT username, protocol, server_ip, server_port, mechanisms, exposures, successes,
       first_seen, last_seen
FROM exposed_accounts
ORDER BY successes DESC, exposures DESC, username;
