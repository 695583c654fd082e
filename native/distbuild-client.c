/* distbuild's native client: the process CMake, cargo and make start for each job.
 *
 * It sends its argv, working directory and environment to the per-user agent over a Unix
 * socket (proto/agent-protocol.md), relays the output frames the agent sends back, and exits
 * with the code the agent names. When the agent says so it runs its own command here, holding
 * the connection (and with it the agent's local slot) until the command exits. Without an agent
 * it runs the command itself, within the host-wide local slots. Every decision is the agent's;
 * modes other than --compiler and --linker run bin/distbuild.cjs on Node.
 *
 * C11 with POSIX and Linux calls, libc only, no allocation. Built at install by native/build.mjs.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define PROTOCOL 3
enum { F_JSON = 1, F_STDOUT = 2, F_STDERR = 3, F_REQUEST = 16, F_EXIT = 17, F_RUN_LOCAL = 18, F_KEEPALIVE = 19 };
#define KEEPALIVE_MS 2000
#define SILENCE_MS (5 * KEEPALIVE_MS)
#define START_TIMEOUT_MS 10000
#define MAX_FRAME (64u << 20)
#define IOV_N 1024

#ifndef DISTBUILD_NODE
#define DISTBUILD_NODE "node"
#endif
#ifndef DISTBUILD_ROOT
#define DISTBUILD_ROOT "."
#endif

/* What an exchange with the agent came to, when it did not end the process. */
enum outcome { LOST, MISMATCH, STUCK };

static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static char sock_dir[sizeof sock_path];
static char job_id[300];
static char cwd[PATH_MAX];
static char reason[PATH_MAX + 512];
static unsigned char buf[65536];
static struct iovec iov[IOV_N];
static int niov;
static volatile pid_t child_pid;
static long agent_version; /* of an agent that answered MISMATCH */

/* Prints "distbuild: MESSAGE\n" to stderr in one write. */
static void say(const char *fmt, ...) {
  static char line[sizeof reason + 64];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line + 11, sizeof line - 12, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if (n > (int)sizeof line - 12) n = (int)sizeof line - 12;
  memcpy(line, "distbuild: ", 11);
  line[11 + n] = '\n';
  ssize_t w = write(2, line, (size_t)n + 12);
  (void)w;
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms) {
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* Index of the first "--" (argv[0] excluded), or argc. */
static int own_end(int argc, char **argv) {
  for (int i = 1; i < argc; i++) if (strcmp(argv[i], "--") == 0) return i;
  return argc;
}

static int truthy(const char *v) {
  return strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0;
}

/* A boolean setting from the command line or DISTBUILD_<NAME>: a client without an agent reads no config file. */
static int flag_on(int argc, char **argv, const char *flag, const char *env, int dflt) {
  size_t n = strlen(flag);
  int v = dflt;
  const char *e = getenv(env);
  if (e != NULL && *e != '\0') v = truthy(e);
  for (int i = 1; i < own_end(argc, argv); i++) {
    const char *a = argv[i];
    if (strncmp(a, "--", 2) != 0) continue;
    if (strcmp(a + 2, flag) == 0) v = 1;
    else if (strncmp(a + 2, "no-", 3) == 0 && strcmp(a + 5, flag) == 0) v = 0;
    else if (strncmp(a + 2, flag, n) == 0 && a[2 + n] == '=') v = truthy(a + 3 + n);
  }
  return v;
}

/* The agent socket: --agent-socket, else DISTBUILD_AGENT_SOCKET, else the per-user default. */
static int find_socket(int argc, char **argv) {
  const char *s = NULL;
  for (int i = 1; i < own_end(argc, argv); i++) {
    if (strncmp(argv[i], "--agent-socket=", 15) == 0) s = argv[i] + 15;
    else if (strcmp(argv[i], "--agent-socket") == 0 && i + 1 < argc) s = argv[++i];
  }
  if (s == NULL && (s = getenv("DISTBUILD_AGENT_SOCKET")) != NULL && *s == '\0') s = NULL;
  int n;
  if (s != NULL) {
    n = snprintf(sock_path, sizeof sock_path, "%s", s);
  } else if ((s = getenv("XDG_RUNTIME_DIR")) != NULL && *s != '\0') {
    n = snprintf(sock_path, sizeof sock_path, "%s/distbuild/agent.sock", s);
  } else {
    const char *t = getenv("TMPDIR");
    if (t == NULL || *t == '\0') t = getenv("TMP");
    if (t == NULL || *t == '\0') t = getenv("TEMP");
    if (t == NULL || *t == '\0') t = "/tmp";
    size_t tl = strlen(t);
    if (tl > 1 && t[tl - 1] == '/') tl--;
    n = snprintf(sock_path, sizeof sock_path, "%.*s/distbuild-%u/agent.sock", (int)tl, t, (unsigned)geteuid());
  }
  if (n <= 0 || (size_t)n >= sizeof sock_path) {
    snprintf(reason, sizeof reason, "the agent socket path is longer than a Unix socket's %zu bytes (setting agent_socket)", sizeof sock_path - 1);
    return -1;
  }
  memcpy(sock_dir, sock_path, (size_t)n + 1);
  char *slash = strrchr(sock_dir, '/');
  if (slash == NULL) strcpy(sock_dir, ".");
  else if (slash == sock_dir) slash[1] = '\0';
  else *slash = '\0';
  return 0;
}

/* 0 if the socket's directory is ours with mode 0700, or absent; else -1 with the reason. */
static int check_dir(void) {
  struct stat st;
  if (lstat(sock_dir, &st) != 0) {
    if (errno == ENOENT) return 0;
    snprintf(reason, sizeof reason, "cannot check the agent socket's directory %s: lstat: %s", sock_dir, strerror(errno));
    return -1;
  }
  if (S_ISDIR(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & 0777) == 0700) return 0;
  char what[64];
  if (!S_ISDIR(st.st_mode)) snprintf(what, sizeof what, "is not a directory");
  else if (st.st_uid != geteuid()) snprintf(what, sizeof what, "belongs to uid %u, not %u", (unsigned)st.st_uid, (unsigned)geteuid());
  else snprintf(what, sizeof what, "has mode %04o", (unsigned)(st.st_mode & 0777));
  snprintf(reason, sizeof reason,
           "refusing the agent socket's directory %s: it %s; it must be yours with mode 0700 (remove it, or set --agent-socket / DISTBUILD_AGENT_SOCKET elsewhere)",
           sock_dir, what);
  return -1;
}

/* mkdir -p, mode 0700 for what it creates; 0, or -1 with errno. */
static int make_dirs(char *path) {
  for (char *p = path + 1;; p++) {
    if (*p != '/' && *p != '\0') continue;
    char c = *p;
    *p = '\0';
    int r = mkdir(path, 0700);
    int e = errno;
    *p = c;
    if (r != 0 && e != EEXIST) {
      errno = e;
      return -1;
    }
    if (c == '\0') return 0;
  }
}

/* ---- Sending: iovecs over the caller's own strings, flushed with sendmsg (no SIGPIPE). ---- */

static int send_queued(int fd) {
  struct iovec *v = iov;
  size_t n = (size_t)niov;
  while (n > 0) {
    struct msghdr m = { .msg_iov = v, .msg_iovlen = n };
    ssize_t w = sendmsg(fd, &m, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    while (n > 0 && (size_t)w >= v->iov_len) {
      w -= (ssize_t)v->iov_len;
      v++;
      n--;
    }
    if (n > 0) {
      v->iov_base = (char *)v->iov_base + w;
      v->iov_len -= (size_t)w;
    }
  }
  niov = 0;
  return 0;
}

static int put(int fd, const void *p, size_t len) {
  if (niov == IOV_N && send_queued(fd) != 0) return -1;
  iov[niov].iov_base = (void *)p;
  iov[niov].iov_len = len;
  niov++;
  return 0;
}

static void be32(unsigned char *p, uint32_t v) {
  v = htonl(v);
  memcpy(p, &v, 4);
}

static uint32_t get32(const unsigned char *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return ntohl(v);
}

/* HELLO {"v":3}, then REQUEST: flags, pid, id, cwd, argc + argv, envc + environ. 0, or -1 with errno. */
static int send_request(int fd, int argc, char **argv) {
  static unsigned char hello[] = { 0, 0, 0, 8, F_JSON, '{', '"', 'v', '"', ':', '0' + PROTOCOL, '}' };
  static unsigned char head[5 + 8], argc_be[4], envc_be[4];
  size_t id_len = strlen(job_id) + 1, cwd_len = strlen(cwd) + 1;
  uint64_t len = 1 + 8 + id_len + cwd_len + 4 + 4;
  uint32_t envc = 0;
  for (int i = 0; i < argc; i++) len += strlen(argv[i]) + 1;
  for (char **e = environ; *e != NULL; e++, envc++) len += strlen(*e) + 1;
  if (len > MAX_FRAME) {
    errno = E2BIG;
    return -1;
  }
  be32(head, (uint32_t)len);
  head[4] = F_REQUEST;
  be32(head + 5, 0);
  be32(head + 9, (uint32_t)getpid());
  be32(argc_be, (uint32_t)argc);
  be32(envc_be, envc);
  niov = 0;
  if (put(fd, hello, sizeof hello) || put(fd, head, sizeof head) || put(fd, job_id, id_len) || put(fd, cwd, cwd_len) ||
      put(fd, argc_be, 4))
    return -1;
  for (int i = 0; i < argc; i++) if (put(fd, argv[i], strlen(argv[i]) + 1)) return -1;
  if (put(fd, envc_be, 4)) return -1;
  for (char **e = environ; *e != NULL; e++) if (put(fd, *e, strlen(*e) + 1)) return -1;
  return send_queued(fd);
}

/* ---- Receiving. ---- */

/* Reads exactly n bytes, waiting at most SILENCE_MS for each piece. 1 done, 0 EOF, -1 error, -2 silence. */
static int read_full(int fd, void *p, size_t n) {
  size_t got = 0;
  while (got < n) {
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    int r = poll(&pfd, 1, SILENCE_MS);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) return -2;
    ssize_t k = read(fd, (char *)p + got, n - got);
    if (k < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return -1;
    }
    if (k == 0) return 0;
    got += (size_t)k;
  }
  return 1;
}

static void write_all(int fd, const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return; /* the reader went away: keep draining the agent so it is not blocked */
    }
    p += w;
    n -= (size_t)w;
  }
}

/* ---- Running the command here. ---- */

static void forward(int sig) {
  if (child_pid > 0) kill(child_pid, sig);
}

/* Exits as the command did: its code, or killed by the same signal. */
static _Noreturn void exit_as(int status) {
  if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
  int sig = WIFSIGNALED(status) ? WTERMSIG(status) : SIGABRT;
  signal(sig, SIG_DFL);
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, sig);
  sigprocmask(SIG_UNBLOCK, &s, NULL);
  raise(sig);
  _exit(128 + sig);
}

/* Runs cmd (cmd[0] through PATH, or `exe`) with our stdio and environment, forwarding signals; exits as it did. */
static _Noreturn void run_and_exit(char **cmd, const char *exe) {
  static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
  sigset_t block, old;
  sigemptyset(&block);
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(&block, sigs[i]);
  sigprocmask(SIG_BLOCK, &block, &old);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setsigmask(&attr, &old);
  posix_spawnattr_setsigdefault(&attr, &block);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid;
  int err = posix_spawnp(&pid, exe != NULL ? exe : cmd[0], NULL, &attr, cmd, environ);
  if (err != 0) {
    say("cannot run %s: %s", exe != NULL ? exe : cmd[0], strerror(err));
    _exit(127);
  }
  child_pid = pid;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = forward;
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
  sigprocmask(SIG_SETMASK, &old, NULL);
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      say("waitpid for %s failed: %s", cmd[0], strerror(errno));
      _exit(70);
    }
  }
  exit_as(status);
}

static int cpu_count(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

/* How long a command waits for a local slot before it runs without one (LOCAL_SLOT_WAIT_MS). */
#define SLOT_WAIT_MS 600000L

/* Takes one of this user's host-wide local slots (src/common/local-slots.ts): an abstract socket name held until exit. */
static void take_slot(void) {
  int n = cpu_count();
  long delay = 5;
  long deadline = now_ms() + SLOT_WAIT_MS;
  for (;;) {
    for (int k = 0; k < n; k++) {
      struct sockaddr_un a;
      memset(&a, 0, sizeof a);
      a.sun_family = AF_UNIX;
      snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "distbuild-local-slot-%u-%d", (unsigned)getuid(), (int)((getpid() + k) % n));
      int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        say("socket for a local slot failed: %s; running without one", strerror(errno));
        return;
      }
      /* The whole sun_path, NUL-padded, is the name: what Node's net.Server binds for "\0name". */
      if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0) return;
      int e = errno;
      close(fd);
      if (e != EADDRINUSE) {
        say("bind of a local slot failed: %s; running without one", strerror(e));
        return;
      }
    }
    if (now_ms() >= deadline) {
      say("no local slot was free for %ld s; running past the local limit", SLOT_WAIT_MS / 1000);
      return;
    }
    sleep_ms(delay);
    delay = delay * 2 > 50 ? 50 : delay * 2;
  }
}

/* No agent: run the command here within the host-wide limit, unless fallback is off. */
static _Noreturn void alone(int argc, char **argv, const char *why) {
  int cmd = own_end(argc, argv) + 1;
  if (cmd >= argc) {
    say("no command given after \"--\": distbuild --compiler -- g++ -c a.cpp -o a.o");
    _exit(2);
  }
  if (!flag_on(argc, argv, "fallback", "DISTBUILD_FALLBACK", 1)) {
    say("%s; not building locally because fallback is off (--no-fallback)", why);
    _exit(1);
  }
  say("%s; building locally", why);
  take_slot();
  run_and_exit(argv + cmd, NULL);
}

/* ---- Node: the full CLI, and the agent. ---- */

static char node_path[PATH_MAX];
static char cjs_path[PATH_MAX + 32];

/* bin/distbuild.cjs next to this binary (bin/distbuild), two levels up (dist/native/distbuild), or in DISTBUILD_ROOT. */
static const char *find_cjs(void) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash != NULL) *slash = '\0';
    snprintf(cjs_path, sizeof cjs_path, "%s/distbuild.cjs", self);
    if (access(cjs_path, R_OK) == 0) return cjs_path;
    snprintf(cjs_path, sizeof cjs_path, "%s/../../bin/distbuild.cjs", self);
    if (access(cjs_path, R_OK) == 0) return cjs_path;
  }
  snprintf(cjs_path, sizeof cjs_path, "%s/bin/distbuild.cjs", DISTBUILD_ROOT);
  return cjs_path;
}

/* The Node found at build time, else `node` on PATH. */
static const char *find_node(void) {
  snprintf(node_path, sizeof node_path, "%s", DISTBUILD_NODE);
  return access(node_path, X_OK) == 0 ? node_path : "node";
}

static _Noreturn void exec_node(char **args) {
  const char *node = find_node();
  args[0] = (char *)node;
  args[1] = (char *)find_cjs();
  if (strchr(node, '/') != NULL) execv(node, args);
  else execvp(node, args);
  say("cannot run %s %s: %s (is Node.js installed?)", node, args[1], strerror(errno));
  _exit(127);
}

/* Starts an agent in its own session and does not wait for it. It reads each client's settings from its requests. */
static int spawn_agent(void) {
  static char sock_flag[sizeof sock_path + 32];
  static char *args[] = { NULL, NULL, "--agent", sock_flag, NULL };
  snprintf(sock_flag, sizeof sock_flag, "--agent-socket=%s", sock_path);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    setsid();
    if (fork() != 0) _exit(0); /* the agent is reparented at once: no zombie, not in our process group */
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
    }
    exec_node(args);
  }
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
  return 0;
}

static int try_connect(void) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  memcpy(a.sun_path, sock_path, strlen(sock_path) + 1);
  struct timeval tv = { 5, 0 }; /* a full backlog blocks connect: bounded */
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) return fd;
  int e = errno;
  close(fd);
  errno = e;
  return -1;
}

/* Connects to the agent, starting one if none answers (one starter at a time, by a lock file). fd, or -1 with reason. */
static int connect_or_start(void) {
  int fd = try_connect();
  if (fd >= 0) return fd;
  if (errno != ENOENT && errno != ECONNREFUSED) {
    snprintf(reason, sizeof reason, "cannot connect to the agent at %s: %s", sock_path, strerror(errno));
    return -1;
  }
  if (make_dirs(sock_dir) != 0) {
    snprintf(reason, sizeof reason, "cannot create the agent socket's directory %s: %s", sock_dir, strerror(errno));
    return -1;
  }
  if (check_dir() != 0) return -1;
  char lock[sizeof sock_dir + 32];
  snprintf(lock, sizeof lock, "%s/agent.start-lock", sock_dir);
  int lfd = open(lock, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (lfd >= 0) {
    close(lfd);
    if (spawn_agent() != 0) {
      snprintf(reason, sizeof reason, "cannot start the distbuild agent: fork: %s", strerror(errno));
      unlink(lock);
      return -1;
    }
  } else {
    struct stat st;
    if (stat(lock, &st) == 0 && time(NULL) - st.st_mtime > START_TIMEOUT_MS / 1000) unlink(lock); /* stale */
  }
  long deadline = now_ms() + START_TIMEOUT_MS, delay = 5;
  for (;;) {
    sleep_ms(delay);
    fd = try_connect();
    if (fd >= 0 || (errno != ENOENT && errno != ECONNREFUSED) || now_ms() > deadline) break;
    delay = delay * 2 > 100 ? 100 : delay * 2;
  }
  if (lfd >= 0) unlink(lock);
  if (fd < 0) {
    snprintf(reason, sizeof reason, "the distbuild agent did not start within %d s at %s (see %s/agent.log)", START_TIMEOUT_MS / 1000, sock_path,
             sock_dir);
  }
  return fd;
}

/* Sends the request and follows the agent's frames to the end: exits, or returns why it could not. */
static enum outcome exchange(int fd, int argc, char **argv) {
  if (send_request(fd, argc, argv) != 0) {
    snprintf(reason, sizeof reason, "cannot send the job to the agent: %s", strerror(errno));
    return LOST;
  }
  for (;;) {
    unsigned char head[5];
    int r = read_full(fd, head, 5);
    if (r == -2) {
      snprintf(reason, sizeof reason, "the distbuild agent sent nothing for %d s; it may be stuck (see %s/agent.log)", SILENCE_MS / 1000, sock_dir);
      return STUCK;
    }
    if (r <= 0) {
      snprintf(reason, sizeof reason, "the agent closed the connection without an answer%s%s", r < 0 ? ": " : "", r < 0 ? strerror(errno) : "");
      return LOST;
    }
    uint32_t len = get32(head);
    if (len < 1 || len > MAX_FRAME) {
      snprintf(reason, sizeof reason, "the agent sent a frame of bad length %u", (unsigned)len);
      return LOST;
    }
    size_t left = len - 1;
    int type = head[4];
    if (type == F_STDOUT || type == F_STDERR) {
      while (left > 0) {
        size_t n = left < sizeof buf ? left : sizeof buf;
        if (read_full(fd, buf, n) != 1) {
          snprintf(reason, sizeof reason, "the agent closed the connection mid-frame");
          return LOST;
        }
        write_all(type == F_STDOUT ? 1 : 2, buf, n);
        left -= n;
      }
      continue;
    }
    if (left > 4096 || (left > 0 && read_full(fd, buf, left) != 1)) {
      snprintf(reason, sizeof reason, "the agent sent a bad frame of type %d (%zu bytes)", type, left);
      return LOST;
    }
    if (type == F_KEEPALIVE) continue;
    if (type == F_EXIT && left == 4) _exit((int)(get32(buf) & 0xff));
    if (type == F_RUN_LOCAL && left >= 5 && buf[left - 1] == '\0') {
      uint32_t index = get32(buf);
      if (index < 1 || index >= (uint32_t)argc) {
        snprintf(reason, sizeof reason, "the agent named argument %u of %d as the command", (unsigned)index, argc);
        return LOST;
      }
      /* The connection stays open: it holds the agent's local slot until the command exits. */
      run_and_exit(argv + index, buf[4] != '\0' ? (const char *)buf + 4 : NULL);
    }
    if (type == F_JSON) {
      buf[left] = '\0';
      const char *v = strstr((const char *)buf, "\"agent\"");
      const char *colon = v == NULL ? NULL : strchr(v, ':');
      agent_version = colon == NULL ? 0L : strtol(colon + 1, NULL, 10);
      snprintf(reason, sizeof reason, "the running agent speaks protocol %ld, this client %d", agent_version, PROTOCOL);
      return MISMATCH;
    }
    snprintf(reason, sizeof reason, "the agent sent a frame of unknown type %d", type);
    return LOST;
  }
}

/* "<host>-<pid>-<ms since 1970, hex>-<random hex>": unique across hosts and time. */
static void make_id(void) {
  char host[256] = "host";
  if (gethostname(host, sizeof host) != 0) strcpy(host, "host");
  host[sizeof host - 1] = '\0';
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  unsigned long long r = 0;
  if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) r = (unsigned long long)ts.tv_nsec * 2654435761ULL ^ (unsigned long long)getpid();
  snprintf(job_id, sizeof job_id, "%s-%d-%llx-%016llx", host, (int)getpid(),
           (unsigned long long)ts.tv_sec * 1000ULL + (unsigned long long)ts.tv_nsec / 1000000ULL, r);
}

/* Drop-in use, as sccache's: `distbuild gcc -c a.c -o a.o` is `distbuild --compiler -- gcc -c a.c -o a.o`. */
static char *dropin[65536 + 4];

/* distbuild's own subcommands (`distbuild cache stats`), which Node runs: not compilers. */
static int is_subcommand(const char *a) {
  static const char *const words[] = { "cache", "make", "ninja", "workers", "clients", "jobs", "job", "scheduler", "shell" };
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    if (strcmp(a, words[i]) == 0) return 1;
  return 0;
}

/* Masquerade: run by a tool's name (a link `distbuild --masquerade DIR` wrote, found first on PATH). */
static int is_tool_name(const char *b) {
  size_t n = strlen(b);
  int ends_ar = n >= 3 && strcmp(b + n - 3, "-ar") == 0;
  return strstr(b, "gcc") != NULL || strstr(b, "g++") != NULL || strstr(b, "clang") != NULL || strcmp(b, "cc") == 0 || strcmp(b, "c++") == 0 ||
         strcmp(b, "ar") == 0 || ends_ar || strstr(b, "ranlib") != NULL;
}

static char self_real[PATH_MAX];
static char path_env[65536 + 6];

/* True if DIR/NAME is this very program: a masquerade directory, to be left off PATH. */
static int is_self(const char *dir, size_t len, const char *name) {
  char p[PATH_MAX], r[PATH_MAX];
  if (len == 0 || len + strlen(name) + 2 > sizeof p) return 0;
  memcpy(p, dir, len);
  p[len] = '/';
  strcpy(p + len + 1, name);
  return realpath(p, r) != NULL && strcmp(r, self_real) == 0;
}

/* PATH without the directories in which NAME is this program, so the tool found is the real one. */
static int drop_self_from_path(const char *name) {
  ssize_t n = readlink("/proc/self/exe", self_real, sizeof self_real - 1);
  if (n < 0) {
    say("cannot read /proc/self/exe: %s; running %s as given", strerror(errno), name);
    return -1;
  }
  self_real[n] = '\0';
  const char *path = getenv("PATH");
  if (path == NULL) return 0;
  size_t out = 0;
  memcpy(path_env, "PATH=", 5);
  out = 5;
  for (const char *p = path;;) {
    const char *end = strchr(p, ':');
    size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
    if (!is_self(p, len, name)) {
      if (out + len + 2 >= sizeof path_env) return -1;
      if (out > 5) path_env[out++] = ':';
      memcpy(path_env + out, p, len);
      out += len;
    }
    if (end == NULL) break;
    p = end + 1;
  }
  path_env[out] = '\0';
  return putenv(path_env);
}

int main(int argc, char **argv) {
  const char *slash = strrchr(argv[0], '/');
  const char *self_name = slash != NULL ? slash + 1 : argv[0];
  if (strncmp(self_name, "distbuild", 9) != 0 && is_tool_name(self_name)) {
    /* `gcc ARGS` run through the masquerade is `distbuild gcc ARGS` with the real gcc on PATH. */
    if (drop_self_from_path(self_name) != 0) say("could not take the masquerade directory off PATH");
    argv[0] = (char *)self_name;
    if (argc > 65536) {
      say("too many arguments (%d)", argc);
      return 2;
    }
    dropin[0] = "distbuild";
    dropin[1] = "--compiler";
    dropin[2] = "--";
    for (int i = 0; i <= argc; i++) dropin[i + 3] = argv[i];
    argc += 3;
    argv = dropin;
  } else if (argc >= 2 && argv[1][0] != '-' && argv[1][0] != '\0' && !is_subcommand(argv[1])) {
    if (argc > 65536) {
      say("too many arguments (%d)", argc);
      return 2;
    }
    dropin[0] = argv[0];
    dropin[1] = "--compiler";
    dropin[2] = "--";
    for (int i = 1; i <= argc; i++) dropin[i + 2] = argv[i];
    argc += 2;
    argv = dropin;
  }
  int launcher = 0;
  for (int i = 1; i < own_end(argc, argv); i++) {
    if (strcmp(argv[i], "--compiler") == 0 || strcmp(argv[i], "--linker") == 0) launcher = 1;
  }
  if (!launcher) {
    static char *args[65536 + 2];
    if (argc > 65536) {
      say("too many arguments (%d)", argc);
      return 2;
    }
    for (int i = 1; i <= argc; i++) args[i + 1] = argv[i];
    exec_node(args);
  }
  if (find_socket(argc, argv) != 0 || check_dir() != 0) alone(argc, argv, reason);
  if (getcwd(cwd, sizeof cwd) == NULL) {
    snprintf(reason, sizeof reason, "getcwd failed: %s", strerror(errno));
    alone(argc, argv, reason);
  }
  make_id();
  for (int attempt = 0; attempt < 3; attempt++) {
    int fd = connect_or_start();
    if (fd < 0) alone(argc, argv, reason);
    enum outcome o = exchange(fd, argc, argv);
    close(fd);
    if (o == STUCK) alone(argc, argv, reason);
    struct stat st;
    if (o == MISMATCH && agent_version < PROTOCOL && lstat(sock_path, &st) == 0 && S_ISSOCK(st.st_mode)) {
      /* An older agent: take its socket name; it finishes its jobs and exits when idle. */
      if (unlink(sock_path) == 0) continue;
    }
    if (o == MISMATCH) {
      int cmd = own_end(argc, argv) + 1;
      if (flag_on(argc, argv, "verbose", "DISTBUILD_VERBOSE", 0)) {
        char line[sizeof reason + 64];
        int n = snprintf(line, sizeof line, "[local: %s] %s\n", reason, cmd < argc ? argv[cmd] : "");
        write_all(2, (const unsigned char *)line, n > 0 && (size_t)n < sizeof line ? (size_t)n : 0);
      }
      if (cmd >= argc) {
        say("no command given after \"--\": distbuild --compiler -- g++ -c a.cpp -o a.o");
        return 2;
      }
      take_slot();
      run_and_exit(argv + cmd, NULL);
    }
    /* LOST: the agent died mid-job; a new one gets the same job id. */
  }
  char why[sizeof reason + sizeof sock_path + 64];
  snprintf(why, sizeof why, "the distbuild agent at %s kept failing: %s", sock_path, reason);
  alone(argc, argv, why);
}
