// SPDX-License-Identifier: MIT
// alloc_hook.cc - the C++ half of the allocation-failure sweep (test_alloc_fail.c): the
// global operator new and delete of the test program, so that every C++ allocation
// (xapian-c's, and libxapian's own) is counted and fails in turn with std::bad_alloc,
// as a real out-of-memory would. Memory comes from __real_malloc (the C library's
// malloc behind the --wrap link option; under ASan, ASan's), so it is still checked.
//
// Only allocations made for our code fail: the first frame above operator new that is
// in libxapian or in this program decides (libstdc++'s frames, std::string's for
// instance, are passed over). libxapian's own allocations are left alone: Xapian 1.4
// lets std::bad_alloc reach a noexcept frame inside WritableDatabase::commit, and
// std::terminate ends the process (seen with this sweep), which only Xapian can fix.
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <execinfo.h>
#include <new>

extern "C" int kb_alloc_armed(void);
extern "C" int kb_alloc_should_fail(void);
extern "C" void *__real_malloc(std::size_t n);
extern "C" char __executable_start;
extern "C" char etext;

__attribute__((noinline)) bool for_our_code()
{
    void *frames[32];
    int n = backtrace(frames, 32);
    for (int i = 0; i < n; i++) {
        char *pc = static_cast<char *>(frames[i]);
        Dl_info di;
        if (!dladdr(pc, &di))
            continue;
        if (pc >= &__executable_start && pc < &etext) {
            /* this file's frames (the program is linked with -rdynamic) do not count */
            if (di.dli_sname && (!std::strncmp(di.dli_sname, "_Znw", 4) ||
                                 !std::strncmp(di.dli_sname, "_Zna", 4) ||
                                 std::strstr(di.dli_sname, "for_our_code")))
                continue;
            return true;
        }
        if (di.dli_fname && std::strstr(di.dli_fname, "libxapian"))
            return false;
    }
    return false;
}

void *operator new(std::size_t n)
{
    if (kb_alloc_armed() && for_our_code() && kb_alloc_should_fail())
        throw std::bad_alloc();
    void *p = __real_malloc(n ? n : 1);
    if (!p)
        throw std::bad_alloc();
    return p;
}

void *operator new[](std::size_t n)
{
    return operator new(n);
}

void *operator new(std::size_t n, const std::nothrow_t &) noexcept
{
    try {
        return operator new(n);
    } catch (...) {
        return nullptr;
    }
}

void *operator new[](std::size_t n, const std::nothrow_t &) noexcept
{
    try {
        return operator new(n);
    } catch (...) {
        return nullptr;
    }
}

void operator delete(void *p) noexcept
{
    std::free(p);
}

void operator delete[](void *p) noexcept
{
    std::free(p);
}

void operator delete(void *p, std::size_t) noexcept
{
    std::free(p);
}

void operator delete[](void *p, std::size_t) noexcept
{
    std::free(p);
}
