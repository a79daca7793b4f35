/* test_keyfile.c - the fingerprint key's file: its name, its one line, its mode, its errors. */
#include "keyfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "finding.h"
#include "test.h"

static char dir[] = "/tmp/plainsight-test-keyfile-XXXXXX";

static void path_of(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f != NULL) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_default_path(void)
{
    static const struct {
        const char *db, *key;
    } cases[] = {
        { "audit.db", "audit.key" },
        { "/var/lib/plainsight/audit.db", "/var/lib/plainsight/audit.key" },
        { "audit.sqlite", "audit.sqlite.key" },
        { "db", "db.key" },
        { ".db", ".key" },
        { "a.db.db", "a.db.key" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *p = keyfile_default_path(cases[i].db);
        CHECK(strcmp(p, cases[i].key) == 0);
        free(p);
    }
}

/* Made 0600 whatever the umask; read back the same; never made over a file. */
static void test_create_load(void)
{
    char p[512], err[512];
    path_of(p, sizeof p, "a.key");
    struct finding_key k = { .is_set = false }, back = { .is_set = false };
    CHECK_EQ_U(finding_key_random(&k), PS_OK);
    mode_t old = umask(0);
    CHECK_EQ_U(keyfile_create(p, &k, err, sizeof err), PS_OK);
    umask(old);
    struct stat sb;
    CHECK(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0600 && sb.st_size == 65);
    bool is_missing = true, is_loose = true;
    CHECK_EQ_U(keyfile_load(p, &back, &is_missing, &is_loose, err, sizeof err), PS_OK);
    CHECK(!is_missing && !is_loose && back.is_set);
    CHECK(memcmp(back.bytes, k.bytes, FINDING_KEY_LEN) == 0);
    /* An existing file is never replaced. */
    CHECK_EQ_U(keyfile_create(p, &k, err, sizeof err), PS_ERR_IO);
    CHECK(strstr(err, p) != NULL);
    /* Readable by others: loaded, and said. */
    CHECK(chmod(p, 0644) == 0);
    CHECK_EQ_U(keyfile_load(p, &back, &is_missing, &is_loose, err, sizeof err), PS_OK);
    CHECK(is_loose);
    /* Missing: said, key untouched. */
    path_of(p, sizeof p, "none.key");
    finding_key_wipe(&back);
    CHECK_EQ_U(keyfile_load(p, &back, &is_missing, &is_loose, err, sizeof err), PS_OK);
    CHECK(is_missing && !back.is_set);
    /* No directory to make it in. */
    path_of(p, sizeof p, "no/such/dir.key");
    CHECK_EQ_U(keyfile_create(p, &k, err, sizeof err), PS_ERR_IO);
    CHECK(access(p, F_OK) != 0);
    finding_key_wipe(&k);
}

/* What a key file may and may not hold. */
static void test_formats(void)
{
    static const struct {
        const char *text;
        enum ps_err want;
    } cases[] = {
        { "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", PS_OK },
        { "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", PS_OK },
        { "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F\r\n", PS_OK },
        { "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1\n", PS_ERR_FORMAT },
        { "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0\n", PS_ERR_FORMAT },
        { "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n\n", PS_ERR_FORMAT },
        { "g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", PS_ERR_FORMAT },
        { " 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", PS_ERR_FORMAT },
        { "", PS_ERR_FORMAT },
    };
    char p[512], err[512];
    path_of(p, sizeof p, "f.key");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_text(p, cases[i].text);
        struct finding_key k = { .is_set = false };
        bool is_missing = false, is_loose = false;
        err[0] = '\0';
        enum ps_err e = keyfile_load(p, &k, &is_missing, &is_loose, err, sizeof err);
        CHECK_EQ_U(e, cases[i].want);
        CHECK(e == PS_OK ? k.is_set && k.bytes[31] == 0x1f : !k.is_set && strstr(err, p) != NULL);
        unlink(p);
    }
    /* A directory is no key file. */
    path_of(p, sizeof p, "adir");
    CHECK(mkdir(p, 0700) == 0);
    struct finding_key k = { .is_set = false };
    bool is_missing = false, is_loose = false;
    CHECK_EQ_U(keyfile_load(p, &k, &is_missing, &is_loose, err, sizeof err), PS_ERR_IO);
    CHECK(strstr(err, "not a regular file") != NULL);
    rmdir(p);
}

/* The key's id: fixed for a key, different for another, and not the key. */
static void test_key_id(void)
{
    struct finding_key a = { .is_set = false }, b = { .is_set = false };
    uint8_t bytes[FINDING_KEY_LEN];
    memset(bytes, 0, sizeof bytes);
    finding_key_set(&a, bytes);
    bytes[0] = 1;
    finding_key_set(&b, bytes);
    char ia[FINDING_KEY_ID_HEX + 1], ia2[FINDING_KEY_ID_HEX + 1], ib[FINDING_KEY_ID_HEX + 1];
    finding_key_id(&a, ia);
    finding_key_id(&a, ia2);
    finding_key_id(&b, ib);
    CHECK(strlen(ia) == FINDING_KEY_ID_HEX && strcmp(ia, ia2) == 0 && strcmp(ia, ib) != 0);
    /* SHA-256("plainsight fingerprint key id" || 32 zero bytes), first 16 bytes. */
    CHECK(strcmp(ia, "c40ae47df40c3f3d134d45fc47ba7d5c") == 0 || (printf("  id %s\n", ia), 0));
}

int main(void)
{
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_default_path);
    RUN(test_create_load);
    RUN(test_formats);
    RUN(test_key_id);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        perror("rm");
    }
    return TEST_SUMMARY();
}
