/* SPDX-License-Identifier: MIT */
/*
 * reader.c - the front of the document readers: default limits, the dispatch (one table
 * from format to reader; the input checked against the limits once, before any reader
 * runs), and what all readers share at their end (kb_rd_finish): every
 * string made valid UTF-8 with its whitespace collapsed, lang and date checked, the body
 * cut to max_text. Keeping that pass in one place means a reader only has to find its
 * fields; it cannot forget to clean one.
 *
 * PDFs: a program that links kb_pdf (read_pdf.c, poppler) reads them in-process; one that
 * does not, kb-indexer, sends each PDF to the kb-pdftext helper process (pdf_helper
 * below), kills it at the time limit, and reads its JSON back with a cap.
 */
#define _GNU_SOURCE /* pipe2 (O_CLOEXEC at creation: other threads may spawn too) */
#include "config.h"
#include "reader_priv.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Defined by read_pdf.c when the program links kb_pdf; NULL otherwise (weak). */
#pragma weak kb_rd_pdf

static int pdf_helper(const char *buf, size_t len, const struct kb_read_limits *lim,
                      struct kb_doc *d, struct kb_error *err);

void kb_read_limits_default(struct kb_read_limits *l)
{
    l->max_file = 64u * 1024u * 1024u;
    l->max_text = 8u * 1024u * 1024u;
    l->max_unzipped = 64u * 1024u * 1024u;
    l->max_seconds = 30.0;
}

const struct kb_read_limits *kb_rd_limits(const struct kb_read_limits *lim,
                                          struct kb_read_limits *tmp)
{
    if (lim)
        return lim;
    kb_read_limits_default(tmp);
    return tmp;
}

/* PDFs: poppler in-process when the program links kb_pdf, else the helper process. */
static int read_pdf(const char *buf, size_t len, const struct kb_read_limits *lim,
                    struct kb_doc *d, struct kb_error *err)
{
    return kb_rd_pdf ? kb_rd_pdf(buf, len, lim, d, err)
                     : pdf_helper(buf, len, lim, d, err);
}

/* The readers' one table: a format (its name and extensions are in core/format.c) and
 * the reader that finds its fields. JSON Lines has none here: a file of many documents
 * goes to kb_read_jsonl. */
static const struct {
    enum kb_format f;
    kb_rd_reader read;
} readers[] = {
    {KB_FMT_TEXT, kb_rd_text}, {KB_FMT_MARKDOWN, kb_rd_markdown},
    {KB_FMT_HTML, kb_rd_html}, {KB_FMT_XML, kb_rd_xml},
    {KB_FMT_PDF, read_pdf},    {KB_FMT_DOCX, kb_rd_docx},
    {KB_FMT_ODT, kb_rd_odt},
};

static kb_rd_reader reader_for(enum kb_format f)
{
    for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++)
        if (readers[i].f == f)
            return readers[i].read;
    return NULL;
}

int kb_read_document(enum kb_format f, const char *buf, size_t len,
                     const struct kb_read_limits *lim, struct kb_doc *d,
                     struct kb_error *err)
{
    struct kb_read_limits tmp;
    int fresh = err && err->code == KB_OK, rc;
    const char *name = kb_format_name(f);
    kb_rd_reader read = reader_for(f);
    lim = kb_rd_limits(lim, &tmp);
    if (f == KB_FMT_JSONL)
        rc = kb_error_set(err, KB_EINVAL,
                          "jsonl: a file of many documents, read with kb_read_jsonl");
    else if (!read)
        rc = kb_error_set(err, KB_EUNSUPPORTED, "unknown format %d", (int)f);
    else if (!buf && len)
        rc = kb_error_set(err, KB_EINVAL, "%s: no buffer", name);
    else if (len > lim->max_file)
        rc = kb_error_set(err, KB_ETOOBIG,
                          "%s: file of %zu bytes is over the %zu-byte limit", name, len,
                          lim->max_file);
    else if (!(rc = read(buf ? buf : "", len, lim, d, err)))
        rc = kb_rd_finish(d, lim, name, err);
    /* messages quote document bytes (libxml2, poppler): keep them valid UTF-8 */
    if (rc && fresh)
        kb_utf8_fix_msg(err->msg);
    return rc;
}

int kb_read_text(const char *buf, size_t len, const struct kb_read_limits *lim,
                 struct kb_doc *d, struct kb_error *err)
{
    return kb_read_document(KB_FMT_TEXT, buf, len, lim, d, err);
}

int kb_read_markdown(const char *buf, size_t len, const struct kb_read_limits *lim,
                     struct kb_doc *d, struct kb_error *err)
{
    return kb_read_document(KB_FMT_MARKDOWN, buf, len, lim, d, err);
}

int kb_read_html(const char *buf, size_t len, const struct kb_read_limits *lim,
                 struct kb_doc *d, struct kb_error *err)
{
    return kb_read_document(KB_FMT_HTML, buf, len, lim, d, err);
}

int kb_read_xml(const char *buf, size_t len, const struct kb_read_limits *lim,
                struct kb_doc *d, struct kb_error *err)
{
    return kb_read_document(KB_FMT_XML, buf, len, lim, d, err);
}

int kb_read_pdf(const char *buf, size_t len, const struct kb_read_limits *lim,
                struct kb_doc *d, struct kb_error *err)
{
    return kb_read_document(KB_FMT_PDF, buf, len, lim, d, err);
}

int kb_read_docx(const char *buf, size_t len, const struct kb_read_limits *lim,
                 struct kb_doc *d, struct kb_error *err)
{
    return kb_read_document(KB_FMT_DOCX, buf, len, lim, d, err);
}

int kb_read_odt(const char *buf, size_t len, const struct kb_read_limits *lim,
                struct kb_doc *d, struct kb_error *err)
{
    return kb_read_document(KB_FMT_ODT, buf, len, lim, d, err);
}

/* ---- text accumulator ---- */

void kb_text_init(struct kb_text *t, size_t max)
{
    kb_buf_init(&t->b, max);
    t->full = 0;
}

void kb_text_release(struct kb_text *t)
{
    if (t)
        kb_buf_release(&t->b);
}

int kb_text_add(struct kb_text *t, const char *s, size_t n)
{
    if (t->full || n == 0)
        return KB_OK;
    size_t room = t->b.max > t->b.len ? t->b.max - t->b.len : 0;
    if (n > room) {
        n = kb_utf8_cut(s, n, room);
        t->full = 1;
    }
    return n ? kb_buf_add(&t->b, s, n) : KB_OK;
}

int kb_text_adds(struct kb_text *t, const char *s)
{
    return s ? kb_text_add(t, s, strlen(s)) : KB_OK;
}

int kb_text_add_flat(struct kb_text *t, const char *s)
{
    while (s && *s && !t->full) {
        size_t n = strcspn(s, "\t\n\r\f\v");
        int rc = kb_text_add(t, s, n);
        if (rc)
            return rc;
        s += n;
        if (*s) {
            if ((rc = kb_text_add(t, " ", 1)))
                return rc;
            s++;
        }
    }
    return KB_OK;
}

int kb_text_newlines(struct kb_text *t, int n)
{
    if (t->b.len == 0)
        return KB_OK;
    int have = 0;
    for (size_t i = t->b.len; i > 0 && have < n && t->b.data[i - 1] == '\n'; i--)
        have++;
    for (; have < n; have++) {
        int rc = kb_text_add(t, "\n", 1);
        if (rc)
            return rc;
    }
    return KB_OK;
}

double kb_rd_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- fields ---- */

static int is_blank(const char *s)
{
    for (; s && *s; s++)
        if (!isspace((unsigned char)*s))
            return 0;
    return 1;
}

int kb_rd_set(char **dst, const char *s)
{
    if (*dst || !s || is_blank(s))
        return KB_OK;
    return kb_doc_set(dst, s, (size_t)-1);
}

void kb_rd_visibility(struct kb_doc *d, const char *s)
{
    if (s && !is_blank(s) && kb_visibility_parse(s, (size_t)-1) != KB_VIS_PUBLIC)
        d->visibility = KB_VIS_MEMBERS;
}

int kb_rd_add_split(struct kb_strlist *l, const char *s, const char *seps)
{
    int rc = KB_OK;
    char *item = NULL;
    while (s && *s) {
        size_t n = strcspn(s, seps);
        size_t a = 0, b = n;
        while (a < b && isspace((unsigned char)s[a]))
            a++;
        while (b > a && isspace((unsigned char)s[b - 1]))
            b--;
        if (b > a) {
            item = strndup(s + a, b - a);
            if (!item || kb_strlist_add(l, item)) {
                rc = KB_ENOMEM;
                goto out;
            }
            free(item);
            item = NULL;
        }
        s += n;
        if (*s)
            s++;
    }
out:
    free(item);
    return rc;
}

const char *kb_rd_lang(const char *s, char out[3])
{
    if (!s)
        return NULL;
    while (isspace((unsigned char)*s))
        s++;
    if (!isalpha((unsigned char)s[0]) || !isalpha((unsigned char)s[1]) ||
        isalpha((unsigned char)s[2]))
        return NULL;
    out[0] = (char)tolower((unsigned char)s[0]);
    out[1] = (char)tolower((unsigned char)s[1]);
    out[2] = '\0';
    if (strcmp(out, "fr") && strcmp(out, "it") && strcmp(out, "en"))
        return NULL;
    return out;
}

/* Collapses whitespace of valid UTF-8 text (no control characters but \t \n \r \f):
 * oneline turns every run into one space and trims; otherwise runs of spaces and tabs
 * become one space, lines are trimmed, blank lines collapse to one, '\f' is kept (page
 * breaks, unless !pages: then it ends a line) and text around it trimmed. Writes at most
 * max bytes. */
static int collapse(const char *s, size_t n, int oneline, int pages, size_t max,
                    struct kb_buf *out)
{
    size_t nl = 0;
    int sp = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == ' ' || c == '\t') {
            sp = 1;
            continue;
        }
        if (c == '\n' || c == '\r' || (c == '\f' && (oneline || !pages))) {
            if (oneline)
                sp = 1;
            else if (!(c == '\r' && i + 1 < n && s[i + 1] == '\n'))
                nl++;
            continue;
        }
        if (c == '\f') {
            if (out->len + 1 > max)
                break;
            int rc = kb_buf_addc(out, '\f');
            if (rc)
                return rc;
            nl = 0;
            sp = 0;
            continue;
        }
        /* a content byte: first emit the pending separator */
        if (out->len > 0 && out->data[out->len - 1] != '\f') {
            const char *sep = nl >= 2 ? "\n\n" : nl == 1 ? "\n" : sp ? " " : "";
            size_t k = strlen(sep);
            if (out->len + k + 1 > max)
                break;
            int rc = kb_buf_add(out, sep, k);
            if (rc)
                return rc;
        }
        nl = 0;
        sp = 0;
        /* copy the whole UTF-8 character at once so that a cut never splits one */
        size_t k = 1;
        if ((unsigned char)c >= 0xC0)
            while (i + k < n && ((unsigned char)s[i + k] & 0xC0) == 0x80)
                k++;
        if (out->len + k > max)
            break;
        int rc = kb_buf_add(out, s + i, k);
        if (rc)
            return rc;
        i += k - 1;
    }
    return KB_OK;
}

/* Replaces *p by its cleaned form (NULL when nothing is left). */
static int clean_field(char **p, int oneline, int pages, size_t max)
{
    struct kb_buf a, b;
    int rc = KB_OK;
    kb_buf_init(&a, (size_t)-1 / 2);
    kb_buf_init(&b, max);
    if (!*p)
        goto out;
    size_t n = strlen(*p);
    rc = kb_utf8_sanitize(*p, n, n * 3 + 3, &a);
    if (!rc)
        rc = collapse(kb_buf_str(&a), a.len, oneline, pages, max, &b);
    if (rc)
        goto out;
    free(*p);
    *p = NULL;
    if (b.len && !(*p = kb_buf_steal(&b)))
        rc = KB_ENOMEM;
out:
    kb_buf_release(&a);
    kb_buf_release(&b);
    return rc;
}

static int clean_list(struct kb_strlist *l)
{
    struct kb_strlist tmp = {NULL, 0};
    int rc = KB_OK;
    for (size_t i = 0; i < l->n; i++) {
        rc = clean_field(&l->v[i], 1, 0, KB_RD_MAX_ITEM);
        if (rc)
            goto out;
        if (l->v[i] && (rc = kb_strlist_add(&tmp, l->v[i])))
            goto out;
    }
    kb_strlist_clear(l);
    *l = tmp;
    tmp.v = NULL;
    tmp.n = 0;
out:
    kb_strlist_clear(&tmp);
    return rc;
}

int kb_rd_finish(struct kb_doc *d, const struct kb_read_limits *lim, const char *fmt,
                 struct kb_error *err)
{
    struct kb_read_limits tmp;
    lim = kb_rd_limits(lim, &tmp);
    int rc = kb_doc_set(&d->format, fmt, (size_t)-1);
    if (!rc)
        rc = clean_field(&d->title, 1, 0, KB_RD_MAX_FIELD);
    if (!rc)
        rc = clean_field(&d->abstract, 1, 0, KB_RD_MAX_ABSTRACT);
    if (!rc)
        rc = clean_field(&d->org, 1, 0, KB_RD_MAX_ITEM);
    if (!rc)
        rc = clean_field(&d->type, 1, 0, 64);
    if (!rc)
        rc = clean_field(&d->body, 0, strcmp(fmt, "pdf") == 0, lim->max_text);
    if (!rc)
        rc = clean_list(&d->topics);
    if (!rc)
        rc = clean_list(&d->authors);
    if (rc)
        goto out;
    char lang[3];
    const char *l = kb_rd_lang(d->lang, lang);
    rc = kb_doc_set(&d->lang, l, (size_t)-1);
    if (rc)
        goto out;
    if (d->date) {
        char date[11] = "";
        const char *s = d->date;
        while (isspace((unsigned char)*s))
            s++;
        if (strlen(s) >= 10) {
            memcpy(date, s, 10);
            date[10] = '\0';
        }
        rc = kb_doc_set(&d->date, kb_date_valid(date) ? date : NULL, (size_t)-1);
    }
out:
    if (rc)
        return kb_error_set(err, rc, "%s: out of memory", fmt);
    return KB_OK;
}

/* ---- PDFs through the kb-pdftext helper ---- */

#define PDFTEXT_NAME "kb-pdftext"

/* The helper's path into out[size]: $KB_PDFTEXT, else kb-pdftext in the directory of
 * this program (/proc/self/exe; the build tree), else in ../lib/powertrain-kb beside its
 * bin/ (an installed program: /usr/lib/powertrain-kb/kb-pdftext). Returns 0 or KB_EIO
 * with err filled. */
static int helper_path(char *out, size_t size, struct kb_error *err)
{
    const char *env = getenv("KB_PDFTEXT");
    if (env && *env) {
        if (strlen(env) >= size)
            return kb_error_set(err, KB_EIO, "pdf: KB_PDFTEXT is too long");
        memcpy(out, env, strlen(env) + 1);
        return KB_OK;
    }
    ssize_t n = readlink("/proc/self/exe", out, size - 1);
    if (n <= 0 || (size_t)n >= size - 1)
        return kb_error_set(err, KB_EIO, "pdf: cannot find the %s helper (%s)",
                            PDFTEXT_NAME, n < 0 ? strerror(errno) : "path too long");
    out[n] = '\0';
    char *slash = strrchr(out, '/');
    size_t dir = slash ? (size_t)(slash - out) + 1 : 0;
    if (dir + sizeof PDFTEXT_NAME > size)
        return kb_error_set(err, KB_EIO, "pdf: cannot find the %s helper (path too long)",
                            PDFTEXT_NAME);
    memcpy(out + dir, PDFTEXT_NAME, sizeof PDFTEXT_NAME);
    char lib[1024];
    if (access(out, X_OK) != 0 && kb_install_dir("lib/powertrain-kb", lib, sizeof lib)) {
        int w = snprintf(out, size, "%s/%s", lib, PDFTEXT_NAME);
        if (w < 0 || (size_t)w >= size)
            return kb_error_set(err, KB_EIO,
                                "pdf: cannot find the %s helper (path too long)",
                                PDFTEXT_NAME);
    }
    return KB_OK;
}

/* Kills the helper's process group (it may have children) and reaps the helper. */
static void helper_kill(pid_t pid)
{
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

/* Waits for pid to exit until the monotonic time `deadline`; fills *status. Returns 0, or
 * KB_ETIMEOUT when it was still running at the deadline (then it is killed and reaped).
 */
static int helper_wait(pid_t pid, double deadline, int *status)
{
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return KB_OK;
        if (r < 0 && errno != EINTR) {
            *status = 0;
            return KB_OK; /* not our child any more (SIGCHLD ignored): nothing to tell */
        }
        if (kb_rd_now() >= deadline) {
            helper_kill(pid);
            return KB_ETIMEOUT;
        }
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Feeds buf to the helper's stdin (fd `in`) and collects its stdout (fd `out`) into res,
 * both non-blocking, until it closes stdout or the deadline. Returns 0, KB_ETIMEOUT,
 * KB_ETOOBIG (output over res->max), KB_EIO or KB_ENOMEM; closes `in` when done with
 * it (*in = -1). SIGPIPE must be blocked: a helper that stops reading gives EPIPE. */
static int helper_io(int *in, int out, const char *buf, size_t len, double deadline,
                     struct kb_buf *res)
{
    size_t off = 0;
    char chunk[65536];
    if (len == 0) {
        close(*in);
        *in = -1;
    }
    for (;;) {
        double left = deadline - kb_rd_now();
        if (left <= 0)
            return KB_ETIMEOUT;
        struct pollfd p[2] = {{out, POLLIN, 0}, {*in, POLLOUT, 0}};
        int n = poll(p, *in >= 0 ? 2 : 1, left > 60 ? 60000 : (int)(left * 1000) + 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return KB_EIO;
        if (*in >= 0 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            size_t k = len - off < 65536 ? len - off : 65536;
            ssize_t w = write(*in, buf + off, k);
            if (w > 0)
                off += (size_t)w;
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || off == len) {
                close(*in); /* done, or the helper stopped reading (EPIPE) */
                *in = -1;
            }
        }
        if (p[0].revents & (POLLIN | POLLERR | POLLHUP)) {
            ssize_t r = read(out, chunk, sizeof chunk);
            if (r == 0)
                return KB_OK;
            if (r < 0 && errno != EAGAIN && errno != EINTR)
                return KB_EIO;
            if (r > 0 && (size_t)r > res->max - res->len)
                return KB_ETOOBIG;
            if (r > 0 && kb_buf_add(res, chunk, (size_t)r))
                return KB_ENOMEM;
        }
    }
}

/* Starts the helper with stdin and stdout on pipes, stderr on /dev/null, in its own
 * process group, default SIGPIPE and no blocked signal. Returns 0 with *pid, *in (its
 * stdin, non-blocking) and *out (its stdout, non-blocking), or KB_EIO with err filled. */
static int helper_start(const char *path, char *const argv[], pid_t *pid, int *in,
                        int *out, struct kb_error *err)
{
    int pin[2] = {-1, -1}, pout[2] = {-1, -1}, rc = KB_OK, e;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t sa;
    sigset_t none, sigpipe;
    sigemptyset(&none);
    sigemptyset(&sigpipe);
    sigaddset(&sigpipe, SIGPIPE);
    if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC)) {
        rc = kb_error_set(err, KB_EIO, "pdf: pipe: %s", strerror(errno));
        goto out;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&sa);
    posix_spawn_file_actions_adddup2(&fa, pin[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, pout[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&sa, 0);
    posix_spawnattr_setsigmask(&sa, &none);
    posix_spawnattr_setsigdefault(&sa, &sigpipe);
    e = posix_spawn(pid, path, &fa, &sa, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&sa);
    if (e) { /* the PDF is not at fault: KB_EBUSY, so the indexer tries it again */
        rc = kb_error_set(err, KB_EBUSY, "pdf: cannot run the helper '%s': %s", path,
                          strerror(e));
        goto out;
    }
    fcntl(pin[1], F_SETFL, O_NONBLOCK);
    fcntl(pout[0], F_SETFL, O_NONBLOCK);
    *in = pin[1];
    *out = pout[0];
    pin[1] = pout[0] = -1;
out:
    for (int i = 0; i < 2; i++) {
        if (pin[i] >= 0)
            close(pin[i]);
        if (pout[i] >= 0)
            close(pout[i]);
    }
    return rc;
}

/* Turns the helper's JSON (exit status 0: a document; 1: {"error", "code"}) into d or
 * err. Returns 0 or a negative KB_E*. */
static int helper_result(const struct kb_buf *res, int code, struct kb_doc *d,
                         struct kb_error *err)
{
    json_error_t jerr;
    struct kb_error e;
    json_t *o = res->len ? json_loadb(res->data, res->len, 0, &jerr) : NULL;
    int rc = KB_OK;
    if (!json_is_object(o)) {
        rc = kb_error_set(err, KB_EPARSE, "pdf: extractor failed (exit status %d%s)",
                          code, code == 0 ? ", no document" : "");
        goto out;
    }
    if (code != 0) {
        const char *msg = json_string_value(json_object_get(o, "error"));
        json_int_t c = json_integer_value(json_object_get(o, "code"));
        rc = kb_error_set(err, c < 0 && c >= KB_ENOSPC ? (int)c : KB_EPARSE, "%s",
                          msg ? msg : "pdf: extractor failed");
        goto out;
    }
    /* the body may be longer than the API's limit on "body": take it apart */
    const json_t *body = json_object_get(o, "body");
    if (json_is_string(body) &&
        kb_doc_set(&d->body, json_string_value(body), json_string_length(body))) {
        rc = kb_error_set(err, KB_ENOMEM, "pdf: out of memory");
        goto out;
    }
    json_object_del(o, "body");
    kb_error_clear(&e);
    rc = kb_doc_from_json(d, o, 1, &e);
    if (rc)
        kb_error_set(err, rc, "pdf: extractor output: %s", e.msg);
out:
    json_decref(o);
    return rc;
}

/* A PDF's reader through kb-pdftext: feeds it buf and reads its JSON (capped at twice
 * max_text plus 1 MiB) into d. The helper is
 * killed (with its process group) at lim->max_seconds: "pdf: extraction timed out after
 * N s"; a helper killed by a signal is "pdf: extractor crashed (signal N)". Returns 0 or
 * a negative KB_E* with err filled; d may hold partial fields on failure (the caller
 * releases it). Safe to call from several threads at once. */
static int pdf_helper(const char *buf, size_t len, const struct kb_read_limits *lim,
                      struct kb_doc *d, struct kb_error *err)
{
    char path[PATH_MAX], a_file[48], a_text[48], a_secs[48];
    struct kb_buf res;
    sigset_t sigpipe, old;
    pid_t pid;
    int in = -1, out = -1, status = 0, rc, io_errno = 0;
    double t0 = kb_rd_now(), deadline = t0 + lim->max_seconds;
    /* JSON escapes at most double the text (\n, \f, quotes); metadata is small */
    kb_buf_init(&res, lim->max_text * 2 + (1u << 20));
    sigemptyset(&sigpipe);
    sigaddset(&sigpipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &sigpipe, &old);
    rc = helper_path(path, sizeof path, err);
    if (rc)
        goto out;
    /* the helper stops its pages early at 80 % of the budget, keeping what it has; the
     * kill at 100 % is for a page that never ends */
    snprintf(a_file, sizeof a_file, "--max-file=%zu", lim->max_file);
    snprintf(a_text, sizeof a_text, "--max-text=%zu", lim->max_text);
    snprintf(a_secs, sizeof a_secs, "--max-seconds=%.3f", lim->max_seconds * 0.8);
    char *argv[] = {path, a_file, a_text, a_secs, NULL};
    rc = helper_start(path, argv, &pid, &in, &out, err);
    if (rc)
        goto out;
    rc = helper_io(&in, out, buf, len, deadline, &res);
    io_errno = errno;
    if (!rc)
        rc = helper_wait(pid, deadline, &status);
    else
        helper_kill(pid);
    if (rc == KB_ETIMEOUT) {
        rc = kb_error_set(err, KB_ETIMEOUT, "pdf: extraction timed out after %g s",
                          lim->max_seconds);
    } else if (rc == KB_ETOOBIG) {
        rc = kb_error_set(err, KB_ETOOBIG, "pdf: extractor output over %zu bytes",
                          res.max);
    } else if (rc) {
        rc = kb_error_set(err, rc, "pdf: reading the extractor's output: %s",
                          rc == KB_ENOMEM ? "out of memory" : strerror(io_errno));
    } else if (WIFSIGNALED(status)) {
        rc = kb_error_set(err, KB_EPARSE, "pdf: extractor crashed (signal %d)",
                          WTERMSIG(status));
    } else {
        rc = helper_result(&res, WIFEXITED(status) ? WEXITSTATUS(status) : -1, d, err);
    }
out:
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    /* a write to a helper that died left SIGPIPE pending on this thread: consume it */
    sigset_t pending;
    struct timespec zero = {0, 0};
    if (!sigismember(&old, SIGPIPE) && sigpending(&pending) == 0 &&
        sigismember(&pending, SIGPIPE))
        sigtimedwait(&sigpipe, NULL, &zero);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    kb_buf_release(&res);
    return rc;
}
