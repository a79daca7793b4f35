/* floor.c - the benchmark's floor: a bare libpcap read loop that counts packets and bytes.
 *
 * `floor FILE` is the floor the issue defines: a pcap_next_ex loop that touches nothing but
 * the record header, the physical limit for a reader that asks libpcap for one packet at a
 * time. `floor --loop FILE` is the same count through pcap_loop, where libpcap calls back for
 * each packet from its own loop; that saves libpcap's per-call set-up and is the fastest any
 * libpcap reader can be (plainsight reads files this way, through pcap_dispatch). Both open
 * the file as plainsight's capture module does (pcap_open_offline_with_tstamp_precision,
 * microseconds). Prints "PACKETS packets BYTES bytes" (captured bytes) on standard output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

struct counts {
    unsigned long long packets, bytes;
};

static void count_one(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    struct counts *c = (struct counts *)(void *)user;
    (void)data;
    c->packets++;
    c->bytes += h->caplen;
}

int main(int argc, char **argv)
{
    int is_loop = argc == 3 && strcmp(argv[1], "--loop") == 0;
    if (argc != 2 && !is_loop) {
        fprintf(stderr, "Usage: floor [--loop] FILE.pcap\n");
        return 1;
    }
    const char *path = argv[argc - 1];
    char err[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, err);
    if (p == NULL) {
        fprintf(stderr, "floor: %s: %s\n", path, err);
        return 2;
    }
    struct counts c = { 0, 0 };
    int rc;
    if (is_loop) {
        rc = pcap_loop(p, -1, count_one, (u_char *)(void *)&c);
        rc = rc == 0 ? PCAP_ERROR_BREAK : rc; /* 0: the end of the file */
    } else {
        struct pcap_pkthdr *h;
        const u_char *data;
        while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
            c.packets++;
            c.bytes += h->caplen;
        }
    }
    int status = 0;
    if (rc != PCAP_ERROR_BREAK) {
        fprintf(stderr, "floor: %s: %s\n", path, pcap_geterr(p));
        status = 3;
    }
    pcap_close(p);
    printf("%llu packets %llu bytes\n", c.packets, c.bytes);
    return status;
}
