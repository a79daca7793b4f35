/* tunables.h - every limit in plainsight, each with its unit and the reason it holds.
 *
 * Reaching a limit is counted in the run record, never a crash. Where a limit can be changed
 * on the command line, this is its default. */
#ifndef PLAINSIGHT_TUNABLES_H
#define PLAINSIGHT_TUNABLES_H

/* capture: live snap length, bytes: any IP packet, also loopback's and offloaded ones. The
 * ring packs packets at their captured size (capture.c), so the snap length costs no buffer. */
#define CAPTURE_DEFAULT_SNAPLEN 65535
/* capture: live kernel ring buffer, bytes (-B changes it): about 40,000 packets of 1500 bytes,
 * half a second of a 1 Gbit/s link running full, for the bursts in which analysis falls behind
 * (tcpdump's default, libpcap's, is 2 MiB). */
#define CAPTURE_DEFAULT_BUFFER_BYTES (64 * 1024 * 1024)
/* capture: live packet buffer timeout, milliseconds: the longest the kernel holds a packet in
 * a block that is not full before handing the block over. It delays findings by at most this
 * on a quiet link; on a busy one blocks fill first. tcpdump -w, which need not be prompt,
 * waits longer. */
#define CAPTURE_BUFFER_MSEC 100
/* capture: live sources one capture_wait call watches at most: the size of its poll array on
 * the stack, and the most -i options one run takes (a TAP's two ports, a few SPAN ports). */
#define CAPTURE_WAIT_MAX 16
/* capture: packets one capture_dispatch call reads at most, from a file or an interface.
 * Signals, commits, the clock and the stop checks run between calls, so this bounds how late
 * they come (4096 packets are a few milliseconds of reading). */
#define CAPTURE_DISPATCH_MAX 4096
/* capture: largest snap length -s accepts, bytes (tcpdump's default and libpcap's maximum). */
#define CAPTURE_MAX_SNAPLEN 262144
/* capture: largest kernel buffer -B accepts, KiB (2 GiB: libpcap takes the size as an int). */
#define CAPTURE_MAX_BUFFER_KIB (2u * 1024 * 1024)

/* decode: 802.1Q/802.1ad tags peeled before giving up (QinQ is 2; 4 covers stacked carriers). */
#define DECODE_MAX_VLAN_TAGS 4
/* decode: IPv6 extension headers walked before giving up on a packet. */
#define DECODE_MAX_IPV6_EXT 8
/* decode: encapsulation layers peeled from one packet before giving up (counted in
 * decode.encap_too_deep), layers: MPLS stack, pseudowire, PPPoE, GRE, GRE in UDP, PPTP, ERSPAN,
 * VXLAN, Geneve, IP in IP, Teredo. The deepest real mirror feed we know of is about 5 (ERSPAN in
 * GRE over MPLS over PPPoE, carrying VXLAN); 8 leaves room, and bounds decode's recursion. */
#define DECODE_MAX_ENCAP 8
/* decode: MPLS labels in one stack before giving up (decode.mpls_too_deep), labels. Segment
 * routing stacks run to about a dozen labels; L3VPNs use 2 or 3. */
#define DECODE_MAX_MPLS_LABELS 16

/* Layers a packet's trail records (struct decode_trail: how a session arrived). 8 bytes of
 * header each at least; a deeper trail is most likely a crafted one: its innermost layers are
 * dropped and the trail says it was cut. */
#define DECODE_TRAIL_MAX 8
/* decode: UDP ports each of --vxlan-port and --geneve-port adds to the defaults, ports. */
#define DECODE_MAX_EXTRA_PORTS 8

/* defrag: a datagram incomplete this long after its first fragment is dropped, seconds of
 * packet time (Linux's ipfrag_time default; RFC 791 suggests 15 as a lower bound). */
#define DEFRAG_TIMEOUT_SEC 30
/* defrag: datagrams in progress (and just completed, see DEFRAG_DUP_WINDOW_USEC) at once; past it
 * the oldest is dropped. Real links have a few dozen in flight; this bounds a flood's lookups. */
#define DEFRAG_MAX_DATAGRAMS 16384
/* defrag: hash buckets of the table (a power of two, allocated at the first fragment). */
#define DEFRAG_BUCKETS 4096
/* defrag: fragments of one datagram before it is dropped. A 65535-byte datagram cut to a
 * 1280-byte IPv6 MTU is 52 fragments; 1024 holds an 8 KiB datagram cut into 8-byte pieces (the
 * smallest IPv4 allows, what fragroute's ip_frag 8 makes of a mail session's packets). */
#define DEFRAG_MAX_FRAGS 1024
/* defrag: the most a datagram holds, bytes: IPv4's total length field, IPv6's payload length
 * (jumbograms, RFC 2675, are not reassembled). */
#define DEFRAG_MAX_BYTES 65535u
/* defrag: share of --memcap its datagrams may hold, as a divisor: a fragment flood takes at most
 * an eighth of the cap from the flows (and evicts only flows that carry no mail for it). The
 * smallest cap's share still holds a full-size datagram (a static assertion in run.c). */
#define DEFRAG_MEMCAP_DIV 8
/* defrag: how long a completed datagram's fragment offsets are kept so that copies of its
 * fragments are counted as duplicates, microseconds. A SPAN port's second copy follows the first
 * within microseconds; one second keeps the cost small and an identification reused for a new
 * datagram (65536 values per address pair) is told apart by its offsets anyway. */
#define DEFRAG_DUP_WINDOW_USEC 1000000u

/* flow: concurrent flows tracked; past it the least recently seen flow is evicted. */
#define FLOW_MAX_FLOWS (1u << 20)
/* flow: buckets of the flow hash to start with; doubled whenever the flows outnumber them. */
#define FLOW_MIN_BUCKETS 4096
/* flow: memory for flow state and reassembly queues, bytes (--memcap changes it). */
#define FLOW_MEMCAP_BYTES ((size_t)512 * 1024 * 1024)
/* flow: a mail flow with no packet for this long is ended and written, seconds. */
#define FLOW_IDLE_SEC 300
/* flow: longest --idle accepted, seconds (a week: longer is a typo, not a session). */
#define FLOW_MAX_IDLE_SEC (86400u * 7)
/* flow: smallest --memcap accepted, bytes: below it a handful of flows would fill it. */
#define FLOW_MIN_MEMCAP_BYTES ((size_t)1 << 20)
/* flow: after FIN from both sides or RST, late packets of the flow are absorbed this long
 * (retransmissions, the final ACK) instead of starting a phantom session, seconds. */
#define FLOW_CLOSED_LINGER_SEC 30
/* flow: a segment that repeats the one before it in its direction (seq, ack, flags, length)
 * within this long is a mirror's second copy (flow.duplicates), microseconds. The two copies of
 * a span of both directions of a port arrive microseconds apart; a TCP retransmission waits at
 * least its minimum RTO (200 ms on Linux, 1 s in RFC 6298). */
#define FLOW_DUP_WINDOW_USEC 10000
/* flow: tombstones of evicted mail flows kept, entries of 16 bytes (1 MiB), allocated at the
 * first eviction and charged. A later segment of such a flow is dropped (flow.evicted_late)
 * instead of starting a session mid-stream, until the flow has been quiet for --idle seconds.
 * Direct-mapped by the flow's hash, so a forgotten one is rare while evictions stay well under
 * this: on 20,000 concurrent mail sessions under --memcap 24M, 16384 entries still let 16,000
 * evicted flows come back as sessions mid-stream, 65536 none past the flows (7,350 sessions of
 * 23,119 flows; credentials found 1,835 -> 4,937, extra 3,347 -> 366). */
#define FLOW_TOMBSTONES 65536
/* flow: the oldest mail sessions looked at when one must be evicted; the first of them not in
 * the middle of a login (a credential awaiting its answer) goes, else the oldest. */
#define FLOW_EVICT_SCAN 8
/* flow: bytes of a session's tunnel description (struct session's tunnel), the layers of
 * DECODE_TRAIL_MAX with two IPv6 addresses each fit. */
#define FLOW_MAX_TUNNEL_TEXT 1024
/* flow: expiry is checked at most this often in packet time, microseconds. */
#define FLOW_EXPIRE_INTERVAL_USEC 1000000

/* classify: packets of a flow on another port held (copied) while the greeting rules or nDPI
 * decide; they are replayed to the parser when it says mail. A greeting and the first commands
 * fit well inside these, even cut into a segment per few bytes. */
#define CLASSIFY_MAX_PACKETS 32
/* classify: bytes held per undecided flow (IP packets). */
#define CLASSIFY_MAX_BYTES 16384
/* classify: bytes of each direction's stream start the greeting rules read: the longest
 * greeting prefix (ManageSieve's "\"IMPLEMENTATION\"", 16 bytes; test_registry checks that
 * every greeting fits) and a whole SOCKS5 greeting fit. */
#define CLASSIFY_PREFIX_LEN 16
/* socks: bytes of one direction a SOCKS5 handshake may queue before its step comes. The
 * longest message is RFC 1929's (513 bytes); a client may send all of its own at once. */
#define SOCKS_MAX_HANDSHAKE 1040
/* socks: bytes charged for the mail parser a tunnel leads to, on top of the wrapper's own
 * state (test_socks checks that every mail parser's state fits). */
#define SOCKS_INNER_MAX_STATE 16384
/* httpconnect: bytes of one direction an HTTP CONNECT handshake may queue: the request line
 * and header section (or the proxy's answer), and whatever the client pipelines after them
 * before the proxy answers. Real requests are a few hundred bytes; 8192 is the limit most
 * proxies (Squid's default request_header_max_size is 64 KiB, nginx's and Apache's lines 8 KiB)
 * keep for a line, and holds a Proxy-Authorization: Basic header of a user and a secret at
 * their finding limits. A longer head is not followed and counted. */
#define HTTPCONNECT_MAX_HEAD 8192
/* httpconnect: bytes charged for the mail parser a tunnel leads to, on top of the wrapper's
 * own state (test_httpconnect checks that every mail parser's state fits). */
#define HTTPCONNECT_INNER_MAX_STATE 16384
/* http: longest value of an Authorization, Proxy-Authorization, WWW-Authenticate or
 * Proxy-Authenticate field gathered, bytes, obs-fold lines included: a line's limit
 * (LINE_MAX_LEN), which holds a Basic value of a user and a secret at their finding limits and
 * an NTLM AUTHENTICATE message with an NTLMv2 response. A longer one (a Kerberos ticket in
 * Negotiate, which is not read anyway) is dropped and counted. Buffered only for the sessions
 * that send one. */
#define HTTP_MAX_AUTH_FIELD LINE_MAX_LEN
/* http: longest value of a Content-Length or Transfer-Encoding field kept, bytes ("chunked",
 * "gzip, chunked", 20 digits). A longer one leaves its message's end unknown: that direction is
 * not read further, and counted. */
#define HTTP_MAX_FRAMING_FIELD 64

/* classify: packets with payload after which nDPI is asked for its final word. The greeting
 * rules are held only by the two limits above: they cost nothing per packet, and counting
 * the segments of a greeting cut small against this would miss the session. */
#define CLASSIFY_MAX_DATA_PACKETS 8

/* reasm: out-of-order bytes held per direction before a gap is declared. */
#define REASM_MAX_OOO_BYTES ((size_t)256 * 1024)
/* reasm: out-of-order segments held per direction before a gap is declared. Evasion tools cut
 * a segment into 1-byte ones sent in any order (fragroute's tcp_seg 1 with order random): a
 * full 1460-byte segment is then 1460 segments, any of them first; 4096 holds a jumbo frame's
 * worth. Each is charged to --memcap, and REASM_MAX_OOO_BYTES still bounds the bytes. */
#define REASM_MAX_OOO_SEGS 4096

/* line: longest protocol line kept, bytes, CR LF excluded. RFC 5321 allows 512 for SMTP
 * command lines and 1000 for text lines; SASL responses (XOAUTH2 bearer tokens) run to a few
 * KiB, so this leaves room. A longer line is discarded up to its LF and counted. */
#define LINE_MAX_LEN 8192

/* finding: credentials kept per session; a client trying more is counted, not kept. */
#define FINDING_MAX_CREDS 16
/* finding: longest user name kept, bytes (longer is truncated and flagged). */
#define FINDING_MAX_USER 256
/* finding: longest secret kept, bytes (bearer tokens can be long). */
#define FINDING_MAX_SECRET 4096
/* finding: longest challenge or response kept for challenge-response mechanisms, bytes. */
#define FINDING_MAX_CHALLENGE 1024
/* finding: longest mechanism name (RFC 4422 limits SASL names to 20 characters). */
#define FINDING_MAX_MECH 32
/* finding: longest sensor name (--sensor), bytes: a Linux host name (the default) is at most 64,
 * and a name that long still fits a syslog HOSTNAME (RFC 5424: 255). */
#define FINDING_MAX_SENSOR 64
/* finding: longest context field kept (banner, EHLO name, SNI, certificate names, proxy
 * target), bytes before escaping (up to 4 characters each after): a greeting line or a host
 * name is far shorter (RFC 1035: 255 for a name), and a record stays small. */
#define FINDING_MAX_CONTEXT 256

/* pop3: APOP timestamp from the greeting, bytes (RFC 1939 msg-id; generous). */
#define POP3_MAX_TIMESTAMP 512
/* pop3/parsers: commands awaiting a response (pipelining), per session. */
#define PARSE_MAX_PENDING 64

/* ftp: no limit of its own. Lines are LINE_MAX_LEN (RFC 959 sets none; real commands and
 * replies are short), pending commands PARSE_MAX_PENDING, and a multi-line reply is read a line
 * at a time and nothing of it is kept but its code, so a STAT or HELP listing of any length
 * costs nothing more. */

/* ldap: longest bind, StartTLS or their response read, bytes of the operation's BER content
 * (RFC 4511 sets no limit). 16384 holds a DN and a password past the record's limits, and SASL
 * credentials up to what sasl.c decodes (LINE_MAX_LEN / 4 * 3 bytes). An operation that does
 * not arrive in one piece is gathered in a buffer of its length, allocated for it and freed
 * once read; a longer one (a GSSAPI token with a large ticket) is skipped by its length and
 * counted in ldap_overlong. Every other message (searches and their results, whatever their
 * size) is counted off by its BER length and costs nothing. */
#define LDAP_MAX_MESSAGE 16384

/* nntp: no limit of its own. Lines are LINE_MAX_LEN (RFC 3977 section 3.1 sets 512 octets for
 * commands and initial response lines; article lines may be longer and are then dropped and
 * counted), pending commands PARSE_MAX_PENDING, and a multi-line block or an article is read a
 * line at a time and nothing of it is kept, so an article of any length costs nothing more. */

/* xmpp: bytes of one tag kept ("<" to ">", attributes included), per direction. A stream header
 * with its namespaces is about 200 bytes, an <auth> or <iq> tag less; a longer tag is cut here
 * (its name and first attributes kept) and counted in parse.xmpp_overlong. */
#define XMPP_MAX_TAG 512
/* xmpp: bytes of character data kept of an element the parser reads (a SASL payload, a
 * jabber:iq:auth field), allocated per direction on first use. 6144 holds a PLAIN message with a
 * user name and a secret at their limits in base64 (5808 bytes); longer text is cut and
 * counted in parse.xmpp_overlong. Other elements' text (messages) is never kept. */
#define XMPP_MAX_TEXT 6144
/* xmpp: bytes of an id kept (the server's stream id, which a jabber:iq:auth digest answers, and
 * an <iq>'s id, which pairs a login with its result); longer ids are cut. */
#define XMPP_MAX_ID 64

/* imap: longest tag tracked, bytes. RFC 9051 sets no limit, clients use a few characters
 * ("a0001", "C3", "."); a command with a longer tag is still read, but not tracked (counted in
 * pending_overflow), so its outcome stays unknown. */
#define IMAP_MAX_TAG 64

/* managesieve: longest SASL string kept, bytes: the mechanism's initial response, a client
 * response or a server challenge sent as a quoted string or a literal (RFC 5804 section 2.1),
 * before base64 decoding. 6144 holds a PLAIN message with a user name and a secret at their
 * limits (FINDING_MAX_USER + FINDING_MAX_SECRET + 2 bytes: 5808 base64 characters). One buffer
 * per direction, small enough that the parser's state fits SOCKS_INNER_MAX_STATE. A longer
 * string is skipped by its length and counted as an overlong line. */
#define MANAGESIEVE_MAX_STRING 6144

/* tlssniff: bytes of the server's first TLS records buffered to find the ServerHello. */
#define TLSSNIFF_MAX_BYTES 16384
/* tlssniff: longest subject or issuer name rendered from a certificate, characters of RFC 4514
 * text (a longer one is cut and ends in "..."): real names are under 200. */
#define TLSSNIFF_MAX_DN 256
/* tlssniff: longest SNI host name kept, bytes (RFC 1035: a name is at most 255). */
#define TLSSNIFF_MAX_SNI 255

/* sink_sqlite: sessions per transaction before a commit, and the longest time between
 * commits on live capture, microseconds. */
#define SINK_SQLITE_BATCH       1000
#define SINK_SQLITE_COMMIT_USEC 1000000
/* sink_sqlite: how long a write waits for an auditor's lock on the database before it fails,
 * milliseconds. */
#define SINK_SQLITE_BUSY_MSEC 5000
/* sink_sqlite: a run an earlier release left 'running' (no pid recorded) whose row has not been
 * brought up to date for this long is taken as interrupted, seconds. A live run updates its
 * row every RUN_STATS_SEC. */
#define SINK_SQLITE_STALE_RUN_SEC 3600

/* sink_syslog: longest message, bytes, header and JSON together; a longer one is cut there
 * and counted. 8192 is rsyslog's default maxMessageSize (RFC 5424 section 6.1 asks receivers
 * for 2048 at least and allows more); a session at its credential limits fits. */
#define SINK_SYSLOG_MSG_MAX 8192
/* sink_syslog: the facility when --syslog-facility is not given: local0 (16), the first code
 * RFC 5424 leaves to local use, so a collector can route plainsight's messages by it without
 * mixing them into the host's own auth or mail logs. */
#define SINK_SYSLOG_FACILITY_DEFAULT 16
/* sink_syslog: messages and bytes held while the collector is unreachable or slow; past either
 * bound a new message is dropped and counted, so a collector that goes away costs bounded
 * memory and never blocks the capture. */
#define SINK_SYSLOG_QUEUE_MSGS  4096
#define SINK_SYSLOG_QUEUE_BYTES (4u << 20)
/* sink_syslog: the wait before reconnecting after a failure, microseconds: doubled at each
 * failure from the first to the last, back to the first once a message went through. */
#define SINK_SYSLOG_BACKOFF_MIN_USEC 100000
#define SINK_SYSLOG_BACKOFF_MAX_USEC 30000000
/* sink_syslog: at the end of the run, the longest time spent sending what is queued,
 * milliseconds; what is left then is dropped and counted. */
#define SINK_SYSLOG_DRAIN_MSEC 3000

/* cli: capture files one run reads at most (-r given more often is a usage error). */
#define CLI_MAX_FILES 1024
/* cli: plainsight prune --older-than, days at most (a century: past it, nothing is older). */
#define CLI_MAX_PRUNE_DAYS 36500

/* run: live, how often the clock ticks when no packet comes (idle expiry, commits, flushes),
 * milliseconds; also the capture's poll timeout. */
#define RUN_TICK_MSEC 250
/* run: with several live sources (-i twice: a TAP's two ports), how long the oldest packet
 * waiting waits for a source that has none, so that the sources go into the flow table in
 * timestamp order, milliseconds: twice the kernel's block timeout, CAPTURE_BUFFER_MSEC. */
#define RUN_MERGE_WAIT_MSEC (2 * CAPTURE_BUFFER_MSEC)
/* run: live, seconds between updates of the run's row, and between statistics lines on stderr
 * (without -q). */
#define RUN_STATS_SEC 60
/* run: live with -q, seconds between health lines (the statistics line) on stderr, so that the
 * journal shows a sensor alive and well without anyone asking. */
#define RUN_HEALTH_SEC 300
/* run: live, seconds at least between two lines that report new kernel or interface drops:
 * the first drops are reported at the next tick, a steady loss once a minute, not four times
 * a second. */
#define RUN_DROPS_LINE_SEC 60
/* run: files, on a terminal, milliseconds between two rewrites of the progress line (the clock
 * is read between batches of CAPTURE_DISPATCH_MAX packets, never per packet). Tests lower it
 * with the environment variable PLAINSIGHT_PROGRESS_MSEC. */
#define RUN_PROGRESS_MSEC 250
/* run: the longest PLAINSIGHT_PROGRESS_MSEC taken, milliseconds. */
#define RUN_PROGRESS_MAX_MSEC 60000
/* run: files, packets between commits, so a long read keeps its findings on disk as it goes. */
#define RUN_COMMIT_PACKETS 65536u
/* run: share of a run's packets, percent, that decode could not see into for a reason the user
 * can act on (fragments, unknown link, not IP, unpeeled tunnels, layers past a limit) above
 * which the end of the run and the live statistics line warn by name. More than half: the
 * sensor is then mostly blind, not merely seeing some ARP or IPsec beside the mail. */
#define RUN_BLIND_WARN_PERCENT 50u

/* report: rows each table of the report shows at most; the rest is "and N more" (an auditor's
 * page, not a dump: the database holds every row). */
#define REPORT_MAX_ROWS 200
/* report: bars of the per-day chart at most (the most recent days). */
#define REPORT_MAX_DAYS 60
/* report: bars of the mechanism and TLS version charts at most. */
#define REPORT_MAX_BARS 12
/* report: bytes of one text field kept from the database (user name, mechanisms, secret,
 * sensors), longer ones are cut; the HTML escaping may make it six times longer. */
#define REPORT_MAX_FIELD 256
/* report: how long a query waits for a live run's write lock to pass, milliseconds. */
#define REPORT_BUSY_MSEC 5000

#endif
