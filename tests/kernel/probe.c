/* Test helper: report what this process may do, one "key=value" per line.
 *
 *   probe [-o FD] [bind:PORT | raw | ping | fds | env]...
 *                                          (default: bind:80 raw ping)
 *
 * Prints (to FD with -o, else to stdout) uid, gid and
 * CapInh/CapPrm/CapEff/CapAmb from /proc/self/status, then each check:
 * fds prints fd0..fd2 as "closed" or where they lead, as found at start
 * (before this program opens anything); env prints each environment string
 * as env=STRING, in order. The others print "ok" or the errno name:
 * bind:PORT binds a TCP socket to 0.0.0.0:PORT (NET_BIND_SERVICE or
 * ip_unprivileged_port_start), raw
 * opens a raw ICMP socket (NET_RAW only), ping opens an ICMP echo datagram
 * socket (only a gid in ping_group_range may: no capability bypasses it).
 * Run it in a fresh network namespace. Built static, so that no LD_*
 * variable in its environment changes what it prints. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

extern char **environ;
static FILE *out;

static void report(const char *check, int fd)
{
	fprintf(out, "%s=%s\n", check, fd >= 0 ? "ok" : strerrorname_np(errno));
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

int main(int argc, char **argv)
{
	static char *defaults[] = {"bind:80", "raw", "ping"};
	char line[256], fds[3][256];
	/* First, before any open() could reuse a closed 0, 1 or 2. */
	for (int fd = 0; fd < 3; fd++) {
		char link[32];
		ssize_t n = -1;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		if (fcntl(fd, F_GETFD) >= 0 &&
		    (n = readlink(link, fds[fd], sizeof(fds[fd]) - 1)) < 0)
			n = snprintf(fds[fd], sizeof(fds[fd]), "open (%s)", strerrorname_np(errno));
		if (n < 0)
			n = snprintf(fds[fd], sizeof(fds[fd]), "closed");
		fds[fd][n] = '\0';
	}
	out = stdout;
	if (argc > 2 && strcmp(argv[1], "-o") == 0) {
		if (!(out = fdopen(atoi(argv[2]), "w")))
			return 1;
		argv += 2;
		argc -= 2;
	}
	FILE *f = fopen("/proc/self/status", "r");
	if (!f) {
		perror("probe: /proc/self/status");
		return 1;
	}
	fprintf(out, "uid=%u\ngid=%u\n", (unsigned)getuid(), (unsigned)getgid());
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "Cap", 3) == 0 && strncmp(line, "CapBnd", 6) != 0)
			fprintf(out, "%.6s=%s", line, line + strspn(line + 7, " \t") + 7);
	fclose(f);

	char **checks = argc > 1 ? argv + 1 : defaults;
	int n = argc > 1 ? argc - 1 : 3;
	for (int i = 0; i < n; i++) {
		if (strncmp(checks[i], "bind:", 5) == 0)
			report(checks[i], try_bind(atoi(checks[i] + 5)));
		else if (strcmp(checks[i], "raw") == 0)
			report("raw", socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
		else if (strcmp(checks[i], "ping") == 0)
			report("ping", socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP));
		else if (strcmp(checks[i], "fds") == 0)
			for (int fd = 0; fd < 3; fd++)
				fprintf(out, "fd%d=%s\n", fd, fds[fd]);
		else if (strcmp(checks[i], "env") == 0)
			for (char **e = environ; *e; e++)
				fprintf(out, "env=%s\n", *e);
		else {
			fprintf(stderr, "probe: unknown check %s\n", checks[i]);
			return 2;
		}
	}
	return fclose(out) != 0;
}
