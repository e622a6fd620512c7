#include "server/reload.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "certs/certs.h"
#include "common/cleanup.h"
#include "common/file.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/tlscert.h"

extern char **environ;

/* A certificate check takes milliseconds; a child past this is stuck. */
#define CHECK_DEADLINE_MS 5000

/* A policy is a few KB; anything near this is not one. */
#define POLICY_MAX_BYTES ((size_t)4 << 20)

/* A pair refused for a reason that time can cure (not yet valid: the
 * issuer's clock is ahead) is tried again this many polls later even when
 * its files do not change. */
#define CERT_RETRY_POLLS 10

typedef struct file_sig {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	int err; /* errno of stat(), 0 when it succeeded */
} file_sig;

struct reload {
	reload_files files;
	pstore *policies;
	file_sig policy_sig, cert_sig, key_sig;
	int cert_retry; /* polls until the refused pair is tried again; 0: none */
};

static file_sig sig_of(const char *path)
{
	file_sig s = {0};
	struct stat st;
	if (stat(path, &st) < 0) {
		s.err = errno;
		return s;
	}
	s.dev = st.st_dev;
	s.ino = st.st_ino;
	s.size = st.st_size;
	s.mtime = st.st_mtim;
	s.ctime = st.st_ctim;
	return s;
}

static bool sig_same(const file_sig *a, const file_sig *b)
{
	return a->err == b->err && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

static int load_policy(const char *path, cg_policy **out, cg_error *err)
{
	if (path == NULL)
		return policy_load_default(out, err);
	cleanup_free char *text = NULL;
	size_t len = 0;
	if (file_read(path, POLICY_MAX_BYTES, 0, &text, &len, err) < 0)
		return -1;
	return policy_load(text, len, path, out, err);
}

/* One read with a deadline: bytes read, 0 at EOF, -1 on error or when
 * deadline_ms pass with nothing to read. */
static int read_some(int fd, char *p, size_t n, int deadline_ms)
{
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int ready = poll(&pfd, 1, deadline_ms);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0)
			return -1;
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 ? -1 : (int)r;
	}
}

/* certs_check_serving() uses OpenSSL, which serving does not: run in a
 * fresh process, its code and tables (about 3 MB) are never paged into the
 * long-running server, which keeps it within its idle memory budget, and a
 * parser crash on a bad file kills the checker, not the webhook. The
 * checker is this binary exec'd (`capgate certs check-serving`), never a
 * bare fork() of the threaded server: a child of fork() may only call
 * async-signal-safe functions, since a serving thread may hold a libc lock
 * (malloc's, the timezone's) that the child would wait on forever.
 * posix_spawn() execs at once. At start-up no thread exists yet, so a plain
 * fork() is safe there and spares the exec (start to ready counts). A
 * checker past the deadline is killed. */
static int check_pair(const reload_files *f, bool threads, certs_info *info, cg_error *err)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return cg_error_set(err, errno, "checking %s: pipe: %s", f->cert_path,
				    strerror(errno));
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none;
	sigemptyset(&none);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none); /* the server blocks its signals */
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	char *argv[] = {"capgate",
			"certs",
			"check-serving",
			(char *)f->cert_path,
			(char *)f->key_path,
			(char *)f->service_dns,
			NULL};
	pid_t pid = -1;
	int rc = 0;
	if (threads) {
		rc = posix_spawn(&pid, "/proc/self/exe", &fa, &attr, argv, environ);
	} else if ((pid = fork()) == 0) {
		/* The same answer as `capgate certs check-serving`. */
		certs_info ci;
		cg_error ce = {0};
		char out[sizeof(ce.msg) + 32];
		int n = certs_check_serving(f->cert_path, f->key_path, f->service_dns, &ci, &ce) < 0
				? snprintf(out, sizeof(out), "error %s\n", ce.msg)
				: snprintf(out, sizeof(out), "ok %lld\n", (long long)ci.not_after);
		ssize_t w = write(fds[1], out, n > 0 && (size_t)n < sizeof(out) ? (size_t)n : 0);
		_exit(w > 0 ? 0 : 1);
	} else if (pid < 0) {
		rc = errno;
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		return cg_error_set(err, rc, "checking %s: cannot start the checker: %s",
				    f->cert_path, strerror(rc));
	}
	char line[sizeof(err->msg) + 16];
	size_t got = 0;
	int r = 0;
	while (got < sizeof(line) - 1 &&
	       (r = read_some(fds[0], line + got, sizeof(line) - 1 - got, CHECK_DEADLINE_MS)) > 0)
		got += (size_t)r;
	close(fds[0]);
	line[got] = '\0';
	if (r < 0)
		kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	char *nl = strchr(line, '\n');
	if (nl != NULL)
		*nl = '\0';
	if (strncmp(line, "ok ", 3) == 0) {
		memset(info, 0, sizeof(*info));
		info->not_after = (time_t)strtoll(line + 3, NULL, 10);
		return 0;
	}
	if (strncmp(line, "error ", 6) == 0)
		return cg_error_set(err, EINVAL, "%s", line + 6);
	return cg_error_set(err, 0, "checking %s: the checker did not answer (status %d)",
			    f->cert_path, status);
}

static int load_cert(const reload_files *f, bool threads, cg_error *err)
{
	certs_info info;
	if (check_pair(f, threads, &info, err) < 0)
		return -1;
	if (tlscert_load(f->cert_path, f->key_path, err) < 0)
		return -1;
	metrics_cert_loaded(info.not_after);
	return 0;
}

int reload_open(const reload_files *f, reload **out, cg_error *err)
{
	reload *r = calloc(1, sizeof(*r));
	cg_policy *p = NULL;
	if (r == NULL)
		return cg_error_set(err, ENOMEM, "out of memory");
	r->files = *f;
	/* Signatures first: a change while loading is then seen by the next poll. */
	if (f->policy_path != NULL)
		r->policy_sig = sig_of(f->policy_path);
	r->cert_sig = sig_of(f->cert_path);
	r->key_sig = sig_of(f->key_path);
	/* reload_open() runs before the server starts its threads. */
	if (load_policy(f->policy_path, &p, err) < 0 || load_cert(f, false, err) < 0) {
		policy_free(p);
		free(r);
		return -1;
	}
	r->policies = pstore_new(p);
	if (r->policies == NULL) {
		free(r);
		return cg_error_set(err, ENOMEM, "out of memory");
	}
	metrics_policy_loaded(1);
	*out = r;
	return 0;
}

void reload_free(reload *r)
{
	if (r == NULL)
		return;
	pstore_free(r->policies);
	free(r);
}

pstore *reload_policies(reload *r)
{
	return r->policies;
}

static void poll_policy(reload *r, bool force)
{
	if (r->files.policy_path == NULL) {
		if (force)
			log_msg("info", "SIGHUP: the embedded policy is in use, nothing to reload",
				NULL);
		return;
	}
	file_sig now = sig_of(r->files.policy_path);
	if (!force && sig_same(&now, &r->policy_sig))
		return;
	r->policy_sig = now;
	cg_error err = {0};
	cg_policy *p = NULL;
	long gen = -1;
	if (load_policy(r->files.policy_path, &p, &err) >= 0) {
		gen = pstore_swap(r->policies, p);
		if (gen < 0)
			cg_error_set(&err, ENOMEM, "out of memory installing the new policy");
	}
	if (gen < 0) {
		metrics_policy_reload_failed();
		log_msg("error", "policy reload failed, keeping the policy in force", err.msg);
		return;
	}
	metrics_policy_loaded((unsigned long)gen);
	log_line l;
	log_begin(&l, "info", "policy reloaded");
	log_str(&l, "file", r->files.policy_path);
	log_int(&l, "generation", gen);
	log_end(&l);
}

static void poll_cert(reload *r)
{
	file_sig cert = sig_of(r->files.cert_path), key = sig_of(r->files.key_path);
	bool retry = r->cert_retry > 0 && --r->cert_retry == 0;
	if (sig_same(&cert, &r->cert_sig) && sig_same(&key, &r->key_sig) && !retry)
		return;
	r->cert_sig = cert;
	r->key_sig = key;
	cg_error err = {0};
	if (load_cert(&r->files, true, &err) < 0) {
		r->cert_retry = CERT_RETRY_POLLS;
		metrics_cert_reload_failed();
		log_msg("error", "certificate reload failed, keeping the certificate in use",
			err.msg);
		return;
	}
	r->cert_retry = 0;
	log_line l;
	log_begin(&l, "info", "certificate reloaded");
	log_str(&l, "cert", r->files.cert_path);
	log_end(&l);
}

void reload_poll(reload *r, bool force)
{
	poll_policy(r, force);
	poll_cert(r);
}
