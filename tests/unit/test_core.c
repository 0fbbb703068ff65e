/* SPDX-License-Identifier: MIT */
/*
 * test_core.c - the core library: error recording, capped buffers, configuration sources,
 * the document model's JSON, the text normaliser (elisions, accents, units, query case),
 * language detection, the thesaurus and query preparation.
 */
#include "analysis.h"
#include "buf.h"
#include "check.h"
#include "config.h"
#include "doc.h"
#include "error.h"
#include "lang.h"
#include "index.h"
#include "text.h"
#include "xerror.h"
#include "thesaurus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *norm(const char *s, unsigned flags)
{
    static char out[1024];
    struct kb_buf b;
    kb_buf_init(&b, 4096);
    CHECK_INT(kb_text_normalize(s, strlen(s), flags, &b), KB_OK);
    snprintf(out, sizeof out, "%s", kb_buf_str(&b));
    kb_buf_release(&b);
    return out;
}

static void test_error(void)
{
    struct kb_error e;
    kb_error_clear(&e);
    CHECK_INT(kb_error_set(&e, KB_EINVAL, "first '%s'", "x"), KB_EINVAL);
    kb_error_set(&e, KB_EIO, "second");
    CHECK_INT(e.code, KB_EINVAL);
    CHECK_STR(e.msg, "first 'x'");
    CHECK_INT(kb_error_set(NULL, KB_EIO, "nothing"), KB_EIO);
    CHECK_STR(kb_status_name(KB_ENOTFOUND), "not_found");
    CHECK_STR(kb_status_name(-999), "unknown");
}

static void test_buf(void)
{
    struct kb_buf b;
    kb_buf_init(&b, 8);
    CHECK_STR(kb_buf_str(&b), "");
    CHECK_INT(kb_buf_adds(&b, "abcd"), KB_OK);
    CHECK_INT(kb_buf_printf(&b, "%d", 123), KB_OK);
    CHECK_STR(kb_buf_str(&b), "abcd123");
    CHECK_INT(kb_buf_adds(&b, "xy"), KB_ETOOBIG);
    CHECK_STR(kb_buf_str(&b), "abcd123"); /* unchanged on failure */
    CHECK_INT(kb_buf_printf(&b, "%s", "long string"), KB_ETOOBIG);
    CHECK_INT(kb_buf_addc(&b, '!'), KB_OK);
    CHECK_INT(kb_buf_addc(&b, '!'), KB_ETOOBIG);
    char *s = kb_buf_steal(&b);
    CHECK_STR(s, "abcd123!");
    free(s);
    CHECK_INT((int)b.len, 0);
    s = kb_buf_steal(&b);
    CHECK_STR(s, "");
    free(s);
    kb_buf_release(&b);
}

static void test_config(void)
{
    struct kb_config c;
    struct kb_error e;
    kb_config_defaults(&c);
    CHECK_INT(c.port, 8080);
    CHECK_STR(c.index, "var/index");
    kb_error_clear(&e);
    CHECK_INT(kb_config_set(&c, "port", "9000", &e), KB_OK);
    CHECK_INT(c.port, 9000);
    kb_error_clear(&e);
    CHECK_INT(kb_config_set(&c, "port", "70000", &e), KB_EINVAL);
    CHECK_HAS(e.msg, "port");
    kb_error_clear(&e);
    CHECK_INT(kb_config_set(&c, "nonsense", "1", &e), KB_ENOTFOUND);
    kb_error_clear(&e);
    CHECK_INT(kb_config_set(&c, "max_page_size", "-3", &e), KB_EINVAL);
    kb_error_clear(&e);
    CHECK_INT(kb_config_set(&c, "query_seconds", "0.5", &e), KB_OK);
    CHECK(c.query_seconds == 0.5);
    CHECK(c.feedback_max_df == 0.2);
    CHECK_INT(kb_config_set(&c, "feedback_max_df", "0.35", &e), KB_OK);
    CHECK(c.feedback_max_df == 0.35);
    CHECK_INT(kb_config_set(&c, "feedback_max_df", "1.5", &e), KB_EINVAL);
    kb_error_clear(&e);
    CHECK_INT(kb_config_set(&c, "feedback_max_df", "many", &e), KB_EINVAL);
    kb_error_clear(&e);
    CHECK(c.translation_share == 1.0);
    CHECK_INT(kb_config_set(&c, "translation_share", "0", &e), KB_OK);
    CHECK(c.translation_share == 0);
    CHECK_INT(kb_config_set(&c, "translation_share", "-0.5", &e), KB_EINVAL);
    CHECK_HAS(e.msg, "translation_share");
    kb_error_clear(&e);
    CHECK(c.feedback_max_df == 0.35);
    /* the server's limits on clients and its browser-facing settings */
    CHECK_INT((int)c.max_connections_per_ip, 128);
    CHECK(c.request_seconds == 20);
    CHECK_STR(c.cors_origins, "");
    CHECK_INT(kb_config_set(&c, "public_url", "https://kb.example.org", &e), KB_OK);
    CHECK_STR(c.public_url, "https://kb.example.org");
    CHECK_INT(kb_config_set(&c, "public_url", "https://kb.example.org/", &e), KB_EINVAL);
    kb_error_clear(&e);
    CHECK_INT(kb_config_set(&c, "public_url", "javascript:alert(1)", &e), KB_EINVAL);
    kb_error_clear(&e);
    CHECK_INT(kb_config_set(&c, "public_url", "http://x\"><script>", &e), KB_EINVAL);
    kb_error_clear(&e);
    CHECK_INT(kb_config_set(&c, "request_seconds", "2.5", &e), KB_OK);
    CHECK(c.request_seconds == 2.5);
    /* members: single-sign-on proxies and sessions */
    kb_config_defaults(&c);
    CHECK_STR(c.remote_user_scopes, "search,members");
    CHECK_STR(c.trusted_proxies, "");
    CHECK_INT(c.cookie_secure, -1);
    CHECK_INT(kb_config_set(&c, "trusted_proxies", "127.0.0.1,::1", &e), KB_OK);
    CHECK_STR(c.trusted_proxies, "127.0.0.1,::1");
    CHECK_INT(kb_config_set(&c, "cookie_secure", "true", &e), KB_OK);
    CHECK_INT(c.cookie_secure, 1);
    CHECK_INT(kb_config_set(&c, "cookie_secure", "sometimes", &e), KB_EINVAL);
    kb_error_clear(&e);
    CHECK_INT(kb_config_set(&c, "max_sessions", "0", &e), KB_EINVAL);
    kb_error_clear(&e);
    CHECK_INT(kb_config_set(&c, "session_minutes", "30", &e), KB_OK);
    CHECK_INT(c.session_minutes, 30);
    /* data_dir is where the data files are looked up (same folder, another spelling);
     * a program in the build tree has no installed ../share/powertrain-kb */
    char dd[1100], inst[1100];
    snprintf(dd, sizeof dd, "%s/.", kb_data_dir());
    CHECK_INT(kb_config_set(&c, "data_dir", dd, &e), KB_OK);
    CHECK_STR(kb_data_dir(), dd);
    CHECK(kb_install_dir("share/powertrain-kb", inst, sizeof inst) == NULL);
    /* typo tolerance: on by default, a boolean, also from the environment */
    CHECK_INT(c.typo_tolerance, 1);
    CHECK_INT(kb_config_set(&c, "typo_tolerance", "false", &e), KB_OK);
    CHECK_INT(c.typo_tolerance, 0);
    CHECK_INT(kb_config_set(&c, "typo_tolerance", "on", &e), KB_OK);
    CHECK_INT(c.typo_tolerance, 1);
    CHECK_INT(kb_config_set(&c, "typo_tolerance", "sometimes", &e), KB_EINVAL);
    CHECK_HAS(e.msg, "typo_tolerance");
    kb_error_clear(&e);
    CHECK_INT(c.typo_tolerance, 1);
    setenv("KB_TYPO_TOLERANCE", "no", 1);
    CHECK_INT(kb_config_load_env(&c, &e), KB_OK);
    unsetenv("KB_TYPO_TOLERANCE");
    CHECK_INT(c.typo_tolerance, 0);

    char path[] = "/tmp/kb-test-config-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char *text =
        "# comment\n\nworkers = 7\nindex = /tmp/idx\nsource = a\nsource = b\n";
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    kb_config_defaults(&c);
    kb_error_clear(&e);
    CHECK_INT(kb_config_load_file(&c, path, &e), KB_OK);
    CHECK_INT(c.workers, 7);
    CHECK_STR(c.index, "/tmp/idx");
    CHECK_INT(c.n_sources, 2);
    FILE *f = fopen(path, "w");
    fputs("workers 7\n", f);
    fclose(f);
    kb_error_clear(&e);
    CHECK_INT(kb_config_load_file(&c, path, &e), KB_EINVAL);
    CHECK_HAS(e.msg, "line 1");
    unlink(path);
    kb_error_clear(&e);
    CHECK_INT(kb_config_load_file(&c, "/nonexistent/kb.conf", &e), KB_ENOTFOUND);

    setenv("KB_WORKERS", "3", 1);
    CHECK_INT(kb_config_load_env(&c, &e), KB_OK);
    CHECK_INT(c.workers, 3);
    setenv("KB_WORKERS", "lots", 1);
    kb_error_clear(&e);
    CHECK_INT(kb_config_load_env(&c, &e), KB_EINVAL);
    CHECK_HAS(e.msg, "KB_WORKERS");
    unsetenv("KB_WORKERS");
}

static void test_doc(void)
{
    struct kb_doc d;
    struct kb_error e;
    kb_doc_init(&d);
    json_t *j =
        json_loads("{\"id\":\"a1\",\"title\":\"T\",\"body\":\"B\",\"lang\":\"fr\","
                   "\"date\":\"2024-02-29\",\"topics\":[\"hydrogen\",\"hydrogen\"],"
                   "\"organisation\":\"Org\"}",
                   0, NULL);
    kb_error_clear(&e);
    CHECK_INT(kb_doc_from_json(&d, j, 1, &e), KB_OK);
    CHECK_STR(d.id, "a1");
    CHECK_STR(d.org, "Org");
    CHECK_INT(d.topics.n, 1);
    json_t *back = kb_doc_to_json(&d, 1);
    CHECK_STR(json_string_value(json_object_get(back, "body")), "B");
    json_decref(back);
    back = kb_doc_to_json(&d, 0);
    CHECK(json_object_get(back, "body") == NULL);
    json_decref(back);
    kb_doc_release(&d);
    json_decref(j);

    const char *bad[] = {"{\"title\": 3}", "{\"date\": \"2024-02-30\"}",
                         "{\"topics\": [1]}", "{\"whatever\": 1}", "[]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        j = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        kb_doc_init(&d);
        kb_error_clear(&e);
        CHECK_INT(kb_doc_from_json(&d, j, 1, &e), KB_EPARSE);
        CHECK(e.msg[0] != '\0');
        kb_doc_release(&d);
        json_decref(j);
    }
    /* visibility: public by default, "members" kept, anything else refused */
    kb_doc_init(&d);
    CHECK_INT(d.visibility, KB_VIS_PUBLIC);
    j = json_loads("{\"title\":\"T\",\"visibility\":\"members\"}", 0, NULL);
    kb_error_clear(&e);
    CHECK_INT(kb_doc_from_json(&d, j, 1, &e), KB_OK);
    CHECK_INT(d.visibility, KB_VIS_MEMBERS);
    back = kb_doc_to_json(&d, 0);
    CHECK_STR(json_string_value(json_object_get(back, "visibility")), "members");
    json_decref(back);
    json_decref(j);
    kb_doc_release(&d);
    const char *badvis[] = {"{\"visibility\":\"secret\"}", "{\"visibility\":1}"};
    for (size_t i = 0; i < 2; i++) {
        j = json_loads(badvis[i], 0, NULL);
        kb_doc_init(&d);
        kb_error_clear(&e);
        CHECK_INT(kb_doc_from_json(&d, j, 1, &e), KB_EPARSE);
        CHECK_HAS(e.msg, "visibility");
        kb_doc_release(&d);
        json_decref(j);
    }
    CHECK_INT(kb_visibility_parse(" Members\n", (size_t)-1), KB_VIS_MEMBERS);
    CHECK_INT(kb_visibility_parse("public", 6), KB_VIS_PUBLIC);
    CHECK_INT(kb_visibility_parse("private", (size_t)-1), KB_VIS_MEMBERS);
    CHECK_INT(kb_visibility_parse("publicx", (size_t)-1), -1);
    CHECK_INT(kb_visibility_parse("", 0), -1);
    CHECK_STR(kb_visibility_name(KB_VIS_MEMBERS), "members");
    CHECK_STR(kb_visibility_name(KB_VIS_PUBLIC), "public");

    CHECK(kb_date_valid("2024-12-31"));
    CHECK(!kb_date_valid("2024-13-01"));
    CHECK(!kb_date_valid("24-01-01"));
    CHECK_INT(kb_date_year("2021-05-06"), 2021);
    CHECK(kb_date_number("2021-05-06") == 20210506.0);
}

static void test_text(void)
{
    CHECK_STR(norm("L'Hydrogène", 0), "l hydrogene");
    CHECK_STR(norm("l’électrolyse de l'eau", 0), "l electrolyse de l eau");
    CHECK_STR(norm("dell'idrogeno nell’ambito", 0), "dell idrogeno nell ambito");
    CHECK_STR(norm("jusqu'à lorsqu'il", 0), "jusqu a lorsqu il");
    CHECK_STR(norm("don't O'Brien", 0), "don't o'brien"); /* English is left alone */
    CHECK_STR(norm("Électricité cœur Ærø straße", 0), "electricite coeur aero strasse");
    CHECK_STR(norm("hydro\xc2\xad"
                   "gène",
                   0),
              "hydrogene");                /* soft hyphen */
    CHECK_STR(norm("ﬁltre", 0), "filtre"); /* ligature */
    CHECK_STR(norm("H₂ et CO₂", 0), "h2 et co2");
    CHECK_STR(norm("800 V et 800V, 350 bar", 0), "800v et 800v, 350bar");
    CHECK_STR(norm("800 volts", 0), "800 volts");
    CHECK_STR(norm("hydrogen AND Fuel OR cell", KB_NORM_QUERY),
              "hydrogen AND fuel OR cell");
    CHECK_STR(norm("\"pile à combustible\" title:PEMFC", KB_NORM_QUERY),
              "\"pile a combustible\" title:pemfc");
    CHECK_STR(norm("bad \xff\xfe bytes", 0), "bad    bytes");
    char w[64];
    size_t n = kb_text_fold_word("L'Hydrogène", strlen("L'Hydrogène"), w, sizeof w);
    CHECK_INT(n, 9);
    CHECK(!memcmp(w, "hydrogene", 9));
    CHECK(kb_text_is_elision("dell", 4));
    CHECK(!kb_text_is_elision("hydro", 5));
    CHECK_INT(kb_utf8_trim("é", 2, 1), 0);
    CHECK(kb_utf8_valid("héllo", strlen("héllo")));
    CHECK(!kb_utf8_valid("\xc3", 1));
    /* one character at a time: its length and code point, 0 for what is not UTF-8 */
    unsigned cp = 0;
    CHECK_INT((int)kb_utf8_char("\xc3\xa9t\xc3\xa9", 5, &cp), 2);
    CHECK_INT((int)cp, 0xe9);
    CHECK_INT((int)kb_utf8_char("\xef\xbf\xbe", 4, &cp), 3); /* U+FFFE is UTF-8 */
    CHECK_INT((int)cp, 0xfffe);
    CHECK_INT((int)kb_utf8_char("\xc0\xaf", 2, NULL), 0);     /* overlong '/' */
    CHECK_INT((int)kb_utf8_char("\xed\xa0\x80", 3, NULL), 0); /* a surrogate */
    CHECK_INT((int)kb_utf8_char("\xe2\x82", 4, NULL), 0);     /* cut by the NUL */
    CHECK_INT((int)kb_utf8_char("a", 0, NULL), 0);
}

/* kb_thesaurus_continue callback: keeps the first word in ctx (64 bytes). */
static int first_word(const char *word, size_t len, void *ctx)
{
    char *out = ctx;
    if (!*out && len < 64) {
        memcpy(out, word, len);
        out[len] = '\0';
    }
    return 0;
}

static void test_lang_thesaurus_query(void)
{
    struct kb_resources res;
    struct kb_error e;
    kb_error_clear(&e);
    CHECK_INT(kb_resources_load(&res, &e), KB_OK);
    CHECK(res.sw[KB_LANG_FR].n > 50);
    CHECK(kb_stopwords_has(&res.sw[KB_LANG_IT], "della", 5));
    CHECK(!kb_stopwords_has(&res.sw[KB_LANG_EN], "hydrogen", 8));
    CHECK_INT(kb_lang_from_code("fr-FR"), KB_LANG_FR);
    CHECK_INT(kb_lang_from_code("IT"), KB_LANG_IT);
    CHECK_INT(kb_lang_from_code("de"), -1);
    CHECK_STR(kb_lang_stemmer(KB_LANG_IT), "italian");

    struct kb_langid *li = kb_langid_new(res.sw, &e);
    CHECK(li != NULL);
    const char *fr =
        "La production de l'hydrogène par électrolyse de l'eau est une des voies "
        "les plus étudiées pour décarboner les transports lourds.";
    const char *it =
        "La produzione dell'idrogeno tramite elettrolisi è una delle strade più "
        "studiate per la decarbonizzazione dei trasporti pesanti.";
    const char *en =
        "The production of hydrogen by electrolysis of water is one of the most "
        "studied ways to decarbonise heavy transport.";
    CHECK_INT(kb_langid_detect(li, fr, strlen(fr)), KB_LANG_FR);
    CHECK_INT(kb_langid_detect(li, it, strlen(it)), KB_LANG_IT);
    CHECK_INT(kb_langid_detect(li, en, strlen(en)), KB_LANG_EN);
    CHECK_INT(kb_langid_detect(li, "", 0), KB_LANG_EN);
    kb_langid_free(li);
    kb_langid_free(NULL);

    const struct kb_thesaurus *t = res.thes;
    CHECK(kb_thesaurus_concepts(t) >= 80);
    CHECK_INT(kb_thesaurus_topics(t), 15);
    CHECK_STR(kb_thesaurus_topic_label(t, "hydrogen", "it"), "Idrogeno");
    CHECK(kb_thesaurus_topic_label(t, "nonsense", "fr") == NULL);
    long fc = kb_thesaurus_find(t, "fuel-cell");
    long phev = kb_thesaurus_find(t, "plug-in-hybrid");
    CHECK(fc >= 0 && phev >= 0);
    const char *tp[4];
    CHECK(kb_thesaurus_concept_topics(t, (size_t)fc, tp, 4) >= 1);
    unsigned *counts = calloc(kb_thesaurus_concepts(t), sizeof *counts);
    const char *txt = "Les piles à combustible et la cella a combustibile; a fuel cell.";
    char *nt = strdup(norm(txt, 0));
    kb_thesaurus_match(t, nt, strlen(nt), txt, strlen(txt), 0, counts);
    CHECK(counts[fc] >= 3);
    free(nt);
    memset(counts, 0, kb_thesaurus_concepts(t) * sizeof *counts);
    kb_thesaurus_match(t, "", 0, "Un PHEV ou phev", 15, 0, counts);
    CHECK_INT(counts[phev], 1); /* acronyms are case-sensitive in documents */
    free(counts);

    struct kb_query q;
    kb_error_clear(&e);
    CHECK_INT(kb_query_prepare(&res, "phev", 4, &q, &e), KB_OK);
    int found = 0;
    for (size_t i = 0; i < q.n_concepts; i++)
        found |= !strcmp(q.concepts[i], "XCplug-in-hybrid");
    CHECK(found);
    kb_query_release(&q);
    CHECK_INT(kb_query_prepare(&res, "Pile à combustible", 19, &q, &e), KB_OK);
    CHECK_STR(q.text, "pile a combustible");
    found = 0;
    for (size_t i = 0; i < q.n_concepts; i++)
        found |= !strcmp(q.concepts[i], "XCfuel-cell");
    CHECK(found);
    kb_query_release(&q);
    /* all capitals: words, not operators */
    CHECK_INT(kb_query_prepare(&res, "MEASUREMENT OR ANALYSIS", 23, &q, &e), KB_OK);
    CHECK_STR(q.text, "measurement or analysis");
    CHECK_INT(q.relaxed_case, 1);
    kb_query_release(&q);
    CHECK_INT(kb_query_prepare(&res, "battery OR cell", 15, &q, &e), KB_OK);
    CHECK_STR(q.text, "battery OR cell");
    CHECK_INT(q.relaxed_case, 0);
    kb_query_release(&q);
    /* concepts widen each word in place, so operators keep their meaning */
    static const char *const widened[][2] = {
        {"battery AND quirinale", "(battery OR kbconcept:0) AND quirinale"},
        {"NOT hydrogen", "NOT (hydrogen OR kbconcept:0)"},
        {"fuel -hydrogen", "fuel -(hydrogen OR kbconcept:0)"},
        {"\"pile à combustible\" x", "(\"pile a combustible\" OR kbconcept:0) x"},
        {"\"pile à combustible vert\"", "\"pile a combustible vert\""},
        {"\"hydrogen", "\"hydrogen"}, /* an unclosed quote: left to the parser */
        {"title:hydrogen battery*", "title:hydrogen battery*"},
        {"battery NEAR/3 cell", "battery NEAR/3 cell"},
        {"H₂", "(h2 OR kbconcept:0)"},
        {"l'hydrogène", "  (hydrogene OR kbconcept:0)"},
        {"foo:bar title: kbconcept:1", "foo bar title  kbconcept 1"},
        {"stockage de l'hydrogène", "(stockage de   hydrogene OR kbconcept:0)"}};
    for (size_t i = 0; i < sizeof widened / sizeof widened[0]; i++) {
        kb_error_clear(&e);
        CHECK_INT(kb_query_prepare(&res, widened[i][0], strlen(widened[i][0]), &q, &e),
                  KB_OK);
        CHECK_STR(q.parse, widened[i][1]);
        kb_query_release(&q);
    }
    /* a label of several words is noted as such; broader concepts are kept apart */
    const char *both = "pemfc AND pile à combustible";
    CHECK_INT(kb_query_prepare(&res, both, strlen(both), &q, &e), KB_OK);
    CHECK(q.n_concepts >= 2 && !strcmp(q.concepts[0], "XCpemfc") &&
          q.concept_words[0] == 1);
    found = 0;
    for (size_t i = 0; i < q.n_concepts; i++)
        found |= !strcmp(q.concepts[i], "XCfuel-cell") && q.concept_words[i] == 3;
    CHECK(found);
    CHECK_INT((int)q.n_broader, 0); /* fuel-cell, above pemfc, is named itself */
    kb_query_release(&q);
    /* the thesaurus read token by token, as queries and suggestions need */
    {
        const char *tok[] = {"pile", "a", "combustible", "x"};
        size_t len[] = {4, 1, 11, 1}, concept = 0;
        CHECK_INT(kb_thesaurus_lookup(t, tok, len, 4, &concept), 3);
        CHECK_INT((long)concept, fc);
        const char *tok2[] = {"stockage", "de", "hydrogene"}; /* elision dropped */
        size_t len2[] = {8, 2, 9};
        CHECK_INT(kb_thesaurus_lookup(t, tok2, len2, 3, &concept), 3);
        CHECK_STR(kb_thesaurus_concept_id(t, concept), "hydrogen-storage");
        const char *tok3[] = {"PHEV"};
        size_t len3[] = {4};
        CHECK_INT(kb_thesaurus_lookup(t, tok3, len3, 1, &concept), 1);
        CHECK_INT((long)concept, phev);
        CHECK_INT(kb_thesaurus_lookup(t, tok, len, 0, &concept), 0);
        char next[64] = "";
        CHECK_INT(kb_thesaurus_lookup(t, tok, len, 1, &concept), 0); /* "pile" alone */
        kb_thesaurus_continue(t, tok, len, 2, "c", 1, first_word, next);
        CHECK_STR(next, "combustible");
        const char *fuel[] = {"fuel"};
        size_t fuel_len[] = {4};
        next[0] = '\0';
        kb_thesaurus_continue(t, fuel, fuel_len, 1, "ce", 2, first_word, next);
        CHECK_STR(next, "cell");
    }
    /* request preambles in three languages are dropped, never the whole query */
    static const char *const pre[][2] = {
        {"please supply information on battery recycling", "battery recycling"},
        {"Je cherche des informations sur les piles à combustible",
         "piles a combustible"},
        {"vorrei informazioni sulle celle a combustibile", "celle a combustibile"},
        {"please supply information on", "please supply information on"},
        {"\"information on\" hydrogen", "\"information on\" hydrogen"}};
    for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++) {
        kb_error_clear(&e);
        CHECK_INT(kb_query_prepare(&res, pre[i][0], strlen(pre[i][0]), &q, &e), KB_OK);
        CHECK_HAS(q.text, pre[i][1]);
        kb_query_release(&q);
    }
    kb_resources_release(&res);

    kb_error_clear(&e);
    CHECK(kb_thesaurus_load("/nonexistent.json", &e) == NULL);
    CHECK_INT(e.code, KB_EPARSE);
}

/* An index location: the generation its stub names, else a database of its own. */
static void test_layout(void)
{
    char dir[] = "/tmp/kb-test-layout-XXXXXX", path[200], db[300];
    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT(kb_index_generation(dir), 0);
    CHECK_INT(kb_index_current_db(dir, db, sizeof db), -1); /* nothing there yet */
    snprintf(path, sizeof path, "%s/XAPIANDB", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs("# written by kb-indexer\nauto gen-12\n", f);
    fclose(f);
    CHECK_INT(kb_index_generation(dir), 12);
    CHECK_INT(kb_index_current_db(dir, db, sizeof db), 0);
    char want[300];
    snprintf(want, sizeof want, "%s/gen-12", dir);
    CHECK_STR(db, want);
    f = fopen(path, "w"); /* a stub naming no generation: a glass database itself */
    fputs("remote 127.0.0.1:1\n", f);
    fclose(f);
    CHECK_INT(kb_index_generation(dir), 0);
    CHECK_INT(kb_index_current_db(dir, db, sizeof db), -1);
    char glass[300];
    snprintf(glass, sizeof glass, "%s/iamglass", dir);
    fclose(fopen(glass, "w"));
    CHECK_INT(kb_index_current_db(dir, db, sizeof db), 0);
    CHECK_STR(db, dir);
    unlink(glass);
    unlink(path);
    /* a switch names the new generation; leftovers of a killed run go, the current
     * generation and the one before stay */
    char gen2[300], gen3[300], build[300], shard[300];
    struct kb_error e;
    kb_error_clear(&e);
    kb_index_gen_path(dir, 2, gen2, sizeof gen2);
    kb_index_gen_path(dir, 3, gen3, sizeof gen3);
    kb_index_build_path(dir, 3, 0, build, sizeof build);
    kb_index_build_path(dir, 3, 1, shard, sizeof shard);
    CHECK_INT(mkdir(gen2, 0755), 0);
    CHECK_INT(mkdir(gen3, 0755), 0);
    CHECK_INT(mkdir(build, 0755), 0);
    CHECK_INT(mkdir(shard, 0755), 0);
    CHECK_INT(kb_index_switch(dir, 2, "test_core", &e), KB_OK);
    CHECK_INT(kb_index_generation(dir), 2);
    kb_index_remove_leftovers(dir, 2);
    CHECK(access(gen2, F_OK) == 0);
    CHECK(access(gen3, F_OK) != 0 && access(build, F_OK) != 0 &&
          access(shard, F_OK) != 0);
    int fd = kb_index_lock(dir, &e);
    CHECK(fd >= 0);
    CHECK_INT(kb_index_lock(dir, &e), -1); /* flock: a second open file is refused */
    CHECK_INT(e.code, KB_ELOCKED);
    kb_index_unlock(fd);
    kb_index_remove_tree(dir);
    CHECK(access(dir, F_OK) != 0);
}

/* Builds an empty generation `gen` of a location of n shards (a metadata key in its
 * lexicon) and switches to it. */
static void build_gen(const char *dir, size_t n, int gen)
{
    struct kb_index_writer *w = NULL;
    struct kb_error e;
    kb_error_clear(&e);
    CHECK_INT(kb_index_writer_open_build(dir, n, gen, 0,
                                         KB_INDEX_CREATE | KB_INDEX_NO_SYNC, &w, &e),
              KB_OK);
    if (!w)
        return;
    CHECK_INT(kb_index_writer_set_meta(w, "test:gen", "yes", 3, &e), KB_OK);
    CHECK_INT(kb_index_writer_close(w, &e), KB_OK);
    CHECK_INT(kb_index_finish_build(dir, n, gen, 0, "test_core", &e), KB_OK);
}

/* A sharded location: routing, the layout a build leaves, the lexicon's metadata, a
 * killed --full switch finished by the next run, resharding to unsharded. */
static void test_shards(void)
{
    char dir[] = "/tmp/kb-test-shards-XXXXXX", db[300], p[400];
    struct kb_index_writer *w = NULL;
    struct kb_error e;
    char *val = NULL;
    unsigned n = 99;
    kb_error_clear(&e);
    /* xxh64, seed 0: a change of hash or seed moves documents (python3 ctypes agrees) */
    CHECK_INT((int)kb_index_shard_of("en/hydrogen.md", 2), 1);
    CHECK_INT((int)kb_index_shard_of("en/hydrogen.md", 4), 3);
    CHECK_INT((int)kb_index_shard_of("api/shards/1", 3), 2);
    CHECK_INT((int)kb_index_shard_of("api/shards/1", 1), 0);
    CHECK_STR(kb_index_route_hash(), "xxh64");
    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT((int)kb_index_shards(dir), 1);
    build_gen(dir, 3, 1);
    CHECK_INT((int)kb_index_shards(dir), 3);
    CHECK_INT(kb_index_generation(dir), 1); /* the lexicon's */
    CHECK_INT(kb_index_current_db(dir, db, sizeof db), 0);
    CHECK_STR(db, dir); /* the top stub: every shard as one */
    const char *parts[] = {"shard00", "shard01", "shard02", "lexicon"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, parts[i]);
        CHECK_INT(kb_index_generation(p), 1);
    }
    CHECK_INT(kb_index_writer_open_location(dir, 0, &w, &e), KB_OK);
    if (w) {
        CHECK_INT(kb_index_writer_doc_count(w, &n, &e), KB_OK);
        CHECK_INT((int)n, 0);
        CHECK_INT(kb_index_writer_get_meta(w, "test:gen", &val, &e), KB_OK);
        CHECK_STR(val ? val : "", "yes");
        free(val);
        val = NULL;
        CHECK_INT(kb_index_writer_get_meta(w, "kb:shards", &val, &e), KB_OK);
        CHECK_STR(val ? val : "", "3 xxh64");
        free(val);
        CHECK_INT(kb_index_writer_close(w, &e), KB_OK);
    }
    /* a --full killed after the top stub named gen-2 and before the lexicon switched */
    build_gen(dir, 3, 2);
    kb_index_switch(p, 1, "test_core", &e); /* p: the lexicon, back on gen-1 */
    snprintf(p, sizeof p, "%s/XAPIANDB", dir);
    FILE *f = fopen(p, "w");
    fputs("auto shard00/gen-2\nauto shard01/gen-2\nauto shard02/gen-2\n", f);
    fclose(f);
    CHECK_INT(kb_index_generation(dir), 1);
    kb_index_remove_leftovers(dir, 1);
    CHECK_INT(kb_index_generation(dir), 2);
    f = fopen(p, "r");
    char line[100] = "";
    while (f && fgets(line, sizeof line, f) && line[0] == '#')
        ;
    if (f)
        fclose(f);
    CHECK_STR(line, "auto shard00\n");
    /* back to one database: the parts go */
    build_gen(dir, 1, 3);
    CHECK_INT((int)kb_index_shards(dir), 1);
    CHECK_INT(kb_index_generation(dir), 3);
    snprintf(p, sizeof p, "%s/shard00", dir);
    CHECK(access(p, F_OK) != 0);
    snprintf(p, sizeof p, "%s/lexicon", dir);
    CHECK(access(p, F_OK) != 0);
    kb_index_remove_tree(dir);
}

/* One mapping of Xapian failures, two sides: a reader's damaged index is busy (503), a
 * writer's is an I/O failure, and a full disk says so. */
static void test_spelling_word(void)
{
    CHECK(kb_index_spelling_word("hydrogen", 8));
    CHECK(!kb_index_spelling_word("Shydrogen", 9)); /* a field term */
    CHECK(!kb_index_spelling_word("h2", 2));
    CHECK(!kb_index_spelling_word("2030", 4));
    CHECK(!kb_index_spelling_word("abcdefghijabcdefghijabcdefghijabcdefghijx", 41));
    CHECK(!kb_index_spelling_word(NULL, 5));
}

static void test_xerror(void)
{
    struct xap_error xe = {0};
    struct kb_error e;
    snprintf(xe.msg, sizeof xe.msg, "Error writing block (No space left on device)");
    CHECK_INT(kb_xerror_code(XAP_E_DATABASE, &xe, KB_XERR_WRITE), KB_ENOSPC);
    CHECK_INT(kb_xerror_code(XAP_E_DATABASE, &xe, KB_XERR_READ), KB_EBUSY);
    kb_error_clear(&e);
    CHECK_INT(kb_xerror_set(&e, XAP_E_DATABASE, &xe, KB_XERR_WRITE, "cannot commit"),
              KB_ENOSPC);
    CHECK(strncmp(e.msg, "disk full: cannot commit: ", 26) == 0);
    snprintf(xe.msg, sizeof xe.msg, "bad block");
    CHECK_INT(kb_xerror_code(XAP_E_DATABASE, &xe, KB_XERR_WRITE), KB_EIO);
    kb_error_clear(&e);
    CHECK_INT(kb_xerror_set(&e, XAP_E_DB_CORRUPT, &xe, KB_XERR_READ, NULL), KB_EBUSY);
    CHECK_STR(e.msg, "the index cannot be read: bad block");
    CHECK_INT(kb_xerror_code(XAP_E_DB_LOCKED, NULL, KB_XERR_WRITE), KB_ELOCKED);
    CHECK_INT(kb_xerror_code(XAP_E_INVALID_ARG, NULL, KB_XERR_WRITE), KB_EINVAL);
    CHECK_INT(kb_xerror_code(XAP_E_WILDCARD, NULL, KB_XERR_READ), KB_ETOOBIG);
    CHECK_INT(kb_xerror_code(XAP_E_DOC_NOT_FOUND, NULL, KB_XERR_READ), KB_ENOTFOUND);
    CHECK_INT(kb_xerror_code(XAP_E_DB_MODIFIED, NULL, KB_XERR_READ), KB_EBUSY);
    CHECK_INT(kb_xerror_code(XAP_E_XAPIAN, NULL, KB_XERR_WRITE), KB_EINDEX);
}

int main(void)
{
    test_error();
    test_buf();
    test_config();
    test_doc();
    test_text();
    test_lang_thesaurus_query();
    test_layout();
    test_shards();
    test_xerror();
    test_spelling_word();
    return check_done("test_core");
}
