/* One HTTP request, from its headers to its answer: routing, refusals,
 * reading the body, the review itself, and the status of every outcome
 * (see server/server.h for the endpoints). server.c owns the daemon and
 * hands libmicrohttpd these two callbacks.
 *
 * A refusal that is known from the headers (404, 405, 415, 413 from
 * Content-Length, 503 when the memory budget is spent) is not sent at once:
 * libmicrohttpd 0.9.75 closes the connection after an answer queued before
 * the body, and a close with unread bytes in the socket makes the kernel
 * send a reset, which destroys the answer at a client that sends its whole
 * body before it reads (Python's http.client; Go's transport too when the
 * reset wins). The body is read and dropped instead (no memory kept, at
 * most 2 x --max-body bytes and within --request-timeout), and the answer
 * follows it, as nginx discards a body before an error page. Only a body
 * declared larger than that, or a client that asked `Expect: 100-continue`
 * (it sends nothing until told to), is answered at once.
 */
#ifndef CG_SERVER_HANDLER_H
#define CG_SERVER_HANDLER_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "server/config.h"
#include "server/pstore.h"

typedef struct handler {
	server_config cfg; /* a copy; its strings are borrowed */
	pstore *policies;  /* borrowed */
	atomic_bool draining;
	atomic_uint in_flight; /* requests whose headers arrived, not yet completed */
} handler;

/* MHD_AccessHandlerCallback; cls is the handler. */
enum MHD_Result handler_request(void *cls, struct MHD_Connection *c, const char *url,
				const char *method, const char *version, const char *upload_data,
				size_t *upload_size, void **req_cls);

/* MHD_RequestCompletedCallback; cls is the handler. */
void handler_completed(void *cls, struct MHD_Connection *c, void **req_cls,
		       enum MHD_RequestTerminationCode toe);

#endif
