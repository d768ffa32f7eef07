/*
 * Shared by the Linux test programs (tests/posix/, docs/posix.md): each
 * prints deterministic lines, the same on the host's Linux and on Pith,
 * which tests/system/posix.sh compares line by line.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* errno's name, so the lines do not depend on the C library's messages. */
static inline const char *errname(int e)
{
    switch (e) {
    case 0: return "ok";
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case EISDIR: return "EISDIR";
    case ENOTDIR: return "ENOTDIR";
    case EBADF: return "EBADF";
    case ENOTEMPTY: return "ENOTEMPTY";
    case EINVAL: return "EINVAL";
    case ENOSYS: return "ENOSYS";
    case ENOTTY: return "ENOTTY";
    case ESPIPE: return "ESPIPE";
    case EFAULT: return "EFAULT";
    case ENOMEM: return "ENOMEM";
    case ECHILD: return "ECHILD";
    case EPIPE: return "EPIPE";
    case EINTR: return "EINTR";
    case ESRCH: return "ESRCH";
    case EACCES: return "EACCES";
    case EAGAIN: return "EAGAIN";
    case EPERM: return "EPERM";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
    case ENOTSOCK: return "ENOTSOCK";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EADDRINUSE: return "EADDRINUSE";
    case ENOTCONN: return "ENOTCONN";
    case EMSGSIZE: return "EMSGSIZE";
    case EINPROGRESS: return "EINPROGRESS";
    case EALREADY: return "EALREADY";
    case EISCONN: return "EISCONN";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EDESTADDRREQ: return "EDESTADDRREQ";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case ECONNRESET: return "ECONNRESET";
    case ELOOP: return "ELOOP";
    case ENOEXEC: return "ENOEXEC";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EDEADLK: return "EDEADLK";
    case EXDEV: return "EXDEV";
    case EMFILE: return "EMFILE";
    case EPROTOTYPE: return "EPROTOTYPE";
    default: return "other";
    }
}

/* Prints what a call returned: "NAME: ok" or "NAME: ERRNO". */
#define CHECK(name, call) do { errno = 0; long r_ = (long)(call); \
    printf("%s: %s\n", name, r_ < 0 ? errname(errno) : "ok"); } while (0)

static inline const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}
