/* One decision's voice: warnings, changes, the denial, audit annotations,
 * and the labels messages name containers by. See decision.h. */
#include "policy/decision.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Warnings reach kubectl users verbatim: the apiserver drops ones over 120
 * characters or with control characters, so they are cut and cleaned here. */
void decision_warn(decision *c, const char *fmt, ...)
{
	char msg[512];
	if (strchr(fmt, '%') == NULL) { /* constant text: no formatting */
		if (json_array_append_new(c->warnings, json_string_nocheck(fmt)) < 0)
			c->oom = true;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	if (strlen(msg) > DECISION_WARNING_MAX)
		memcpy(msg + DECISION_WARNING_MAX - 3, "...", 4);
	if (json_array_append_new(c->warnings, json_string(msg)) < 0)
		c->oom = true;
}

void decision_change(decision *c, const decision_ctr *ct, const char *fmt, ...)
{
	if (!c->explain)
		return;
	char msg[1024];
	const char *what = fmt;
	if (strchr(fmt, '%') != NULL) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		what = msg;
	}
	json_t *o = json_object();
	const char *name = ct && ct->name ? ct->name : "";
	const patch_path *path = ct ? &ct->path : &c->spec_path;
	if (o == NULL || json_object_set_new_nocheck(o, "container", json_string(name)) < 0 ||
	    json_object_set_new_nocheck(o, "path", json_stringn_nocheck(path->s, path->len)) < 0 ||
	    json_object_set_new_nocheck(o, "what", json_string(what)) < 0 ||
	    json_array_append_new(c->changes, o) < 0)
		c->oom = true;
}

/* Labels are formatted only when a message needs them: snprintf is a
 * sizeable part of a decision's cost. */
const char *decision_label(decision_ctr *ct)
{
	if (ct->label[0] == '\0') {
		char nb[64];
		const char *kind = strcmp(ct->list, "containers") == 0	     ? "container"
				   : strcmp(ct->list, "initContainers") == 0 ? "initContainer"
									     : "ephemeralContainer";
		snprintf(ct->label, sizeof(ct->label), "%s \"%s\"", kind,
			 decision_safe_name(ct->name ? ct->name : "?", nb, sizeof(nb)));
	}
	return ct->label;
}

const char *decision_where(decision *c)
{
	if (c->cur == NULL)
		return c->spec_label;
	snprintf(c->ctr_label, sizeof(c->ctr_label), "%s.%s[%zu]", c->spec_label, c->cur->list,
		 c->cur->index);
	return c->ctr_label;
}

/* Names in messages: printable ASCII, bounded, so a hostile name cannot
 * forge log lines or blow up a warning. */
const char *decision_safe_name(const char *s, char *buf, size_t n)
{
	size_t k = 0;
	for (; s && s[k] && k + 1 < n; k++)
		buf[k] = ((unsigned char)s[k] < 0x20 || (unsigned char)s[k] >= 0x7f) ? '?' : s[k];
	buf[k] = '\0';
	return buf;
}

bool decision_scc_unknown(const decision *c)
{
	return c->openshift && c->scc == NULL;
}

bool decision_scc_allows_volume(const decision *c, const char *type)
{
	return !c->openshift || (c->scc != NULL && policy_scc_allows_volume(c->scc, type));
}

bool decision_scc_allows_installer(const decision *c)
{
	if (!c->openshift)
		return true;
	const policy_scc *s = c->scc;
	caps_set setfcap = CAPS_BIT(CAPS_SETFCAP);
	return s != NULL && s->root && !(s->required_drop & setfcap) &&
	       ((s->allowed & (setfcap | CAPS_BIT(CAPS_ALL))) || (s->default_add & setfcap)) &&
	       policy_scc_allows_volume(s, "emptyDir");
}

bool decision_scc_allows_sysctl(const decision *c, const char *name)
{
	return !c->openshift || (c->scc != NULL && !policy_scc_forbids_sysctl(c->scc, name));
}

void decision_deny(decision *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	size_t n = strlen(c->deny_msg);
	if (n == 0)
		n = (size_t)snprintf(c->deny_msg, sizeof(c->deny_msg), "capgate: ");
	snprintf(c->deny_msg + n, sizeof(c->deny_msg) - n, "%s%s", c->denied ? "; " : "", msg);
	c->denied = true;
}

int decision_oom(decision *c)
{
	cg_error_set(c->err, ENOMEM, "out of memory while building the patch");
	return -ENOMEM;
}

/* Audit annotation keys are qualified names without '/': the apiserver
 * prefixes them with the webhook's name. */
void decision_audit(decision *c, const char *key, const char *value)
{
	json_t *old = json_object_get(c->audit, key);
	char buf[1024];
	if (json_is_string(old) && strcmp(key, "decision") != 0 && strcmp(key, "policy") != 0) {
		snprintf(buf, sizeof(buf), "%s; %s", json_string_value(old), value);
		value = buf;
	}
	if (json_object_set_new(c->audit, key, json_string(value)) < 0)
		c->oom = true;
}
