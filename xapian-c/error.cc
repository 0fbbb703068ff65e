// SPDX-License-Identifier: MIT
//
// error.cc - exceptions become codes: every exported function of the binding ends in
// `catch (...) { return fail(err); }`, and fail() rethrows and maps each Xapian exception
// class (most derived first), std::bad_alloc and anything else to an xap_code with its
// message.

#include "internal.h"

#include <cstdio>
#include <cstring>

// ------------------------------------------------------------------------------------
// Errors

void copy_str(char *dst, size_t cap, const std::string &src) noexcept
{
    size_t n = std::min(src.size(), cap - 1);
    std::memcpy(dst, src.data(), n);
    dst[n] = '\0';
}

void copy_cstr(char *dst, size_t cap, const char *src) noexcept
{
    size_t n = std::min(std::strlen(src), cap - 1);
    std::memcpy(dst, src, n);
    dst[n] = '\0';
}

int fill_plain(xap_error *e, int code, const char *msg) noexcept
{
    if (e && e->code == XAP_OK) {
        e->code = code;
        e->type[0] = '\0';
        e->context[0] = '\0';
        copy_cstr(e->msg, sizeof e->msg, msg);
    }
    return code;
}

namespace
{
// The context of this thread's last Xapian failure (a remote shard names its endpoint
// there): which shard failed, for xap_reader_failed_shard. Handles are per thread.
thread_local char last_context[160];
thread_local bool last_timeout;
} // namespace

const char *last_error_context() noexcept
{
    return last_context;
}

bool last_error_timed_out() noexcept
{
    return last_timeout;
}

bool timed_out_here(const Xapian::Error &x) noexcept
{
    // NetworkTimeoutError raised by the client; "REMOTE:" marks one the server sent
    // back (e.g. xapian-tcpsrv's idle timeout), after which a new connection works
    return std::strcmp(x.get_type(), "NetworkTimeoutError") == 0 &&
           x.get_msg().compare(0, 7, "REMOTE:") != 0;
}

static int fill(xap_error *e, int code, const Xapian::Error &x) noexcept
{
    copy_str(last_context, sizeof last_context, x.get_context());
    last_timeout = timed_out_here(x);
    if (e && e->code == XAP_OK) {
        e->code = code;
        copy_cstr(e->type, sizeof e->type, x.get_type());
        copy_str(e->msg, sizeof e->msg, x.get_msg());
        copy_str(e->context, sizeof e->context, x.get_context());
        try {
            const char *es = x.get_error_string();
            if (es && *es) {
                size_t used = std::strlen(e->msg);
                std::snprintf(e->msg + used, sizeof e->msg - used, " (%s)", es);
            }
        } catch (...) {
        }
    }
    return code;
}

// Called only inside a catch block: classifies the exception being handled.
int fail(xap_error *e) noexcept
{
    try {
        throw;
    } catch (const Xapian::DatabaseModifiedError &x) {
        return fill(e, XAP_E_DB_MODIFIED, x);
    } catch (const Xapian::DatabaseLockError &x) {
        return fill(e, XAP_E_DB_LOCKED, x);
    } catch (const Xapian::DatabaseNotFoundError &x) {
        return fill(e, XAP_E_DB_NOT_FOUND, x);
    } catch (const Xapian::DatabaseVersionError &x) {
        return fill(e, XAP_E_DB_VERSION, x);
    } catch (const Xapian::DatabaseOpeningError &x) {
        return fill(e, XAP_E_DB_OPENING, x);
    } catch (const Xapian::DatabaseCorruptError &x) {
        return fill(e, XAP_E_DB_CORRUPT, x);
    } catch (const Xapian::DatabaseClosedError &x) {
        return fill(e, XAP_E_DB_CLOSED, x);
    } catch (const Xapian::DatabaseError &x) {
        return fill(e, XAP_E_DATABASE, x);
    } catch (const Xapian::NetworkTimeoutError &x) {
        return fill(e, XAP_E_NET_TIMEOUT, x);
    } catch (const Xapian::NetworkError &x) {
        return fill(e, XAP_E_NETWORK, x);
    } catch (const Xapian::QueryParserError &x) {
        return fill(e, XAP_E_QUERY_SYNTAX, x);
    } catch (const Xapian::WildcardError &x) {
        return fill(e, XAP_E_WILDCARD, x);
    } catch (const Xapian::DocNotFoundError &x) {
        return fill(e, XAP_E_DOC_NOT_FOUND, x);
    } catch (const Xapian::RangeError &x) {
        return fill(e, XAP_E_RANGE, x);
    } catch (const Xapian::InvalidArgumentError &x) {
        return fill(e, XAP_E_INVALID_ARG, x);
    } catch (const Xapian::InvalidOperationError &x) {
        return fill(e, XAP_E_INVALID_OP, x);
    } catch (const Xapian::UnimplementedError &x) {
        return fill(e, XAP_E_UNIMPLEMENTED, x);
    } catch (const Xapian::FeatureUnavailableError &x) {
        return fill(e, XAP_E_UNIMPLEMENTED, x);
    } catch (const Xapian::Error &x) {
        return fill(e, XAP_E_XAPIAN, x);
    } catch (const std::bad_alloc &) {
        return fill_plain(e, XAP_E_NOMEM, "out of memory");
    } catch (const std::exception &x) {
        return fill_plain(e, XAP_E_INTERNAL, x.what());
    } catch (...) {
        return fill_plain(e, XAP_E_UNKNOWN, "unknown C++ exception");
    }
}

int bad_arg(xap_error *e, const char *msg) noexcept
{
    return fill_plain(e, XAP_E_INVALID_ARG, msg);
}

extern "C" const char *xap_code_name(int code)
{
    switch (code) {
    case XAP_OK:
        return "ok";
    case XAP_E_DB_MODIFIED:
        return "db_modified";
    case XAP_E_DB_LOCKED:
        return "db_locked";
    case XAP_E_DB_NOT_FOUND:
        return "db_not_found";
    case XAP_E_DB_VERSION:
        return "db_version";
    case XAP_E_DB_OPENING:
        return "db_opening";
    case XAP_E_DB_CORRUPT:
        return "db_corrupt";
    case XAP_E_DB_CLOSED:
        return "db_closed";
    case XAP_E_DATABASE:
        return "database";
    case XAP_E_NET_TIMEOUT:
        return "network_timeout";
    case XAP_E_NETWORK:
        return "network";
    case XAP_E_QUERY_SYNTAX:
        return "query_syntax";
    case XAP_E_WILDCARD:
        return "wildcard";
    case XAP_E_DOC_NOT_FOUND:
        return "doc_not_found";
    case XAP_E_RANGE:
        return "range";
    case XAP_E_INVALID_ARG:
        return "invalid_argument";
    case XAP_E_INVALID_OP:
        return "invalid_operation";
    case XAP_E_UNIMPLEMENTED:
        return "unimplemented";
    case XAP_E_XAPIAN:
        return "xapian";
    case XAP_E_NOMEM:
        return "out_of_memory";
    case XAP_E_INTERNAL:
        return "internal";
    case XAP_E_UNKNOWN:
        return "unknown";
    case XAP_E_NOT_FOUND:
        return "not_found";
    case XAP_E_TOO_SMALL:
        return "too_small";
    default:
        return "unknown";
    }
}

// Returns a malloc'ed NUL-terminated copy, or NULL.
char *dup_bytes(const std::string &s) noexcept
{
    char *p = static_cast<char *>(std::malloc(s.size() + 1));
    if (p) {
        std::memcpy(p, s.data(), s.size());
        p[s.size()] = '\0';
    }
    return p;
}
