/* floor.c - the benchmark's floor: a bare pcap_next_ex loop that counts packets and bytes.
 *
 * Nothing can read a capture file through libpcap faster than this loop, so it is the physical
 * limit the benchmark holds plainsight against. It opens the file as plainsight's capture module
 * does (pcap_open_offline_with_tstamp_precision, microseconds) and touches nothing but the
 * record header. Prints "PACKETS packets BYTES bytes" (captured bytes) on standard output. */
#include <stdio.h>
#include <stdlib.h>

#include <pcap/pcap.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "Usage: floor FILE.pcap\n");
        return 1;
    }
    char err[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_MICRO, err);
    if (p == NULL) {
        fprintf(stderr, "floor: %s: %s\n", argv[1], err);
        return 2;
    }
    unsigned long long packets = 0, bytes = 0;
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
        packets++;
        bytes += h->caplen;
    }
    int status = 0;
    if (rc != PCAP_ERROR_BREAK) {
        fprintf(stderr, "floor: %s: %s\n", argv[1], pcap_geterr(p));
        status = 3;
    }
    pcap_close(p);
    printf("%llu packets %llu bytes\n", packets, bytes);
    return status;
}
