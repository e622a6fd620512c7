/* The TLS clients curl cannot be, for tests/hostile/run.sh:
 *
 *   client conns PORT N          N connections at once: all handshake first,
 *                                then each sends GET /healthz; prints counts
 *   client reclaim PORT KEEP NEW KEEP connections handshaken, then NEW more
 *                                that take idle ones' slots (KEEP: the
 *                                server's per-address limit); all send GET
 *                                /healthz; prints counts
 *   client slow PORT N SECS WHAT N clients trickling one byte a second of a
 *                                ClientHello (hello), request headers
 *                                (headers) or a body (body); prints, per
 *                                client, when the server closed it (ms,
 *                                -1: still open after SECS) and its status
 *   client raw PORT FILE [shut]  sends FILE's bytes as they are over TLS
 *                                (shut: then half-closes), prints the status
 *                                the server answered (0: none, closed)
 *
 * Loopback only; every wait is bounded. Certificates are not verified: the
 * suite checks the server's behaviour, not its identity. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static int tcp_connect(int nonblock)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -1;
	/* One byte a second must leave as one segment, not wait for Nagle. */
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
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

/* Status code of an HTTP response held in buf, 0 when there is none. */
static int status_of(const char *buf)
{
	int code = 0;
	if (sscanf(buf, "HTTP/1.%*d %d", &code) != 1)
		return 0;
	return code;
}

enum cstate { C_HANDSHAKE, C_READY, C_SENT, C_DONE, C_FAILED };

typedef struct conn {
	int fd;
	SSL *ssl;
	enum cstate st;
	char buf[256];
	size_t len;
} conn;

/* Drives one connection as far as it goes without blocking; returns the
 * events it waits for. */
static short step(conn *c)
{
	static const char req[] =
		"GET /healthz HTTP/1.1\r\nHost: capgate\r\nConnection: close\r\n\r\n";
	int r, e;
	/* OpenSSL's error queue is per thread, not per connection, and
	 * SSL_get_error() reports SSL_ERROR_SSL whenever it is not empty: one
	 * connection's failure (a slot reclaimed under it) left there would
	 * make every later WANT_READ of the others look like a failure too.
	 * Found as a flake: 256 kept connections all counted as closed, none
	 * answered, after the server had reclaimed some handshaken ones. */
	ERR_clear_error();
	if (c->st == C_HANDSHAKE) {
		r = SSL_do_handshake(c->ssl);
		if (r == 1) {
			c->st = C_READY;
			return 0;
		}
		goto want;
	}
	if (c->st == C_SENT) {
		for (;;) {
			r = SSL_read(c->ssl, c->buf + c->len, (int)(sizeof(c->buf) - 1 - c->len));
			if (r <= 0)
				break;
			c->len += (size_t)r;
			c->buf[c->len] = '\0';
			if (c->len == sizeof(c->buf) - 1)
				break;
		}
		if (r > 0 || SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN ||
		    SSL_get_error(c->ssl, r) == SSL_ERROR_SYSCALL) {
			c->st = C_DONE;
			return 0;
		}
		goto want;
	}
	if (c->st == C_READY) {
		r = SSL_write(c->ssl, req, (int)sizeof(req) - 1);
		if (r > 0) {
			c->st = C_SENT;
			return step(c);
		}
		goto want;
	}
	return 0;
want:
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ)
		return POLLIN;
	if (e == SSL_ERROR_WANT_WRITE)
		return POLLOUT;
	c->st = C_FAILED;
	return 0;
}

/* Runs every connection in state `from` until none is left there, none has
 * moved for 5 s (the rest wait in the listen queue), or the deadline
 * passes. A connection is stepped only when poll says it can
 * move: stepping all of them each time would make the client, not the
 * server, the bottleneck. */
static void run_until(conn *cs, int n, enum cstate from, long deadline)
{
	struct pollfd *p = calloc((size_t)n, sizeof(*p));
	for (int i = 0; i < n; i++)
		p[i].revents = POLLIN;
	long moved = now_ms();
	for (;;) {
		int waiting = 0;
		for (int i = 0; i < n; i++) {
			if (cs[i].st != from) {
				p[i].fd = -1;
				continue;
			}
			if (p[i].revents != 0) {
				short ev = step(&cs[i]);
				p[i].events = ev ? ev : POLLIN;
			}
			if (cs[i].st == from) {
				p[i].fd = cs[i].fd;
				waiting++;
			} else {
				p[i].fd = -1;
				moved = now_ms();
			}
			p[i].revents = 0;
		}
		long left = deadline - now_ms();
		if (waiting == 0 || left <= 0 || now_ms() - moved > 5000)
			break;
		poll(p, (nfds_t)n, (int)(left < 200 ? left : 200));
	}
	free(p);
}

static int cmd_conns(int n)
{
	conn *cs = calloc((size_t)n, sizeof(*cs));
	int opened = 0;
	for (int i = 0; i < n; i++) {
		cs[i].fd = tcp_connect(1);
		if (cs[i].fd < 0) {
			cs[i].st = C_FAILED;
			continue;
		}
		opened++;
		cs[i].ssl = tls_new(cs[i].fd);
	}
	long t0 = now_ms();
	run_until(cs, n, C_HANDSHAKE, t0 + 20000);
	long hs_ms = now_ms() - t0;
	int ready = 0, stuck = 0;
	for (int i = 0; i < n; i++) {
		ready += cs[i].st == C_READY;
		stuck += cs[i].st == C_HANDSHAKE;
	}
	/* Every handshaken connection is open at this point: the peak. */
	run_until(cs, n, C_READY, now_ms() + 20000);
	run_until(cs, n, C_SENT, now_ms() + 20000);
	int ok = 0, other = 0, unanswered = 0;
	for (int i = 0; i < n; i++) {
		if (cs[i].st == C_DONE && status_of(cs[i].buf) == 200)
			ok++;
		else if (cs[i].st == C_DONE && status_of(cs[i].buf) != 0)
			other++;
		else if (cs[i].st == C_SENT || cs[i].st == C_READY)
			unanswered++;
		if (cs[i].ssl)
			SSL_free(cs[i].ssl);
		if (cs[i].fd >= 0)
			close(cs[i].fd);
	}
	printf("opened %d handshaken %d refused %d stuck %d answered_200 %d answered_other %d "
	       "unanswered %d handshake_ms %ld\n",
	       opened, ready, opened - ready - stuck, stuck, ok, other, unanswered, hs_ms);
	free(cs);
	return 0;
}

/* KEEP connections, all handshaken; then new ones, one at a time, until
 * NEW of them are handshaken: with KEEP the server's per-address limit,
 * each one that gets in has taken the slot of a first one that sat idle
 * after its handshake (the server refuses it while none has sat idle long
 * enough; it is tried again, up to 20 s). Then every one sends GET
 * /healthz: NEW of them, those whose slots were taken (the oldest, as the
 * server picks them; closed_oldest counts those), are closed, the rest
 * answered. */
static int cmd_reclaim(int keep, int want)
{
	int n = keep + want, tries = 0;
	conn *cs = calloc((size_t)n, sizeof(*cs));
	for (int i = 0; i < keep; i++) {
		cs[i].fd = tcp_connect(1);
		cs[i].ssl = cs[i].fd >= 0 ? tls_new(cs[i].fd) : NULL;
		cs[i].st = cs[i].fd >= 0 ? C_HANDSHAKE : C_FAILED;
	}
	run_until(cs, keep, C_HANDSHAKE, now_ms() + 20000);
	int first = 0, got = keep;
	for (int i = 0; i < keep; i++)
		first += cs[i].st == C_READY;
	long deadline = now_ms() + 20000;
	while (first == keep && got < n && now_ms() < deadline) {
		conn *c = &cs[got];
		c->fd = tcp_connect(1);
		if (c->fd < 0)
			break;
		c->ssl = tls_new(c->fd);
		c->st = C_HANDSHAKE;
		tries++;
		run_until(c, 1, C_HANDSHAKE, now_ms() + 5000);
		if (c->st == C_READY) {
			got++;
			continue;
		}
		SSL_free(c->ssl);
		close(c->fd);
		memset(c, 0, sizeof(*c));
		usleep(50 * 1000);
	}
	run_until(cs, got, C_READY, now_ms() + 20000);
	run_until(cs, got, C_SENT, now_ms() + 20000);
	int ok = 0, other = 0, unanswered = 0, closed = 0, closed_first = 0;
	for (int i = 0; i < got; i++) {
		int status = cs[i].st == C_DONE ? status_of(cs[i].buf) : 0;
		if (status == 200)
			ok++;
		else if (status != 0)
			other++;
		else if (cs[i].st == C_SENT || cs[i].st == C_READY)
			unanswered++;
		else {
			closed++;
			closed_first += i < want;
		}
		SSL_free(cs[i].ssl);
		close(cs[i].fd);
	}
	printf("first %d new %d tries %d answered_200 %d answered_other %d unanswered %d "
	       "closed %d closed_oldest %d\n",
	       first, got - keep, tries, ok, other, unanswered, closed, closed_first);
	free(cs);
	return 0;
}

/* The bytes of a ClientHello, taken from OpenSSL through memory BIOs so
 * they can be sent one at a time on a raw socket. */
static int client_hello(unsigned char *out, size_t cap)
{
	SSL *s = SSL_new(ctx);
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	SSL_set_bio(s, rb, wb);
	SSL_set_tlsext_host_name(s, "capgate.capgate.svc");
	SSL_set_connect_state(s);
	SSL_do_handshake(s);
	int n = BIO_read(wb, out, (int)cap);
	SSL_free(s);
	return n;
}

typedef struct slow {
	int fd;
	SSL *ssl;
	size_t sent;
	long closed_ms;
	int status;
} slow;

static int cmd_slow(int n, int secs, const char *what)
{
	static const char headers[] =
		"POST /mutate HTTP/1.1\r\nHost: capgate\r\nContent-Type: application/json\r\n"
		"Content-Length: 4096\r\n\r\n";
	unsigned char hello[4096];
	const unsigned char *msg;
	size_t msg_len;
	int raw = strcmp(what, "hello") == 0;
	if (raw) {
		int h = client_hello(hello, sizeof(hello));
		if (h <= 0)
			return 2;
		msg = hello;
		msg_len = (size_t)h;
	} else if (strcmp(what, "headers") == 0) {
		msg = (const unsigned char *)headers;
		msg_len = sizeof(headers) - 1;
	} else if (strcmp(what, "body") == 0) {
		/* A JSON body that never ends: an array of spaces. */
		static unsigned char body[4096];
		memset(body, ' ', sizeof(body));
		body[0] = '[';
		msg = body;
		msg_len = sizeof(body);
	} else {
		return 2;
	}
	slow *cs = calloc((size_t)n, sizeof(*cs));
	long t0 = now_ms();
	for (int i = 0; i < n; i++) {
		cs[i].closed_ms = -1;
		cs[i].fd = tcp_connect(0);
		if (cs[i].fd < 0 || raw)
			continue;
		cs[i].ssl = tls_new(cs[i].fd);
		if (SSL_do_handshake(cs[i].ssl) != 1 ||
		    (strcmp(what, "body") == 0 &&
		     SSL_write(cs[i].ssl, headers, (int)sizeof(headers) - 1) <= 0))
			cs[i].closed_ms = now_ms() - t0;
	}
	while (now_ms() - t0 < (long)secs * 1000) {
		int open = 0;
		for (int i = 0; i < n; i++) {
			slow *c = &cs[i];
			if (c->closed_ms >= 0 || c->fd < 0)
				continue;
			struct pollfd p = {.fd = c->fd, .events = POLLIN | POLLRDHUP};
			int gone = 0;
			if (poll(&p, 1, 0) > 0) {
				char buf[512] = {0};
				int r = c->ssl ? SSL_read(c->ssl, buf, sizeof(buf) - 1)
					       : (int)read(c->fd, buf, sizeof(buf) - 1);
				if (r > 0 && c->status == 0)
					c->status = status_of(buf);
				gone = r <= 0 || (p.revents & (POLLHUP | POLLRDHUP | POLLERR));
			}
			if (!gone && c->sent < msg_len) {
				const unsigned char *b = msg + c->sent;
				int w = c->ssl ? SSL_write(c->ssl, b, 1)
					       : (int)send(c->fd, b, 1, MSG_NOSIGNAL);
				gone = w <= 0;
				c->sent += w > 0;
			}
			if (gone)
				c->closed_ms = now_ms() - t0;
			else
				open++;
		}
		if (open == 0)
			break;
		usleep(1000 * 1000);
	}
	for (int i = 0; i < n; i++) {
		printf("%ld %d %zu\n", cs[i].closed_ms, cs[i].status, cs[i].sent);
		if (cs[i].ssl)
			SSL_free(cs[i].ssl);
		if (cs[i].fd >= 0)
			close(cs[i].fd);
	}
	free(cs);
	return 0;
}

static int cmd_raw(const char *file, int half_close)
{
	FILE *f = fopen(file, "rb");
	if (f == NULL)
		return 2;
	int fd = tcp_connect(0);
	if (fd < 0)
		return 2;
	struct timeval tv = {10, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	SSL *s = tls_new(fd);
	if (SSL_do_handshake(s) != 1)
		return 2;
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (SSL_write(s, buf, (int)n) <= 0)
			break;
	fclose(f);
	/* Half-close: the client is gone before its body is complete. */
	if (half_close)
		shutdown(fd, SHUT_WR);
	int r = SSL_read(s, buf, sizeof(buf) - 1);
	buf[r > 0 ? r : 0] = '\0';
	printf("%d\n", status_of(buf));
	SSL_free(s);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: client conns|slow|raw PORT ...\n");
		return 2;
	}
	/* A server that closes a refused connection must not kill the client. */
	signal(SIGPIPE, SIG_IGN);
	port = atoi(argv[2]);
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[1], "conns") == 0 && argc == 4)
		return cmd_conns(atoi(argv[3]));
	if (strcmp(argv[1], "reclaim") == 0 && argc == 5)
		return cmd_reclaim(atoi(argv[3]), atoi(argv[4]));
	if (strcmp(argv[1], "slow") == 0 && argc == 6)
		return cmd_slow(atoi(argv[3]), atoi(argv[4]), argv[5]);
	if (strcmp(argv[1], "raw") == 0 && (argc == 4 || argc == 5))
		return cmd_raw(argv[3], argc == 5 && strcmp(argv[4], "shut") == 0);
	fprintf(stderr, "client: bad arguments\n");
	return 2;
}
