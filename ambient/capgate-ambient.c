/* capgate-ambient: run COMMAND with exactly the named capabilities, as a
 * non-root process, by way of the ambient set.
 *
 *   capgate-ambient --caps=NET_BIND_SERVICE[,NET_RAW...] -- COMMAND [ARGS...]
 *   capgate-ambient --install DIR
 *
 * Why it works (execve, for a file F run by a process P; capabilities(7)):
 *   P'(amb)  = (F is privileged: file caps or setuid) ? 0 : P(amb)
 *   P'(perm) = (P(inh) & F(inh)) | (F(perm) & bounding) | P'(amb)
 *   P'(eff)  = F(eff) ? P'(perm) : P'(amb)
 * The runtime leaves a non-root container with X in bounding/permitted but
 * not inheritable/ambient, so a plain COMMAND gets nothing. This file carries
 * `cap_X+p`, so exec gives it X in permitted; it puts X in inheritable and
 * ambient, and COMMAND (a plain file) then starts with exactly X in its
 * permitted, effective and ambient sets.
 *
 * It fails closed: if any step fails, COMMAND is not run. Exit codes:
 *   125 usage error (bad option, unknown capability, no `--` or COMMAND)
 *   126 a capability could not be raised, or COMMAND could not be executed
 *   127 COMMAND was not found
 *   1   --install failed
 * Libc only, static: no libcap, so it can be copied into any image. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#define VERSION	      "0.1.0"
#define EXIT_USAGE    125
#define EXIT_CAPS     126
#define EXIT_NOTFOUND 127

/* Indexed by capability number (linux/capability.h); policy/caps.c holds the
 * same list, kept apart so the wrapper links nothing but libc. */
/* clang-format off */
static const char *const cap_names[] = {
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID",
	"SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN",
	"NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE",
	"SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
	"SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
	"MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ",
	"PERFMON", "BPF", "CHECKPOINT_RESTORE"};
/* clang-format on */
#define NCAPS ((int)(sizeof(cap_names) / sizeof(cap_names[0])))
_Static_assert(NCAPS == CAP_CHECKPOINT_RESTORE + 1, "cap_names is indexed by number");

/* What --install writes: cap_net_bind_service,cap_net_raw+p. */
#define INSTALL_CAPS ((1u << CAP_NET_BIND_SERVICE) | (1u << CAP_NET_RAW))

static int fail(int code, const char *what, const char *why)
{
	fprintf(stderr, "capgate-ambient: %s: %s\n", what, why);
	return code;
}

/* Parses "net_bind_service,CAP_NET_RAW" (any case, optional CAP_) into a mask. */
static int parse_caps(const char *list, uint64_t *out)
{
	char name[32];
	*out = 0;
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");
		if (n == 0 || n >= sizeof(name))
			return fail(EXIT_USAGE, "--caps", "empty or overlong capability name");
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
		p += n + (p[n] == ',');
	}
	return *out ? 0 : fail(EXIT_USAGE, "--caps", "no capability given");
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
	char what[64];
	unsigned char raw[XATTR_CAPS_SZ_3];
	struct statvfs sv;
	snprintf(what, sizeof(what), "CAP_%s is not in the permitted set", cap_names[cap]);

	if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 0)
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

static int run(uint64_t want, char **cmd)
{
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

	/* PATH search like the runtime; ambient caps are lost again if COMMAND
	 * itself is setuid or has file capabilities. */
	execvp(cmd[0], cmd);
	char what[300];
	snprintf(what, sizeof(what), "exec %.256s", cmd[0]);
	return fail(errno == ENOENT ? EXIT_NOTFOUND : EXIT_CAPS, what, strerror(errno));
}

/* Copies fd in to fd out; 0 or -1 with errno set. */
static int copy_fd(int in, int out)
{
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		ssize_t w = write(out, buf, (size_t)n);
		if (w != n) {
			if (w >= 0)
				errno = EIO; /* short write to a regular file: disk full */
			return -1;
		}
	}
	return n < 0 ? -1 : 0;
}

/* Writes the copy and its capability into the open temp file; returns the
 * failed step or NULL. The xattr comes after the data because any write to
 * the file clears security.capability. */
static const char *install_into(int out)
{
	/* struct vfs_cap_data, revision 2: magic, then {permitted, inheritable}
	 * for caps 0-31 and 32-63, little endian. The effective flag stays
	 * clear (+p, not +ep): with +ep exec fails with EPERM as soon as one of
	 * the capabilities is missing from the bounding set. */
	uint32_t caps[5] = {htole32(VFS_CAP_REVISION_2), htole32(INSTALL_CAPS), 0, 0, 0};
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
	if (fsetxattr(out, "security.capability", caps, XATTR_CAPS_SZ_2, 0) < 0)
		return errno == EPERM ? "writing security.capability (needs CAP_SETFCAP)"
				      : "writing security.capability";
	if (fsync(out) < 0)
		return "fsync";
	return NULL;
}

/* A copy loses security.capability and only a process with CAP_SETFCAP may
 * write it: this is what the root init container runs. Temp file + rename,
 * so the app container never sees a half-written or capability-less file. */
static int install(const char *dir)
{
	char tmp[4096], dst[4096];
	if (snprintf(tmp, sizeof(tmp), "%s/.capgate-ambient.XXXXXX", dir) >= (int)sizeof(tmp) ||
	    snprintf(dst, sizeof(dst), "%s/capgate-ambient", dir) >= (int)sizeof(dst))
		return fail(1, dir, "path too long");
	int out = mkstemp(tmp);
	if (out < 0)
		return fail(1, dir, strerror(errno));
	const char *failed = install_into(out);
	int e = errno;
	if (close(out) < 0 && !failed) {
		failed = "close";
		e = errno;
	}
	if (!failed && rename(tmp, dst) < 0) {
		failed = "rename";
		e = errno;
	}
	if (failed) {
		unlink(tmp);
		return fail(1, failed, strerror(e));
	}
	printf("installed %s (cap_net_bind_service,cap_net_raw+p)\n", dst);
	return 0;
}

static const char usage[] =
	"usage: capgate-ambient --caps=CAP[,CAP...] -- COMMAND [ARGS...]\n"
	"       capgate-ambient --install DIR\n"
	"Runs COMMAND (searched in PATH) with exactly CAPs in its permitted, effective\n"
	"and ambient sets. Needs file capability cap_X+p on this file (see --install).\n"
	"Exit: 125 usage, 126 capability not raised or COMMAND not executable,\n"
	"127 COMMAND not found, 1 --install failed; otherwise COMMAND's status.\n";

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--help") == 0)
		return fputs(usage, stdout) == EOF;
	if (argc == 2 && strcmp(argv[1], "--version") == 0)
		return puts("capgate-ambient " VERSION) == EOF;
	if (argc == 3 && strcmp(argv[1], "--install") == 0)
		return install(argv[2]);

	uint64_t want;
	int rc;
	if (argc < 2 || strncmp(argv[1], "--caps=", 7) != 0) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if ((rc = parse_caps(argv[1] + 7, &want)) != 0)
		return rc;
	if (argc < 4 || strcmp(argv[2], "--") != 0)
		return fail(EXIT_USAGE, "usage", "expected -- COMMAND [ARGS...] after --caps");
	return run(want, argv + 3);
}
