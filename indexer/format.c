/* SPDX-License-Identifier: MIT */
/*
 * format.c - which reader a file goes to. The extension proposes and a cheap look at the
 * first bytes confirms: a PDF starts with "%PDF-", an office file with a zip header
 * ("PK\3\4"), and a text format (txt, md, html, xml, jsonl) holds text (a byte check, no
 * binary signature). libmagic, whose rules cost 2 to 6 ms a file (16 % of indexing time
 * in bench/README.md), rules only on what disagrees with its extension, and the error
 * names the type it found. The libmagic cookie is not
 * thread-safe and loading its database costs a few milliseconds, so each thread opens one
 * lazily and keeps it (a pthread key closes it when the thread exits). When libmagic is
 * unusable the extension alone decides.
 */
#include "reader_priv.h"

#include <magic.h>
#include <pthread.h>
#include <string.h>

static pthread_key_t magic_key;
static pthread_once_t magic_once = PTHREAD_ONCE_INIT;
static int magic_key_ok;

static void magic_destroy(void *p)
{
    magic_close(p);
}

static void magic_key_init(void)
{
    magic_key_ok = pthread_key_create(&magic_key, magic_destroy) == 0;
}

static magic_t thread_magic(void)
{
    pthread_once(&magic_once, magic_key_init);
    if (!magic_key_ok)
        return NULL;
    magic_t m = pthread_getspecific(magic_key);
    if (m)
        return m;
    m = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_ELF);
    if (!m)
        return NULL;
    size_t bytes = 256 * 1024; /* enough for every signature we check, and bounded */
    if (magic_load(m, NULL) != 0 ||
        magic_setparam(m, MAGIC_PARAM_BYTES_MAX, &bytes) != 0 ||
        pthread_setspecific(magic_key, m) != 0) {
        magic_close(m);
        return NULL;
    }
    return m;
}

static int prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* Content that a text format may hold. */
static int textual(const char *mime)
{
    return prefix(mime, "text/") || strstr(mime, "xml") || strstr(mime, "json") ||
           strcmp(mime, "application/x-empty") == 0 ||
           strcmp(mime, "inode/x-empty") == 0 ||
           strcmp(mime, "application/javascript") == 0 ||
           strcmp(mime, "application/x-wine-extension-ini") == 0;
}

/* libmagic calls text with a few stray control bytes "application/octet-stream": look at
 * the first 64 KiB ourselves. Text has few control bytes and little invalid UTF-8 (a
 * legacy 8-bit charset has some; random bytes have plenty of both). */
static int looks_text(const char *buf, size_t len)
{
    const unsigned char *p = (const unsigned char *)buf;
    size_t n = len < 65536 ? len : 65536, ctl = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f')
            ctl++;
        else if (c >= 0x80) {
            size_t k = c >= 0xC2 && c <= 0xDF   ? 2
                       : c >= 0xE0 && c <= 0xEF ? 3
                       : c >= 0xF0 && c <= 0xF4 ? 4
                                                : 0;
            size_t j = 1;
            while (k && j < k && i + j < n && (p[i + j] & 0xC0) == 0x80)
                j++;
            if (k && j == k)
                i += k - 1;
            else
                bad++;
        }
    }
    return n > 0 && ctl * 20 <= n && bad * 10 <= n;
}

static int agrees(enum kb_format f, const char *mime, const char *buf, size_t len)
{
    switch (f) {
    case KB_FMT_PDF:
        return strcmp(mime, "application/pdf") == 0;
    case KB_FMT_DOCX:
    case KB_FMT_ODT:
        return strcmp(mime, "application/zip") == 0 ||
               prefix(mime, "application/vnd.openxmlformats-officedocument.") ||
               prefix(mime, "application/vnd.oasis.opendocument.") ||
               strcmp(mime, "application/msword") == 0;
    default:
        return textual(mime) ||
               (strcmp(mime, "application/octet-stream") == 0 && looks_text(buf, len));
    }
}

/* Signatures of binary formats that may look like text to looks_text(). */
static int binary_signature(const char *buf, size_t len)
{
    static const struct {
        const char *sig;
        size_t n;
    } sigs[] = {
        {"%PDF-", 5},
        {"PK\x03\x04", 4},
        {"\x89PNG", 4},
        {"GIF8", 4},
        {"\xFF\xD8\xFF", 3},
        {"\x1F\x8B", 2},
        {"BZh", 3},
        {"\xFD"
         "7zXZ",
         5},
        {"7z\xBC\xAF", 4},
        {"\x7F"
         "ELF",
         4},
        {"\xD0\xCF\x11\xE0", 4},
        {"Rar!", 4},
        {"%!PS", 4},
        {"{\\rtf", 5},
    };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (len >= sigs[i].n && memcmp(buf, sigs[i].sig, sigs[i].n) == 0)
            return 1;
    return 0;
}

/* The first bytes are what the extension's format f starts with: "%PDF-" for a PDF,
 * a zip local header for docx and odt (the readers check the members), text that passes
 * looks_text() without a binary signature for the text formats. */
static int agrees_cheaply(enum kb_format f, const char *buf, size_t len)
{
    switch (f) {
    case KB_FMT_PDF:
        return len >= 5 && memcmp(buf, "%PDF-", 5) == 0;
    case KB_FMT_DOCX:
    case KB_FMT_ODT:
        return len >= 4 && memcmp(buf, "PK\x03\x04", 4) == 0;
    default:
        return len > 0 && !binary_signature(buf, len) && looks_text(buf, len);
    }
}

enum kb_format kb_format_detect(const char *name, const char *buf, size_t len,
                                struct kb_error *err)
{
    enum kb_format f = kb_format_from_name(name);
    if (f == KB_FMT_UNKNOWN) {
        if (err && err->code == KB_OK) {
            kb_error_set(err, KB_EUNSUPPORTED, "unknown extension in '%s'",
                         name ? name : "");
            kb_utf8_fix_msg(err->msg);
        }
        return KB_FMT_UNKNOWN;
    }
    /* the signature the extension promises is enough; libmagic rules on the rest (and
     * names what it is) */
    if (agrees_cheaply(f, buf, len))
        return f;
    magic_t m = thread_magic();
    const char *mime = m ? magic_buffer(m, buf, len) : NULL;
    if (!mime)
        return f; /* no libmagic: trust the extension */
    if (!agrees(f, mime, buf, len)) {
        kb_error_set(err, KB_EUNSUPPORTED, "content is %s, not %s", mime,
                     kb_format_name(f));
        return KB_FMT_UNKNOWN;
    }
    return f;
}
