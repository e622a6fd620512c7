/* Clients for tests/availability/run.sh and bench/flood.sh (issue 13):
 *
 *   flood hold PORT N SECS SRC0 NSRC RATE
 *       keeps N idle sockets open to PORT for SECS seconds, a third each of
 *       plain TCP that sends nothing, half a TLS ClientHello, and a
 *       completed TLS handshake that never sends a request; they open 500
 *       at a time, and each one the server closes is opened again (at most
 *       RATE a second in all), so the pressure lasts. Source addresses cycle over NSRC loopback
 * addresses from SRC0 (127.0.1.1 ...). Prints how many were opened and how many the server closed.
 *   flood probe PORT FILE SECS MS [SRC]
 *       every MS milliseconds, one AdmissionReview (FILE) on a new TLS
 *       connection, as an apiserver's fresh connection; prints how many
 *       were answered 200, how many were not, and the p50/p99/max latency
 *       from connect() to the whole answer.
 *   flood keep PORT FILE N SECS SRC
 *       an apiserver's pool: N TLS connections from SRC, one review each,
 *       then idle for SECS seconds, then one more review on each that is
 *       still open; prints how many were closed while idle and how many
 *       answered 200 both times.
 *   flood burst PORT FILE N PID ROUNDS
 *       ROUNDS times: N new TLS connections; then the server (PID) is
 *       stopped (SIGSTOP) while a review is written on every one, and
 *       continued; one line per round: how many were answered and the
 *       slowest answer from SIGCONT (all N ready at one wake-up of its
 *       poller).
 *   flood post PORT PATH FILE N RETRIES
 *       N connections at once each POST FILE, the whole body sent before
 *       reading (as http.client); the last byte of each waits until all N
 *       have sent the rest, so all N are in the server at once whatever
 *       the scheduling. A 503 with Retry-After is retried on a new
 *       connection after that many seconds, up to RETRIES times; prints the
 *       count of each final status, of 503s seen, and of 503s without
 *       Retry-After.
 *
 * Loopback only; every loop is bounded in time. Certificates are not
 * verified: the suite checks the server's behaviour, not its identity. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static SSL_CTX *ctx;
static int port;

static long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A connection from src (NULL: any loopback address). */
static int tcp_connect(const char *src, int nonblock)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (src != NULL) {
		struct sockaddr_in b = {.sin_family = AF_INET};
		inet_pton(AF_INET, src, &b.sin_addr);
		if (bind(fd, (struct sockaddr *)&b, sizeof(b)) < 0) {
			close(fd);
			return -1;
		}
	}
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static SSL *tls_new(int fd)
{
	SSL *s = SSL_new(ctx);
	SSL_set_fd(s, fd);
	SSL_set_tlsext_host_name(s, "capgate.capgate.svc");
	SSL_set_connect_state(s);
	return s;
}

/* --- hold ---------------------------------------------------------------- */

enum kind { K_TCP, K_HALF_HELLO, K_TLS };

typedef struct held {
	int fd;
	SSL *ssl;
	enum kind kind;
	int ready; /* reached its idle state */
	int once;  /* opened before: reopening it counts against the rate */
} held;

static unsigned char hello[4096];
static int hello_len;

static void open_held(held *h, const char *src)
{
	h->fd = tcp_connect(src, 1);
	h->ssl = NULL;
	h->ready = 0;
	if (h->fd >= 0 && h->kind == K_TLS)
		h->ssl = tls_new(h->fd);
}

static void close_held(held *h)
{
	if (h->ssl != NULL)
		SSL_free(h->ssl);
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	h->ssl = NULL;
}

/* Moves h towards its idle state; returns the poll events it waits for, -1
 * when the server closed it. */
static int step_held(held *h)
{
	if (h->ready) {
		char b[256];
		ssize_t r = recv(h->fd, b, sizeof(b), MSG_DONTWAIT | MSG_PEEK);
		return r == 0 || (r < 0 && errno != EAGAIN) ? -1 : POLLIN;
	}
	if (h->kind == K_TCP) {
		h->ready = 1;
		return POLLIN;
	}
	if (h->kind == K_HALF_HELLO) {
		ssize_t w = send(h->fd, hello, (size_t)hello_len / 2, MSG_NOSIGNAL);
		if (w < 0 && errno == EAGAIN)
			return POLLOUT;
		if (w < 0)
			return -1;
		h->ready = 1;
		return POLLIN;
	}
	int r = SSL_do_handshake(h->ssl);
	if (r == 1) {
		h->ready = 1;
		return POLLIN;
	}
	int e = SSL_get_error(h->ssl, r);
	return e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : -1;
}

static int cmd_hold(int n, int secs, const char *src0, int nsrc, int rate)
{
	SSL *s = SSL_new(ctx);
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	SSL_set_bio(s, rb, wb);
	SSL_set_tlsext_host_name(s, "capgate.capgate.svc");
	SSL_set_connect_state(s);
	SSL_do_handshake(s);
	hello_len = BIO_read(wb, hello, sizeof(hello));
	SSL_free(s);
	struct in_addr base;
	inet_pton(AF_INET, src0, &base);
	held *hs = calloc((size_t)n, sizeof(*hs));
	struct pollfd *p = calloc((size_t)n, sizeof(*p));
	long opened = 0, closed = 0, failed = 0, t0 = now_ms(), budget_t = t0;
	long budget = 0;
	for (int i = 0; i < n; i++) {
		hs[i].kind = (enum kind)(i % 3);
		hs[i].fd = -1;
	}
	while (now_ms() - t0 < (long)secs * 1000) {
		/* The first N open 500 at a time; then at most rate reopened a
		 * second. */
		if (now_ms() - budget_t >= 100) {
			budget = rate / 10 > 0 ? rate / 10 : 1;
			budget_t = now_ms();
		}
		int first = 500;
		for (int i = 0; i < n; i++) {
			held *h = &hs[i];
			bool fresh = h->fd < 0 && !h->once;
			if (h->fd < 0 && ((fresh && first > 0) || (!fresh && budget > 0))) {
				char src[INET_ADDRSTRLEN];
				struct in_addr a = {
					htonl(ntohl(base.s_addr) + (uint32_t)(i % nsrc))};
				inet_ntop(AF_INET, &a, src, sizeof(src));
				open_held(h, src);
				h->once = 1;
				if (fresh)
					first--;
				else
					budget--;
				if (h->fd < 0)
					failed++;
				else
					opened++;
			}
			int ev = h->fd >= 0 ? step_held(h) : 0;
			if (ev < 0) {
				close_held(h);
				closed++;
			}
			p[i].fd = h->fd;
			p[i].events = (short)(ev > 0 ? ev : 0);
		}
		poll(p, (nfds_t)n, 50);
	}
	int open_end = 0, ready_end = 0;
	for (int i = 0; i < n; i++) {
		open_end += hs[i].fd >= 0;
		ready_end += hs[i].fd >= 0 && hs[i].ready;
		close_held(&hs[i]);
	}
	printf("opened %ld closed_by_server %ld connect_failed %ld open_at_end %d idle_at_end %d\n",
	       opened, closed, failed, open_end, ready_end);
	free(hs);
	free(p);
	return 0;
}

/* --- one request on a new connection ------------------------------------ */

typedef struct answer {
	int status;
	int retry_after; /* -1: none */
	char uid_ok;
} answer;

static char *file_data;
static size_t file_len;
static const char *want_uid;

static pthread_barrier_t all_sent;

/* Sends the whole request on s, then reads the whole answer
 * (Content-Length). status 0: no answer. With hold_last, the last body byte
 * waits until every poster has sent all but its own (all_sent), so no
 * request can finish before all have arrived. */
static answer request_on(SSL *s, const char *path, int hold_last)
{
	answer a = {0, -1, 0};
	char head[256];
	int hn = snprintf(head, sizeof(head),
			  "POST %s HTTP/1.1\r\nHost: capgate.capgate.svc\r\nContent-Type: "
			  "application/json\r\nContent-Length: %zu\r\n\r\n",
			  path, file_len);
	size_t off = 0, upto = hold_last ? file_len - 1 : file_len;
	int ok = SSL_write(s, head, hn) > 0;
	while (ok && off < upto) {
		int w = SSL_write(s, file_data + off,
				  (int)(upto - off < 65536 ? upto - off : 65536));
		ok = w > 0;
		off += w > 0 ? (size_t)w : 0;
	}
	if (hold_last) {
		pthread_barrier_wait(&all_sent);
		ok = ok && SSL_write(s, file_data + off, 1) > 0;
	}
	if (!ok)
		return a;
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap + 1);
	long want = -1;
	for (;;) {
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
		int r = SSL_read(s, buf + len, (int)(cap - len));
		if (r <= 0)
			break;
		len += (size_t)r;
		buf[len] = '\0';
		char *end = strstr(buf, "\r\n\r\n");
		if (end != NULL && want < 0) {
			char *cl = strcasestr(buf, "\r\nContent-Length:");
			want = (long)(end + 4 - buf) + (cl != NULL && cl < end ? atol(cl + 17) : 0);
		}
		if (want >= 0 && (long)len >= want)
			break;
	}
	buf[len] = '\0';
	if (sscanf(buf, "HTTP/1.%*d %d", &a.status) != 1)
		a.status = 0;
	char *ra = strcasestr(buf, "\r\nRetry-After:");
	if (ra != NULL)
		a.retry_after = atoi(ra + 14);
	a.uid_ok = want_uid == NULL || strstr(buf, want_uid) != NULL;
	free(buf);
	return a;
}

/* A new TLS connection from src, blocking with 30 s timeouts; NULL when it
 * could not be set up (the barrier is still passed for hold_last). */
static SSL *tls_connect(const char *src, int *fd_out)
{
	int fd = tcp_connect(src, 0);
	if (fd < 0)
		return NULL;
	struct timeval tv = {30, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	SSL *s = tls_new(fd);
	if (SSL_do_handshake(s) != 1) {
		SSL_free(s);
		close(fd);
		return NULL;
	}
	*fd_out = fd;
	return s;
}

static answer request_once(const char *path, const char *src, int hold_last)
{
	int fd = -1;
	SSL *s = tls_connect(src, &fd);
	if (s == NULL) {
		if (hold_last)
			pthread_barrier_wait(&all_sent);
		return (answer){0, -1, 0};
	}
	answer a = request_on(s, path, hold_last);
	SSL_free(s);
	close(fd);
	return a;
}

/* --- burst: N requests that become ready at the same instant ------------ */

static int burst_once(int n, int pid)
{
	SSL **ss = calloc((size_t)n, sizeof(*ss));
	int *fds = calloc((size_t)n, sizeof(*fds));
	int ready = 0, ok = 0;
	for (int i = 0; i < n; i++) {
		ss[i] = tls_connect(NULL, &fds[i]);
		ready += ss[i] != NULL;
	}
	/* The server is stopped (once it is done with the handshakes) while
	 * every request is written, so that its poller finds all of them ready
	 * in one wake-up. */
	usleep(500 * 1000);
	kill(pid, SIGSTOP);
	char head[256];
	int hn = snprintf(head, sizeof(head),
			  "POST /mutate HTTP/1.1\r\nHost: capgate.capgate.svc\r\nContent-Type: "
			  "application/json\r\nContent-Length: %zu\r\n\r\n",
			  file_len);
	for (int i = 0; i < n; i++)
		if (ss[i] != NULL) {
			SSL_write(ss[i], head, hn);
			SSL_write(ss[i], file_data, (int)file_len);
		}
	usleep(200 * 1000);
	double t0 = now_s(), worst = 0;
	kill(pid, SIGCONT);
	for (int i = 0; i < n; i++) {
		if (ss[i] == NULL)
			continue;
		char buf[8192];
		int r = SSL_read(ss[i], buf, sizeof(buf) - 1);
		int status = 0;
		if (r > 0) {
			buf[r] = '\0';
			sscanf(buf, "HTTP/1.%*d %d", &status);
		}
		ok += status == 200;
		double dt = (now_s() - t0) * 1000;
		worst = dt > worst ? dt : worst;
	}
	printf("connections %d ready %d answered_200 %d slowest_ms %.0f\n", n, ready, ok, worst);
	for (int i = 0; i < n; i++)
		if (ss[i] != NULL) {
			SSL_free(ss[i]);
			close(fds[i]);
		}
	free(ss);
	free(fds);
	return 0;
}

/* Each round on new connections: whether the poller sees exactly its
 * batch size at one wake-up depends on what else is ready then. */
static int cmd_burst(int n, int pid, int rounds)
{
	for (int r = 0; r < rounds; r++)
		burst_once(n, pid);
	return 0;
}

/* --- keep: an apiserver's idle keep-alive connections ------------------- */

static int cmd_keep(int n, int secs, const char *src)
{
	SSL **ss = calloc((size_t)n, sizeof(*ss));
	int *fds = calloc((size_t)n, sizeof(*fds));
	int first_ok = 0, closed = 0, second_ok = 0;
	for (int i = 0; i < n; i++) {
		ss[i] = tls_connect(src, &fds[i]);
		if (ss[i] == NULL)
			continue;
		answer a = request_on(ss[i], "/mutate?timeout=10s", 0);
		first_ok += a.status == 200 && a.uid_ok;
	}
	printf("ready %d\n", first_ok);
	sleep((unsigned int)secs);
	for (int i = 0; i < n; i++) {
		if (ss[i] == NULL)
			continue;
		/* Closed by the server while idle: readable with nothing to read. */
		char b;
		if (recv(fds[i], &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0) {
			closed++;
			continue;
		}
		answer a = request_on(ss[i], "/mutate?timeout=10s", 0);
		second_ok += a.status == 200 && a.uid_ok;
	}
	for (int i = 0; i < n; i++)
		if (ss[i] != NULL) {
			SSL_free(ss[i]);
			close(fds[i]);
		}
	printf("connections %d first_200 %d closed_while_idle %d second_200 %d\n", n, first_ok,
	       closed, second_ok);
	free(ss);
	free(fds);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int cmd_probe(int secs, int every_ms, const char *src)
{
	int cap = secs * 1000 / every_ms + 2, n = 0, ok = 0, bad = 0;
	double *lat = calloc((size_t)cap, sizeof(*lat));
	long t0 = now_ms();
	for (int i = 0; i < cap && now_ms() - t0 < (long)secs * 1000; i++) {
		long next = t0 + (long)i * every_ms;
		while (now_ms() < next)
			usleep(1000);
		double s0 = now_s();
		answer a = request_once("/mutate?timeout=10s", src, 0);
		lat[n++] = (now_s() - s0) * 1000;
		if (a.status == 200 && a.uid_ok)
			ok++;
		else
			bad++;
	}
	qsort(lat, (size_t)n, sizeof(*lat), cmp_double);
	printf("reviews %d answered_200 %d failed %d p50_ms %.1f p99_ms %.1f max_ms %.1f\n", n, ok,
	       bad, n ? lat[n / 2] : 0, n ? lat[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] : 0,
	       n ? lat[n - 1] : 0);
	free(lat);
	return 0;
}

/* --- post: N at once, retried as the apiserver does -------------------- */

typedef struct poster {
	pthread_t t;
	const char *path;
	int retries;
	answer final;
	int saw_503, saw_503_without_retry_after;
} poster;

static void *post_one(void *arg)
{
	poster *p = arg;
	for (int attempt = 0;; attempt++) {
		p->final = request_once(p->path, NULL, attempt == 0);
		if (p->final.status != 503 || attempt >= p->retries)
			break;
		p->saw_503++;
		if (p->final.retry_after < 0) {
			p->saw_503_without_retry_after++;
			break;
		}
		sleep((unsigned int)p->final.retry_after);
	}
	return NULL;
}

static int cmd_post(const char *path, int n, int retries)
{
	poster *ps = calloc((size_t)n, sizeof(*ps));
	pthread_barrier_init(&all_sent, NULL, (unsigned int)n);
	for (int i = 0; i < n; i++) {
		ps[i].path = path;
		ps[i].retries = retries;
		pthread_create(&ps[i].t, NULL, post_one, &ps[i]);
	}
	int s200 = 0, s503 = 0, other = 0, none = 0, uid_bad = 0, seen503 = 0, no_ra = 0;
	for (int i = 0; i < n; i++) {
		pthread_join(ps[i].t, NULL);
		int st = ps[i].final.status;
		s200 += st == 200;
		s503 += st == 503;
		none += st == 0;
		other += st != 200 && st != 503 && st != 0;
		uid_bad += st == 200 && !ps[i].final.uid_ok;
		seen503 += ps[i].saw_503 + (st == 503);
		no_ra += ps[i].saw_503_without_retry_after +
			 (st == 503 && ps[i].final.retry_after < 0);
	}
	printf("final_200 %d final_503 %d final_other %d no_answer %d uid_wrong %d seen_503 %d "
	       "503_without_retry_after %d\n",
	       s200, s503, other, none, uid_bad, seen503, no_ra);
	free(ps);
	return 0;
}

static int read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	file_data = malloc((size_t)n + 1);
	file_len = fread(file_data, 1, (size_t)n, f);
	fclose(f);
	/* The uid an answer must echo (the first "uid" in the file). */
	char *u = strstr(file_data, "\"uid\":\"");
	if (u != NULL) {
		static char uid[128];
		char *e = strchr(u + 7, '"');
		if (e != NULL && e - (u + 7) < (long)sizeof(uid) - 2) {
			snprintf(uid, sizeof(uid), "\"%.*s\"", (int)(e - (u + 7)), u + 7);
			want_uid = uid;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: flood hold|probe|post PORT ...\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	/* Raise the soft file limit to the hard one: N sockets need N fds. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	port = atoi(argv[2]);
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[1], "hold") == 0 && argc == 8)
		return cmd_hold(atoi(argv[3]), atoi(argv[4]), argv[5], atoi(argv[6]),
				atoi(argv[7]));
	if (strcmp(argv[1], "probe") == 0 && (argc == 6 || argc == 7)) {
		if (read_file(argv[3]) < 0)
			return 2;
		return cmd_probe(atoi(argv[4]), atoi(argv[5]), argc == 7 ? argv[6] : NULL);
	}
	if (strcmp(argv[1], "burst") == 0 && argc == 7) {
		if (read_file(argv[3]) < 0)
			return 2;
		return cmd_burst(atoi(argv[4]), atoi(argv[5]), atoi(argv[6]));
	}
	if (strcmp(argv[1], "keep") == 0 && argc == 7) {
		if (read_file(argv[3]) < 0)
			return 2;
		return cmd_keep(atoi(argv[4]), atoi(argv[5]), argv[6]);
	}
	if (strcmp(argv[1], "post") == 0 && argc == 7) {
		if (read_file(argv[4]) < 0)
			return 2;
		return cmd_post(argv[3], atoi(argv[5]), atoi(argv[6]));
	}
	fprintf(stderr, "flood: bad arguments\n");
	return 2;
}
