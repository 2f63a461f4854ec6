/* The libosip2 peer of bench-parser: parses the same corpus the same way and prints the same lines.
 *
 *   bench_osip CORPUS_DIR [--iterations N] [--rounds R]      timed rounds
 *   bench_osip CORPUS_DIR --count N [--serialize|--serialize-cached]   N untimed operations
 *
 * One "parse" = osip_message_init + osip_message_parse (which parses every known header into its
 * structure: Via, From, To, Call-ID, CSeq, Contact, Content-Length, Route, Record-Route, ...; others are
 * kept as name/value pairs) + reading the same views bench-parser reads (top Via sent-by port and
 * branch, From and To tags, Call-ID, CSeq number, Max-Forwards, Contact count, body length)
 * + osip_message_free.
 * "parse+serialize" additionally calls osip_message_force_update + osip_message_to_str (the message
 * is rebuilt from its structures, as after any change a proxy makes) and frees the string.
 * "parse+serialize (cached)" calls osip_message_to_str without force_update: libosip2 then returns a
 * copy of the received buffer it kept at parse time.
 *
 * Built by scripts/bench-parser.sh: cc -O2 bench_osip.c -losipparser2 -losip2
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <osipparser2/osip_parser.h>
#include <osipparser2/osip_port.h>

struct msg { char *data; size_t len; };
static struct msg corpus[64];
static int corpus_count;

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void load(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) { fprintf(stderr, "bench_osip: cannot open %s\n", dir); exit(2); }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".sip") == 0) names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], by_name);
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        if (!f) { fprintf(stderr, "bench_osip: cannot read %s\n", path); exit(2); }
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        fseek(f, 0, SEEK_SET);
        corpus[i].data = malloc(len + 1);
        if (fread(corpus[i].data, 1, len, f) != (size_t)len) { fprintf(stderr, "bench_osip: short read\n"); exit(2); }
        corpus[i].data[len] = 0;
        corpus[i].len = len;
        fclose(f);
        free(names[i]);
    }
    corpus_count = n;
    if (n == 0) { fprintf(stderr, "bench_osip: no .sip files in %s\n", dir); exit(2); }
}

enum mode { PARSE, SERIALIZE, SERIALIZE_CACHED };

static long op(const struct msg *m, enum mode mode) {
    osip_message_t *sip = NULL;
    long sum = 0;
    if (osip_message_init(&sip) != 0) { fprintf(stderr, "bench_osip: init failed\n"); exit(1); }
    if (osip_message_parse(sip, m->data, m->len) != 0) { fprintf(stderr, "bench_osip: corpus message does not parse\n"); exit(1); }
    osip_via_t *via = NULL;
    if (osip_message_get_via(sip, 0, &via) >= 0 && via) {
        if (via->port) sum += atoi(via->port);
        osip_generic_param_t *branch = NULL;
        osip_via_param_get_byname(via, "branch", &branch);
        if (branch && branch->gvalue) sum += (long)strlen(branch->gvalue);
    }
    osip_generic_param_t *tag = NULL;
    if (sip->from && osip_from_get_tag(sip->from, &tag) >= 0 && tag && tag->gvalue) sum += (long)strlen(tag->gvalue);
    tag = NULL;
    if (sip->to && osip_to_get_tag(sip->to, &tag) >= 0 && tag && tag->gvalue) sum += (long)strlen(tag->gvalue);
    if (sip->call_id && sip->call_id->number) sum += (long)strlen(sip->call_id->number);
    if (sip->cseq && sip->cseq->number) sum += atol(sip->cseq->number);
    osip_header_t *mf = NULL;
    if (osip_message_header_get_byname(sip, "max-forwards", 0, &mf) >= 0 && mf && mf->hvalue) sum += atoi(mf->hvalue);
    else sum += 70;
    sum += osip_list_size(&sip->contacts);
    if (sip->content_length && sip->content_length->value) sum += atoi(sip->content_length->value);
    if (mode != PARSE) {
        char *out = NULL;
        size_t len = 0;
        if (mode == SERIALIZE) osip_message_force_update(sip);
        if (osip_message_to_str(sip, &out, &len) != 0) { fprintf(stderr, "bench_osip: to_str failed\n"); exit(1); }
        sum += (long)len;
        osip_free(out);
    }
    osip_message_free(sip);
    return sum;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static long checksum;

static void measure(const char *name, enum mode mode, long iterations, int rounds) {
    for (long i = 0; i < (iterations < 2000 ? iterations : 2000); i++) checksum += op(&corpus[i % corpus_count], mode);
    double rates[256];
    for (int r = 0; r < rounds; r++) {
        double t0 = now();
        int k = 0;
        for (long i = 0; i < iterations; i++) {
            checksum += op(&corpus[k], mode);
            if (++k == corpus_count) k = 0;
        }
        rates[r] = iterations / (now() - t0);
    }
    qsort(rates, rounds, sizeof rates[0], cmp_double);
    printf("%s msgs_per_s=%ld min=%ld max=%ld rounds=%d iterations=%ld\n", name, (long)rates[rounds / 2],
           (long)rates[0], (long)rates[rounds - 1], rounds, iterations);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: bench_osip CORPUS_DIR [--iterations N] [--rounds R] | --count N [--serialize|--serialize-cached]\n"); return 2; }
    long iterations = 100000, count = -1;
    int rounds = 9;
    enum mode mode = PARSE;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--iterations") && i + 1 < argc) iterations = atol(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--count") && i + 1 < argc) count = atol(argv[++i]);
        else if (!strcmp(argv[i], "--serialize")) mode = SERIALIZE;
        else if (!strcmp(argv[i], "--serialize-cached")) mode = SERIALIZE_CACHED;
        else { fprintf(stderr, "bench_osip: unknown argument %s\n", argv[i]); return 2; }
    }
    if (iterations <= 0 || rounds <= 0 || rounds > 256) { fprintf(stderr, "bench_osip: bad --iterations/--rounds\n"); return 2; }
    parser_init();
    load(argv[1]);
    if (count >= 0) {
        for (long i = 0; i < count; i++) checksum += op(&corpus[i % corpus_count], mode);
        printf("checksum=%ld\n", checksum);
        return 0;
    }
    size_t bytes = 0;
    for (int i = 0; i < corpus_count; i++) bytes += corpus[i].len;
    printf("corpus messages=%d bytes=%zu\n", corpus_count, bytes);
    measure("parse", PARSE, iterations, rounds);
    measure("parse_serialize", SERIALIZE, iterations, rounds);
    measure("parse_serialize_cached", SERIALIZE_CACHED, iterations, rounds);
    printf("checksum=%ld\n", checksum);
    return 0;
}
