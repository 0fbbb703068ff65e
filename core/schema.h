/* SPDX-License-Identifier: MIT */
/*
 * schema.h - the index schema in one place: every term prefix and value slot that the
 * indexer writes and the server reads. Prefixes follow Omega's conventions where one
 * exists (Q unique id, S title, A author, L language, K keyword/topic, Y year). Bump
 * KB_SCHEMA_VERSION whenever the normaliser or this layout changes: the indexer then
 * refuses to update an index of another version and asks for --full.
 */
#ifndef KB_SCHEMA_H
#define KB_SCHEMA_H

/* 2: visibility (XV term, slot 9), date_source and -date (slot 10) */
#define KB_SCHEMA_VERSION "2"

/* Free-text prefixes (positional, stemmed). The body is unprefixed. */
#define KB_PFX_UID      "Q" /* Quid: the unique id (kb_query_uid_term) */
#define KB_PFX_TITLE    "S"
#define KB_PFX_AUTHOR   "A"
#define KB_PFX_ORG_TEXT "XO"
#define KB_PFX_ABSTRACT "XA"

/* Boolean (filter) prefixes; values are lower-case. Q (unique id) is added by xapian-c.
 */
#define KB_PFX_LANG    "L"     /* Lfr */
#define KB_PFX_TOPIC   "K"     /* Khydrogen */
#define KB_PFX_YEAR    "Y"     /* Y2024 */
#define KB_PFX_TYPE    "XTYPE" /* XTYPEbrief */
#define KB_PFX_ORG     "XORG"  /* XORGpolo automotive torino */
#define KB_PFX_FORMAT  "XFMT"  /* XFMTpdf */
#define KB_PFX_CONCEPT "XC"    /* XCfuel-cell: weighted, wdf = occurrences */
#define KB_PFX_GROUP   "XG"    /* XGtri heat pump: translation_of (versions of a brief) */
/* Every document has exactly one of these two terms. Anonymous searches are filtered on
 * KB_TERM_PUBLIC (a positive term, so a document without either is never shown: an
 * index built before visibility existed fails closed). */
#define KB_PFX_VISIBILITY "XV"
#define KB_TERM_PUBLIC    "XVpublic"
#define KB_TERM_MEMBERS   "XVmembers"

/* Value slots. */
/* KB_SLOT_DATE is unset when the date is only the file's time (date_source "file");
 * KB_SLOT_DATE_NEG holds -YYYYMMDD: oldest first is that slot descending, so that
 * documents without a publication date come last both ways. */
enum kb_slot {
    KB_SLOT_MTIME = 0,      /* source mtime, sortable number */
    KB_SLOT_SIZE = 1,       /* source size, sortable number */
    KB_SLOT_CHECKSUM = 2,   /* xxh64 hex of the content: collapse key for duplicates */
    KB_SLOT_DATE = 3,       /* YYYYMMDD, sortable number: sort and date ranges */
    KB_SLOT_LANG = 4,       /* "fr" | "it" | "en": facet */
    KB_SLOT_TOPICS = 5,     /* topic ids separated by KB_MULTI_SEP: facet */
    KB_SLOT_ORG = 6,        /* organisation as written: facet */
    KB_SLOT_TYPE = 7,       /* document type: facet */
    KB_SLOT_YEAR = 8,       /* "2024": facet */
    KB_SLOT_VISIBILITY = 9, /* "public" | "members" */
    KB_SLOT_DATE_NEG = 10,  /* -YYYYMMDD, sortable number: oldest first */
    KB_SLOT_META = 11       /* the metadata JSON (a copy of the data's first part) */
};
/* A document's data is its metadata as JSON, a NUL byte, then its body (the document
 * view, the feed, snippets). KB_SLOT_META holds the same JSON alone, so that a search's
 * hits read their metadata without inflating the body (Xapian stores the data whole):
 * the body is read only for a snippet. Documents indexed before the slot existed (no
 * KB_SLOT_META) are still served: their hits fall back to the data (same output, the
 * old cost), so the slot needs no new KB_SCHEMA_VERSION and no rebuild. The slot is
 * written only for a body of KB_META_SLOT_MIN_BODY bytes or more (below, the data is
 * cheap to read whole): Xapian 1.4's glass ValueUpdater rewrites its chunk in its
 * destructor, so a value write that fails on a full disk aborts the process
 * (std::terminate) once value chunks fill often; a copy of every document's metadata
 * made test_faults_diskfull's --full abort at 11 of 25 file size limits. */
#define KB_META_SLOT_MIN_BODY (16u * 1024u)
#define KB_MULTI_SEP          '\x1f'

/* Metadata keys. */
#define KB_META_SCHEMA   "kb:schema"   /* KB_SCHEMA_VERSION */
#define KB_META_LAST_RUN "kb:last_run" /* JSON report of the last indexer run */
/* The index location's revision is this base plus the generation's Xapian revision: a new
 * generation (--full) starts its base at the previous generation's last revision, so the
 * revision clients see grows for the life of the location, across generations. */
#define KB_META_REV_BASE "kb:revision_base" /* decimal; absent: 0 */
#define KB_META_FAILED_PREFIX                                                            \
    "kb:failed:" /* + document id -> JSON {mtime,size,reason}                            \
                  */

#endif
