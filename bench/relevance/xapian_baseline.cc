// SPDX-License-Identifier: MIT
//
// xapian_baseline.cc - the "plain Xapian" baseline of bench/relevance: what a newcomer
// gets from libxapian 1.4 with no tuning. Documents are indexed with a TermGenerator and
// the English stemmer (default STEM_SOME), queries parsed by a QueryParser with the same
// stemmer and its default flags and strategy, ranked by the default BM25Weight. No stop
// words, no accent folding, no field weights. It is deliberately outside the project's
// library (and its xap_ wrapper) so that it measures Xapian, not us.
//
// Usage: xapian_baseline DOCS.tsv QUERIES.tsv DBDIR [TAG]
//   DOCS.tsv and QUERIES.tsv hold "id<TAB>text" lines (bench/relevance/run.py writes
//   them). The database is built in DBDIR unless DBDIR already holds one (then DOCS.tsv
//   is not read, so several query sets share one index), and the top 100 of each
//   query are printed as a TREC run ("qid Q0 docid rank score TAG") on stdout.
// Exit status 0, or 1 with a message on stderr.

#include <xapian.h>

#include <fstream>
#include <iostream>
#include <string>
#include <unistd.h>

// Splits "id<TAB>text"; returns false for a line without a tab.
static bool split_line(const std::string &line, std::string &id, std::string &text)
{
    std::string::size_type tab = line.find('\t');
    if (tab == std::string::npos)
        return false;
    id = line.substr(0, tab);
    text = line.substr(tab + 1);
    return true;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        std::cerr << "usage: xapian_baseline DOCS.tsv QUERIES.tsv DBDIR [TAG]\n";
        return 1;
    }
    const std::string tag = argc > 4 ? argv[4] : "xapian-bm25";
    try {
        Xapian::Stem stem("english");
        if (access((std::string(argv[3]) + "/iamglass").c_str(), F_OK) != 0) {
            Xapian::WritableDatabase db(argv[3], Xapian::DB_CREATE);
            Xapian::TermGenerator tg;
            tg.set_stemmer(stem);
            std::ifstream in(argv[1]);
            if (!in) {
                std::cerr << "xapian_baseline: cannot read '" << argv[1] << "'\n";
                return 1;
            }
            std::string line, id, text;
            db.begin_transaction(false);
            while (std::getline(in, line)) {
                if (!split_line(line, id, text))
                    continue;
                Xapian::Document doc;
                tg.set_document(doc);
                tg.index_text(text);
                doc.set_data(id);
                doc.add_boolean_term("Q" + id);
                db.replace_document("Q" + id, doc);
            }
            db.commit_transaction();
            db.commit();
        }
        Xapian::Database db(argv[3]);
        Xapian::Enquire enq(db);
        enq.set_weighting_scheme(Xapian::BM25Weight());
        Xapian::QueryParser qp;
        qp.set_stemmer(stem);
        qp.set_database(db);
        std::ifstream in(argv[2]);
        if (!in) {
            std::cerr << "xapian_baseline: cannot read '" << argv[2] << "'\n";
            return 1;
        }
        std::string line, id, text;
        while (std::getline(in, line)) {
            if (!split_line(line, id, text))
                continue;
            Xapian::Query q;
            try {
                q = qp.parse_query(text);
            } catch (const Xapian::QueryParserError &e) {
                std::cerr << "xapian_baseline: query " << id << ": " << e.get_msg()
                          << "\n";
                continue; // an empty result for this query, as a user would get
            }
            enq.set_query(q);
            Xapian::MSet m = enq.get_mset(0, 100);
            for (Xapian::MSetIterator it = m.begin(); it != m.end(); ++it)
                std::cout << id << " Q0 " << it.get_document().get_data() << " "
                          << (it.get_rank() + 1) << " " << it.get_weight() << " " << tag
                          << "\n";
        }
    } catch (const Xapian::Error &e) {
        std::cerr << "xapian_baseline: " << e.get_description() << "\n";
        return 1;
    }
    return 0;
}
