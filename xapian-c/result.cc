// SPDX-License-Identifier: MIT
//
// result.cc - reading a search result (xap_result): counts, hits, facets, and snippets
// highlighted for the result's query.

#include "internal.h"

#include <algorithm>
#include <string>

namespace
{
// A stemmer for snippets: folds the original word like the indexer did, then stems. A
// stop word of the hit's language stems to nothing, so it is never highlighted (an
// Italian "della" would otherwise meet the stem of a word of another language's branch).
class FoldStem : public Xapian::StemImplementation
{
  public:
    FoldStem(xap_word_fn fn, const Xapian::Stem &stem, const Xapian::Stopper *stop)
        : fn_(fn), stem_(stem), stop_(stop)
    {
    }
    std::string operator()(const std::string &word) override
    {
        std::string w = word;
        if (fn_) {
            char buf[256];
            size_t n = fn_(word.data(), word.size(), buf, sizeof buf);
            w.assign(buf, std::min(n, sizeof buf));
        }
        if (stop_ && (*stop_)(w))
            return std::string();
        return stem_(w);
    }
    std::string get_description() const override
    {
        return "kb-fold";
    }

  private:
    xap_word_fn fn_;
    Xapian::Stem stem_;
    const Xapian::Stopper *stop_;
};

// Long texts (xap_result_snippet): the query's words, as the index holds them (a
// stem: "Z" and the field's prefix taken off; or a folded word).
struct Targets {
    std::vector<std::string> words;   // as indexed
    std::vector<std::string> needles; // what the byte scan looks for: the word, less
                                      // its last letter when longer than 3 (a stem need
                                      // not be a prefix of its words: happi / happy)
};

Targets query_targets(const Xapian::Query &q)
{
    Targets t;
    for (Xapian::TermIterator i = q.get_unique_terms_begin();
         i != q.get_unique_terms_end() && t.words.size() < 16; ++i) {
        // a body's words are the unprefixed terms and their stems ("Z" + stem); the
        // field terms (title, filters, concepts) never match in it
        std::string w = *i;
        size_t k = !w.empty() && w[0] == 'Z' ? 1 : 0;
        if (k < w.size() && w[k] >= 'A' && w[k] <= 'Z')
            continue;
        w.erase(0, k);
        if (w.size() < 2 || w.size() > 64 ||
            std::find(t.words.begin(), t.words.end(), w) != t.words.end())
            continue;
        t.words.push_back(w);
        t.needles.push_back(w.size() > 3 ? w.substr(0, w.size() - 1) : w);
    }
    return t;
}

// The letter a text byte sequence at p (n bytes left) folds to for the scan (ASCII
// lower case; the Latin-1 letters of UTF-8 "\xc3\x80".."\xc3\xbf" to their base
// letter), 0 for anything else; *used is the bytes it takes.
char scan_fold(const unsigned char *p, size_t n, size_t *used)
{
    static const char latin1[] = "aaaaaaaceeeeiiiidnooooo*ouuuuyts"
                                 "aaaaaaaceeeeiiiidnooooo*ouuuuyty";
    *used = 1;
    unsigned char c = p[0];
    if (c < 0x80)
        return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : static_cast<char>(c);
    if (c == 0xc3 && n > 1 && p[1] >= 0x80 && p[1] <= 0xbf) {
        *used = 2;
        return latin1[p[1] - 0x80];
    }
    return 0;
}

inline bool word_byte(unsigned char c)
{
    return c >= 0x80 || (c >= '0' && c <= '9') ||
           ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

// Offsets of the first checked occurrence of each target in text (npos: none), or of
// the first of any when first_only. A candidate (a word starting with a needle, read
// folded) is checked by folding and stemming the whole word like the snippet does. A
// needle whose candidates keep failing the check (a short word, a stem that many other
// words start with) is given up after KB_SCAN_MISSES of them: the checks are the cost.
const unsigned KB_SCAN_MISSES = 2048;

std::vector<size_t> scan_targets(const Targets &t, Xapian::StemImplementation &stem,
                                 xap_word_fn fn, const char *text, size_t len,
                                 bool first_only)
{
    std::vector<size_t> at(t.words.size(), std::string::npos);
    std::vector<unsigned> misses(t.words.size(), 0);
    size_t left = t.words.size(); // targets neither found nor given up
    const unsigned char *u = reinterpret_cast<const unsigned char *>(text);
    bool starts[256] = {}; // bytes a needle's word may start with
    for (const std::string &nd : t.needles) {
        unsigned char c = static_cast<unsigned char>(nd[0]);
        starts[c] = true;
        if (c >= 'a' && c <= 'z')
            starts[c - 32] = true;
        starts[0xc3] = true; // a Latin-1 letter
    }
    for (size_t i = 0, end = 0; left; i = end) {
        while (i < len && !word_byte(u[i]))
            i++;
        if (i >= len)
            break;
        end = i + 1;
        while (end < len && word_byte(u[end]))
            end++;
        if (!starts[u[i]])
            continue;
        for (size_t k = 0; k < t.needles.size() && left; k++) {
            if (at[k] != std::string::npos || misses[k] >= KB_SCAN_MISSES)
                continue;
            const std::string &nd = t.needles[k];
            size_t p = i, j = 0, used;
            while (j < nd.size() && p < end &&
                   scan_fold(u + p, end - p, &used) == nd[j]) {
                p += used;
                j++;
            }
            if (j < nd.size() || end - i > 256)
                continue;
            std::string word(text + i, end - i);
            std::string folded = word;
            if (fn) {
                char buf[256];
                size_t n = fn(word.data(), word.size(), buf, sizeof buf);
                folded.assign(buf, std::min(n, sizeof buf));
            }
            std::string st = stem(word);
            bool hit = false;
            for (size_t m = 0; m < t.words.size(); m++) {
                if (at[m] == std::string::npos && misses[m] < KB_SCAN_MISSES &&
                    (t.words[m] == folded || t.words[m] == st)) {
                    at[m] = i;
                    left--;
                    hit = true;
                }
            }
            if (hit && first_only)
                return at;
            if (!hit && ++misses[k] == KB_SCAN_MISSES)
                left--;
        }
    }
    return at;
}

// Start of the UTF-8 character at or after i.
size_t char_start(const char *text, size_t len, size_t i)
{
    while (i < len && (static_cast<unsigned char>(text[i]) & 0xc0) == 0x80)
        i++;
    return i;
}

// A bounded view of a long text: its head, then a window around each offset in at.
std::string text_window(const char *text, size_t len, std::vector<size_t> at)
{
    const size_t half = 2048;
    size_t head = char_start(text, len, XAP_SNIPPET_HEAD);
    std::string out(text, head);
    std::sort(at.begin(), at.end());
    size_t done = head;
    for (size_t o : at) {
        if (o == std::string::npos || o < done)
            continue;
        size_t b = char_start(text, len, std::max(done, o > half ? o - half : 0));
        size_t e = char_start(text, len, std::min(len, o + half));
        out += " \xe2\x80\xa6 "; // " … "
        out.append(text + b, e - b);
        done = e;
    }
    return out;
}

} // namespace

std::atomic<unsigned long> xap_data_reads{0};

extern "C" unsigned long xap_debug_data_reads(void)
{
    return xap_data_reads.load();
}

extern "C" int xap_result_hit_data(const xap_result *res, size_t i, char **data,
                                   size_t *len, xap_error *err)
{
    if (!res || !data || !len || i >= res->hits.size())
        return bad_arg(err, "xap_result_hit_data: bad argument");
    try {
        std::string d =
            res->mset[static_cast<Xapian::doccount>(i)].get_document().get_data();
        xap_data_reads++;
        *data = dup_bytes(d);
        if (!*data)
            return fill_plain(err, XAP_E_NOMEM, "out of memory");
        *len = d.size();
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" void xap_result_free(xap_result *res)
{
    delete res;
}

extern "C" int xap_result_set_corrected(xap_result *res, const char *corrected,
                                        xap_error *err)
{
    if (!res)
        return bad_arg(err, "xap_result_set_corrected: NULL result");
    try {
        res->corrected = corrected ? corrected : "";
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_result_set_snippet_weights(xap_result *res, int how, xap_error *err)
{
    if (!res || (how != XAP_SNIP_MATCH && how != XAP_SNIP_IDF))
        return bad_arg(err, "xap_result_set_snippet_weights: bad argument");
    res->snip_idf = how == XAP_SNIP_IDF;
    res->snip_ready = false;
    return XAP_OK;
}

extern "C" int xap_result_set_snippet_query(xap_result *res, const xap_query *q,
                                            xap_error *err)
{
    if (!res)
        return bad_arg(err, "xap_result_set_snippet_query: NULL result");
    try {
        res->has_snip = q != nullptr;
        res->snip_ready = false;
        res->typed = q ? q->q : Xapian::Query();
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" void xap_result_counts(const xap_result *res, size_t *lower, size_t *estimate,
                                  size_t *upper)
{
    if (lower)
        *lower = res ? res->lower : 0;
    if (estimate)
        *estimate = res ? res->estimate : 0;
    if (upper)
        *upper = res ? res->upper : 0;
}

extern "C" size_t xap_result_size(const xap_result *res)
{
    return res ? res->hits.size() : 0;
}

extern "C" const char *xap_result_query_desc(const xap_result *res)
{
    if (!res)
        return "";
    if (!res->desc_ready) {
        try {
            res->desc = res->query.get_description();
        } catch (...) {
            res->desc.clear();
        }
        res->desc_ready = true;
    }
    return res->desc.c_str();
}

extern "C" const char *xap_result_corrected(const xap_result *res)
{
    return res ? res->corrected.c_str() : "";
}

extern "C" int xap_result_hit(const xap_result *res, size_t i, xap_hit *out)
{
    if (!res || !out || i >= res->hits.size())
        return XAP_E_INVALID_ARG;
    *out = res->hits[i].h;
    return XAP_OK;
}

extern "C" const char *xap_result_hit_value(const xap_result *res, size_t i,
                                            unsigned slot, size_t *len)
{
    if (!res || i >= res->hits.size())
        return nullptr;
    for (const auto &v : res->hits[i].values) {
        if (v.first == slot) {
            if (len)
                *len = v.second.size();
            return v.second.c_str();
        }
    }
    return nullptr;
}

extern "C" size_t xap_result_facet_size(const xap_result *res, size_t f)
{
    if (!res || f >= res->facets.size())
        return 0;
    return res->facets[f].values.size();
}

extern "C" int xap_result_facet_value(const xap_result *res, size_t f, size_t j,
                                      const char **val, size_t *len, size_t *count)
{
    if (!res || f >= res->facets.size() || j >= res->facets[f].values.size())
        return XAP_E_INVALID_ARG;
    const auto &v = res->facets[f].values[j];
    if (val)
        *val = v.first.c_str();
    if (len)
        *len = v.first.size();
    if (count)
        *count = v.second;
    return XAP_OK;
}

extern "C" char *xap_result_snippet(const xap_result *res, xap_reader *r, xap_analyzer *a,
                                    const char *text, size_t len, size_t max_chars,
                                    const char *hi_start, const char *hi_end,
                                    int only_if_match, xap_error *err)
{
    if (!res || !text) {
        bad_arg(err, "xap_result_snippet: NULL argument");
        return nullptr;
    }
    try {
        Xapian::Stem stem(new FoldStem(r ? r->word_fn : nullptr,
                                       a ? a->stem : Xapian::Stem(),
                                       a && a->has_stop ? &a->stopper : nullptr));
        unsigned flags = 0;
        if (only_if_match)
            flags |= Xapian::MSet::SNIPPET_EMPTY_WITHOUT_MATCH;
        if ((res->has_snip || res->snip_idf) && !res->snip_ready && r) {
            // an empty match of the snippet query: its statistics weigh the words
            Xapian::Enquire enq(r->db);
            enq.set_query(res->has_snip ? res->typed : res->query);
            if (res->snip_idf) // each word's maximum weight is its idf ("btn"), from
                enq.set_weighting_scheme(Xapian::TfIdfWeight("btn")); // global stats
            res->snip_mset = enq.get_mset(0, 0);
            res->snip_ready = true;
        }
        const Xapian::MSet &ms = res->snip_ready ? res->snip_mset : res->mset;
        std::string body;
        if (len > XAP_SNIPPET_WHOLE) {
            // a long text: its head and the first place of each query word only
            FoldStem scan(r ? r->word_fn : nullptr, a ? a->stem : Xapian::Stem(),
                          a && a->has_stop ? &a->stopper : nullptr);
            Targets t = query_targets(res->has_snip ? res->typed : res->query);
            body = text_window(
                text, len,
                scan_targets(t, scan, r ? r->word_fn : nullptr, text, len, false));
        } else {
            body.assign(text, len);
        }
        std::string s =
            ms.snippet(body, max_chars ? max_chars : 300, stem, flags,
                       hi_start ? hi_start : "<mark>", hi_end ? hi_end : "</mark>", "…");
        char *p = dup_bytes(s);
        if (!p)
            fill_plain(err, XAP_E_NOMEM, "out of memory");
        return p;
    } catch (...) {
        fail(err);
        return nullptr;
    }
}

extern "C" size_t xap_result_first_match(const xap_result *res, xap_reader *r,
                                         xap_analyzer *a, const char *text, size_t len)
{
    if (!res || !text)
        return static_cast<size_t>(-1);
    try {
        FoldStem scan(r ? r->word_fn : nullptr, a ? a->stem : Xapian::Stem(),
                      a && a->has_stop ? &a->stopper : nullptr);
        Targets t = query_targets(res->has_snip ? res->typed : res->query);
        std::vector<size_t> at =
            scan_targets(t, scan, r ? r->word_fn : nullptr, text, len, true);
        size_t first = static_cast<size_t>(-1);
        for (size_t o : at)
            if (o != std::string::npos)
                first = std::min(first, o);
        return first;
    } catch (...) {
        return static_cast<size_t>(-1);
    }
}
