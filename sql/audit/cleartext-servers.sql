-- Which servers carried sessions in the clear, did they accept logins there, and did they offer STARTTLS the clients ignored ('unknown' when the capture cannot tell)?
SELECT server_ip, server_port, protocol, cleartext_sessions, accounts, accepted_logins,
       offered_starttls
FROM cleartext_servers
ORDER BY accepted_logins DESC, accounts DESC, cleartext_sessions DESC;
