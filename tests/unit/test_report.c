/* test_report.c - the report module: HTML escaping, and reports written from real files. */
#include "report.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "finding.h"
#include "sink_sqlite.h"
#include "test.h"

static char tmpdir_buf[512];

/* A directory of its own under TMPDIR (or /tmp), removed at the end. */
static bool tmp_setup(void)
{
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0') {
        base = "/tmp";
    }
    snprintf(tmpdir_buf, sizeof tmpdir_buf, "%s/plainsight-test-report-XXXXXX", base);
    return mkdtemp(tmpdir_buf) != NULL;
}

static void tmp_cleanup(void)
{
    static const char *const names[] = { "empty.db", "empty.db-wal", "empty.db-shm", "report.html",
                                         "bogus.db" };
    char path[700];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir_buf, names[i]);
        unlink(path);
    }
    if (rmdir(tmpdir_buf) != 0) {
        fprintf(stderr, "cannot remove %s\n", tmpdir_buf);
    }
}

static void tmp_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir_buf, name);
}

/* Markup, quotes and bytes outside printable ASCII: none survives as itself. */
static void test_escape(void)
{
    static const struct {
        const char *in;
        size_t len;
        const char *out;
    } cases[] = {
        { "alice", 5, "alice" },
        { "<script>", 8, "&lt;script&gt;" },
        { "a&b\"c'd", 7, "a&amp;b&quot;c&#39;d" },
        { "\x01\n\xff", 3, "\\x01\\x0a\\xff" },
        { "nul\0x", 5, "nul\\x00x" },
        { "", 0, "" },
    };
    char buf[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        report_html_escape(buf, sizeof buf, cases[i].in, cases[i].len);
        CHECK(strcmp(buf, cases[i].out) == 0);
        CASE_DONE(cases[i].in);
    }
    /* Cut: never half an entity, always terminated. */
    char small[7];
    report_html_escape(small, sizeof small, "a<b<c", 5);
    CHECK(strcmp(small, "a&lt;b") == 0);
    report_html_escape(small, 1, "<", 1);
    CHECK(small[0] == '\0');
}

static bool file_has(const char *path, const char *needle)
{
    static char buf[1 << 16];
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return false;
    }
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

/* An empty database (made by the writer) gives a page saying nothing was found, mode 0600 even
 * over a file that was readable by all; a file that is no database is refused. */
static void test_write(void)
{
    char db_path[600], out[600], bogus[600], err[1024];
    tmp_path(db_path, sizeof db_path, "empty.db");
    tmp_path(out, sizeof out, "report.html");
    tmp_path(bogus, sizeof bogus, "bogus.db");
    struct finding_key key = { .is_set = false };
    CHECK_EQ_U(finding_key_random(&key), PS_OK);
    struct sink_sqlite_key sk = { &key, NULL, false };
    struct sink_sqlite *db = NULL;
    CHECK_EQ_U(sink_sqlite_open(db_path, false, &sk, &db, err, sizeof err), PS_OK);
    sink_sqlite_close(db);

    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && fchmod(fd, 0644) == 0);
    close(fd);
    struct report_opts o = { db_path, out, REPORT_HTML, false };
    CHECK_EQ_U(report_write(&o, err, sizeof err), PS_OK);
    struct stat sb;
    CHECK(stat(out, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    CHECK(file_has(out, "Nothing was found"));
    CHECK(file_has(out, "</html>"));
    o.format = REPORT_TEXT;
    CHECK_EQ_U(report_write(&o, err, sizeof err), PS_OK);
    CHECK(file_has(out, "exposed accounts: 0"));

    FILE *f = fopen(bogus, "w");
    CHECK(f != NULL);
    for (int i = 0; f != NULL && i < 100; i++) {
        fputs("no database here, only text\n", f);
    }
    if (f != NULL) {
        fclose(f);
    }
    o.db_path = bogus;
    CHECK(report_write(&o, err, sizeof err) == PS_ERR_DB);
    CHECK(strstr(err, bogus) != NULL && strchr(err, '\n') == NULL);
    o.db_path = db_path;
    o.out_path = "/nonexistent-dir/report.html";
    CHECK(report_write(&o, err, sizeof err) == PS_ERR_IO);
    finding_key_wipe(&key);
}

int main(void)
{
    if (!tmp_setup()) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_escape);
    RUN(test_write);
    tmp_cleanup();
    return TEST_SUMMARY();
}
