/* capgate-ambient: run COMMAND with exactly the named capabilities, as a
 * non-root process, by way of the ambient set.
 *
 *   capgate-ambient --caps=NET_BIND_SERVICE[,NET_RAW...] -- COMMAND [ARGS...]
 *   capgate-ambient --install DIR [--caps=CAP[,CAP...]]
 *
 * Why it works (execve, for a file F run by a process P; capabilities(7)):
 *   P'(amb)  = (F is privileged: file caps or setuid) ? 0 : P(amb)
 *   P'(perm) = (P(inh) & F(inh)) | (F(perm) & bounding) | P'(amb)
 *   P'(eff)  = F(eff) ? P'(perm) : P'(amb)
 * The runtime leaves a non-root container with X in bounding/permitted but
 * not inheritable/ambient, so a plain COMMAND gets nothing. This file carries
 * `cap_X+p`, so exec gives it X in permitted; it puts X in inheritable and
 * ambient, and COMMAND (a plain file) then starts with exactly X in its
 * permitted, effective and ambient sets, and with the environment, file
 * descriptors and PATH search the runtime would have given it.
 *
 * --caps is not a security boundary: any process in the container may run
 * this file and get any capability in bounding & F(perm). The boundary is
 * the container's capabilities.add (its bounding set); see README.md.
 *
 * It fails closed: if any step fails, COMMAND is not run. Exit codes:
 *   125 usage error (bad option, unknown capability or stray comma in --caps,
 *       no `--` or COMMAND, --install DIR not absolute)
 *   126 a capability could not be raised exactly (also: run as uid 0 without
 *       SECBIT_NOROOT), the environment could not be recovered, or COMMAND
 *       could not be executed (not executable, a script without #!)
 *   127 COMMAND was not found (ENOENT, ENOTDIR), as a shell says
 *   1   --install failed
 * Libc only, static: no libcap, so it can be copied into any image. */
#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/caps_table.h"

#define VERSION	      "0.1.0"
#define EXIT_INSTALL  1
#define EXIT_USAGE    125
#define EXIT_CAPS     126
#define EXIT_NOTFOUND 127

/* The PATH containerd, CRI-O and Docker put into a container's environment
 * when the image sets none; used for the search only when PATH is unset. */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Indexed by capability number (linux/capability.h): generated from
 * common/caps.list into a header of macros only, the one policy/caps.c
 * includes too, so the wrapper still links nothing but libc. */
static const char *const cap_names[] = {CAPS_TABLE_NAMES};
#define NCAPS ((int)(sizeof(cap_names) / sizeof(cap_names[0])))
_Static_assert(NCAPS == CAP_CHECKPOINT_RESTORE + 1, "cap_names is indexed by number");

/* What --install writes without --caps: cap_net_bind_service,cap_net_raw+p. */
#define INSTALL_CAPS ((1ull << CAP_NET_BIND_SERVICE) | (1ull << CAP_NET_RAW))

static int fail(int code, const char *what, const char *why)
{
	fprintf(stderr, "capgate-ambient: %s: %s\n", what, why);
	return code;
}

/* Parses "net_bind_service,CAP_NET_RAW" (any case, optional CAP_) into a
 * mask. Every comma separates two names: a leading, trailing or doubled one
 * is refused rather than read as "nothing there". */
static int parse_caps(const char *list, uint64_t *out)
{
	char name[32];
	*out = 0;
	if (*list == '\0')
		return fail(EXIT_USAGE, "--caps", "no capability given");
	for (const char *p = list;; p++) {
		size_t n = strcspn(p, ",");
		if (n == 0)
			return fail(EXIT_USAGE, "--caps",
				    "empty capability name (leading, trailing or double comma)");
		if (n >= sizeof(name))
			return fail(EXIT_USAGE, "--caps", "overlong capability name");
		memcpy(name, p, n);
		name[n] = '\0';
		const char *bare = strncasecmp(name, "CAP_", 4) == 0 ? name + 4 : name;
		int i = 0;
		while (i < NCAPS && strcasecmp(bare, cap_names[i]) != 0)
			i++;
		if (i == NCAPS) {
			fprintf(stderr, "capgate-ambient: --caps: unknown capability \"%s\"\n",
				name);
			return EXIT_USAGE;
		}
		*out |= 1ull << i;
		p += n;
		if (*p == '\0')
			return 0;
	}
}

static int cap_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	return (int)syscall(SYS_capget, &h, d);
}

static int cap_set(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	return (int)syscall(SYS_capset, &h, d);
}

/* Capability `cap` is not in our permitted set: say which kernel rule most
 * likely kept it out. exec gave us F(perm) & bounding, but nothing from a
 * file on a nosuid mount, and under no_new_privs no more than the caller's
 * permitted set; checked from the most definite cause to the least. */
static int explain_missing(int cap)
{
	char what[64], why[128];
	unsigned char raw[XATTR_CAPS_SZ_3];
	struct statvfs sv;
	snprintf(what, sizeof(what), "CAP_%s is not in the permitted set", cap_names[cap]);

	/* -1 (EINVAL) is a kernel that does not know this capability number,
	 * or a seccomp filter: neither says anything about the bounding set. */
	int in_bounding = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
	if (in_bounding < 0) {
		snprintf(why, sizeof(why),
			 "cannot read the bounding set (PR_CAPBSET_READ: %s; a kernel older "
			 "than this capability?)",
			 strerror(errno));
		return fail(EXIT_CAPS, what, why);
	}
	if (in_bounding == 0)
		return fail(EXIT_CAPS, what,
			    "it is not in the bounding set (add it to the container's "
			    "securityContext.capabilities.add)");
	if (statvfs("/proc/self/exe", &sv) == 0 && (sv.f_flag & ST_NOSUID))
		return fail(EXIT_CAPS, what,
			    "this file is on a nosuid mount, where the kernel ignores file "
			    "capabilities");
	ssize_t n = getxattr("/proc/self/exe", "security.capability", raw, sizeof(raw));
	if (n < 0)
		return fail(EXIT_CAPS, what,
			    "this file has no file capability (security.capability is missing: a "
			    "plain copy loses it; use setcap cap_...+p or --install)");
	uint32_t perm = 0; /* vfs_cap_data.data[cap / 32].permitted */
	if (n >= 8 + 8 * (cap / 32))
		memcpy(&perm, raw + 4 + 8 * (cap / 32), sizeof(perm));
	if (!(le32toh(perm) & (1u << (cap % 32))))
		return fail(EXIT_CAPS, what, "this file's capability does not include it");
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1)
		return fail(EXIT_CAPS, what,
			    "no_new_privs is set (allowPrivilegeEscalation: false), so file "
			    "capabilities cannot add what the runtime did not put in the "
			    "permitted set (make the wrapper the container's command)");
	return fail(EXIT_CAPS, what, "unknown cause (user namespace or securebits?)");
}

/* Running this file is a secure exec (AT_SECURE: it gained capabilities),
 * so static glibc, before main, deleted the variables of its
 * sysdeps/generic/unsecvars.h (LD_LIBRARY_PATH, TMPDIR, TZDIR, LOCPATH, ...)
 * and of the SXID_ERASE tunables (MALLOC_CHECK_) from environ, by shifting
 * the pointers down in place, and put a filtered copy of GLIBC_TUNABLES in
 * its slot. COMMAND is no secure exec (its permitted set is its ambient
 * set), so that protects nothing and breaks images whose ENV needs them.
 * The strings themselves are untouched: the kernel (fs/exec.c) copied the
 * argv strings, then the envp strings, back to back, ending where the
 * executable's name AT_EXECFN starts, and below them the pointers argv[],
 * NULL, envp[] (one slot per string), NULL, then the auxiliary vector. We
 * check that the stack is exactly that, and that every pointer glibc kept
 * is one of those strings (or its GLIBC_TUNABLES copy), then point envp[]
 * at all of them again; any mismatch: -1, and COMMAND is not run. Called
 * just before the exec: nothing of ours runs with these variables. The
 * other way, an entry point of our own (-nostartfiles) that saves envp
 * before glibc starts, would be assembly per architecture running before
 * relocation; this keeps glibc's start-up as it is and checks its result.
 * (/proc/self/environ is no way: a process that gained capabilities is not
 * dumpable, so it is root's and mode 0400.) */
static int restore_env(int argc, char **argv)
{
	char **envp = argv + argc + 1;
	const char *end = (const char *)getauxval(AT_EXECFN), *s = argv[0];
	if (environ != envp || argv[argc] != NULL || !end || (uintptr_t)s >= (uintptr_t)end)
		return -1;
	for (int i = 0; i < argc; i++) { /* argv strings, back to back */
		if (argv[i] != s || (uintptr_t)s >= (uintptr_t)end)
			return -1;
		s += strnlen(s, (size_t)(end - s)) + 1;
	}
	const char *first = s;
	size_t n = 0; /* env strings in [first, end), the last NUL at end[-1] */
	for (; (uintptr_t)s < (uintptr_t)end; n++)
		s += strnlen(s, (size_t)(end - s)) + 1;
	if (s != end)
		return -1;

	/* envp[n] ends the array and the auxv that follows holds AT_EXECFN:
	 * then n is the kernel's envc. All of it lies below the strings. */
	const uintptr_t *av = (const uintptr_t *)(envp + n + 1);
	int found = 0;
	if ((uintptr_t)av > (uintptr_t)argv[0] || envp[n] != NULL)
		return -1;
	for (; (uintptr_t)(av + 2) <= (uintptr_t)argv[0] && av[0] != AT_NULL; av += 2)
		found |= av[0] == AT_EXECFN && av[1] == (uintptr_t)end;
	if (!found)
		return -1;

	/* glibc's envp[]: kept pointers in order, then NULLs up to envp[n]. */
	s = first;
	size_t i = 0;
	for (; i < n && envp[i]; i++) {
		if ((uintptr_t)envp[i] < (uintptr_t)first || (uintptr_t)envp[i] >= (uintptr_t)end) {
			if (strncmp(envp[i], "GLIBC_TUNABLES=", 15) != 0)
				return -1;
			continue;
		}
		while ((uintptr_t)s < (uintptr_t)envp[i])
			s += strlen(s) + 1;
		if (s != envp[i])
			return -1;
	}
	for (; i < n; i++)
		if (envp[i] != NULL)
			return -1;

	s = first;
	for (i = 0; i < n; i++, s += strlen(s) + 1)
		envp[i] = (char *)s;
	return 0;
}

/* Also under AT_SECURE, static glibc (csu/check_fds.c) opened a closed fd 0
 * on /dev/full O_WRONLY and a closed fd 1 or 2 on /dev/null O_RDONLY, each
 * with O_NOFOLLOW, so that a privileged program never writes into a file it
 * opens later. COMMAND must see them closed, as the container had them: mark
 * exactly those close-on-exec, so they vanish at its execve (our own error
 * messages still go to them until then). That signature is what glibc
 * leaves; an inherited fd carrying it cannot be read (fd 0) or written (fd
 * 1, 2) either, so closing one takes nothing usable from COMMAND. */
static int release_glibc_fds(void)
{
	for (int fd = 0; fd < 3; fd++) {
		struct stat st;
		int fl = fcntl(fd, F_GETFL);
		int acc = fd == 0 ? O_WRONLY : O_RDONLY;
		dev_t dev = fd == 0 ? makedev(1, 7) : makedev(1, 3); /* full, null */
		if (fl < 0 || (fl & O_ACCMODE) != acc || !(fl & O_NOFOLLOW) || fstat(fd, &st) < 0 ||
		    !S_ISCHR(st.st_mode) || st.st_rdev != dev)
			continue;
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
			return -1;
	}
	return 0;
}

/* execvp's search (glibc posix/execvpe.c): a name with a slash is run as
 * is; otherwise each PATH entry is tried, going on past ENOENT, ENOTDIR,
 * ESTALE, ENODEV, ETIMEDOUT and EACCES (reported if nothing runs), stopping
 * at any other error. Unlike execvp: PATH unset means DEFAULT_PATH (what the
 * runtime would have set), not "/bin:/usr/bin"; an empty or relative entry
 * is skipped, not searched in the working directory (runc's Go LookPath
 * refuses such a match, ErrDot); and ENOEXEC is an error, not a reason to
 * run the file with /bin/sh (runc does not either). Returns with errno. */
static void exec_command(char **cmd)
{
	const char *file = cmd[0], *path = getenv("PATH");
	char buf[PATH_MAX];
	int eacces = 0;
	size_t flen = strlen(file);
	if (strchr(file, '/')) {
		execve(file, cmd, environ);
		return;
	}
	if (flen == 0 || flen > NAME_MAX) {
		errno = flen == 0 ? ENOENT : ENAMETOOLONG;
		return;
	}
	for (const char *p = path ? path : DEFAULT_PATH;; p++) {
		const char *q = strchrnul(p, ':');
		size_t len = (size_t)(q - p);
		if (len > 0 && p[0] == '/' && len + 1 + flen < sizeof(buf)) {
			memcpy(buf, p, len);
			buf[len] = '/';
			memcpy(buf + len + 1, file, flen + 1);
			execve(buf, cmd, environ);
			if (errno == EACCES)
				eacces = 1;
			else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE &&
				 errno != ENODEV && errno != ETIMEDOUT)
				return;
		}
		p = q;
		if (*p == '\0')
			break;
	}
	errno = eacces ? EACCES : ENOENT;
}

static int run(uint64_t want, int argc, char **argv, char **cmd)
{
	/* With a real or effective uid of 0 (and no SECBIT_NOROOT), the kernel
	 * gives COMMAND every capability in the bounding set at exec
	 * (capabilities(7), "execution of programs by root"): "exactly the
	 * named set" cannot hold, and a root container needs no wrapper. */
	int sb = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	if ((getuid() == 0 || geteuid() == 0) && (sb < 0 || !(sb & SECBIT_NOROOT)))
		return fail(EXIT_CAPS, "refusing to run as uid 0",
			    "at exec root gets back every capability in the bounding set, not "
			    "exactly --caps (run as non-root, or set SECBIT_NOROOT first)");
	struct __user_cap_data_struct d[2];
	if (cap_get(d) < 0)
		return fail(EXIT_CAPS, "capget", strerror(errno));
	uint64_t perm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	for (int i = 0; i < NCAPS; i++)
		if ((want >> i & 1) && !(perm >> i & 1))
			return explain_missing(i);

	/* Ambient raise needs the capability in both permitted and inheritable;
	 * inheritable may grow within permitted without CAP_SETPCAP. The same
	 * call drops everything else we hold: permitted only ever shrinks, and
	 * nothing is left effective since we need no capability ourselves. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return fail(EXIT_CAPS, "clearing the ambient set", strerror(errno));
	d[0].permitted = d[0].inheritable = (uint32_t)want;
	d[1].permitted = d[1].inheritable = (uint32_t)(want >> 32);
	d[0].effective = d[1].effective = 0;
	if (cap_set(d) < 0)
		return fail(EXIT_CAPS, "capset (raise inheritable, drop the rest)",
			    strerror(errno));

	/* Ambient caps survive execve of a plain file and become its permitted
	 * and effective sets (fails under SECBIT_NO_CAP_AMBIENT_RAISE). Checked
	 * back so that a silent no-op can never run COMMAND without them. */
	for (int i = 0; i < NCAPS; i++) {
		if (!(want >> i & 1))
			continue;
		char what[64];
		snprintf(what, sizeof(what), "raising CAP_%s in the ambient set", cap_names[i]);
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0) < 0)
			return fail(EXIT_CAPS, what, strerror(errno));
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, i, 0, 0) != 1)
			return fail(EXIT_CAPS, what, "not set after raising it");
	}
	/* Only a secure exec made glibc change the environment and fds. */
	if (getauxval(AT_SECURE) && restore_env(argc, argv) < 0)
		return fail(EXIT_CAPS, "cannot recover the environment",
			    "the initial stack is not laid out as the kernel lays it out");
	if (getauxval(AT_SECURE) && release_glibc_fds() < 0)
		return fail(EXIT_CAPS, "fcntl FD_CLOEXEC on fd 0-2", strerror(errno));

	/* Ambient caps are lost again if COMMAND itself is setuid or has file
	 * capabilities (first rule above). */
	exec_command(cmd);
	int e = errno;
	fprintf(stderr, "capgate-ambient: exec %.256s: %s%s\n", cmd[0], strerror(e),
		e == ENOEXEC ? " (neither a binary for this machine nor a script with #!; "
			       "not run with /bin/sh, as runc would not)"
			     : "");
	return e == ENOENT || e == ENOTDIR ? EXIT_NOTFOUND : EXIT_CAPS;
}

/* write(2) may write less than asked (a full disk after part of the buffer,
 * a signal): go on until all is written or it fails, and keep its errno
 * (ENOSPC), never an invented one. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Copies fd in to fd out; 0 or -1 with errno set. */
static int copy_fd(int in, int out)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return (int)n;
		if (write_all(out, buf, (size_t)n) < 0)
			return -1;
	}
}

/* Writes the copy and its capability into the open new file; returns the
 * failed step or NULL. The xattr comes after the data because any write to
 * the file clears security.capability. */
static const char *install_into(int out, uint64_t caps)
{
	/* struct vfs_cap_data, revision 2, as setcap writes it: magic, then
	 * {permitted, inheritable} for caps 0-31 and 32-63, little endian. The
	 * effective flag stays clear (+p, not +ep): with +ep exec fails with
	 * EPERM as soon as one of the capabilities is missing from the
	 * bounding set. */
	uint32_t xattr[5] = {htole32(VFS_CAP_REVISION_2), htole32((uint32_t)caps), 0,
			     htole32((uint32_t)(caps >> 32)), 0};
	int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return "open /proc/self/exe";
	int rc = copy_fd(in, out);
	int e = errno;
	close(in);
	errno = e;
	if (rc < 0)
		return "copy";
	if (fchmod(out, 0755) < 0)
		return "chmod 0755";
	if (fsetxattr(out, "security.capability", xattr, XATTR_CAPS_SZ_2, 0) < 0)
		return errno == EPERM ? "writing security.capability (needs CAP_SETFCAP)"
				      : "writing security.capability";
	if (fsync(out) < 0)
		return "fsync";
	return NULL;
}

/* A name of ours in DIR that no one else uses: ".capgate-ambient.<12 hex>". */
static int temp_name(char name[32])
{
	unsigned char r[6];
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -1;
	snprintf(name, 32, ".capgate-ambient.%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3],
		 r[4], r[5]);
	return 0;
}

/* Creates the new file in DIR. O_TMPFILE first: it has no name until it is
 * complete, so a killed installer leaves nothing in the (size-limited)
 * emptyDir. It is then linked under a temp name through /proc/self/fd
 * (linkat's AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH). Filesystems
 * without O_TMPFILE (EOPNOTSUPP; EISDIR from kernels before 3.11) get a
 * named temp file, O_EXCL and O_NOFOLLOW so that nothing planted there is
 * opened. Returns the fd (and the temp name, once it has one) or -1. */
static int create_in(int dfd, char tmp[32], int *linked)
{
	*linked = 0;
	int fd = openat(dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0700);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
		return fd;
	for (int tries = 0; tries < 8; tries++) {
		if (temp_name(tmp) < 0)
			return -1;
		fd = openat(dfd, tmp, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0700);
		if (fd >= 0 || errno != EEXIST) {
			*linked = fd >= 0;
			return fd;
		}
	}
	return -1;
}

/* Names the complete O_TMPFILE file in DIR (a temp name); 0 or -1, errno. */
static int link_tmpfile(int fd, int dfd, char tmp[32])
{
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	for (int tries = 0; tries < 8; tries++) {
		if (temp_name(tmp) < 0)
			return -1;
		if (linkat(AT_FDCWD, proc, dfd, tmp, AT_SYMLINK_FOLLOW) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

/* A copy loses security.capability and only a process with CAP_SETFCAP may
 * write it: this is what the root init container runs. DIR is opened once
 * (absolute, O_NOFOLLOW: a symlink there is refused, not followed) and every
 * later step is relative to that fd, so DIR is resolved exactly once and
 * nothing is written outside it. The file appears under its final name by
 * renameat, complete, with its capability. */
static int install(const char *dir, uint64_t caps)
{
	char tmp[32] = "";
	int linked;
	if (dir[0] != '/')
		return fail(EXIT_USAGE, "--install", "DIR must be an absolute path");
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		/* The kernel refused it (ENOTDIR, or ELOOP); lstat only words it. */
		int e = errno;
		struct stat st;
		int link =
			(e == ENOTDIR || e == ELOOP) && lstat(dir, &st) == 0 && S_ISLNK(st.st_mode);
		return fail(EXIT_INSTALL, dir,
			    link ? "is a symbolic link (refused: name the directory itself)"
				 : strerror(e));
	}
	int out = create_in(dfd, tmp, &linked);
	if (out < 0) {
		int e = errno;
		close(dfd);
		return fail(EXIT_INSTALL, "creating the new file in DIR", strerror(e));
	}
	const char *failed = install_into(out, caps);
	int e = errno;
	if (!failed && !linked) {
		linked = link_tmpfile(out, dfd, tmp) == 0;
		e = errno;
		failed = linked ? NULL : "linking the new file into DIR (through /proc/self/fd)";
	}
	if (close(out) < 0 && !failed) {
		failed = "close";
		e = errno;
	}
	if (!failed && renameat(dfd, tmp, dfd, "capgate-ambient") < 0) {
		failed = "rename";
		e = errno;
	}
	if (!failed && fsync(dfd) < 0) {
		failed = "fsync DIR";
		e = errno;
	}
	if (failed && linked)
		unlinkat(dfd, tmp, 0);
	close(dfd);
	if (failed)
		return fail(EXIT_INSTALL, failed, strerror(e));
	printf("installed %s/capgate-ambient (", dir);
	for (int i = 0, sep = 0; i < NCAPS; i++) {
		if (!(caps >> i & 1))
			continue;
		printf("%scap_", sep++ ? "," : "");
		for (const char *c = cap_names[i]; *c; c++)
			putchar(tolower((unsigned char)*c));
	}
	puts("+p)");
	return 0;
}

static const char usage[] =
	"usage: capgate-ambient --caps=CAP[,CAP...] -- COMMAND [ARGS...]\n"
	"       capgate-ambient --install DIR [--caps=CAP[,CAP...]]\n"
	"Runs COMMAND (searched in PATH) with exactly CAPs in its permitted, effective\n"
	"and ambient sets, and the environment and fds it was given. Needs file\n"
	"capability cap_X+p on this file (see --install; without --caps it installs\n"
	"cap_net_bind_service,cap_net_raw+p). Refuses uid 0 without SECBIT_NOROOT.\n"
	"Not a boundary: the container's capabilities.add is (see README).\n"
	"Exit: 125 usage, 126 capability not raised exactly or COMMAND not executable,\n"
	"127 COMMAND not found, 1 --install failed; otherwise COMMAND's status.\n";

int main(int argc, char **argv)
{
	uint64_t want = INSTALL_CAPS;
	int rc;
	if (argc == 2 && strcmp(argv[1], "--help") == 0)
		return fputs(usage, stdout) == EOF;
	if (argc == 2 && strcmp(argv[1], "--version") == 0)
		return puts("capgate-ambient " VERSION) == EOF;
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "--install") == 0) {
		if (argc == 4 && strncmp(argv[3], "--caps=", 7) != 0) {
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
		if (argc == 4 && (rc = parse_caps(argv[3] + 7, &want)) != 0)
			return rc;
		return install(argv[2], want);
	}

	if (argc < 2 || strncmp(argv[1], "--caps=", 7) != 0) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if ((rc = parse_caps(argv[1] + 7, &want)) != 0)
		return rc;
	if (argc < 4 || strcmp(argv[2], "--") != 0)
		return fail(EXIT_USAGE, "usage", "expected -- COMMAND [ARGS...] after --caps");
	return run(want, argc, argv, argv + 3);
}
