/* SPDX-License-Identifier: ISC */
/* The embedded PostgreSQL cluster: initdb on first use, the postgres
 * server as a child process on a private Unix socket, and its shutdown. */
#include "sa_int.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <pwd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cb_log.h"

/* How long the server may take to accept connections, and to stop. */
#define SA_START_TIMEOUT_MS 30000
#define SA_STOP_TIMEOUT_MS 30000
/* How long a start waits for a previous postmaster to finish stopping. */
#define SA_LOCK_WAIT_MS 30000
#define SA_KILL_TIMEOUT_MS 5000
/* The socket file the server creates in its socket directory. */
#define SA_SOCKET_NAME "/.s.PGSQL.5432"
/* Room for the largest configuration: a pool of up to 256 connections
 * plus one LISTEN connection per validation worker (at most 64). */
#define SA_EMBEDDED_MAX_CONNECTIONS "330"
/* The reachability check reports a path length as an exit status, below
 * SA_CHECK_FAILED; state_dir is far shorter, bounded by the socket path. */
#define SA_CHECK_FAILED 126
#define SA_MAX_CHECK_PATH SA_CHECK_FAILED

/* How often the supervisor looks at the postmaster. */
#define SA_WATCH_MS 200
/* Pauses before starting a postmaster that died again: from the first,
 * doubling up to the last while restarts keep failing; back to the first
 * once a server has run SA_RESTART_STABLE_MS. */
#define SA_RESTART_MIN_MS 500
#define SA_RESTART_MAX_MS 10000
#define SA_RESTART_STABLE_MS 60000

/* The unprivileged identity the server runs as when we are root. */
struct sa_runas {
	bool drop;
	const char *user; /* lent from the caller for the start, then NULL */
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t *groups; /* owned */
};

/* Paths and descriptors filled by sa_embedded_start(), kept for
 * restarts. */
struct sa_emb_start {
	char *state_dir, *pgdata, *sockdir, *logpath, *bindir;
	int logfd, nullfd;
	struct sa_runas ra;
};

struct sa_embedded {
	/* The postmaster, or -1. Once the supervisor runs, only it touches
	 * this (and started_ms), until sa_embedded_stop() has joined it. */
	pid_t pid;
	int64_t started_ms; /* when pid was started */
	char *conninfo;
	char *admin; /* the "postgres" database, to see the server answer */
	struct sa_emb_start s;
	pthread_t supervisor;
	bool supervised;    /* the supervisor thread runs */
	pthread_mutex_t mu; /* guards: stopping */
	pthread_cond_t cv;  /* broadcast when stopping is set */
	bool stopping;      /* sa_embedded_stop() has begun */
};

static void
sa_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int64_t
sa_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps MS, less if sa_embedded_stop() begins meanwhile; false if it
 * has. */
static bool
sa_emb_pause(struct sa_embedded *e, long ms)
{
	struct timespec until;
	bool stopping;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&e->mu);
	while (!e->stopping &&
	    pthread_cond_timedwait(&e->cv, &e->mu, &until) != ETIMEDOUT)
		;
	stopping = e->stopping;
	pthread_mutex_unlock(&e->mu);
	return !stopping;
}

/* The bin directory of the newest PostgreSQL installed the Debian way;
 * caller owns it. NULL if none. */
static char *
sa_pg_bindir(void)
{
	glob_t g = {0};
	const char *best = NULL;
	long best_ver = -1;
	char *ret = NULL;

	if (glob("/usr/lib/postgresql/*/bin/postgres", 0, NULL, &g) != 0) {
		cb_log(LOG_ERR,
		    "sa: no PostgreSQL server in "
		    "/usr/lib/postgresql/*/bin (install "
		    "postgresql)");
		goto out;
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		long v = strtol(
		    g.gl_pathv[i] + strlen("/usr/lib/postgresql/"), NULL, 10);

		if (v > best_ver) {
			best_ver = v;
			best = g.gl_pathv[i];
		}
	}
	ret = cb_strndup(best, strlen(best) - strlen("/postgres"));
out:
	globfree(&g);
	return ret;
}

static int
sa_runas_lookup(const char *user, struct sa_runas *ra)
{
	struct passwd pw, *res = NULL;
	char buf[16384];
	int n = 32, err;

	memset(ra, 0, sizeof(*ra));
	if (geteuid() != 0)
		return 0;
	if (user == NULL || *user == '\0')
		user = "postgres";
	err = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
	if (res == NULL) {
		cb_log(LOG_ERR, "sa: embedded PostgreSQL user %s: %s", user,
		    err != 0 ? strerror(err) : "no such user");
		return -1;
	}
	if (pw.pw_uid == 0) {
		cb_log(LOG_ERR,
		    "sa: PostgreSQL refuses to run as root; set "
		    "storage.embedded_user to another user");
		return -1;
	}
	ra->drop = true;
	ra->user = user;
	ra->uid = pw.pw_uid;
	ra->gid = pw.pw_gid;
	ra->groups = cb_calloc((size_t)n, sizeof(gid_t));
	if (getgrouplist(user, pw.pw_gid, ra->groups, &n) < 0) {
		/* N now holds the number needed. */
		ra->groups =
		    cb_reallocarray(ra->groups, (size_t)n, sizeof(gid_t));
		if (getgrouplist(user, pw.pw_gid, ra->groups, &n) < 0) {
			cb_log(LOG_ERR, "sa: groups of %s: too many", user);
			return -1;
		}
	}
	ra->ngroups = n;
	return 0;
}

/* Creates directory PATH (if missing) owned by the server's user. */
static int
sa_mkdir_for(const char *path, const struct sa_runas *ra)
{
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		cb_log(LOG_ERR, "sa: mkdir %s: %s", path, strerror(errno));
		return -1;
	}
	if (ra->drop && chown(path, ra->uid, ra->gid) != 0) {
		cb_log(LOG_ERR, "sa: chown %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* In the forked child, where only async-signal-safe calls are allowed. */
static void
sa_child_fail(const char *msg)
{
	(void)!write(STDERR_FILENO, msg, strlen(msg));
	_exit(126);
}

/* Runs in the child: drops privileges and executes ARGV. Never returns. */
static void
sa_child_exec(const struct sa_emb_start *s, char *const argv[], pid_t parent)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Own process group: a terminal's ^C goes to cobble, which stops
	 * the server in order. */
	setpgid(0, 0);
	if (dup2(s->nullfd, STDIN_FILENO) < 0 ||
	    dup2(s->logfd, STDOUT_FILENO) < 0 ||
	    dup2(s->logfd, STDERR_FILENO) < 0)
		_exit(126);
	close_range(3, ~0U, 0);
	if (chdir("/") != 0)
		sa_child_fail("cobble: chdir / failed\n");
	if (s->ra.drop &&
	    (setgroups((size_t)s->ra.ngroups, s->ra.groups) != 0 ||
	        setgid(s->ra.gid) != 0 || setuid(s->ra.uid) != 0))
		sa_child_fail("cobble: cannot drop privileges\n");
	/* After setuid, which clears it: the server gets a fast shutdown
	 * request if we die (of the thread that forked, in fact: start the
	 * cluster from the main thread). */
	if (prctl(PR_SET_PDEATHSIG, SIGINT) != 0 || getppid() != parent)
		sa_child_fail("cobble: parent gone\n");
	execv(argv[0], argv);
	sa_child_fail("cobble: cannot execute the PostgreSQL program\n");
}

/* In a forked child, as the server's user: the length of the first
 * prefix of absolute PATH that it cannot search ("/" counts as 1), or 0 if
 * it can search them all. Only async-signal-safe calls. */
static size_t
sa_child_first_blocked(char *path)
{
	size_t i;
	char c;

	if (access("/", X_OK) != 0)
		return 1;
	for (i = 1;; i++) {
		c = path[i];
		if (c != '/' && c != '\0')
			continue;
		path[i] = '\0';
		if (access(path, X_OK) != 0)
			return i;
		path[i] = c;
		if (c == '\0')
			return 0;
	}
}

/* Forks a child that takes RA's identity and looks for the first directory
 * on the way to DIR (absolute, shorter than SA_MAX_CHECK_PATH) it cannot
 * search; its exit status is that prefix's length, 0 for none. Returns
 * the length, 0, or -1 when the check itself failed (logged). */
static long
sa_blocked_prefix(const struct sa_runas *ra, const char *dir)
{
	char path[SA_MAX_CHECK_PATH];
	int status = 0;
	pid_t pid;

	if (strlen(dir) >= sizeof(path)) {
		cb_log(LOG_ERR, "sa: path too long: %s", dir);
		return -1;
	}
	memcpy(path, dir, strlen(dir) + 1);
	pid = fork();
	if (pid < 0) {
		cb_log(LOG_ERR, "sa: fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		if (setgroups((size_t)ra->ngroups, ra->groups) != 0 ||
		    setgid(ra->gid) != 0 || setuid(ra->uid) != 0)
			_exit(SA_CHECK_FAILED);
		_exit((int)sa_child_first_blocked(path));
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) >= SA_CHECK_FAILED) {
		cb_log(LOG_ERR, "sa: cannot check %s as user %s (status %d)",
		    dir, ra->user, status);
		return -1;
	}
	return WEXITSTATUS(status);
}

/* PostgreSQL, run as RA, must reach STATE_DIR. When a parent such as
 * /root (mode 0700 on Debian) shuts it out, initdb reports only
 * "Permission denied" in postgres.log: name the directory here instead. */
static int
sa_check_reachable(const struct sa_runas *ra, const char *state_dir)
{
	char *blocked = NULL;
	struct stat st;
	long n;
	int rc = -1;

	if (!ra->drop)
		return 0;
	n = sa_blocked_prefix(ra, state_dir);
	if (n < 0)
		goto out;
	if (n == 0) {
		rc = 0;
		goto out;
	}
	blocked = cb_strndup(state_dir, (size_t)n);
	if (stat(blocked, &st) != 0)
		memset(&st, 0, sizeof(st));
	cb_log(LOG_ERR,
	    "sa: state_dir %s is out of reach of the embedded PostgreSQL: "
	    "it runs as user %s, which cannot enter %s (mode %04o, owner "
	    "uid %ld); set state_dir to a directory %s can reach (for "
	    "example /var/lib/cobble), or let it through (chmod o+x %s)",
	    state_dir, ra->user, blocked, (unsigned)(st.st_mode & 07777),
	    (long)st.st_uid, ra->user, blocked);
out:
	free(blocked);
	return rc;
}

static pid_t
sa_spawn(const struct sa_emb_start *s, char *const argv[])
{
	pid_t parent = getpid(), pid;

	pid = fork();
	if (pid < 0) {
		cb_log(LOG_ERR, "sa: fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0)
		sa_child_exec(s, argv, parent);
	return pid;
}

/* Waits up to MS for PID to exit; true if it has (or is not ours). */
static bool
sa_wait_exit(pid_t pid, int ms, int *status)
{
	int64_t deadline = sa_now_ms() + ms;
	pid_t w;

	*status = 0;
	for (;;) {
		w = waitpid(pid, status, WNOHANG);
		if (w == pid || (w < 0 && errno == ECHILD))
			return true;
		if (sa_now_ms() >= deadline)
			return false;
		sa_sleep_ms(20);
	}
}

static int
sa_initdb(const struct sa_emb_start *s)
{
	char *prog = cb_asprintf("%s/initdb", s->bindir);
	char *argv[] = {prog, "-D", s->pgdata, "--auth=trust", "-U", "postgres",
	    "-E", "UTF8", "--locale=C", NULL};
	int status = 0, rc = -1;
	pid_t pid;

	cb_log(
	    LOG_NOTICE, "sa: initializing PostgreSQL cluster in %s", s->pgdata);
	if (sa_mkdir_for(s->pgdata, &s->ra) != 0)
		goto out;
	pid = sa_spawn(s, argv);
	if (pid < 0)
		goto out;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		cb_log(LOG_ERR, "sa: initdb failed (status %d), see %s", status,
		    s->logpath);
		goto out;
	}
	rc = 0;
out:
	free(prog);
	return rc;
}

/* The pid in lock file PATH when it names a live PostgreSQL process (not
 * a zombie, not another program after pid reuse); 0 otherwise; -1 when
 * there is no lock file. */
static long
sa_lock_holder(const char *path, long *named)
{
	char stat[256] = "", procpath[64];
	const char *close_paren;
	long pid = 0;
	FILE *f;

	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld", &pid) != 1 || pid <= 0)
		pid = 0;
	fclose(f);
	*named = pid;
	if (pid == 0)
		return 0;
	/* /proc/PID/stat: "PID (COMM) STATE ..." */
	snprintf(procpath, sizeof(procpath), "/proc/%ld/stat", pid);
	f = fopen(procpath, "re");
	if (f == NULL)
		return 0;
	if (fgets(stat, sizeof(stat), f) == NULL)
		stat[0] = '\0';
	fclose(f);
	close_paren = strrchr(stat, ')');
	if (strstr(stat, "(postgres)") == NULL || close_paren == NULL ||
	    close_paren[1] != ' ' || close_paren[2] == 'Z')
		return 0;
	return pid;
}

/* Makes lock file PATH (postmaster.pid, the socket's .lock) free for a new
 * postmaster. A live PostgreSQL holding it may be the previous cobble's,
 * still finishing the shutdown it was sent when that cobble died: wait for
 * it. A lock naming a dead or non-PostgreSQL process (a crash, pid reuse
 * after a reboot) is stale and removed. False if E is being stopped. */
static bool
sa_free_lock(struct sa_embedded *e, const char *path)
{
	int64_t deadline = sa_now_ms() + SA_LOCK_WAIT_MS;
	long pid, named = 0;

	while (
	    (pid = sa_lock_holder(path, &named)) > 0 && sa_now_ms() < deadline)
		if (!sa_emb_pause(e, 50))
			return false;
	if (pid != 0)
		return true; /* no lock, or still held: postgres will say so */
	cb_log(LOG_WARNING,
	    "sa: removing stale %s (pid %ld is not a running PostgreSQL)", path,
	    named);
	if (unlink(path) != 0 && errno != ENOENT)
		cb_log(LOG_WARNING, "sa: unlink %s: %s", path, strerror(errno));
	return true;
}

/* A conninfo value in single quotes (the path may hold spaces). */
static char *
sa_conninfo_quote(const char *v)
{
	char *out = cb_malloc(2 * strlen(v) + 3), *o = out;

	*o++ = '\'';
	for (; *v != '\0'; v++) {
		if (*v == '\'' || *v == '\\')
			*o++ = '\\';
		*o++ = *v;
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

/* Waits until the server answers on ADMIN; fails if it exits. */
static int
sa_wait_ready(
    struct sa_embedded *e, const struct sa_emb_start *s, const char *admin)
{
	int64_t deadline = sa_now_ms() + SA_START_TIMEOUT_MS;
	int status = 0;

	while (sa_now_ms() < deadline) {
		if (waitpid(e->pid, &status, WNOHANG) == e->pid) {
			e->pid = -1;
			cb_log(LOG_ERR,
			    "sa: PostgreSQL exited at start (status %d), "
			    "see %s",
			    status, s->logpath);
			return -1;
		}
		if (PQping(admin) == PQPING_OK)
			return 0;
		sa_sleep_ms(50);
	}
	cb_log(LOG_ERR, "sa: PostgreSQL did not start in %d s, see %s",
	    SA_START_TIMEOUT_MS / 1000, s->logpath);
	return -1;
}

/* Creates the database "cobble" unless it exists. */
static int
sa_create_db(const char *admin)
{
	PGconn *pg = NULL;
	PGresult *r = NULL;
	const char *state;
	int rc = -1;

	pg = PQconnectdb(admin);
	if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
		sa_log_pgerr("embedded connect", PQerrorMessage(pg));
		goto out;
	}
	r = PQexec(pg, "SELECT 1 FROM pg_database WHERE datname = 'cobble'");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		sa_log_pgerr("pg_database", PQresultErrorMessage(r));
		goto out;
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		r = PQexec(pg, "CREATE DATABASE cobble");
		state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		/* 42P04 duplicate_database: created meanwhile, fine. */
		if (PQresultStatus(r) != PGRES_COMMAND_OK &&
		    (state == NULL || strcmp(state, "42P04") != 0)) {
			sa_log_pgerr(
			    "create database", PQresultErrorMessage(r));
			goto out;
		}
	}
	rc = 0;
out:
	PQclear(r);
	PQfinish(pg);
	return rc;
}

/* Absolute paths, the log file and the user; creates STATE_DIR. */
static int
sa_emb_prepare(
    struct sa_emb_start *s, const char *state_dir, const char *run_as)
{
	struct stat st;

	if (sa_runas_lookup(run_as, &s->ra) != 0)
		return -1;
	if (mkdir(state_dir, 0700) != 0 && errno != EEXIST) {
		cb_log(LOG_ERR, "sa: mkdir %s: %s", state_dir, strerror(errno));
		return -1;
	}
	s->state_dir = realpath(state_dir, NULL);
	if (s->state_dir == NULL || stat(s->state_dir, &st) != 0) {
		cb_log(LOG_ERR, "sa: %s: %s", state_dir, strerror(errno));
		return -1;
	}
	/* The server's user must reach pgdata and pgsock inside. */
	if (s->ra.drop && (st.st_mode & S_IXOTH) == 0 &&
	    chmod(s->state_dir, (st.st_mode & 07777) | S_IXOTH) != 0) {
		cb_log(
		    LOG_ERR, "sa: chmod %s: %s", s->state_dir, strerror(errno));
		return -1;
	}
	s->pgdata = cb_asprintf("%s/pgdata", s->state_dir);
	s->sockdir = cb_asprintf("%s/pgsock", s->state_dir);
	s->logpath = cb_asprintf("%s/postgres.log", s->state_dir);
	if (strlen(s->sockdir) + strlen(SA_SOCKET_NAME) >=
	    sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
		cb_log(LOG_ERR,
		    "sa: state_dir path too long for a Unix "
		    "socket: %s",
		    s->state_dir);
		return -1;
	}
	if (sa_check_reachable(&s->ra, s->state_dir) != 0)
		return -1;
	s->bindir = sa_pg_bindir();
	if (s->bindir == NULL || sa_mkdir_for(s->sockdir, &s->ra) != 0)
		return -1;
	s->logfd =
	    open(s->logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	s->nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (s->logfd < 0 || s->nullfd < 0) {
		cb_log(LOG_ERR, "sa: open %s: %s", s->logpath, strerror(errno));
		return -1;
	}
	return 0;
}

static void
sa_emb_start_clear(struct sa_emb_start *s)
{
	free(s->state_dir);
	free(s->pgdata);
	free(s->sockdir);
	free(s->logpath);
	free(s->bindir);
	free(s->ra.groups);
	if (s->logfd >= 0)
		close(s->logfd);
	if (s->nullfd >= 0)
		close(s->nullfd);
}

/* Starts the postmaster of E->s into E->pid, unless E is being stopped.
 * The postmaster gets SIGINT when the calling thread ends. */
static int
sa_emb_run(struct sa_embedded *e)
{
	const struct sa_emb_start *s = &e->s;
	char *prog = cb_asprintf("%s/postgres", s->bindir);
	char *lockfile = cb_asprintf("%s/postmaster.pid", s->pgdata);
	char *socklock = cb_asprintf("%s%s.lock", s->sockdir, SA_SOCKET_NAME);
	char *argv[] = {prog, "-D", s->pgdata, "-k", s->sockdir, "-c",
	    "listen_addresses=", "-c", "fsync=on", "-c",
	    "max_connections=" SA_EMBEDDED_MAX_CONNECTIONS, NULL};

	e->pid = -1;
	if (sa_free_lock(e, lockfile) && sa_free_lock(e, socklock))
		e->pid = sa_spawn(s, argv);
	e->started_ms = sa_now_ms();
	free(prog);
	free(lockfile);
	free(socklock);
	return e->pid < 0 ? -1 : 0;
}

/* Whether the postmaster has exited (reaping it); logs how at LOG_ERR,
 * with the pause before the next start, which BACKOFF_MS gets. */
static bool
sa_emb_exited(struct sa_embedded *e, long *backoff_ms)
{
	int status = 0;
	pid_t w = -1;
	char how[48];

	if (e->pid > 0) {
		w = waitpid(e->pid, &status, WNOHANG);
		if (w == 0 || (w < 0 && errno == EINTR))
			return false;
	}
	/* A server that ran for a while starts again at once; one that
	 * keeps dying waits longer and longer. */
	if (*backoff_ms == 0 ||
	    sa_now_ms() - e->started_ms >= SA_RESTART_STABLE_MS)
		*backoff_ms = SA_RESTART_MIN_MS;
	else if (*backoff_ms < SA_RESTART_MAX_MS / 2)
		*backoff_ms *= 2;
	else
		*backoff_ms = SA_RESTART_MAX_MS;
	if (e->pid <= 0) /* not started: sa_spawn() or sa_free_lock() said */
		return true;
	if (w == e->pid && WIFSIGNALED(status))
		snprintf(how, sizeof(how), "was killed by signal %d",
		    WTERMSIG(status));
	else if (w == e->pid && WIFEXITED(status))
		snprintf(how, sizeof(how), "exited with status %d",
		    WEXITSTATUS(status));
	else
		snprintf(how, sizeof(how), "is gone");
	cb_log(LOG_ERR,
	    "sa: embedded PostgreSQL (pid %ld) %s; starting it again in "
	    "%ld ms, see %s",
	    (long)e->pid, how, *backoff_ms, e->s.logpath);
	e->pid = -1;
	return true;
}

/* The supervisor thread: reaps a postmaster that dies and starts it
 * again, as sa_embedded_start() does, after a growing pause; the pools
 * reconnect by themselves. Ends when sa_embedded_stop() begins, leaving
 * the postmaster to it. A postmaster started here gets SIGINT when this
 * thread ends (PR_SET_PDEATHSIG): only at the stop, which sends that
 * anyway. */
static void *
sa_emb_supervise(void *arg)
{
	struct sa_embedded *e = arg;
	long backoff_ms = 0;
	bool answering = true;

	while (sa_emb_pause(e, SA_WATCH_MS)) {
		if (!sa_emb_exited(e, &backoff_ms)) {
			if (!answering && PQping(e->admin) == PQPING_OK) {
				answering = true;
				cb_log(LOG_WARNING,
				    "sa: embedded PostgreSQL running "
				    "again, pid %ld",
				    (long)e->pid);
			}
			continue;
		}
		if (!sa_emb_pause(e, backoff_ms))
			break;
		if (sa_emb_run(e) == 0)
			answering = false;
	}
	return NULL;
}

/* Starts the supervisor with every signal blocked: the stop signals are
 * for the main thread's sigwait(), and the postmaster unblocks them. */
static int
sa_emb_supervise_start(struct sa_embedded *e)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&e->supervisor, NULL, sa_emb_supervise, e);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0) {
		cb_log(LOG_ERR,
		    "sa: cannot start the PostgreSQL supervisor: %s",
		    strerror(err));
		return -1;
	}
	e->supervised = true;
	return 0;
}

static struct sa_embedded *
sa_emb_new(void)
{
	struct sa_embedded *e = cb_calloc(1, sizeof(*e));
	pthread_condattr_t ca;

	e->pid = -1;
	e->s.logfd = -1;
	e->s.nullfd = -1;
	pthread_mutex_init(&e->mu, NULL);
	/* sa_emb_pause() waits on the monotonic clock. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->cv, &ca);
	pthread_condattr_destroy(&ca);
	return e;
}

struct sa_embedded *
sa_embedded_start(const char *state_dir, const char *run_as)
{
	struct sa_embedded *e = sa_emb_new(), *ret = NULL;
	char *pgversion = NULL, *host = NULL;
	struct stat st;

	if (sa_emb_prepare(&e->s, state_dir, run_as) != 0)
		goto out;
	pgversion = cb_asprintf("%s/PG_VERSION", e->s.pgdata);
	if (stat(pgversion, &st) != 0 && sa_initdb(&e->s) != 0)
		goto out;
	if (sa_mkdir_for(e->s.pgdata, &e->s.ra) != 0 || sa_emb_run(e) != 0)
		goto out;
	host = sa_conninfo_quote(e->s.sockdir);
	/* A bound on each connection attempt: the supervisor pings with it,
	 * and sa_embedded_stop() waits for the supervisor. */
	e->admin = cb_asprintf(
	    "host=%s dbname=postgres user=postgres connect_timeout=2", host);
	if (sa_wait_ready(e, &e->s, e->admin) != 0 ||
	    sa_create_db(e->admin) != 0)
		goto out;
	e->conninfo = cb_asprintf("host=%s dbname=cobble user=postgres", host);
	e->s.ra.user = NULL; /* the caller's */
	/* Before the supervisor, which owns e->pid from then on. */
	cb_log(LOG_INFO, "sa: embedded PostgreSQL running, pid %ld, in %s",
	    (long)e->pid, e->s.pgdata);
	if (sa_emb_supervise_start(e) != 0)
		goto out;
	ret = e;
	e = NULL;
out:
	sa_embedded_stop(e);
	free(pgversion);
	free(host);
	return ret;
}

const char *
sa_embedded_conninfo(const struct sa_embedded *e)
{
	return e->conninfo;
}

/* Stops the postmaster: fast shutdown, then harder if it does not. */
static void
sa_emb_kill(pid_t pid)
{
	int status = 0;

	/* SIGINT: fast shutdown (roll back sessions, checkpoint). */
	kill(pid, SIGINT);
	if (sa_wait_exit(pid, SA_STOP_TIMEOUT_MS, &status))
		return;
	cb_log(LOG_WARNING, "sa: PostgreSQL did not stop, sending SIGQUIT");
	kill(pid, SIGQUIT);
	if (sa_wait_exit(pid, SA_KILL_TIMEOUT_MS, &status))
		return;
	kill(pid, SIGKILL);
	(void)sa_wait_exit(pid, SA_KILL_TIMEOUT_MS, &status);
}

void
sa_embedded_stop(struct sa_embedded *e)
{
	if (e == NULL)
		return;
	/* The supervisor first, so that nothing starts the server again. */
	pthread_mutex_lock(&e->mu);
	e->stopping = true;
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
	if (e->supervised)
		pthread_join(e->supervisor, NULL);
	if (e->pid > 0)
		sa_emb_kill(e->pid);
	sa_emb_start_clear(&e->s);
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->mu);
	free(e->conninfo);
	free(e->admin);
	free(e);
}
