-- Which servers accept logins in the clear, and did they offer STARTTLS the clients ignored?
SELECT server_ip, server_port, protocol, accounts, accepted_logins,
       CASE offered_starttls WHEN 1 THEN 'yes' ELSE 'no' END AS offered_starttls
FROM cleartext_servers
ORDER BY accepted_logins DESC, accounts DESC;
