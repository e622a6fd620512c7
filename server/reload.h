/* Loading the policy and the serving certificate, at start-up and again
 * whenever their files change.
 *
 * Changes are found by polling stat() of each path (device, inode, size,
 * mtime, ctime): stat follows symlinks, so this also notices a Kubernetes
 * ConfigMap or Secret update, which swaps a `..data` symlink to a new
 * directory and leaves the mounted name's own metadata unchanged. A new file
 * that does not load is logged, counted in /metrics, and the old one stays;
 * a refused certificate pair is tried again every 10 polls (it may only be
 * not valid yet). Certificates are checked with certs_check_serving() in a
 * short-lived child process (see reload.c for why).
 */
#ifndef CG_SERVER_RELOAD_H
#define CG_SERVER_RELOAD_H

#include <stdbool.h>

#include "common/error.h"
#include "server/pstore.h"

typedef struct reload_files {
	const char *policy_path; /* NULL: the embedded default, nothing to watch */
	const char *cert_path;
	const char *key_path;
	const char *service_dns; /* NULL: any DNS SAN will do */
} reload_files;

typedef struct reload reload;

/* Loads both; fails (err names the file and what is wrong) when either does
 * not load, so the server never starts without them. The paths are
 * borrowed and must outlive the result. */
/* Call before the server starts its threads (it may fork). */
int reload_open(const reload_files *f, reload **out, cg_error *err) CG_MUST_CHECK;
void reload_free(reload *r);

pstore *reload_policies(reload *r);

/* Reloads what changed since the last call; force reloads the policy even
 * when its file looks unchanged (SIGHUP). */
void reload_poll(reload *r, bool force);

#endif
