// SPDX-License-Identifier: MIT
//
// analyzer.cc - a stemmer and a stop list for one language (xap_analyzer).

#include "internal.h"

#include <memory>

// ------------------------------------------------------------------------------------
// Analysers

extern "C" int xap_analyzer_new(const char *stem_lang, const char *const *stop,
                                size_t n_stop, xap_analyzer **out, xap_error *err)
{
    if (!stem_lang || !out)
        return bad_arg(err, "xap_analyzer_new: NULL argument");
    try {
        std::unique_ptr<xap_analyzer> a(new xap_analyzer);
        a->stem = Xapian::Stem(stem_lang);
        for (size_t i = 0; i < n_stop; i++) {
            if (stop[i] && *stop[i]) {
                a->stopper.add(stop[i]);
                a->has_stop = true;
            }
        }
        *out = a.release();
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" void xap_analyzer_free(xap_analyzer *a)
{
    delete a;
}

extern "C" int xap_analyzer_stem(xap_analyzer *a, const char *word, size_t len, char *buf,
                                 size_t cap, xap_error *err)
{
    if (!a || !word || !buf || cap == 0)
        return bad_arg(err, "xap_analyzer_stem: NULL argument");
    try {
        std::string s = a->stem(std::string(word, len));
        copy_str(buf, cap, s);
        return static_cast<int>(std::min<size_t>(s.size(), 1u << 30));
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_analyzer_is_stop(const xap_analyzer *a, const char *word, size_t len)
{
    if (!a || !a->has_stop || !word)
        return 0;
    try {
        return a->stopper(std::string(word, len)) ? 1 : 0;
    } catch (...) {
        return 0;
    }
}

extern "C" int xap_analyzer_has_stop(const xap_analyzer *a)
{
    return a && a->has_stop;
}
