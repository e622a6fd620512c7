/* Kubernetes name syntax (k8s.io/apimachinery validation), so that a typo'd
 * namespace or label in a policy is refused at load time instead of
 * silently never matching. Pure functions of (s, len); s need not be
 * NUL-terminated.
 */
#ifndef CG_K8SNAME_H
#define CG_K8SNAME_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 1123 label: namespaces, container names. At most 63 of [a-z0-9-],
 * starting and ending with [a-z0-9]. */
bool k8sname_is_dns_label(const char *s, size_t len);
/* RFC 1123 subdomain: object names. Dot-separated labels, at most 253. */
bool k8sname_is_dns_subdomain(const char *s, size_t len);
/* Label and annotation keys: [DNS subdomain "/"] name, the name at most 63
 * of [A-Za-z0-9-_.], starting and ending with [A-Za-z0-9]. */
bool k8sname_is_qualified_name(const char *s, size_t len);
/* Label values: empty, or a name as in a qualified name. */
bool k8sname_is_label_value(const char *s, size_t len);

#endif
