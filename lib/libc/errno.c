/* errno, one per thread in its thread block, and the messages for it. */
#include "tls.h"

#include <errno.h>
#include <string.h>

int *__errno_location(void)
{
    return &pith_tls_self()->errno_value;
}

/*
 * Our own strerror: musl's looks the message up through the locale held in
 * its own thread structure, which native programs do not have.  The
 * runtime sets only a few error numbers; the rest get a generic text.
 */
char *strerror(int e)
{
    switch (e) {
    case 0: return "No error information";
    case EPERM: return "Operation not permitted";
    case ENOENT: return "No such file or directory";
    case ESRCH: return "No such process";
    case EINTR: return "Interrupted system call";
    case EIO: return "I/O error";
    case EBADF: return "Bad file descriptor";
    case EAGAIN: return "Resource temporarily unavailable";
    case ENOMEM: return "Out of memory";
    case EACCES: return "Permission denied";
    case EFAULT: return "Bad address";
    case EBUSY: return "Resource busy";
    case EEXIST: return "File exists";
    case EINVAL: return "Invalid argument";
    case ENOSPC: return "No space left on device";
    case EDOM: return "Domain error";
    case ERANGE: return "Result not representable";
    case EDEADLK: return "Resource deadlock would occur";
    case ENOSYS: return "Function not implemented";
    case EOVERFLOW: return "Value too large for data type";
    case EILSEQ: return "Illegal byte sequence";
    case ETIMEDOUT: return "Operation timed out";
    default: return "Unknown error";
    }
}

/* The name musl's own code calls. */
int *___errno_location(void);
int *___errno_location(void)
{
    return &pith_tls_self()->errno_value;
}
