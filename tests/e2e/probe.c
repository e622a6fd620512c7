/* e2e probe: the test image's entrypoint. Reports what the container's
 * process may do, one "key=value" line each, and exits 0.
 *
 *   probe [CHECK]...   (default: bind:80 bind:79 bind:443 ping raw)
 *
 * Always printed first: uid, gid, groups, NoNewPrivs, Seccomp and the five
 * Cap* lines of /proc/self/status, and the network namespace's
 * ip_unprivileged_port_start and ping_group_range (what the pod sysctls and
 * containerd's enable_unprivileged_ports/icmp set). Then, per CHECK, "ok" or
 * the errno name:
 *   bind:PORT   bind a TCP socket to 0.0.0.0:PORT (NET_BIND_SERVICE, or
 *               PORT >= ip_unprivileged_port_start)
 *   ping        open an ICMP echo datagram socket (gid in ping_group_range)
 *   raw         open a raw ICMP socket (NET_RAW only)
 *   write:PATH  create and remove PATH (read-only rootfs, readOnly mounts)
 *   fcap:PATH   PATH's security.capability as setcap writes it: "+p 400"
 *               (permitted mask in hex, "+ep" when the effective bit is
 *               set) or the errno name (ENODATA: none)
 * Static, so it runs in an image with nothing else in it. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/xattr.h>
#include <unistd.h>

static void report(const char *check, int fd)
{
	printf("%s=%s\n", check, fd >= 0 ? "ok" : strerrorname_np(errno));
	if (fd >= 0)
		close(fd);
}

static int try_bind(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		return fd;
	int e = errno;
	close(fd);
	errno = e;
	return -1;
}

static int try_write(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd >= 0)
		unlink(path);
	return fd;
}

/* struct vfs_cap_data: magic_etc (revision | VFS_CAP_FLAGS_EFFECTIVE), then
 * {permitted, inheritable} little-endian words (linux/capability.h). */
static void report_fcap(const char *check, const char *path)
{
	unsigned char raw[24];
	ssize_t n = getxattr(path, "security.capability", raw, sizeof(raw));
	if (n < 8) {
		printf("%s=%s\n", check, n < 0 ? strerrorname_np(errno) : "short");
		return;
	}
	uint32_t magic = (uint32_t)raw[0] | (uint32_t)raw[1] << 8 | (uint32_t)raw[2] << 16 |
			 (uint32_t)raw[3] << 24;
	uint64_t perm = (uint64_t)raw[4] | (uint64_t)raw[5] << 8 | (uint64_t)raw[6] << 16 |
			(uint64_t)raw[7] << 24;
	if (n >= 16)
		perm |= ((uint64_t)raw[12] | (uint64_t)raw[13] << 8 | (uint64_t)raw[14] << 16 |
			 (uint64_t)raw[15] << 24)
			<< 32;
	printf("%s=%s %llx\n", check, (magic & 1) ? "+ep" : "+p", (unsigned long long)perm);
}

static void print_file(const char *key, const char *path)
{
	char buf[128] = "";
	FILE *f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f))
		snprintf(buf, sizeof(buf), "%s\n", strerrorname_np(errno));
	if (f)
		fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	for (char *p = buf; *p; p++) /* ping_group_range separates with a tab */
		if (*p == '\t')
			*p = ' ';
	printf("%s=%s\n", key, buf);
}

int main(int argc, char **argv)
{
	static char *defaults[] = {"bind:80", "bind:79", "bind:443", "ping", "raw"};
	char line[256];
	gid_t groups[64];
	setvbuf(stdout, NULL, _IOLBF, 0);

	printf("uid=%u\ngid=%u\ngroups=", (unsigned)getuid(), (unsigned)getgid());
	int ng = getgroups(64, groups);
	for (int i = 0; i < ng; i++)
		printf("%s%u", i ? "," : "", (unsigned)groups[i]);
	printf("\n");
	FILE *f = fopen("/proc/self/status", "r");
	if (!f) {
		perror("probe: /proc/self/status");
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t k = strcspn(line, ":");
		if (line[k] != ':')
			continue;
		line[k] = '\0';
		if (strncmp(line, "Cap", 3) == 0 || strcmp(line, "NoNewPrivs") == 0 ||
		    strcmp(line, "Seccomp") == 0) {
			char *v = line + k + 1;
			v += strspn(v, " \t");
			printf("%s=%s", line, v);
		}
	}
	fclose(f);
	print_file("ip_unprivileged_port_start", "/proc/sys/net/ipv4/ip_unprivileged_port_start");
	print_file("ping_group_range", "/proc/sys/net/ipv4/ping_group_range");

	char **checks = argc > 1 ? argv + 1 : defaults;
	int n = argc > 1 ? argc - 1 : (int)(sizeof(defaults) / sizeof(defaults[0]));
	for (int i = 0; i < n; i++) {
		if (strncmp(checks[i], "bind:", 5) == 0)
			report(checks[i], try_bind(atoi(checks[i] + 5)));
		else if (strcmp(checks[i], "raw") == 0)
			report("raw", socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
		else if (strcmp(checks[i], "ping") == 0)
			report("ping", socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP));
		else if (strncmp(checks[i], "write:", 6) == 0)
			report(checks[i], try_write(checks[i] + 6));
		else if (strncmp(checks[i], "fcap:", 5) == 0)
			report_fcap(checks[i], checks[i] + 5);
		else {
			fprintf(stderr, "probe: unknown check %s\n", checks[i]);
			return 2;
		}
	}
	return 0;
}
