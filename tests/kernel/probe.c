/* Test helper: report what this process may do, one "key=value" per line.
 *
 *   probe [bind:PORT | raw | ping]...      (default: bind:80 raw ping)
 *
 * Prints uid, gid and CapInh/CapPrm/CapEff/CapAmb from /proc/self/status,
 * then for each check "ok" or the errno name: bind:PORT binds a TCP socket
 * to 0.0.0.0:PORT (NET_BIND_SERVICE or ip_unprivileged_port_start), raw
 * opens a raw ICMP socket (NET_RAW only), ping opens an ICMP echo datagram
 * socket (only a gid in ping_group_range may: no capability bypasses it).
 * Run it in a fresh network namespace. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

int main(int argc, char **argv)
{
	static char *defaults[] = {"bind:80", "raw", "ping"};
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	if (!f) {
		perror("probe: /proc/self/status");
		return 1;
	}
	printf("uid=%u\ngid=%u\n", (unsigned)getuid(), (unsigned)getgid());
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "Cap", 3) == 0 && strncmp(line, "CapBnd", 6) != 0)
			printf("%.6s=%s", line, line + strspn(line + 7, " \t") + 7);
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
		else {
			fprintf(stderr, "probe: unknown check %s\n", checks[i]);
			return 2;
		}
	}
	return 0;
}
