// SPDX-License-Identifier: MIT
//
// bench_anchor.cc - the raw-Xapian search anchor of issue #13: what Xapian itself needs
// for the benchmark's queries, in-process, with none of our engine around it. Each
// thread opens its own Xapian::Database and cycles through the query set from its own
// starting point for S seconds: QueryParser (English stemmer, STEM_SOME, default flags
// plus wildcards, default operator OR), Enquire with BM25Weight, the top 10, and each
// hit's document data read. run_engine.py divides kb-server's figures by these.
//
//     bench_anchor --index=DIR --queries=FILE [--threads=2] [--seconds=8] [--exact=0|1]
//
// DIR is any Xapian database (run_engine.py uses omindex's index of the same corpus).
// --exact=1 asks Xapian to count every match (check_at_least = the document count), as
// kb-server does below KB_EXACT_DOCS; by default Xapian estimates the total.
// A query the parser rejects is parsed again without operators (as kb-server does).
// Prints "anchor: Q queries, X q/s, p50 A ms, p99 B ms, E errors, cpu C s, bytes D"
// (C: the threads' CPU time in their query loops; D: document data bytes read).
// Exit status 0, 1 on an error (message on stderr), 2 on a usage error.
#include <xapian.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace
{

struct Options {
    std::string index, queries;
    unsigned threads = 2;
    double seconds = 8;
    bool exact = false;
};

struct Result {
    std::vector<double> lat; // seconds per query
    double cpu = 0;
    size_t errors = 0, bytes = 0;
    std::string error;
};

double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// One thread's loop over the queries, from query `start` on.
void run(const Options &o, const std::vector<std::string> &queries, size_t start,
         Result *res)
{
    try {
        Xapian::Database db(o.index);
        Xapian::QueryParser qp;
        qp.set_stemmer(Xapian::Stem("english"));
        qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
        qp.set_database(db);
        qp.set_default_op(Xapian::Query::OP_OR);
        const unsigned flags =
            Xapian::QueryParser::FLAG_DEFAULT | Xapian::QueryParser::FLAG_WILDCARD;
        Xapian::Enquire enq(db);
        enq.set_weighting_scheme(Xapian::BM25Weight());
        const Xapian::doccount check = o.exact ? db.get_doccount() : 0;
        res->lat.reserve(1 << 20);
        double cpu0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        double end = clock_s(CLOCK_MONOTONIC) + o.seconds;
        for (size_t i = start;; i++) {
            double t0 = clock_s(CLOCK_MONOTONIC);
            if (t0 >= end)
                break;
            const std::string &q = queries[i % queries.size()];
            Xapian::Query query;
            try {
                query = qp.parse_query(q, flags);
            } catch (const Xapian::QueryParserError &) {
                query = qp.parse_query(q, 0);
            }
            enq.set_query(query);
            Xapian::MSet m = enq.get_mset(0, 10, check);
            for (Xapian::MSetIterator it = m.begin(); it != m.end(); ++it)
                res->bytes += it.get_document().get_data().size();
            res->lat.push_back(clock_s(CLOCK_MONOTONIC) - t0);
        }
        res->cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - cpu0;
    } catch (const Xapian::Error &e) {
        res->errors++;
        res->error = e.get_description();
    }
}

bool parse_args(int argc, char **argv, Options *o)
{
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        size_t eq = a.find('=');
        if (eq == std::string::npos)
            return false;
        std::string k = a.substr(0, eq), v = a.substr(eq + 1);
        if (k == "--index")
            o->index = v;
        else if (k == "--queries")
            o->queries = v;
        else if (k == "--threads")
            o->threads = static_cast<unsigned>(std::strtoul(v.c_str(), nullptr, 10));
        else if (k == "--seconds")
            o->seconds = std::strtod(v.c_str(), nullptr);
        else if (k == "--exact")
            o->exact = v == "1";
        else
            return false;
    }
    return !o->index.empty() && !o->queries.empty() && o->threads >= 1 &&
           o->threads <= 64 && o->seconds > 0;
}

} // namespace

int main(int argc, char **argv)
{
    Options o;
    if (!parse_args(argc, argv, &o)) {
        std::fprintf(stderr,
                     "usage: bench_anchor --index=DIR --queries=FILE [--threads=2] "
                     "[--seconds=8] [--exact=0|1]\n");
        return 2;
    }
    std::vector<std::string> queries;
    std::ifstream in(o.queries);
    for (std::string line; std::getline(in, line);)
        if (!line.empty())
            queries.push_back(line);
    if (queries.empty()) {
        std::fprintf(stderr, "bench_anchor: no queries in '%s'\n", o.queries.c_str());
        return 1;
    }
    std::vector<Result> res(o.threads);
    std::vector<std::thread> th;
    double t0 = clock_s(CLOCK_MONOTONIC);
    for (unsigned t = 0; t < o.threads; t++)
        th.emplace_back(run, std::cref(o), std::cref(queries),
                        (static_cast<size_t>(t) * 997) % queries.size(), &res[t]);
    for (std::thread &t : th)
        t.join();
    double wall = clock_s(CLOCK_MONOTONIC) - t0;
    std::vector<double> lat;
    double cpu = 0;
    size_t errors = 0, bytes = 0;
    for (const Result &r : res) {
        lat.insert(lat.end(), r.lat.begin(), r.lat.end());
        cpu += r.cpu;
        errors += r.errors;
        bytes += r.bytes;
        if (!r.error.empty())
            std::fprintf(stderr, "bench_anchor: %s\n", r.error.c_str());
    }
    if (errors || lat.empty())
        return 1;
    std::sort(lat.begin(), lat.end());
    auto pct = [&lat](double p) {
        size_t k = static_cast<size_t>(p * static_cast<double>(lat.size() - 1));
        return 1e3 * lat[k];
    };
    std::printf("anchor: %zu queries, %.1f q/s, p50 %.3f ms, p99 %.3f ms, %zu errors, "
                "cpu %.3f s, bytes %zu\n",
                lat.size(), static_cast<double>(lat.size()) / wall, pct(0.50), pct(0.99),
                errors, cpu, bytes);
    return 0;
}
