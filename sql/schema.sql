-- plainsight database schema, version 3 (PRAGMA user_version).
--
-- The one definition of the database: plainsight applies this text at start-up. Times are
-- ISO 8601 UTC text ("2024-05-01T12:00:00.123456Z"), so they sort and compare as text.
-- Secrets: credentials.secret, challenge and response are NULL unless plainsight ran with
-- --reveal-secrets; secret_len and secret_fingerprint are always kept. The fingerprint is
-- HMAC-SHA-256 under the key in the sensor's key file (never in the database), cut to 128
-- bits: equal for equal secrets under one key. meta.fingerprint_key_id names that key by a
-- hash of it. Version 1 kept the key itself in meta; plainsight moves it out on open.
-- Version 3: a session's credentials go with it (ON DELETE CASCADE, for plainsight prune), runs
-- copied by plainsight merge say where from, and a fingerprint made under another key (a merge
-- with --allow-mixed-keys) names its key. plainsight rebuilds the credentials table of an older
-- database on open (SQLite cannot alter a foreign key).

CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

-- One row per run of plainsight.
CREATE TABLE IF NOT EXISTS runs (
    id              INTEGER PRIMARY KEY,
    version         TEXT NOT NULL,     -- plainsight version
    mode            TEXT NOT NULL,     -- 'offline' or 'live'
    source          TEXT NOT NULL,     -- capture files (space-separated) or interface
    status          TEXT NOT NULL,     -- 'running', 'ok', 'damaged', 'interrupted'
    started         TEXT NOT NULL,     -- wall clock
    ended           TEXT,
    first_packet    TEXT,              -- packet time
    last_packet     TEXT,
    packets         INTEGER NOT NULL DEFAULT 0,
    bytes           INTEGER NOT NULL DEFAULT 0,
    sessions        INTEGER NOT NULL DEFAULT 0,
    exposed         INTEGER NOT NULL DEFAULT 0,
    pid             INTEGER,           -- the process and host that ran it: a run left
    host            TEXT,              -- 'running' by a process that is gone is 'interrupted'
    sensor          TEXT,              -- --sensor (default: the host name); NULL in runs
                                       -- written before it existed
    merged_from     TEXT,              -- plainsight merge: the database file the run was
    merged_run_id   INTEGER            -- copied from and its id there (kept through later
                                       -- merges); NULL for a run written here
);

-- Every counter of a run: what was decoded, what was dropped and why.
CREATE TABLE IF NOT EXISTS run_counters (
    run_id  INTEGER NOT NULL REFERENCES runs(id),
    name    TEXT NOT NULL,
    value   INTEGER NOT NULL,
    PRIMARY KEY (run_id, name)
) WITHOUT ROWID;

-- One row per mail session.
CREATE TABLE IF NOT EXISTS sessions (
    id              INTEGER PRIMARY KEY,
    run_id          INTEGER NOT NULL REFERENCES runs(id),
    ts_start        TEXT NOT NULL,
    ts_end          TEXT NOT NULL,
    client_ip       TEXT NOT NULL,
    client_port     INTEGER NOT NULL,
    server_ip       TEXT NOT NULL,
    server_port     INTEGER NOT NULL,
    vlan            INTEGER,              -- innermost 802.1Q id, NULL if untagged
    protocol        TEXT NOT NULL,        -- the protocol's name: 'smtp', 'pop3', 'imap', ...
    tls             TEXT NOT NULL,        -- 'none', 'starttls', 'implicit'
    tls_version     TEXT,                 -- 'SSLv3', 'TLSv1.0' .. 'TLSv1.3', NULL if unseen
    tls_weak        INTEGER NOT NULL,     -- 1 for SSLv3, TLS 1.0, TLS 1.1
    starttls        TEXT,                 -- 'used', 'offered-not-used', 'not-offered',
                                          -- 'refused', 'n/a'; NULL when the capture cannot tell
    exposure        TEXT NOT NULL,        -- 'credentials', 'challenge-response', 'cleartext',
                                          -- 'none'
    end_reason      TEXT NOT NULL,        -- 'fin', 'rst', 'idle', 'evicted', 'capture-end';
                                          -- 'open' while a live run has not seen its end
    packets         INTEGER NOT NULL,
    bytes_client    INTEGER NOT NULL,
    bytes_server    INTEGER NOT NULL,
    gaps            INTEGER NOT NULL,     -- reassembly gaps: bytes the capture missed
    gap_bytes       INTEGER NOT NULL,
    injected_commands INTEGER NOT NULL,   -- cleartext commands pipelined after STARTTLS
    credentials_dropped INTEGER NOT NULL, -- credentials past the per-session limit
    uid             TEXT,                 -- "C" and 17 base62 digits, from the first packet's
                                          -- time, the endpoints and the sensor;
                                          -- NULL before version 2
    community_id    TEXT,                 -- Community ID v1 of the TCP 5-tuple ("1:..."), as
                                          -- Zeek and Suricata write it; added on open to
                                          -- databases made without it (NULL in their rows)
    sensor          TEXT,                 -- the sensor that saw it (--sensor, default the host
                                          -- name), also in its uid; NULL in older rows
    tunnel          TEXT,                 -- how its first packet arrived: the layers outside
                                          -- its IP header, outermost first ('vlan id=10,
                                          -- gre 192.0.2.1>198.51.100.9, erspan2 session=123');
                                          -- NULL for a plain frame and in older rows
    interface       TEXT,                 -- live: the interfaces (-i) its packets came from,
                                          -- comma-separated ('eth1,eth2' for a TAP's two
                                          -- ports); NULL reading files and in older rows
    -- The session's context, NULL when unknown (and in older rows). Wire text is cut to 256
    -- bytes and escaped: bytes outside printable ASCII as \xHH, a backslash as \\.
    banner          TEXT,                 -- the server's first greeting line ('220 mx.example
                                          -- ESMTP Postfix', '+OK', '* OK', FTP 220, ManageSieve,
                                          -- NNTP 200/201); NULL for LDAP, XMPP and HTTP
    client_name     TEXT,                 -- the SMTP EHLO/HELO argument
    sni             TEXT,                 -- server_name from the client's TLS ClientHello
    cert_subject    TEXT,                 -- the server certificate's subject, RFC 4514 (seen in
                                          -- the clear: TLS 1.2 and older)
    cert_issuer     TEXT,                 -- its issuer, RFC 4514
    proxy_target    TEXT                  -- host:port a SOCKS5 or HTTP CONNECT client asked for
);
CREATE INDEX IF NOT EXISTS sessions_server ON sessions(server_ip, server_port);
CREATE UNIQUE INDEX IF NOT EXISTS sessions_uid ON sessions(uid);
CREATE INDEX IF NOT EXISTS sessions_start ON sessions(ts_start);
CREATE INDEX IF NOT EXISTS sessions_community_id ON sessions(community_id);

-- One row per credential seen in a session, in the order seen.
CREATE TABLE IF NOT EXISTS credentials (
    id                 INTEGER PRIMARY KEY,
    session_id         INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq                INTEGER NOT NULL,  -- 0, 1, ... within the session
    mechanism          TEXT NOT NULL,     -- 'USER/PASS', 'APOP', 'IMAP LOGIN', SASL name
    username           TEXT,              -- as sent (bytes stored as text); NULL if not shown
    secret             TEXT,              -- NULL unless --reveal-secrets
    secret_len         INTEGER,           -- NULL for challenge-response mechanisms
    secret_fingerprint TEXT,              -- NULL for challenge-response mechanisms
    challenge          TEXT,              -- challenge-response only, with --reveal-secrets
    response           TEXT,              -- challenge-response only, with --reveal-secrets
    result             TEXT NOT NULL,     -- 'success', 'failure', 'unknown'
    truncated          INTEGER NOT NULL,  -- 1 when a field was longer than its limit
    anonymous          INTEGER NOT NULL DEFAULT 0, -- 1 for an anonymous login (FTP's
                                          -- "anonymous"): its secret exposes no account;
                                          -- added on open to databases made without it
    incomplete         INTEGER NOT NULL DEFAULT 0, -- 1 for a login cut before its secret or
                                          -- response (the session ended or was evicted
                                          -- mid-login): its user name at most was seen;
                                          -- added on open to databases made without it
    fingerprint_key_id TEXT               -- NULL: secret_fingerprint is under the database's
                                          -- key (meta.fingerprint_key_id); else the id of the
                                          -- key it was made with (merged with
                                          -- --allow-mixed-keys): it compares only with
                                          -- fingerprints of that same key id
);
CREATE UNIQUE INDEX IF NOT EXISTS credentials_session_seq ON credentials(session_id, seq);
CREATE INDEX IF NOT EXISTS credentials_user ON credentials(username);

-- Every credential with its session, the view most audits start from.
-- The views hold no data: each start-up makes them anew, so a database written by an earlier
-- release gets this release's views.
DROP VIEW IF EXISTS exposed_credentials;
DROP VIEW IF EXISTS exposed_accounts;
DROP VIEW IF EXISTS cleartext_servers;
DROP VIEW IF EXISTS sessions_without_tls;

CREATE VIEW IF NOT EXISTS exposed_credentials AS
SELECT s.ts_start, s.protocol, s.client_ip, s.client_port, s.server_ip, s.server_port,
       s.tls, s.starttls, c.mechanism, c.username, c.secret_len, c.secret_fingerprint,
       c.result, c.secret, c.anonymous, c.incomplete, s.id AS session_id, s.run_id,
       c.fingerprint_key_id
FROM credentials c JOIN sessions s ON s.id = c.session_id;

-- Accounts whose password or token crossed the wire, with how often and when (logins by
-- challenge-response, which show no password, are in sql/audit/challenge-response.sql;
-- anonymous logins expose no account and are left out).
CREATE VIEW IF NOT EXISTS exposed_accounts AS
SELECT username, protocol, server_ip, server_port,
       group_concat(DISTINCT mechanism) AS mechanisms,
       count(*) AS exposures,
       sum(result = 'success') AS successes,
       min(ts_start) AS first_seen, max(ts_start) AS last_seen
FROM exposed_credentials
WHERE secret_len IS NOT NULL AND NOT anonymous
GROUP BY username, protocol, server_ip, server_port;

-- Servers that carried sessions in the clear (no TLS at all), whether or not a login was seen
-- in them: how many, the accounts whose password or token crossed (anonymous logins left
-- out; a token sent without a user name, HTTP Bearer, counts once per token), the logins they accepted, and whether they offered STARTTLS: 'yes' when a session saw
-- the offer, 'n/a' for a protocol without it (HTTP), 'no' when every session's verdict is
-- known and none did, 'unknown' otherwise (never 'no' for what the capture could not tell).
CREATE VIEW IF NOT EXISTS cleartext_servers AS
SELECT s.server_ip, s.server_port, s.protocol,
       count(DISTINCT s.id) AS cleartext_sessions,
       count(DISTINCT CASE WHEN c.secret_len IS NOT NULL AND NOT c.anonymous
                           THEN coalesce(c.username, c.secret_fingerprint) END) AS accounts,
       count(CASE WHEN c.secret_len IS NOT NULL AND NOT c.anonymous AND c.result = 'success'
                  THEN 1 END) AS accepted_logins,
       CASE WHEN max(s.starttls = 'offered-not-used') = 1 THEN 'yes'
            WHEN min(s.starttls = 'n/a') = 1 THEN 'n/a'
            WHEN count(DISTINCT CASE WHEN s.starttls IS NULL THEN s.id END) = 0 THEN 'no'
            ELSE 'unknown' END AS offered_starttls
FROM sessions s LEFT JOIN credentials c ON c.session_id = s.id
WHERE s.tls = 'none'
GROUP BY s.server_ip, s.server_port, s.protocol;

-- Sessions that stayed in the clear, with why.
CREATE VIEW IF NOT EXISTS sessions_without_tls AS
SELECT id, ts_start, protocol, client_ip, client_port, server_ip, server_port,
       coalesce(starttls, 'unknown') AS starttls, exposure
FROM sessions
WHERE tls = 'none';
