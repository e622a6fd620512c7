/* Test helper: start a command the way runc starts a non-root container.
 *
 *   launcher [--uid N] [--gid N] [--groups G,...] [--bounding CAPS]
 *            [--caps CAPS] [--inh CAPS] [--nnp] [--no-ambient-raise]
 *            [--noroot] [--deny-capbset-read] [--deny-tmpfile]
 *            -- COMMAND [ARGS...]
 *
 * CAPS is a comma list of names (NET_RAW, net_bind_service) or "" for none.
 * Order as in runc: bounding set, keep capabilities across the uid change,
 * setgroups/setresgid/setresuid, then capset with the container's permitted
 * and effective sets. Inheritable and ambient stay empty, as containerd and
 * CRI-O leave them (--inh only exists to check the wrapper drops leftovers;
 * --no-ambient-raise sets SECBIT_NO_CAP_AMBIENT_RAISE to make a raise fail;
 * --noroot sets SECBIT_NOROOT, under which uid 0 gets no capability at exec
 * from being root). --deny-capbset-read and --deny-tmpfile install a seccomp
 * filter, kept across exec like a runtime's profile, that makes
 * prctl(PR_CAPBSET_READ) fail with EINVAL (as on a kernel that predates the
 * capability) or openat(O_TMPFILE) fail with EOPNOTSUPP (as on a filesystem
 * without it). Exits 126 with a message when any step or the exec fails. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const names[] = {"CHOWN",
				    "DAC_OVERRIDE",
				    "DAC_READ_SEARCH",
				    "FOWNER",
				    "FSETID",
				    "KILL",
				    "SETGID",
				    "SETUID",
				    "SETPCAP",
				    "LINUX_IMMUTABLE",
				    "NET_BIND_SERVICE",
				    "NET_BROADCAST",
				    "NET_ADMIN",
				    "NET_RAW",
				    "IPC_LOCK",
				    "IPC_OWNER",
				    "SYS_MODULE",
				    "SYS_RAWIO",
				    "SYS_CHROOT",
				    "SYS_PTRACE",
				    "SYS_PACCT",
				    "SYS_ADMIN",
				    "SYS_BOOT",
				    "SYS_NICE",
				    "SYS_RESOURCE",
				    "SYS_TIME",
				    "SYS_TTY_CONFIG",
				    "MKNOD",
				    "LEASE",
				    "AUDIT_WRITE",
				    "AUDIT_CONTROL",
				    "SETFCAP",
				    "MAC_OVERRIDE",
				    "MAC_ADMIN",
				    "SYSLOG",
				    "WAKE_ALARM",
				    "BLOCK_SUSPEND",
				    "AUDIT_READ",
				    "PERFMON",
				    "BPF",
				    "CHECKPOINT_RESTORE"};
#define NCAPS ((int)(sizeof(names) / sizeof(names[0])))

static _Noreturn void die(const char *what)
{
	fprintf(stderr, "launcher: %s: %s\n", what, strerror(errno));
	exit(126);
}

#if defined(__x86_64__)
#define SECCOMP_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SECCOMP_ARCH AUDIT_ARCH_AARCH64
#endif

/* Syscall nr fails with err when (low 32 bits of argument arg & mask) == value. */
static void deny_call(int nr, int arg, uint32_t mask, uint32_t value, int err)
{
#ifdef SECCOMP_ARCH
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_ARCH, 0, 6),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 4),
		/* the low half of a 64-bit argument, on a little-endian machine */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 (uint32_t)(offsetof(struct seccomp_data, args) + 8 * (size_t)arg)),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, mask),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, value, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (uint32_t)err),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {(unsigned short)(sizeof(f) / sizeof(f[0])), f};
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		die("PR_SET_SECCOMP");
#else
	(void)nr, (void)arg, (void)mask, (void)value, (void)err;
	errno = ENOSYS;
	die("seccomp filter for this architecture");
#endif
}

static uint64_t parse_caps(const char *list)
{
	uint64_t set = 0;
	char *copy = strdup(list), *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		const char *bare = strncasecmp(t, "CAP_", 4) == 0 ? t + 4 : t;
		int i = 0;
		while (i < NCAPS && strcasecmp(bare, names[i]) != 0)
			i++;
		if (i == NCAPS) {
			fprintf(stderr, "launcher: unknown capability %s\n", t);
			exit(2);
		}
		set |= 1ull << i;
	}
	free(copy);
	return set;
}

int main(int argc, char **argv)
{
	uid_t uid = 65534;
	gid_t gid = 65534, groups[16];
	int ngroups = 0, nnp = 0, noamb = 0, noroot = 0, nocapbset = 0, notmpfile = 0, i = 1;
	uint64_t bounding = 0, caps = 0, inh = 0;

	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : "";
		if (strcmp(argv[i], "--nnp") == 0) {
			nnp = 1;
			continue;
		}
		if (strcmp(argv[i], "--no-ambient-raise") == 0) {
			noamb = 1;
			continue;
		}
		if (strcmp(argv[i], "--noroot") == 0) {
			noroot = 1;
			continue;
		}
		if (strcmp(argv[i], "--deny-capbset-read") == 0) {
			nocapbset = 1;
			continue;
		}
		if (strcmp(argv[i], "--deny-tmpfile") == 0) {
			notmpfile = 1;
			continue;
		}
		if (strcmp(argv[i], "--uid") == 0)
			uid = (uid_t)strtoul(v, NULL, 10);
		else if (strcmp(argv[i], "--gid") == 0)
			gid = (gid_t)strtoul(v, NULL, 10);
		else if (strcmp(argv[i], "--groups") == 0)
			for (char *p = (char *)v; *p && ngroups < 16; p += *p == ',')
				groups[ngroups++] = (gid_t)strtoul(p, &p, 10);
		else if (strcmp(argv[i], "--bounding") == 0)
			bounding = parse_caps(v);
		else if (strcmp(argv[i], "--caps") == 0)
			caps = parse_caps(v);
		else if (strcmp(argv[i], "--inh") == 0)
			inh = parse_caps(v);
		else {
			fprintf(stderr, "launcher: unknown option %s\n", argv[i]);
			return 2;
		}
		i++;
	}
	if (i + 1 >= argc) {
		fprintf(stderr, "launcher: missing -- COMMAND\n");
		return 2;
	}

	for (int c = 0; c < NCAPS; c++)
		if (!(bounding >> c & 1) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 &&
		    errno != EINVAL)
			die("PR_CAPBSET_DROP");
	/* While still root with CAP_SYS_ADMIN, which a filter without
	 * no_new_privs needs. */
	if (nocapbset)
		deny_call(__NR_prctl, 0, ~0u, PR_CAPBSET_READ, EINVAL);
	if (notmpfile)
		deny_call(__NR_openat, 2, O_TMPFILE & ~O_DIRECTORY, O_TMPFILE & ~O_DIRECTORY,
			  EOPNOTSUPP);
	/* Before KEEPCAPS: PR_SET_SECUREBITS replaces all the bits. */
	if ((noamb || noroot) &&
	    prctl(PR_SET_SECUREBITS,
		  (noamb ? SECBIT_NO_CAP_AMBIENT_RAISE : 0) | (noroot ? SECBIT_NOROOT : 0), 0, 0,
		  0) < 0)
		die("PR_SET_SECUREBITS");
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		die("PR_SET_KEEPCAPS");
	if (setgroups((size_t)ngroups, groups) < 0)
		die("setgroups");
	if (setresgid(gid, gid, gid) < 0)
		die("setresgid");
	if (setresuid(uid, uid, uid) < 0)
		die("setresuid");

	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2] = {
		{(uint32_t)caps, (uint32_t)caps, (uint32_t)inh},
		{(uint32_t)(caps >> 32), (uint32_t)(caps >> 32), (uint32_t)(inh >> 32)}};
	if (syscall(SYS_capset, &h, d) < 0)
		die("capset");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		die("PR_CAP_AMBIENT_CLEAR_ALL");
	if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die("PR_SET_NO_NEW_PRIVS");
	execvp(argv[i + 1], argv + i + 1);
	die(argv[i + 1]);
}
