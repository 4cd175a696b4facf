#include "error.h"

#include <errno.h>
#include <string.h>

int error_temp(int e)
{
  switch (e) {
    /* Properties of the request itself: the same input fails again. */
    case ENAMETOOLONG:
    case EFBIG:
    case E2BIG:
    case ENOEXEC:
    case EMSGSIZE:
      return 0;
    default:
      return 1;
  }
}

const char *error_str(int e)
{
  switch (e) {
    case 0: return "no error";
    case ENOMEM: return "out of memory";
    case ENOSPC: return "out of disk space";
    case EDQUOT: return "disk quota exceeded";
    case ETIMEDOUT: return "timed out";
    case EACCES: return "access denied";
    case EPERM: return "permission denied";
    case ENOENT: return "file does not exist";
    case EIO: return "input/output error";
    case EEXIST: return "file already exists";
    case ECONNREFUSED: return "connection refused";
    case ECONNRESET: return "connection reset";
    case EPIPE: return "broken pipe";
    case EAGAIN: return "temporary failure";
    case EINTR: return "interrupted system call";
    case EROFS: return "read-only file system";
    case ENOTDIR: return "not a directory";
    case EISDIR: return "is a directory";
    case ENAMETOOLONG: return "file name too long";
    case EFBIG: return "file too big";
    case EMSGSIZE: return "message too long";
    case ELOOP: return "too many symbolic links";
    case EBADF: return "bad file descriptor";
    default: {
      const char *s = strerror(e);
      return s ? s : "unknown error";
    }
  }
}
