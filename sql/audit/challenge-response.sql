-- Which accounts logged in with APOP, CRAM-MD5, DIGEST-MD5 or SCRAM in the clear (crackable offline)?
SELECT username, mechanism, protocol, server_ip, server_port, count(*) AS exchanges,
       sum(result = 'success') AS successes
FROM exposed_credentials
WHERE secret_len IS NULL AND NOT anonymous AND NOT incomplete
GROUP BY username, mechanism, protocol, server_ip, server_port
ORDER BY exchanges DESC;
