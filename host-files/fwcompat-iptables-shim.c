/*
 * Every iptables/ip6tables call on the host lands here (via /usr/local/sbin symlinks, first
 * on dockerd's PATH), and so does every nft call where the host has nftables. It runs the
 * real binary unchanged (iptables: the selected build; nft: /usr/sbin/nft) and appends one
 * line to the trace: start and end (epoch seconds, µs), exit status, caller, binary dir,
 * tool, argv (each argument followed by \x1f) and stderr (newlines as \x1e), TAB-separated,
 * and for `nft -f -` a ninth field: the script read from stdin (newlines as \x1e). Tabs and
 * newlines inside argv, and tabs in stderr and the script, become spaces so a call stays one line.
 * src/contract/host-contract.ts (TRACE) is the other side of this format.
 *
 * Compiled (static, libc only) because dockerd makes hundreds of these calls per attempt, and for
 * the same reason it does what a build's wrapper script says instead of starting a shell for it
 * (see unwrap); start and end still surround the real binary's run.
 * The FWCOMPAT_* variables exist for tests; hosts never set them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define SELF "fwcompat-iptables-shim"

extern char **environ;

/* A growable byte string, always NUL-terminated. */
struct buf {
  char *data;
  size_t len, cap;
};

static void put(struct buf *b, const char *bytes, size_t n) {
  if (b->len + n + 1 > b->cap) {
    b->cap = 2 * (b->len + n + 1);
    b->data = realloc(b->data, b->cap);
    if (!b->data) {
      perror(SELF);
      exit(1);
    }
  }
  memcpy(b->data + b->len, bytes, n);
  b->len += n;
  b->data[b->len] = '\0';
}

static void put_str(struct buf *b, const char *s) { put(b, s, strlen(s)); }

/* One value of the trace line: tabs become spaces and newlines `newline`. */
static void put_field(struct buf *b, const char *s, size_t n, char newline) {
  for (size_t i = 0; i < n; i++) {
    char c = s[i] == '\t' ? ' ' : s[i] == '\n' ? newline : s[i];
    put(b, &c, 1);
  }
}

static int read_all(int fd, struct buf *b) {
  char chunk[65536];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n == 0) return 0;
    if (n < 0 && errno != EINTR) return -1;
    if (n > 0) put(b, chunk, (size_t)n);
  }
}

static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return;
    p += w;
    n -= (size_t)w;
  }
}

/* A variable the tests set, or the host's default (an empty value counts as unset). */
static const char *setting(const char *name, const char *fallback) {
  const char *value = getenv(name);
  return value && *value ? value : fallback;
}

/* The first line of a file without surrounding blanks (what the shell's `read -r` gives); NULL if there is none. */
static char *first_line(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  struct buf b = {0};
  int failed = read_all(fd, &b) < 0 || b.len == 0;
  close(fd);
  if (failed) {
    free(b.data);
    return NULL;
  }
  char *line = b.data;
  line[strcspn(line, "\n")] = '\0';
  while (*line == ' ' || *line == '\t') line++;
  for (size_t n = strlen(line); n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'); n--) line[n - 1] = '\0';
  return line;
}

/* `nft -f -`: the ruleset comes on stdin, and the trace keeps it. */
static int reads_script(int argc, char **argv) {
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], "-f") == 0 && strcmp(argv[i + 1], "-") == 0) return 1;
  return 0;
}

/* A descriptor to read `script` from, for the real nft's stdin. */
static int script_input(const struct buf *script) {
  int fd = memfd_create("nft-script", MFD_CLOEXEC);
  if (fd < 0) {
    perror(SELF ": memfd_create");
    exit(1);
  }
  write_all(fd, script->data ? script->data : "", script->len);
  lseek(fd, 0, SEEK_SET);
  return fd;
}

/*
 * fwcompat-make-wrappers writes each tool of a build as this script:
 *   #!/bin/sh
 *   LD_LIBRARY_PATH=<lib> XTABLES_LIBDIR=<xtables> exec <multi> <tool> "$@"
 * For a file of exactly that form this sets the two variables and returns the command line
 * (<multi> <tool> argv...), sparing a shell per call; for anything else (nft, a test's stub) NULL.
 */
static char **unwrap(const char *path, int argc, char **argv) {
  static char text[4 * PATH_MAX], lib[PATH_MAX], xtables[PATH_MAX], multi[PATH_MAX], tool[NAME_MAX + 1];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0) return NULL;
  text[n] = '\0';
  int end = 0;
  sscanf(text, "#!/bin/sh\nLD_LIBRARY_PATH=%4095s XTABLES_LIBDIR=%4095s exec %4095s %255s \"$@\"%n", lib, xtables, multi, tool, &end);
  if (end == 0 || strspn(text + end, "\n") != strlen(text + end)) return NULL;
  char **command = calloc((size_t)argc + 2, sizeof *command);
  if (!command || setenv("LD_LIBRARY_PATH", lib, 1) || setenv("XTABLES_LIBDIR", xtables, 1)) return NULL;
  command[0] = multi;
  command[1] = tool;
  memcpy(command + 2, argv + 1, (size_t)argc * sizeof *command); /* argv[1..argc], NULL included */
  return command;
}

/* Runs the real tool with stderr into errfd (and stdin from stdinfd unless -1); its status as a shell reports it. */
static int run(char *path, int argc, char **argv, int errfd, int stdinfd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, errfd, STDERR_FILENO);
  if (stdinfd >= 0) posix_spawn_file_actions_adddup2(&actions, stdinfd, STDIN_FILENO);
  char **command = unwrap(path, argc, argv);
  if (!command) {
    command = argv;
    command[0] = path;
  }
  pid_t pid;
  int failed = posix_spawn(&pid, command[0], &actions, NULL, command, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (failed) {
    dprintf(errfd, "%s: %s: %s\n", SELF, command[0], strerror(failed));
    return failed == ENOENT ? 127 : 126;
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return 1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* What the trace keeps of one call. */
struct call {
  struct timeval start, end;
  int rc;
  const char *caller, *dir, *tool;
  int argc;
  char **argv;
  struct buf err, script;
};

/* One line per call, written at once to an O_APPEND file: concurrent calls each add a whole line. */
static void append_trace(const struct call *c) {
  struct buf line = {0};
  char times[96];
  snprintf(times, sizeof times, "%ld.%06ld\t%ld.%06ld\t%d\t", (long)c->start.tv_sec, (long)c->start.tv_usec, (long)c->end.tv_sec,
           (long)c->end.tv_usec, c->rc);
  put_str(&line, times);
  put_str(&line, c->caller);
  put_str(&line, "\t");
  put_str(&line, c->dir);
  put_str(&line, "\t");
  put_str(&line, c->tool);
  put_str(&line, "\t");
  for (int i = 1; i < c->argc; i++) {
    put_field(&line, c->argv[i], strlen(c->argv[i]), ' ');
    put_str(&line, "\x1f");
  }
  /* a call without arguments still gets one \x1f: the bash shim's printf wrote the format once */
  if (c->argc < 2) put_str(&line, "\x1f");
  put_str(&line, "\t");
  put_field(&line, c->err.data, c->err.len, '\x1e');
  put_str(&line, "\t");
  put_field(&line, c->script.data, c->script.len, '\x1e');
  put_str(&line, "\n");

  const char *path = setting("FWCOMPAT_IPTABLES_TRACE", "/run/fwcompat/iptables-trace");
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) {
    fprintf(stderr, "%s: %s: %s\n", SELF, path, strerror(errno));
    return;
  }
  write_all(fd, line.data, line.len);
  close(fd);
}

/* The directory of the real tool: the selected iptables build's, or nft's. */
static const char *real_dir(int nft) {
  if (nft) return setting("FWCOMPAT_NFT_DIR", "/usr/sbin");
  const char *file = setting("FWCOMPAT_IPTABLES_DIR_FILE", "/run/fwcompat/iptables-dir");
  errno = 0;
  const char *dir = first_line(file);
  if (dir) return dir;
  if (errno) fprintf(stderr, "%s: %s: %s\n", SELF, file, strerror(errno));
  return "";
}

int main(int argc, char **argv) {
  struct call call = {.argc = argc, .argv = argv};
  const char *slash = strrchr(argv[0], '/');
  call.tool = slash ? slash + 1 : argv[0];
  int nft = strcmp(call.tool, "nft") == 0;
  call.dir = real_dir(nft);
  char comm[64];
  snprintf(comm, sizeof comm, "/proc/%d/comm", (int)getppid());
  call.caller = first_line(comm);
  if (!call.caller) call.caller = "unknown";

  int stdinfd = -1;
  if (nft && reads_script(argc, argv)) {
    read_all(STDIN_FILENO, &call.script);
    stdinfd = script_input(&call.script);
  }
  struct buf path = {0}, errpath = {0};
  put_str(&path, call.dir);
  put_str(&path, "/");
  put_str(&path, call.tool);
  char pid[16];
  snprintf(pid, sizeof pid, ".%d", (int)getpid());
  put_str(&errpath, setting("FWCOMPAT_SHIM_ERR", "/run/fwcompat/shim-err"));
  put_str(&errpath, pid);
  /* stderr goes to a file first: the trace keeps it, then the caller gets it */
  int errfd = open(errpath.data, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (errfd < 0) fprintf(stderr, "%s: %s: %s\n", SELF, errpath.data, strerror(errno));

  gettimeofday(&call.start, NULL);
  call.rc = errfd < 0 ? 1 : run(path.data, argc, argv, errfd, stdinfd);
  gettimeofday(&call.end, NULL);

  if (errfd >= 0 && lseek(errfd, 0, SEEK_SET) == 0) read_all(errfd, &call.err);
  write_all(STDERR_FILENO, call.err.data, call.err.len);
  append_trace(&call);
  if (errfd >= 0 && ftruncate(errfd, 0) < 0) fprintf(stderr, "%s: %s: %s\n", SELF, errpath.data, strerror(errno));
  return call.rc;
}
