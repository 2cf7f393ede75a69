/*
 * ftpload: the FTP load client of scripts/bench (compiled by it into .bench-cache/ with gcc -O2).
 *
 * Why hand-written: no package on the machine provides an FTP load generator. curl does one session per process;
 * the FTP benchmarks on PyPI (ftpbench, ftpbenchmark) are Python, like the clients this one replaces, whose own CPU
 * (on the same 2 cores as the server) limits the rate; Debian's jmeter-ftp needs a JVM and checks less than we
 * do. This is one plain C file with no dependency beyond libc.
 *
 * Two modes; both print one JSON object on stdout, and exit 0 when the client itself ran (failed sessions are
 * results, reported in the JSON), 2 on bad usage or a local error.
 *
 *   ftpload concurrent HOST PORT USER PASS --sessions N [--concurrency C] [--max-connecting M] [--sources K]
 *                      [--timeout S] --list-expect NAME --retr NAME LOCALFILE
 *     N sessions, C of them in flight at once (default N), in one process on one epoll loop. Each session is a
 *     state machine: connect, greeting 2xx, USER 3xx, PASS 2xx, TYPE I 2xx, PASV + LIST (the listing must contain
 *     NAME), PASV + RETR NAME (the bytes must equal LOCALFILE, compared as they arrive), QUIT 2xx. Every socket
 *     of session i is bound to source address 127.0.0.(1 + i % K) before connect (default K = 32; the original
 *     FsTPy allows 25 connections per address). With --max-connecting M, a session starts only while fewer than
 *     M sessions wait for their connect or greeting: this keeps the burst of connects under the server's listen
 *     backlog (past it, the kernel drops the SYN and the client sends it again only after 1 s, or, when the
 *     handshake went through with a SYN cookie, drops its last ACK and the client waits for a greeting that never
 *     comes). Default 0: no limit.
 *     A session that has not finished after S seconds (default 120) fails with a timeout. JSON: sessions, ok, failures, wall_s (start to the end of the last good session),
 *     latencies_ms (good sessions), errors (the reason of each failed session), cpu_s and run_s (this process's
 *     user+system CPU and wall time over the whole run).
 *
 *   ftpload smallfiles HOST PORT USER PASS --dir REMOTEDIR --files LOCALDIR [--timeout S]
 *     One control connection: USER, PASS, MKD REMOTEDIR, CWD REMOTEDIR, TYPE I; then for every regular file of
 *     LOCALDIR (sorted by name, all loaded in memory first) PASV + STOR under the same name; then for every file
 *     PASV + RETR, each download compared byte for byte with the file in memory; QUIT. The caller checks the
 *     uploads on disk. JSON: files, up_s, down_s, up_cpu_s, down_cpu_s, and error (null, or the first failure:
 *     the run stops there).
 *
 * Both modes follow what the Python clients of scripts/bench do (ftplib and the asyncio client), reply code by
 * reply code: the command's reply must have the expected first digit, a transfer needs a 1xx then a 2xx, and
 * multi-line replies (`230-...` up to `230 ...`) count as one reply.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define REPLY_MAX 16384 /* longest reply (all lines) we accept */
#define REASON_MAX 256

/* ------------------------------------------------------------------------------------------------------------ */
/* Small helpers */

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ftpload: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

/* Prints s as a JSON string. */
static void json_string(FILE *out, const char *s) {
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(out, "\\u%04x", c); /* replies are treated as Latin-1 */
        else
            fputc(c, out);
    }
    fputc('"', out);
}

/* Copies the first line of a reply into out (for failure reasons): no CR/LF, at most REASON_MAX/2 characters. */
static void first_line(char *out, size_t size, const char *text) {
    size_t n = 0;
    size_t limit = size - 1 < REASON_MAX / 2 ? size - 1 : REASON_MAX / 2;
    while (text[n] && text[n] != '\r' && text[n] != '\n' && n < limit) {
        out[n] = text[n];
        n++;
    }
    out[n] = 0;
}

/* Reads a whole file into memory. */
static unsigned char *load_file(const char *path, size_t *size) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) die("%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) die("%s: %s", path, strerror(errno));
    unsigned char *buf = malloc(st.st_size ? st.st_size : 1);
    if (!buf) die("out of memory");
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, st.st_size - got);
        if (n <= 0) die("%s: short read", path);
        got += n;
    }
    close(fd);
    *size = got;
    return buf;
}

/* Finds the PASV address as Python's re.search(r"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)") would: the leftmost run of
 * six comma-separated numbers. Returns 0 and fills host ("a.b.c.d") and port, or -1. */
static int parse_pasv(const char *text, char *host, size_t host_size, int *port) {
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9') continue;
        long v[6];
        const char *q = p;
        int i;
        for (i = 0; i < 6; i++) {
            if (*q < '0' || *q > '9') break;
            v[i] = 0;
            while (*q >= '0' && *q <= '9') {
                if (v[i] < 100000) v[i] = v[i] * 10 + (*q - '0');
                q++;
            }
            if (i < 5) {
                if (*q != ',') break;
                q++;
            }
        }
        if (i < 6) continue;
        for (i = 0; i < 6; i++)
            if (v[i] > 255) return -1;
        snprintf(host, host_size, "%ld.%ld.%ld.%ld", v[0], v[1], v[2], v[3]);
        *port = (int)(v[4] * 256 + v[5]);
        return 0;
    }
    return -1;
}

/* Reply assembly: bytes of the control connection go into `buf`; take_reply() removes one complete reply (one
 * line `ddd text`, or the lines from `ddd-` to `ddd `) and returns its code, or 0 if incomplete, -1 if malformed.
 * The reply text, NUL-terminated, goes to `text`. */
struct replybuf {
    char buf[REPLY_MAX];
    size_t len;
};

static int take_reply(struct replybuf *rb, char *text, size_t text_size, char *why, size_t why_size) {
    size_t line_start = 0;
    int code = 0;
    for (;;) {
        char *nl = memchr(rb->buf + line_start, '\n', rb->len - line_start);
        if (!nl) {
            if (rb->len == sizeof rb->buf) {
                snprintf(why, why_size, "reply longer than %d bytes", REPLY_MAX);
                return -1;
            }
            return 0; /* wait for more bytes */
        }
        const char *line = rb->buf + line_start;
        size_t line_len = nl - line + 1;
        if (line_start == 0) {
            if (line_len < 4 || line[0] < '1' || line[0] > '5' || line[1] < '0' || line[1] > '9' || line[2] < '0' ||
                line[2] > '9' || (line[3] != ' ' && line[3] != '-' && line[3] != '\r' && line[3] != '\n')) {
                char l[REASON_MAX / 2 + 1];
                first_line(l, sizeof l, line);
                snprintf(why, why_size, "bad reply '%s'", l);
                return -1;
            }
            code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
            if (line[3] != '-') { /* single line */
                line_start += line_len;
                break;
            }
        } else if (line_len >= 4 && memcmp(line, rb->buf, 3) == 0 && line[3] == ' ') {
            line_start += line_len; /* last line of a multi-line reply */
            break;
        }
        line_start += line_len;
    }
    size_t n = line_start < text_size - 1 ? line_start : text_size - 1;
    memcpy(text, rb->buf, n);
    text[n] = 0;
    memmove(rb->buf, rb->buf + line_start, rb->len - line_start);
    rb->len -= line_start;
    return code;
}

/* A non-blocking (or blocking) TCP socket bound to source (port chosen at connect time), connecting to host:port.
 * Returns the fd (connect may be in progress) or -1 with errno set. */
static int open_connection(const char *source, const char *host, int port, int nonblocking) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (source) {
        /* Defer the choice of the source port to connect(), which then only needs a port free for this
         * destination; without it, bind() reserves a port for every destination and 200 sessions x 3 connections
         * can run the range out of ports still in TIME_WAIT. */
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        struct sockaddr_in src = {.sin_family = AF_INET};
        inet_pton(AF_INET, source, &src.sin_addr);
        if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
    }
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, host, &dst.sin_addr) != 1) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Concurrent mode: N sessions as state machines on one epoll loop */

enum step {
    ST_IDLE,      /* not started yet */
    ST_CONNECT,   /* control connection in progress */
    ST_GREETING,  /* waiting for 2xx */
    ST_USER,      /* sent USER, waiting for 3xx */
    ST_PASS,      /* sent PASS, waiting for 2xx */
    ST_TYPE,      /* sent TYPE I, waiting for 2xx */
    ST_PASV,      /* sent PASV (for LIST or RETR), waiting for 227 */
    ST_DCONNECT,  /* data connection in progress */
    ST_TRANSFER,  /* sent LIST or RETR: waiting for 1xx, data up to EOF and the final 2xx */
    ST_QUIT,      /* sent QUIT, waiting for 2xx */
    ST_DONE,
    ST_FAILED,
};

static const char *step_name[] = {"idle", "connect", "greeting", "USER", "PASS", "TYPE", "PASV", "data connect",
                                  "transfer", "QUIT", "done", "failed"};

struct session {
    enum step step;
    int ctrl, data;        /* fds, -1 when closed */
    int retr;              /* 0: the LIST transfer, 1: the RETR transfer */
    int got_prelim;        /* transfer: 1xx seen */
    int got_final;         /* transfer: final 2xx seen */
    int data_eof;          /* transfer: data connection at EOF */
    size_t received;       /* transfer: bytes of data */
    char *listing;         /* LIST: the listing so far */
    size_t listing_cap;
    const char *source;
    double started, ended;
    char reason[REASON_MAX];
    struct replybuf rb;
    char out[256];         /* control bytes not yet written (a command that did not fit the socket buffer) */
    size_t out_len;
};

static struct {
    const char *host, *user, *pass, *list_expect, *retr_name;
    int port;
    unsigned char *expected; /* the RETR file's bytes */
    size_t expected_len;
    double timeout;
    int epoll;
    struct session *s;
    int n;
    int active;         /* sessions started and not ended */
    int connecting;     /* sessions in ST_CONNECT or ST_GREETING */
    int max_connecting; /* 0: no limit */
} C;

static unsigned char scratch[1 << 16]; /* data reads land here (one thread) */

/* epoll data: session index * 2 + (0 control, 1 data) */
static void watch(int fd, int index, int is_data, uint32_t events, int op) {
    struct epoll_event ev = {.events = events, .data.u64 = (uint64_t)index * 2 + is_data};
    if (epoll_ctl(C.epoll, op, fd, &ev) != 0) die("epoll_ctl: %s", strerror(errno));
}

static void close_data(struct session *s) {
    if (s->data >= 0) {
        close(s->data); /* also removes it from the epoll set */
        s->data = -1;
    }
}

static void finish(struct session *s, enum step step) {
    if (s->step == ST_CONNECT || s->step == ST_GREETING) C.connecting--;
    close_data(s);
    if (s->ctrl >= 0) close(s->ctrl);
    s->ctrl = -1;
    free(s->listing);
    s->listing = NULL;
    s->step = step;
    s->ended = now();
    C.active--;
}

static void fail(struct session *s, const char *fmt, ...) {
    char msg[REASON_MAX - 32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* The reason names the step: a step of the LIST or RETR transfer, or the command. */
    int in_transfer = s->step == ST_PASV || s->step == ST_DCONNECT || s->step == ST_TRANSFER;
    snprintf(s->reason, sizeof s->reason, "%s: %s", in_transfer ? (s->retr ? "RETR" : "LIST") : step_name[s->step],
             msg);
    finish(s, ST_FAILED);
}

/* Writes a command (adds CRLF); what does not fit now is written when the socket is writable again. */
static void send_command(struct session *s, int index, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(s->out, sizeof s->out - 2, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= (int)sizeof s->out - 2) {
        fail(s, "command longer than %zu bytes", sizeof s->out - 3);
        return;
    }
    memcpy(s->out + n, "\r\n", 2);
    s->out_len = n + 2;
    ssize_t w = send(s->ctrl, s->out, s->out_len, MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN) {
        fail(s, "send: %s", strerror(errno));
        return;
    }
    if (w < 0) w = 0;
    memmove(s->out, s->out + w, s->out_len - w);
    s->out_len -= w;
    if (s->out_len) watch(s->ctrl, index, 0, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
}

/* Both halves of a transfer are in: the final reply and the data EOF. Check the data and go on. */
static void transfer_complete(struct session *s, int index) {
    if (!s->retr) {
        size_t name_len = strlen(C.list_expect);
        if (!s->listing || !memmem(s->listing, s->received, C.list_expect, name_len)) {
            fail(s, "%s not listed (%zu bytes of listing)", C.list_expect, s->received);
            return;
        }
        s->retr = 1;
        s->step = ST_PASV;
        send_command(s, index, "PASV");
    } else {
        if (s->received != C.expected_len) {
            fail(s, "%zu bytes, %zu expected", s->received, C.expected_len);
            return;
        }
        s->step = ST_QUIT;
        send_command(s, index, "QUIT");
    }
}

/* One complete reply on the control connection. */
static void on_reply(struct session *s, int index, int code, const char *text) {
    char line[REASON_MAX];
    first_line(line, sizeof line, text);
    switch (s->step) {
    case ST_GREETING:
        if (code / 100 != 2) { fail(s, "%s", line); return; }
        C.connecting--;
        s->step = ST_USER;
        send_command(s, index, "USER %s", C.user);
        return;
    case ST_USER:
        if (code / 100 != 3) { fail(s, "%s", line); return; }
        s->step = ST_PASS;
        send_command(s, index, "PASS %s", C.pass);
        return;
    case ST_PASS:
        if (code / 100 != 2) { fail(s, "%s", line); return; }
        s->step = ST_TYPE;
        send_command(s, index, "TYPE I");
        return;
    case ST_TYPE:
        if (code / 100 != 2) { fail(s, "%s", line); return; }
        s->retr = 0;
        s->step = ST_PASV;
        send_command(s, index, "PASV");
        return;
    case ST_PASV: {
        char host[64];
        int port;
        if (code / 100 != 2) { fail(s, "PASV: %s", line); return; }
        if (parse_pasv(text, host, sizeof host, &port) != 0 || strcmp(host, C.host) != 0) {
            fail(s, "PASV: unexpected reply '%s'", line);
            return;
        }
        s->data = open_connection(s->source, C.host, port, 1);
        if (s->data < 0) { fail(s, "data connect to port %d: %s", port, strerror(errno)); return; }
        s->got_prelim = s->got_final = s->data_eof = 0;
        s->received = 0;
        s->step = ST_DCONNECT;
        watch(s->data, index, 1, EPOLLOUT, EPOLL_CTL_ADD);
        return;
    }
    case ST_TRANSFER:
        if (!s->got_prelim) {
            if (code / 100 != 1) { fail(s, "%s", line); return; }
            s->got_prelim = 1;
            return;
        }
        if (s->got_final) { fail(s, "unexpected reply after the transfer's end: %s", line); return; }
        if (code / 100 != 2) { fail(s, "end: %s", line); return; }
        s->got_final = 1;
        if (s->data_eof) transfer_complete(s, index);
        return;
    case ST_QUIT:
        if (code / 100 != 2) { fail(s, "%s", line); return; }
        finish(s, ST_DONE);
        return;
    default: /* a reply while none is expected (e.g. during the data connect) */
        fail(s, "unexpected reply '%s'", line);
        return;
    }
}

static void on_control(struct session *s, int index, uint32_t events) {
    if (s->step == ST_CONNECT) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(s->ctrl, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) { fail(s, "%s", strerror(err)); return; }
        s->step = ST_GREETING;
        watch(s->ctrl, index, 0, EPOLLIN, EPOLL_CTL_MOD);
        return;
    }
    if ((events & EPOLLOUT) && s->out_len) {
        ssize_t w = send(s->ctrl, s->out, s->out_len, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN) { fail(s, "send: %s", strerror(errno)); return; }
        if (w > 0) {
            memmove(s->out, s->out + w, s->out_len - w);
            s->out_len -= w;
        }
        if (!s->out_len) watch(s->ctrl, index, 0, EPOLLIN, EPOLL_CTL_MOD);
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
    ssize_t n = recv(s->ctrl, s->rb.buf + s->rb.len, sizeof s->rb.buf - s->rb.len, 0);
    if (n < 0) {
        if (errno == EAGAIN) return;
        fail(s, "control connection: %s", strerror(errno));
        return;
    }
    if (n == 0) { fail(s, "control connection closed"); return; }
    s->rb.len += n;
    /* Every complete reply in the buffer, in order (a server may send 150 and 226 in one segment). */
    while (s->step != ST_DONE && s->step != ST_FAILED) {
        char text[REPLY_MAX], why[REASON_MAX];
        int code = take_reply(&s->rb, text, sizeof text, why, sizeof why);
        if (code == 0) break;
        if (code < 0) { fail(s, "%s", why); return; }
        on_reply(s, index, code, text);
    }
}

static void on_data(struct session *s, int index, uint32_t events) {
    if (s->step == ST_DCONNECT) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(s->data, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) { fail(s, "data connection: %s", strerror(err)); return; }
        watch(s->data, index, 1, EPOLLIN, EPOLL_CTL_MOD);
        s->step = ST_TRANSFER;
        if (s->retr)
            send_command(s, index, "RETR %s", C.retr_name);
        else
            send_command(s, index, "LIST");
        return;
    }
    if (s->step != ST_TRANSFER || s->data_eof) return;
    (void)events;
    ssize_t n = recv(s->data, scratch, sizeof scratch, 0);
    if (n < 0) {
        if (errno == EAGAIN) return;
        fail(s, "data connection: %s", strerror(errno));
        return;
    }
    if (n == 0) {
        s->data_eof = 1;
        close_data(s);
        if (s->got_final) transfer_complete(s, index);
        return;
    }
    if (s->retr) { /* compare with the expected bytes as they arrive */
        if (s->received + n > C.expected_len) {
            fail(s, "more than the %zu bytes expected", C.expected_len);
            return;
        }
        if (memcmp(scratch, C.expected + s->received, n) != 0) {
            size_t at = 0;
            while (scratch[at] == C.expected[s->received + at]) at++;
            fail(s, "wrong content at byte %zu", s->received + at);
            return;
        }
    } else {
        if (s->received + n > s->listing_cap) {
            s->listing_cap = (s->received + n) * 2;
            s->listing = realloc(s->listing, s->listing_cap);
            if (!s->listing) die("out of memory");
        }
        memcpy(s->listing + s->received, scratch, n);
    }
    s->received += n;
}

static void start_session(int index) {
    struct session *s = &C.s[index];
    s->started = now();
    s->step = ST_CONNECT;
    C.active++;
    C.connecting++;
    s->ctrl = open_connection(s->source, C.host, C.port, 1);
    if (s->ctrl < 0) { fail(s, "%s", strerror(errno)); return; }
    watch(s->ctrl, index, 0, EPOLLOUT, EPOLL_CTL_ADD);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int run_concurrent(int argc, char **argv) {
    int n = 0, concurrency = 0, sources = 32;
    const char *retr_file = NULL;
    C.timeout = 120;
    if (argc < 4) die("usage: see the top of ftpload.c");
    C.host = argv[0];
    C.port = atoi(argv[1]);
    C.user = argv[2];
    C.pass = argv[3];
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "--sessions") && i + 1 < argc) n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--concurrency") && i + 1 < argc) concurrency = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--max-connecting") && i + 1 < argc) C.max_connecting = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--sources") && i + 1 < argc) sources = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) C.timeout = atof(argv[++i]);
        else if (!strcmp(argv[i], "--list-expect") && i + 1 < argc) C.list_expect = argv[++i];
        else if (!strcmp(argv[i], "--retr") && i + 2 < argc) {
            C.retr_name = argv[++i];
            retr_file = argv[++i];
        } else die("unknown or incomplete argument %s", argv[i]);
    }
    if (n <= 0 || !C.list_expect || !C.retr_name || sources < 1 || sources > 254)
        die("concurrent needs --sessions N, --list-expect NAME and --retr NAME FILE (and 1 <= --sources <= 254)");
    if (concurrency <= 0 || concurrency > n) concurrency = n;
    C.expected = load_file(retr_file, &C.expected_len);

    /* Two fds per session in flight, plus a margin. */
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < (rlim_t)concurrency * 2 + 64) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < (rlim_t)concurrency * 2 + 64) die("too few file descriptors for %d sessions", concurrency);
    }

    static char source_names[254][16];
    for (int i = 0; i < sources; i++) snprintf(source_names[i], sizeof source_names[i], "127.0.0.%d", i + 1);
    C.n = n;
    C.s = calloc(n, sizeof *C.s);
    if (!C.s) die("out of memory");
    for (int i = 0; i < n; i++) {
        C.s[i].ctrl = C.s[i].data = -1;
        C.s[i].source = source_names[i % sources];
    }
    C.epoll = epoll_create1(EPOLL_CLOEXEC);
    if (C.epoll < 0) die("epoll_create1: %s", strerror(errno));

    double cpu0 = cpu_seconds(), t0 = now(), last_scan = t0;
    int next = 0;
    struct epoll_event events[256];
    while (C.active > 0 || next < n) {
        while (C.active < concurrency && next < n && (!C.max_connecting || C.connecting < C.max_connecting))
            start_session(next++);
        int k = epoll_wait(C.epoll, events, 256, 100);
        if (k < 0 && errno != EINTR) die("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < k; i++) {
            int index = (int)(events[i].data.u64 / 2);
            struct session *s = &C.s[index];
            if (s->step == ST_DONE || s->step == ST_FAILED) continue; /* ended earlier in this batch */
            if (events[i].data.u64 & 1) {
                if (s->data >= 0) on_data(s, index, events[i].events);
            } else {
                on_control(s, index, events[i].events);
            }
        }
        /* Timeouts: a scan every 100 ms is plenty (sessions last milliseconds, the timeout is seconds). */
        double t = now();
        if (t - last_scan >= 0.1) {
            last_scan = t;
            for (int i = 0; i < next; i++) {
                struct session *s = &C.s[i];
                if (s->step != ST_DONE && s->step != ST_FAILED && t - s->started > C.timeout)
                    fail(s, "no progress: timeout after %.0f s", C.timeout);
            }
        }
    }
    double t1 = now(), cpu1 = cpu_seconds();

    /* Results */
    double *lat = malloc(sizeof(double) * n);
    int ok = 0;
    double last_end = t0;
    for (int i = 0; i < n; i++) {
        if (C.s[i].step == ST_DONE) {
            lat[ok++] = (C.s[i].ended - C.s[i].started) * 1000;
            if (C.s[i].ended > last_end) last_end = C.s[i].ended;
        }
    }
    qsort(lat, ok, sizeof *lat, cmp_double);
    printf("{\"mode\": \"concurrent\", \"sessions\": %d, \"concurrency\": %d, \"max_connecting\": %d, \"ok\": %d, "
           "\"failures\": %d, \"wall_s\": %.6f, \"run_s\": %.6f, \"cpu_s\": %.6f, \"latencies_ms\": [",
           n, concurrency, C.max_connecting, ok, n - ok, last_end - t0, t1 - t0, cpu1 - cpu0);
    for (int i = 0; i < ok; i++) printf("%s%.3f", i ? ", " : "", lat[i]);
    printf("], \"errors\": [");
    int first = 1;
    for (int i = 0; i < n; i++) {
        if (C.s[i].step != ST_FAILED) continue;
        printf("%s", first ? "" : ", ");
        json_string(stdout, C.s[i].reason);
        first = 0;
    }
    printf("]}\n");
    return 0;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Smallfiles mode: one session, blocking sockets with timeouts, stop at the first failure */

static struct {
    const char *host;
    int port;
    int ctrl;
    struct replybuf rb;
    double timeout;
    char error[REASON_MAX * 2];
    char text[REPLY_MAX];
} S;

static void set_timeouts(int fd) {
    struct timeval tv = {.tv_sec = (long)S.timeout, .tv_usec = (long)((S.timeout - (long)S.timeout) * 1e6)};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv); /* also bounds connect() */
}

static int send_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        len -= w;
    }
    return 0;
}

/* Reads one whole reply; returns its code, or -1 with S.error set. */
static int s_reply(const char *what) {
    for (;;) {
        char why[REASON_MAX];
        int code = take_reply(&S.rb, S.text, sizeof S.text, why, sizeof why);
        if (code > 0) return code;
        if (code < 0) {
            snprintf(S.error, sizeof S.error, "%s: %s", what, why);
            return -1;
        }
        ssize_t n = recv(S.ctrl, S.rb.buf + S.rb.len, sizeof S.rb.buf - S.rb.len, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            snprintf(S.error, sizeof S.error, "%s: %s", what,
                     n == 0 ? "control connection closed"
                            : (errno == EAGAIN ? "no reply: timeout" : strerror(errno)));
            return -1;
        }
        S.rb.len += n;
    }
}

/* Reads a reply and checks its first digit; returns the code or -1. */
static int s_expect(int digit, const char *what) {
    int code = s_reply(what);
    if (code < 0) return -1;
    if (code / 100 != digit) {
        char line[REASON_MAX];
        first_line(line, sizeof line, S.text);
        snprintf(S.error, sizeof S.error, "%s: %s", what, line);
        return -1;
    }
    return code;
}

static int s_command(const char *line, int digit) {
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "%s\r\n", line);
    char what[64];
    snprintf(what, sizeof what, "%.*s", (int)strcspn(line, " "), line);
    if (n < 0 || n >= (int)sizeof buf) {
        snprintf(S.error, sizeof S.error, "%s: command longer than %zu bytes", what, sizeof buf - 3);
        return -1;
    }
    if (send_all(S.ctrl, buf, n) != 0) {
        snprintf(S.error, sizeof S.error, "%s: send: %s", what, strerror(errno));
        return -1;
    }
    return s_expect(digit, what);
}

/* PASV, then a data connection (as ftplib's transfercmd): returns its fd or -1. */
static int s_pasv(void) {
    if (s_command("PASV", 2) < 0) return -1;
    char host[64];
    int port;
    if (parse_pasv(S.text, host, sizeof host, &port) != 0 || strcmp(host, S.host) != 0) {
        char line[REASON_MAX];
        first_line(line, sizeof line, S.text);
        snprintf(S.error, sizeof S.error, "PASV: unexpected reply '%s'", line);
        return -1;
    }
    int fd = open_connection(NULL, S.host, port, 0);
    if (fd < 0) {
        snprintf(S.error, sizeof S.error, "data connect to port %d: %s", port, strerror(errno));
        return -1;
    }
    set_timeouts(fd);
    return fd;
}

struct file {
    char *name;
    unsigned char *bytes;
    size_t len;
};

static int name_cmp(const void *a, const void *b) {
    return strcmp(((const struct file *)a)->name, ((const struct file *)b)->name);
}

static int upload(const struct file *f) {
    int fd = s_pasv();
    if (fd < 0) return -1;
    char line[1024];
    snprintf(line, sizeof line, "STOR %s", f->name);
    int rc = s_command(line, 1);
    if (rc >= 0 && send_all(fd, f->bytes, f->len) != 0) {
        snprintf(S.error, sizeof S.error, "STOR %s: data: %s", f->name, strerror(errno));
        rc = -1;
    }
    close(fd);
    if (rc < 0) return -1;
    return s_expect(2, "STOR end") < 0 ? -1 : 0;
}

static unsigned char *download_buf;
static size_t download_cap;

static int download(const struct file *f) {
    int fd = s_pasv();
    if (fd < 0) return -1;
    char line[1024];
    snprintf(line, sizeof line, "RETR %s", f->name);
    if (s_command(line, 1) < 0) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    for (;;) {
        if (got == download_cap) {
            download_cap = download_cap ? download_cap * 2 : 1 << 16;
            download_buf = realloc(download_buf, download_cap);
            if (!download_buf) die("out of memory");
        }
        ssize_t n = recv(fd, download_buf + got, download_cap - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            snprintf(S.error, sizeof S.error, "RETR %s: data: %s", f->name,
                     errno == EAGAIN ? "timeout" : strerror(errno));
            close(fd);
            return -1;
        }
        if (n == 0) break;
        got += n;
    }
    close(fd);
    if (s_expect(2, "RETR end") < 0) return -1;
    if (got != f->len || memcmp(download_buf, f->bytes, got) != 0) {
        snprintf(S.error, sizeof S.error, "download: %s differs (%zu bytes, %zu expected)", f->name, got, f->len);
        return -1;
    }
    return 0;
}

static int run_smallfiles(int argc, char **argv) {
    const char *user, *pass, *remote_dir = NULL, *local_dir = NULL;
    S.timeout = 120;
    if (argc < 4) die("usage: see the top of ftpload.c");
    S.host = argv[0];
    S.port = atoi(argv[1]);
    user = argv[2];
    pass = argv[3];
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc) remote_dir = argv[++i];
        else if (!strcmp(argv[i], "--files") && i + 1 < argc) local_dir = argv[++i];
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) S.timeout = atof(argv[++i]);
        else die("unknown or incomplete argument %s", argv[i]);
    }
    if (!remote_dir || !local_dir) die("smallfiles needs --dir REMOTEDIR and --files LOCALDIR");

    /* Load every regular file of the folder, sorted by name. */
    DIR *d = opendir(local_dir);
    if (!d) die("%s: %s", local_dir, strerror(errno));
    struct file *files = NULL;
    size_t count = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", local_dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 1024;
            files = realloc(files, cap * sizeof *files);
            if (!files) die("out of memory");
        }
        files[count].name = strdup(e->d_name);
        files[count].bytes = load_file(path, &files[count].len);
        count++;
    }
    closedir(d);
    if (!count) die("%s: no files", local_dir);
    qsort(files, count, sizeof *files, name_cmp);

    double up_s = 0, down_s = 0, up_cpu = 0, down_cpu = 0;
    char line[1024];
    S.ctrl = open_connection(NULL, S.host, S.port, 0);
    if (S.ctrl < 0) {
        snprintf(S.error, sizeof S.error, "connect: %s", strerror(errno));
        goto out;
    }
    set_timeouts(S.ctrl);
    if (s_expect(2, "greeting") < 0) goto out;
    snprintf(line, sizeof line, "USER %s", user);
    if (s_command(line, 3) < 0) goto out;
    snprintf(line, sizeof line, "PASS %s", pass);
    if (s_command(line, 2) < 0) goto out;
    snprintf(line, sizeof line, "MKD %s", remote_dir);
    if (s_command(line, 2) < 0) goto out;
    snprintf(line, sizeof line, "CWD %s", remote_dir);
    if (s_command(line, 2) < 0) goto out;
    if (s_command("TYPE I", 2) < 0) goto out;

    double c0 = cpu_seconds(), t0 = now();
    for (size_t i = 0; i < count; i++)
        if (upload(&files[i]) < 0) goto out;
    double t1 = now(), c1 = cpu_seconds();
    up_s = t1 - t0;
    up_cpu = c1 - c0;
    for (size_t i = 0; i < count; i++)
        if (download(&files[i]) < 0) goto out;
    double t2 = now(), c2 = cpu_seconds();
    down_s = t2 - t1;
    down_cpu = c2 - c1;
    s_command("QUIT", 2);
out:
    if (S.ctrl >= 0) close(S.ctrl);
    printf("{\"mode\": \"smallfiles\", \"files\": %zu, \"up_s\": %.6f, \"down_s\": %.6f, \"up_cpu_s\": %.6f, "
           "\"down_cpu_s\": %.6f, \"error\": ",
           count, up_s, down_s, up_cpu, down_cpu);
    if (S.error[0])
        json_string(stdout, S.error);
    else
        printf("null");
    printf("}\n");
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "concurrent")) return run_concurrent(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "smallfiles")) return run_smallfiles(argc - 2, argv + 2);
    die("usage: ftpload concurrent|smallfiles HOST PORT USER PASS ... (see the top of ftpload.c)");
    return 2;
}
