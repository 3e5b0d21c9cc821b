/*
 * The raw ceiling: runs a command on a new pseudo-terminal and reads the master
 * in 64 KiB reads until the slave side is closed, doing nothing with the bytes.
 * Prints "<bytes> <reads> <seconds> <cpu seconds of this reader>".
 * Built by the benchmark with the system's C compiler: cc -O2 raw-pty.c -lutil
 */
#include <pty.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: raw-pty command [args...]\n");
    return 2;
  }
  static char buffer[65536];
  double start = now();
  int master;
  pid_t pid = forkpty(&master, NULL, NULL, NULL);
  if (pid < 0) {
    perror("forkpty");
    return 1;
  }
  if (pid == 0) {
    execvp(argv[1], argv + 1);
    _exit(127);
  }
  long long total = 0, reads = 0;
  for (;;) {
    ssize_t n = read(master, buffer, sizeof buffer);
    if (n <= 0) break; /* EIO: the slave side closed */
    total += n;
    reads++;
  }
  double seconds = now() - start;
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  waitpid(pid, NULL, 0);
  printf("%lld %lld %.6f %.6f\n", total, reads, seconds,
         usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6);
  return 0;
}
