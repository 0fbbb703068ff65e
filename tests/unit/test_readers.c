/* SPDX-License-Identifier: MIT */
/*
 * test_readers.c - the document readers over the samples of tests/data/formats (see its
 * README.md for what each must yield) and the hand-made cases of tests/data/readers:
 * metadata, distinctive body words, words that must be dropped (nav, script, style,
 * footer), PDF pages, hostile files (schema-invalid and malformed XML, truncated PDF, zip
 * bomb, binary named .html, empty file), encodings, JSON Lines, limits, and every sample
 * cut at many points and fed to every reader (must fail or succeed, never crash). The
 * data directory comes from $KB_TEST_DATA (ctest sets it to tests/data).
 */
#include "../clean_text.h"
#include "check.h"
#include "reader.h"
#include "reader_priv.h" /* kb_utf8_fix_msg */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *data_dir(void)
{
    const char *d = getenv("KB_TEST_DATA");
    return d && *d ? d : "tests/data";
}

/* Reads data_dir()/sub/name; NULL (and a failed check) when missing. */
static char *load(const char *sub, const char *name, size_t *len)
{
    char path[4096];
    char *buf = NULL;
    FILE *f = NULL;
    *len = 0;
    snprintf(path, sizeof path, "%s/%s/%s", data_dir(), sub, name);
    f = fopen(path, "rb");
    if (!f)
        goto out;
    if (fseek(f, 0, SEEK_END) != 0)
        goto out;
    long n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto out;
    buf = malloc((size_t)n + 1);
    if (!buf)
        goto out;
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
        goto out;
    }
    buf[n] = '\0';
    *len = (size_t)n;
out:
    if (f)
        fclose(f);
    if (!buf)
        fprintf(stderr, "cannot read %s\n", path);
    CHECK(buf != NULL);
    return buf;
}

/* Every string of d is valid UTF-8 without control characters. */
static void check_clean(const struct kb_doc *d)
{
    const char *f[] = {d->title, d->abstract, d->body, d->lang, d->date, d->org, d->type};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        CHECK(kb_test_clean_text(f[i]));
    for (size_t i = 0; i < d->topics.n; i++)
        CHECK(kb_test_clean_text(d->topics.v[i]));
    for (size_t i = 0; i < d->authors.n; i++)
        CHECK(kb_test_clean_text(d->authors.v[i]));
}

static void check_absent(const char *s, const char *word)
{
    CHECK(s == NULL || strstr(s, word) == NULL);
    if (s && strstr(s, word))
        fprintf(stderr, "  found '%s' that must not be there\n", word);
}

/* Reads sub/name with reader f into d (released and initialised first). */
static int read_sample(const char *sub, const char *name, enum kb_format f,
                       const struct kb_read_limits *lim, struct kb_doc *d,
                       struct kb_error *err)
{
    size_t len;
    char *buf = load(sub, name, &len);
    kb_doc_release(d);
    kb_error_clear(err);
    int rc = buf ? kb_read_document(f, buf, len, lim, d, err) : KB_ENOTFOUND;
    free(buf);
    if (rc == KB_OK)
        check_clean(d);
    return rc;
}

static void expect_meta(const struct kb_doc *d, const char *title, const char *lang,
                        const char *date, const char *org, const char *type,
                        const char *topic1, const char *topic2)
{
    CHECK_STR(d->title, title);
    CHECK_STR(d->lang, lang);
    CHECK_STR(d->date, date);
    CHECK_STR(d->org, org);
    CHECK_STR(d->type, type);
    CHECK_INT(d->topics.n, 2);
    CHECK(kb_strlist_has(&d->topics, topic1));
    CHECK(kb_strlist_has(&d->topics, topic2));
}

static void test_names(void)
{
    CHECK_INT(kb_format_from_name("a/b/report.HTM"), KB_FMT_HTML);
    CHECK_INT(kb_format_from_name("x.xhtml"), KB_FMT_HTML);
    CHECK_INT(kb_format_from_name("notes.text"), KB_FMT_TEXT);
    CHECK_INT(kb_format_from_name("notes.txt"), KB_FMT_TEXT);
    CHECK_INT(kb_format_from_name("b.markdown"), KB_FMT_MARKDOWN);
    CHECK_INT(kb_format_from_name("b.md"), KB_FMT_MARKDOWN);
    CHECK_INT(kb_format_from_name("r.xml"), KB_FMT_XML);
    CHECK_INT(kb_format_from_name("r.pdf"), KB_FMT_PDF);
    CHECK_INT(kb_format_from_name("r.docx"), KB_FMT_DOCX);
    CHECK_INT(kb_format_from_name("r.odt"), KB_FMT_ODT);
    CHECK_INT(kb_format_from_name("d.jsonl"), KB_FMT_JSONL);
    CHECK_INT(kb_format_from_name("d.json"), KB_FMT_UNKNOWN);
    CHECK_INT(kb_format_from_name("dir.md/README"), KB_FMT_UNKNOWN);
    CHECK_INT(kb_format_from_name("dir/.md"), KB_FMT_UNKNOWN);
    CHECK_INT(kb_format_from_name(NULL), KB_FMT_UNKNOWN);
    CHECK_STR(kb_format_name(KB_FMT_HTML), "html");
    CHECK_STR(kb_format_name(KB_FMT_PDF), "pdf");
    CHECK_STR(kb_format_name(KB_FMT_JSONL), "jsonl");
    CHECK_STR(kb_format_name(KB_FMT_UNKNOWN), "unknown");

    struct kb_read_limits l;
    kb_read_limits_default(&l);
    CHECK_INT(l.max_file, 64u * 1024 * 1024);
    CHECK_INT(l.max_text, 8u * 1024 * 1024);
    CHECK_INT(l.max_unzipped, 64u * 1024 * 1024);
    CHECK(l.max_seconds == 30.0);
}

static void test_detect(void)
{
    static const struct {
        const char *name;
        enum kb_format f;
    } cases[] = {
        {"report-fr.html", KB_FMT_HTML},    {"report-it.xml", KB_FMT_XML},
        {"brief-en.md", KB_FMT_MARKDOWN},   {"notes.txt", KB_FMT_TEXT},
        {"brief-fr.pdf", KB_FMT_PDF},       {"brief-it.docx", KB_FMT_DOCX},
        {"brief-en.odt", KB_FMT_ODT},       {"docs.jsonl", KB_FMT_JSONL},
        {"utf16le-bom.txt", KB_FMT_TEXT},   {"utf16be-bom.txt", KB_FMT_TEXT},
        {"latin1.txt", KB_FMT_TEXT},        {"cp1252.txt", KB_FMT_TEXT},
        {"control-chars.txt", KB_FMT_TEXT}, {"empty.md", KB_FMT_MARKDOWN},
        {"deep.html", KB_FMT_HTML},         {"zipbomb.docx", KB_FMT_DOCX},
        {"binary.html", KB_FMT_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len;
        struct kb_error err;
        kb_error_clear(&err);
        char *buf = load("formats", cases[i].name, &len);
        enum kb_format f = kb_format_detect(cases[i].name, buf, len, &err);
        if (f != cases[i].f)
            fprintf(stderr, "  %s: %s (%s)\n", cases[i].name, kb_format_name(f), err.msg);
        CHECK_INT(f, cases[i].f);
        free(buf);
    }
    struct kb_error err;
    size_t len;
    kb_error_clear(&err);
    char *buf = load("formats", "binary.html", &len);
    CHECK_INT(kb_format_detect("binary.html", buf, len, &err), KB_FMT_UNKNOWN);
    CHECK_STR(err.msg, "content is application/octet-stream, not html");
    free(buf);
    /* a PDF named .txt, a text named .pdf, an unknown extension */
    kb_error_clear(&err);
    buf = load("formats", "brief-fr.pdf", &len);
    CHECK_INT(kb_format_detect("x.txt", buf, len, &err), KB_FMT_UNKNOWN);
    CHECK_HAS(err.msg, "application/pdf, not txt");
    free(buf);
    kb_error_clear(&err);
    CHECK_INT(kb_format_detect("x.pdf", "hello world\n", 12, &err), KB_FMT_UNKNOWN);
    CHECK_HAS(err.msg, "not pdf");
    kb_error_clear(&err);
    CHECK_INT(kb_format_detect("x.exe", "MZ", 2, &err), KB_FMT_UNKNOWN);
    CHECK_HAS(err.msg, "x.exe");
    /* error messages stay valid UTF-8 whatever the file name */
    kb_error_clear(&err);
    CHECK_INT(kb_format_detect("caf\xE9\x01.exe", "MZ", 2, &err), KB_FMT_UNKNOWN);
    CHECK_STR(err.msg, "unknown extension in 'caf??.exe'");
    char msg[] = "x \xC3\xA9 \xC2\x85 \xE2\x82";
    kb_utf8_fix_msg(msg);
    CHECK_STR(msg, "x é ?? ");
}

static void test_html(void)
{
    struct kb_doc d;
    struct kb_error err;
    kb_doc_init(&d);
    CHECK_INT(read_sample("formats", "report-fr.html", KB_FMT_HTML, NULL, &d, &err), 0);
    expect_meta(&d, "Refroidissement des onduleurs SiC : retour d’essais", "fr",
                "2024-02-14", "Pôle Mobilité Alpes-Rhône", "report", "power-electronics",
                "electric-motors");
    CHECK_STR(d.format, "html");
    CHECK_INT(d.authors.n, 2);
    CHECK(kb_strlist_has(&d.authors, "Camille Roux"));
    CHECK(kb_strlist_has(&d.authors, "Antoine Lefèvre"));
    CHECK_HAS(d.abstract, "trois solutions de refroidissement");
    CHECK_HAS(d.body, "dissipateurzzz");
    CHECK_HAS(d.body, "onduleurs");
    CHECK_HAS(d.body,
              "carbure de silicium des architectures 800 V commutent"); /* joined */
    const char *gone[] = {"navzzz",  "scriptzzz", "stylezzz",
                          "footzzz", "Accueil",   "font-family"};
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++) {
        check_absent(d.body, gone[i]);
        check_absent(d.title, gone[i]);
    }
    CHECK(d.id == NULL && d.source == NULL);

    CHECK_INT(read_sample("formats", "deep.html", KB_FMT_HTML, NULL, &d, &err), 0);
    CHECK_STR(d.title, "Page imbriquée à l’extrême");
    CHECK_STR(d.lang, "fr");
    CHECK_HAS(d.body, "surfacezzz");

    CHECK_INT(read_sample("readers", "latin1.html", KB_FMT_HTML, NULL, &d, &err), 0);
    CHECK_STR(d.title, "Café de la gare");
    CHECK_HAS(d.body, "Résumé latinhtmlzzz");

    /* the binary file read as HTML anyway: no crash, valid UTF-8 */
    int rc = read_sample("formats", "binary.html", KB_FMT_HTML, NULL, &d, &err);
    CHECK(rc == 0 || rc == KB_EPARSE);
    kb_doc_release(&d);
}

static void test_xml(void)
{
    struct kb_doc d;
    struct kb_error err;
    kb_doc_init(&d);
    CHECK_INT(read_sample("formats", "report-it.xml", KB_FMT_XML, NULL, &d, &err), 0);
    expect_meta(&d, "Valvole e sensori per serbatoi di idrogeno a 700 bar", "it",
                "2025-01-20", "Consorzio Idrogeno Emilia", "report", "hydrogen",
                "fuel-cells");
    CHECK_STR(d.format, "xml");
    CHECK(kb_strlist_has(&d.authors, "Francesca Rinaldi"));
    CHECK(kb_strlist_has(&d.authors, "Paolo Conti"));
    CHECK(d.abstract != NULL);
    CHECK_HAS(d.body, "valvolazzz");
    CHECK_HAS(d.body, "serbatoi");
    CHECK_HAS(d.body, "Contesto\n\n"); /* heading, then its paragraphs */
    CHECK(d.id == NULL);               /* the id attribute is not the doc id */
    check_absent(d.body, "it-valvole-h2-2025");

    CHECK_INT(read_sample("formats", "invalid-report.xml", KB_FMT_XML, NULL, &d, &err),
              KB_EPARSE);
    CHECK_HAS(err.msg, "xml: line 9: Element 'topic': [facet 'enumeration']");
    CHECK_HAS(err.msg, "teleportation");
    check_absent(d.body, "schemafailzzz");

    CHECK_INT(read_sample("formats", "malformed.xml", KB_FMT_XML, NULL, &d, &err),
              KB_EPARSE);
    CHECK_HAS(err.msg, "xml: line ");
    check_absent(d.body, "malformezzz");

    /* external entities never loaded, internal ones never expanded */
    int rc = read_sample("readers", "xxe.xml", KB_FMT_XML, NULL, &d, &err);
    CHECK(rc == 0 || rc == KB_EPARSE);
    check_absent(d.body, "root:");
    rc = read_sample("readers", "entities.xml", KB_FMT_XML, NULL, &d, &err);
    CHECK(rc == 0 || rc == KB_EPARSE);
    check_absent(d.body, "lollol");

    kb_error_clear(&err);
    CHECK_INT(kb_read_xml("", 0, NULL, &d, &err), KB_EPARSE);
    CHECK_HAS(err.msg, "xml: ");
    kb_doc_release(&d);
}

static void test_markdown(void)
{
    struct kb_doc d;
    struct kb_error err;
    kb_doc_init(&d);
    CHECK_INT(read_sample("formats", "brief-en.md", KB_FMT_MARKDOWN, NULL, &d, &err), 0);
    expect_meta(&d, "Thermal runaway propagation testing under UN R100", "en",
                "2025-04-03", "EuroPowertrain Joint Office", "brief", "batteries",
                "regulation");
    CHECK_STR(d.format, "md");
    CHECK(d.translation_of == NULL);
    CHECK(kb_strlist_has(&d.authors, "Emma Clarke"));
    CHECK(kb_strlist_has(&d.authors, "Matteo Galli"));
    CHECK_HAS(d.body, "propagationzzz");
    CHECK_HAS(d.body, "aerogel");
    CHECK_HAS(d.body, "How the test is run\n");
    check_absent(d.body, "organisation:");
    check_absent(d.body, "---");
    check_absent(d.body, "##");

    CHECK_INT(read_sample("readers", "table.md", KB_FMT_MARKDOWN, NULL, &d, &err), 0);
    CHECK_STR(d.title, "Tableau de synthèse des essais");
    CHECK_STR(d.lang, "fr");
    CHECK_STR(d.date, "2023-05-04");
    CHECK_STR(d.org, "Atelier Hydrogène Lyon");
    CHECK_STR(d.abstract, "Résumé des essais de l'atelier.");
    CHECK_STR(d.translation_of, "essais-atelier-2023");
    CHECK(kb_strlist_has(&d.topics, "hydrogen") &&
          kb_strlist_has(&d.topics, "combustion"));
    CHECK(kb_strlist_has(&d.authors, "Noé Girard") &&
          kb_strlist_has(&d.authors, "Lucie Perrin"));
    CHECK_HAS(d.body,
              "Un paragraphe avec emphase, code en ligne et un lien qui continue");
    CHECK_HAS(d.body, "tablecellzzz 120 kW");
    check_absent(d.body, "|");
    check_absent(d.body, "---");
    CHECK_HAS(d.body, "listitemzzz");
    CHECK_HAS(d.body, "codeblockzzz = 1");
    CHECK_HAS(d.body, "quotezzz");
    check_absent(d.body, "rawhtmlzzz");
    check_absent(d.body, "http://example.org");

    CHECK_INT(read_sample("readers", "heading.md", KB_FMT_MARKDOWN, NULL, &d, &err), 0);
    CHECK_STR(d.title, "Titre de secours");
    CHECK_HAS(d.body, "fallbackzzz");

    CHECK_INT(read_sample("readers", "bad-yaml.md", KB_FMT_MARKDOWN, NULL, &d, &err),
              KB_EPARSE);
    CHECK_HAS(err.msg, "md: front matter: line ");

    CHECK_INT(read_sample("formats", "empty.md", KB_FMT_MARKDOWN, NULL, &d, &err),
              KB_EPARSE);
    CHECK_STR(err.msg, "md: empty document");
    kb_doc_release(&d);
}

static void expect_text(const char *name, const char *title, const char *w1,
                        const char *w2)
{
    struct kb_doc d;
    struct kb_error err;
    kb_doc_init(&d);
    CHECK_INT(read_sample("formats", name, KB_FMT_TEXT, NULL, &d, &err), 0);
    CHECK_STR(d.title, title);
    CHECK_STR(d.format, "txt");
    CHECK_HAS(d.body, w1);
    CHECK_HAS(d.body, w2);
    CHECK(d.lang == NULL && d.date == NULL && d.org == NULL && d.topics.n == 0);
    check_absent(d.body, "\r");
    check_absent(d.body, title); /* the title line is not repeated in the body */
    kb_doc_release(&d);
}

static void test_text(void)
{
    expect_text("notes.txt", "Notes de réunion : banc moteur hydrogène", "bancmoteurzzz",
                "lubrifiant");
    expect_text("utf16le-bom.txt",
                "Compresseurs d’air électriques pour piles à combustible", "éjecteurzzz",
                "électrique");
    expect_text("utf16be-bom.txt",
                "Iniezione diretta di idrogeno nei motori a combustione", "velocitàzzz",
                "iniettore");
    expect_text("latin1.txt", "Distribution variable et carburants de synthèse",
                "légèretézzz", "déphaseur");
    expect_text("cp1252.txt", "Coût des e-carburants : où en est-on ?", "cœurzzz",
                "électrolyse");
    expect_text("cp1252.txt", "Coût des e-carburants : où en est-on ?", "7 €",
                "« sous 2 € »");
    expect_text("invalid-utf8.txt", "Fiabilité des connecteurs haute tension", "octetzzz",
                "connecteurs");
    expect_text("invalid-utf8.txt", "Fiabilité des connecteurs haute tension",
                "résistance", "\xEF\xBF\xBD"); /* U+FFFD */
    expect_text("control-chars.txt", "Sensor log export with control characters",
                "nulzzz", "insulation");
    expect_text("control-chars.txt", "Sensor log export with control characters",
                "bell belzzz", "bytes: nulzzz between");

    struct kb_doc d;
    struct kb_error err;
    kb_doc_init(&d);
    kb_error_clear(&err);
    const char *t = "\n\n  Title  line \r\n\r\nbody\fpage  two\n";
    CHECK_INT(kb_read_text(t, strlen(t), NULL, &d, &err), 0);
    CHECK_STR(d.title, "Title line");
    CHECK_STR(d.body, "body\npage two");
    kb_doc_release(&d);
}

/* A .txt brief's date line: want_date "" when none is expected; want_title checks that
 * the date line left the text. */
static void expect_text_date(const char *text, const char *want_date,
                             const char *want_title, const char *body_lacks)
{
    struct kb_doc d;
    struct kb_error err;
    kb_doc_init(&d);
    kb_error_clear(&err);
    CHECK_INT(kb_read_text(text, strlen(text), NULL, &d, &err), 0);
    if (*want_date) {
        CHECK_STR(d.date, want_date);
        CHECK_STR(d.date_source, KB_DATE_TEXT);
    } else {
        CHECK(d.date == NULL);
        CHECK(d.date_source == NULL);
    }
    CHECK_STR(d.title, want_title);
    if (body_lacks)
        CHECK(d.body && !strstr(d.body, body_lacks));
    kb_doc_release(&d);
}

static void test_text_dates(void)
{
    expect_text_date("Titre\nDate : 12 mars 2025\n\nCorps.", "2025-03-12", "Titre",
                     "mars");
    expect_text_date("Titolo\nData: 3 aprile 2024\n\nTesto.", "2024-04-03", "Titolo",
                     "aprile");
    expect_text_date("Title\n\nDate: 2024-05-01\n\nBody.", "2024-05-01", "Title", "Date");
    expect_text_date("Title\nMay 1, 2024\nBody.", "2024-05-01", "Title", "May");
    expect_text_date("1st May 2024\nTitle\nBody.", "2024-05-01", "Title", "May");
    expect_text_date("Titre\nPublié le 1er décembre 2023.\nCorps.", "2023-12-01", "Titre",
                     "Publié");
    expect_text_date("Titre\nDATE: 7 Février 2022\nCorps.", "2022-02-07", "Titre", NULL);
    expect_text_date("Title\nPublished: 9 Sept. 2021\nBody.", "2021-09-09", "Title",
                     NULL);
    /* not date lines: a date inside a sentence, a label that is a longer word, an
     * impossible date, a date too far down */
    expect_text_date("Title\nThe rule applies from 1 May 2024 to all new cars.\n", "",
                     "Title", NULL);
    expect_text_date("Title\nDatabase: 2024-05-01\n", "", "Title", NULL);
    expect_text_date("Title\nDate: 31 février 2024\n", "", "Title", NULL);
    expect_text_date("Title\nDate: 2024-13-01\n", "", "Title", NULL);
    expect_text_date("T\na\nb\nc\nd\ne\nf\nDate: 2024-05-01\n", "", "T", NULL);
    expect_text_date("Title\nMarch 2024\n", "", "Title", NULL);
}

static void expect_utf8(const char *in, size_t n, size_t max, const char *want)
{
    char *out = NULL;
    size_t len = 0;
    struct kb_error err;
    kb_error_clear(&err);
    CHECK_INT(kb_to_utf8(in, n, max, &out, &len, &err), 0);
    CHECK_STR(out, want);
    CHECK_INT(len, out ? strlen(out) : 0);
    free(out);
}

static void test_encoding(void)
{
    expect_utf8("caf\xC3\xA9", 5, 100, "café"); /* UTF-8 stays */
    expect_utf8("\xEF\xBB\xBF"
                "abc",
                6, 100, "abc"); /* UTF-8 BOM */
    expect_utf8("\xFF\xFE"
                "c\0a\0f\0\xE9\0",
                10, 100, "café");                                     /* UTF-16 LE */
    expect_utf8("\xFE\xFF\0c\0a\0f\0\xE9\x01\x53", 12, 100, "caféœ"); /* UTF-16 BE */
    expect_utf8("a\0b\x07"
                "c\x1B[0md",
                10, 100, "a b c [0md"); /* controls */
    expect_utf8("\xEF\xBB\xBF"
                "a\xFF"
                "b",
                6, 100,
                "a\xEF\xBF\xBD"
                "b");                             /* invalid after a UTF-8 BOM */
    expect_utf8("\xC3\xA9t\xC3\xA9", 6, 4, "ét"); /* cap at a boundary */
    expect_utf8("", 0, 100, "");
    /* legacy 8-bit: a French sentence in Latin-1, then in Windows-1252 */
    const char *l1 = "Le d\xE9phaseur \xE9lectrique a \xE9t\xE9 test\xE9 \xE0 froid, "
                     "la l\xE9g\xE8ret\xE9 du syst\xE8me est tenue.";
    expect_utf8(l1, strlen(l1), 1000,
                "Le déphaseur électrique a été testé à froid, la légèreté du système est "
                "tenue.");
    const char *w = "Le c\x9Cur du co\xFBt : 4 \x80 le litre, l\x92\x9Cuvre est "
                    "\xAB longue \xBB et co\xFBteuse pour l\x92\xE9lectrolyse.";
    expect_utf8(w, strlen(w), 1000,
                "Le cœur du coût : 4 € le litre, l’œuvre est « longue » et coûteuse pour "
                "l’électrolyse.");
}

static void test_pdf(void)
{
    struct kb_doc d;
    struct kb_error err;
    kb_doc_init(&d);
    CHECK_INT(read_sample("formats", "brief-fr.pdf", KB_FMT_PDF, NULL, &d, &err), 0);
    expect_meta(&d, "Freinage récupératif sur les véhicules utilitaires légers", "fr",
                "2023-06-20", "Laboratoire GMP Savoie", "brief", "electric-motors",
                "control-systems");
    CHECK_STR(d.format, "pdf");
    CHECK(kb_strlist_has(&d.authors, "Hélène Morel"));
    CHECK(kb_strlist_has(&d.authors, "Julien Carrel"));
    CHECK_INT(d.pages, 3);
    CHECK_HAS(d.body, "cœur");
    /* page N is the text after the (N-1)th form feed */
    const char *words[] = {"pageunzzz", "pagedeuxzzz", "pagetroiszzz"};
    const char *p = d.body ? d.body : "";
    for (int page = 0; page < 3; page++) {
        const char *end = strchr(p, '\f');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        for (int w = 0; w < 3; w++) {
            char *hit = strstr(p, words[w]);
            int on_page = hit && (size_t)(hit - p) < n;
            CHECK_INT(on_page, w == page);
        }
        CHECK(end != NULL || page == 2);
        p = end ? end + 1 : p + n;
    }

    int rc = read_sample("formats", "truncated.pdf", KB_FMT_PDF, NULL, &d, &err);
    if (rc) {
        CHECK_INT(rc, KB_EPARSE);
        CHECK(strncmp(err.msg, "pdf: ", 5) == 0);
    }
    kb_error_clear(&err);
    CHECK_INT(kb_read_pdf("not a pdf", 9, NULL, &d, &err), KB_EPARSE);
    CHECK_HAS(err.msg, "pdf: ");
    kb_doc_release(&d);
}

static void test_office(void)
{
    struct kb_doc d;
    struct kb_error err;
    kb_doc_init(&d);
    CHECK_INT(read_sample("formats", "brief-it.docx", KB_FMT_DOCX, NULL, &d, &err), 0);
    expect_meta(&d, "Gestione termica delle batterie nei veicoli ibridi plug-in", "it",
                "2022-09-15", "Polo Automotive Torino", "study", "batteries", "hybrids");
    CHECK_STR(d.format, "docx");
    CHECK(kb_strlist_has(&d.authors, "Giulia Ferraro"));
    CHECK(kb_strlist_has(&d.authors, "Luca Bianchi"));
    CHECK_HAS(d.abstract, "Nei veicoli ibridi");
    CHECK_HAS(d.body, "serpentinazzz");
    CHECK_HAS(d.body, "glicole");
    CHECK_HAS(d.body, "Perché serve\n");

    CHECK_INT(read_sample("formats", "brief-en.odt", KB_FMT_ODT, NULL, &d, &err), 0);
    expect_meta(&d, "Predictive diagnostics for 48 V belt starter-generators", "en",
                "2021-03-08", "Bureau Franco-Italien de la Mobilité", "note", "hybrids",
                "diagnostics");
    CHECK_STR(d.format, "odt");
    CHECK_INT(d.authors.n, 1);
    CHECK(kb_strlist_has(&d.authors, "Sarah Whitfield"));
    CHECK_HAS(d.body, "beltwearzzz");
    CHECK_HAS(d.body, "tensioner");
    CHECK_HAS(d.body, "Monitoring approach\n");

    CHECK_INT(read_sample("formats", "zipbomb.docx", KB_FMT_DOCX, NULL, &d, &err),
              KB_ETOOBIG);
    CHECK_STR(err.msg, "docx: 'word/document.xml' inflates past 67108864 bytes");
    check_absent(d.body, "bombzzz");

    struct kb_read_limits lim;
    kb_read_limits_default(&lim);
    lim.max_unzipped = 1000;
    CHECK_INT(read_sample("formats", "brief-it.docx", KB_FMT_DOCX, &lim, &d, &err),
              KB_ETOOBIG);
    CHECK_STR(err.msg, "docx: 'word/document.xml' inflates past 1000 bytes");

    CHECK_INT(read_sample("formats", "brief-it.docx", KB_FMT_ODT, NULL, &d, &err),
              KB_EPARSE);
    CHECK_STR(err.msg, "odt: 'content.xml' missing");
    CHECK_INT(read_sample("formats", "notes.txt", KB_FMT_DOCX, NULL, &d, &err),
              KB_EPARSE);
    CHECK_HAS(err.msg, "docx: not a zip archive");
    kb_doc_release(&d);
}

struct jl {
    int docs;
    int bad[8];
    int nbad;
    int stop_at;
    char ids[8][64];
};

static int jl_doc(struct kb_doc *d, size_t line, void *ctx)
{
    struct jl *j = ctx;
    check_clean(d);
    if (j->docs < 8)
        snprintf(j->ids[j->docs], sizeof j->ids[0], "%s", d->id ? d->id : "");
    j->docs++;
    if (d->id && strcmp(d->id, "jsonl-v2g-2024") == 0) {
        CHECK_STR(d->title, "Vehicle-to-grid pilots with bidirectional chargers");
        CHECK_STR(d->lang, "en");
        CHECK_STR(d->date, "2024-10-01");
        CHECK_STR(d->org, "EuroPowertrain Joint Office");
        CHECK_STR(d->type, "note");
        CHECK(kb_strlist_has(&d->topics, "charging"));
        CHECK(kb_strlist_has(&d->authors, "Daniel Brooks"));
        CHECK_HAS(d->body, "jsonalphazzz");
        CHECK_STR(d->format, "jsonl");
    }
    free(d->id); /* stealing a field is allowed */
    d->id = NULL;
    return j->stop_at && (int)line >= j->stop_at ? KB_EINVAL : 0;
}

static void jl_err(size_t line, const char *reason, void *ctx)
{
    struct jl *j = ctx;
    if (j->nbad < 8)
        j->bad[j->nbad] = (int)line;
    j->nbad++;
    CHECK(reason && *reason);
}

static void test_jsonl(void)
{
    size_t len;
    char *buf = load("formats", "docs.jsonl", &len);
    struct jl j;
    memset(&j, 0, sizeof j);
    CHECK_INT(kb_read_jsonl(buf, len, NULL, jl_doc, jl_err, &j), 2);
    CHECK_INT(j.docs, 5);
    CHECK_INT(j.nbad, 2);
    CHECK_INT(j.bad[0], 3);
    CHECK_INT(j.bad[1], 6);
    CHECK_STR(j.ids[0], "jsonl-v2g-2024");
    CHECK_STR(j.ids[4], "jsonl-sofc-2026");
    /* a callback error stops the file */
    memset(&j, 0, sizeof j);
    j.stop_at = 2;
    CHECK_INT(kb_read_jsonl(buf, len, NULL, jl_doc, jl_err, &j), KB_EINVAL);
    CHECK_INT(j.docs, 2);
    free(buf);

    const char *s = "{\"id\":\"a\",\"title\":\"A\",\"lang\":\"fr-FR\"}\r\n"
                    "\r\n   \n"
                    "{\"id\":\"b\",\"id\":\"c\"}\n"            /* duplicate key */
                    "{\"id\":\"\"}\n"                          /* empty id */
                    "[1,2]\n"                                  /* not an object */
                    "{\"id\":\"d\",\"date\":\"2024-13-01\"}\n" /* bad date */
                    "{\"id\":\"e\",\"title\":7}\n"             /* bad type */
                    "{\"id\":\"f\"}";                          /* no final newline */
    memset(&j, 0, sizeof j);
    CHECK_INT(kb_read_jsonl(s, strlen(s), NULL, jl_doc, jl_err, &j), 5);
    CHECK_INT(j.docs, 2);
    CHECK_STR(j.ids[0], "a");
    CHECK_STR(j.ids[1], "f");
    CHECK_INT(j.bad[0], 4);
    CHECK_INT(j.bad[4], 8);
    /* a line longer than max_file */
    struct kb_read_limits lim;
    kb_read_limits_default(&lim);
    lim.max_file = 16;
    memset(&j, 0, sizeof j);
    s = "{\"id\":\"x\"}\n{\"id\":\"a-long-identifier\"}\n";
    CHECK_INT(kb_read_jsonl(s, strlen(s), &lim, jl_doc, NULL, &j), 1);
    CHECK_INT(j.docs, 1);
    CHECK_INT(kb_read_jsonl("", 0, NULL, jl_doc, NULL, &j), 0);
}

static void test_limits(void)
{
    struct kb_doc d;
    struct kb_error err;
    struct kb_read_limits lim;
    kb_doc_init(&d);
    kb_read_limits_default(&lim);
    lim.max_text = 100;
    const char *files[] = {"notes.txt",     "brief-en.md",  "report-fr.html",
                           "report-it.xml", "brief-fr.pdf", "brief-it.docx",
                           "brief-en.odt"};
    enum kb_format fmts[] = {KB_FMT_TEXT, KB_FMT_MARKDOWN, KB_FMT_HTML, KB_FMT_XML,
                             KB_FMT_PDF,  KB_FMT_DOCX,     KB_FMT_ODT};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        CHECK_INT(read_sample("formats", files[i], fmts[i], &lim, &d, &err), 0);
        CHECK(d.body != NULL && strlen(d.body) <= 100 && strlen(d.body) > 40);
        CHECK(d.title != NULL);
    }
    /* the cut falls inside a two-byte character: it must not split it */
    lim.max_text = 19;
    kb_error_clear(&err);
    kb_doc_release(&d);
    CHECK_INT(kb_read_text("T\nabcdefghijklmnop\xC3\xA9", 20, &lim, &d, &err), 0);
    CHECK_STR(d.body, "abcdefghijklmnop");

    kb_read_limits_default(&lim);
    lim.max_file = 10;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        CHECK_INT(read_sample("formats", files[i], fmts[i], &lim, &d, &err), KB_ETOOBIG);
        CHECK_HAS(err.msg, "-byte limit");
    }
    kb_error_clear(&err);
    CHECK_INT(kb_read_document(KB_FMT_JSONL, "{}", 2, NULL, &d, &err), KB_EINVAL);
    kb_error_clear(&err);
    CHECK_INT(kb_read_document(KB_FMT_UNKNOWN, "x", 1, NULL, &d, &err), KB_EUNSUPPORTED);
    kb_doc_release(&d);
}

/* Every sample, cut at many points, through every reader: any result but a crash. */
static void test_hostile(void)
{
    const char *files[] = {"report-fr.html", "report-it.xml",   "brief-en.md",
                           "notes.txt",      "brief-fr.pdf",    "brief-it.docx",
                           "brief-en.odt",   "utf16le-bom.txt", "binary.html",
                           "docs.jsonl",     "cp1252.txt"};
    enum kb_format fmts[] = {KB_FMT_TEXT, KB_FMT_MARKDOWN, KB_FMT_HTML, KB_FMT_XML,
                             KB_FMT_PDF,  KB_FMT_DOCX,     KB_FMT_ODT};
    struct kb_doc d;
    kb_doc_init(&d);
    int runs = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        size_t len;
        char *buf = load("formats", files[i], &len);
        for (size_t k = 0; buf && k < 8; k++) {
            size_t cut = len * k / 7;
            char *piece = malloc(cut ? cut : 1);
            if (!piece)
                break;
            memcpy(piece, buf, cut);
            for (size_t f = 0; f < sizeof fmts / sizeof fmts[0]; f++) {
                struct kb_error err;
                kb_error_clear(&err);
                kb_doc_release(&d);
                int rc = kb_read_document(fmts[f], piece, cut, NULL, &d, &err);
                CHECK(rc <= 0);
                if (rc == 0)
                    check_clean(&d);
                else
                    CHECK(err.msg[0] != '\0');
                runs++;
            }
            struct jl j;
            memset(&j, 0, sizeof j);
            CHECK(kb_read_jsonl(piece, cut, NULL, jl_doc, NULL, &j) >= 0);
            free(piece);
        }
        free(buf);
    }
    CHECK(runs > 500);
    kb_doc_release(&d);
}

/* The per-thread caches (libmagic cookie, compiled schema) under concurrent readers. */
static void *reader_thread(void *arg)
{
    int *fails = arg;
    const char *files[] = {"report-it.xml", "report-fr.html", "brief-it.docx",
                           "brief-fr.pdf"};
    enum kb_format fmts[] = {KB_FMT_XML, KB_FMT_HTML, KB_FMT_DOCX, KB_FMT_PDF};
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < 4; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/formats/%s", data_dir(), files[i]);
            FILE *f = fopen(path, "rb");
            char *buf = malloc(1 << 16);
            size_t n = f && buf ? fread(buf, 1, 1 << 16, f) : 0;
            struct kb_doc d;
            struct kb_error err;
            kb_doc_init(&d);
            kb_error_clear(&err);
            if (kb_format_detect(files[i], buf, n, &err) != fmts[i] ||
                kb_read_document(fmts[i], buf, n, NULL, &d, &err) != 0 || !d.title)
                (*fails)++;
            kb_doc_release(&d);
            free(buf);
            if (f)
                fclose(f);
        }
    return NULL;
}

/* The visibility each reader takes from its format's metadata (the office formats and
 * PDF are covered end to end by tests/integration/test_visibility.py). */
static void test_visibility(void)
{
    struct kb_doc d;
    struct kb_error err;
    static const struct {
        enum kb_format f;
        const char *text;
        int want;
    } t[] = {
        {KB_FMT_MARKDOWN, "---\ntitle: A\nvisibility: members\n---\n\nBody text.\n",
         KB_VIS_MEMBERS},
        {KB_FMT_MARKDOWN, "---\ntitle: A\nvisibility: public\n---\n\nBody text.\n",
         KB_VIS_PUBLIC},
        {KB_FMT_MARKDOWN, "---\ntitle: A\nvisibility: membres\n---\n\nBody text.\n",
         KB_VIS_MEMBERS}, /* a typo is not public */
        {KB_FMT_MARKDOWN, "---\ntitle: A\nvisibility: [x]\n---\n\nBody text.\n",
         KB_VIS_MEMBERS},
        {KB_FMT_MARKDOWN, "---\ntitle: A\n---\n\nBody text.\n", KB_VIS_PUBLIC},
        {KB_FMT_HTML,
         "<html><head><title>A</title><meta name=\"visibility\" content=\"members\">"
         "</head><body><p>Body text.</p></body></html>",
         KB_VIS_MEMBERS},
        {KB_FMT_HTML,
         "<html><head><title>A</title></head><body><p>Body.</p></body></html>",
         KB_VIS_PUBLIC},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        kb_doc_init(&d);
        kb_error_clear(&err);
        CHECK_INT(kb_read_document(t[i].f, t[i].text, strlen(t[i].text), NULL, &d, &err),
                  0);
        CHECK_INT(d.visibility, t[i].want);
        kb_doc_release(&d);
    }
    /* the versions of one brief: translation_of in front matter or an HTML meta */
    static const char *const versions[] = {
        "---\ntitle: A\ntranslation_of: heat-pump-2025\n---\n\nBody text.\n",
        "<html><head><title>A</title><meta name=\"translation_of\" "
        "content=\"heat-pump-2025\"></head><body><p>Body text.</p></body></html>"};
    for (int k = 0; k < 2; k++) {
        kb_doc_init(&d);
        kb_error_clear(&err);
        CHECK_INT(kb_read_document(k ? KB_FMT_HTML : KB_FMT_MARKDOWN, versions[k],
                                   strlen(versions[k]), NULL, &d, &err),
                  0);
        CHECK_STR(d.translation_of, "heat-pump-2025");
        kb_doc_release(&d);
    }
    /* XML: the optional <visibility> element after <type>, checked by report.xsd */
    size_t len;
    char *xml = load("formats", "report-it.xml", &len);
    CHECK(xml != NULL);
    const char *at = xml ? strstr(xml, "</type>") : NULL;
    CHECK(at != NULL);
    for (int k = 0; at && k < 2; k++) {
        const char *el =
            k ? "<visibility>secret</visibility>" : "<visibility>members</visibility>";
        size_t head = (size_t)(at - xml) + strlen("</type>");
        char *x = malloc(len + strlen(el) + 1);
        memcpy(x, xml, head);
        memcpy(x + head, el, strlen(el));
        memcpy(x + head + strlen(el), xml + head, len - head);
        kb_doc_init(&d);
        kb_error_clear(&err);
        int rc = kb_read_document(KB_FMT_XML, x, len + strlen(el), NULL, &d, &err);
        CHECK_INT(rc, k ? KB_EPARSE : 0); /* "secret" is not in the schema */
        if (!k)
            CHECK_INT(d.visibility, KB_VIS_MEMBERS);
        kb_doc_release(&d);
        free(x);
    }
    free(xml);
}

static void test_threads(void)
{
    pthread_t t[4];
    int fails[4] = {0, 0, 0, 0};
    for (int i = 0; i < 4; i++)
        CHECK_INT(pthread_create(&t[i], NULL, reader_thread, &fails[i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT(fails[i], 0);
    }
}

int main(void)
{
    test_names();
    test_detect();
    test_html();
    test_xml();
    test_markdown();
    test_text();
    test_text_dates();
    test_encoding();
    test_pdf();
    test_office();
    test_jsonl();
    test_limits();
    test_hostile();
    test_visibility();
    test_threads();
    return check_done("test_readers");
}
