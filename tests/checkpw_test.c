/* Tests for lib/checkpw.c: what the checkpassword program gets on
 * descriptors 0, 1 and 3, its exit codes, a program that hangs, and
 * credentials over the interface's 512 bytes.
 * not tested: fork failing. */

#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "checkpw.h"
#include "tmpdir.h"

int main(void)
{
  char *recorder[] = { "/bin/sh", "-c", "cat <&3 > \"$0\"; read x; echo \"$x\" >> \"$0\"; exit 1", 0, 0 };
  char *sub[] = { "/bin/sh", "-c", "exit \"$0\"", 0, 0 };
  char *hang[] = { "/bin/sh", "-c", "exec sleep 30", 0 };
  char file[600], buf[600], big[600];
  FILE *f;
  size_t n;
  int codes[] = { 0, 1, 2, 111, 7 };
  size_t i;

  tmpdir_make("checkpw_test");
  snprintf(file, sizeof file, "%s", tmpdir_path("got"));
  recorder[3] = file;
  check_long(checkpw_run(recorder, "alice", 5, "sec\nret", 7, "<1.2@host>", 30), 1, "the program's exit code");
  f = fopen(file, "rb");
  n = f ? fread(buf, 1, sizeof buf, f) : 0;
  if (f) fclose(f);
  check_bytes(buf, n, "alice\0sec\nret\0<1.2@host>\0\n", 26, "fd 3 holds user NUL password NUL timestamp NUL; fd 0 is empty");

  for (i = 0; i < sizeof codes / sizeof codes[0]; ++i) {
    char code[8];
    snprintf(code, sizeof code, "%d", codes[i]);
    sub[3] = code;
    check_long(checkpw_run(sub, "u", 1, "p", 1, "<t>", 30), codes[i], "exit %d is returned", codes[i]);
  }
  check_long(checkpw_run(hang, "u", 1, "p", 1, "<t>", 1), -1, "a program that hangs is killed after the timeout: -1");
  {
    char *missing[] = { "/nonexistent/checkpassword", 0 };
    check_long(checkpw_run(missing, "u", 1, "p", 1, "<t>", 30), 111, "a program that cannot be run: 111");
  }
  memset(big, 'x', sizeof big);
  {
    char *ok[] = { "/bin/sh", "-c", "exit 0", 0 };
    check_long(checkpw_run(ok, big, 505, "p", 1, "<t>", 30), 0, "512 bytes in all: run");
    check_long(checkpw_run(ok, big, 506, "p", 1, "<t>", 30), 1, "513 bytes in all: refused without running");
  }
  {
    /* keepstdio: the program gets this process's descriptor 1. */
    char *echo[] = { "/bin/sh", "-c", "echo session; exit 0", 0 };
    int pi[2], saved = dup(1);
    char got[32];
    ssize_t k;
    if (pipe(pi) == -1 || saved == -1) return 111;
    fflush(stdout);
    dup2(pi[1], 1);
    close(pi[1]);
    check_long(checkpw_runv(echo, "u", 1, "p", 1, "<t>", 0, 1), 0, "checkpw_runv with no timeout waits for the program");
    dup2(saved, 1);
    close(saved);
    k = read(pi[0], got, sizeof got);
    close(pi[0]);
    check_bytes(got, k > 0 ? (size_t)k : 0, "session\n", 8, "keepstdio: the program writes to our descriptor 1");
  }
  tmpdir_remove();
  return check_end();
}
