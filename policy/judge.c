/* One container's capabilities (see judge.h).
 *
 * Semantics (product.md): every container drops ALL (or the required drops)
 * and adds only allowed capabilities; names are normalised before any
 * comparison; an already compliant container gets no operation at all, so
 * the patched object evaluates to no patch (idempotence).
 */
#include "policy/judge.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy/container.h"
#include "policy/patch.h"

/* The capabilities containerd gives every container that does not drop
 * them (pkg/oci/spec.go defaultUnixCaps; CRI-O's default set is a subset),
 * most likely needed first: a root process that switches user or fixes
 * file ownership (nginx's master, most entrypoint scripts) needs the first
 * three. */
static const int runtime_defaults[] = {
	CAPS_CHOWN,  CAPS_SETUID,      CAPS_SETGID,  CAPS_DAC_OVERRIDE,	    CAPS_FOWNER,
	CAPS_FSETID, CAPS_KILL,	       CAPS_NET_RAW, CAPS_SYS_CHROOT,	    CAPS_SETPCAP,
	CAPS_MKNOD,  CAPS_AUDIT_WRITE, CAPS_SETFCAP, CAPS_NET_BIND_SERVICE,
};

static caps_set runtime_default_set(void)
{
	caps_set s = 0;
	for (size_t i = 0; i < sizeof(runtime_defaults) / sizeof(runtime_defaults[0]); i++)
		s |= CAPS_BIT(runtime_defaults[i]);
	return s;
}

/* "CHOWN, SETUID, ..." in the order above. */
static const char *format_defaults(caps_set s, char *out, size_t outsz)
{
	size_t k = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(runtime_defaults) / sizeof(runtime_defaults[0]); i++) {
		if (!(s & CAPS_BIT(runtime_defaults[i])))
			continue;
		int n = snprintf(out + k, outsz - k, "%s%s", k ? ", " : "",
				 caps_name(runtime_defaults[i]));
		if (n < 0 || (size_t)n >= outsz - k)
			break;
		k += (size_t)n;
	}
	return out;
}

/* A name that is not a capability is quoted as the user wrote it (bounded,
 * control bytes as '?'): normalising "CAP_CAP_SYS_ADMIN" would print the
 * real capability CAP_SYS_ADMIN and send the reader after the wrong entry. */
static void append_unknown(char *list, size_t listsz, const char *s, size_t len)
{
	char q[64];
	size_t k = 0, shown = len > 40 ? 40 : len;
	q[k++] = '"';
	for (size_t i = 0; i < shown; i++)
		q[k++] = ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f) ? '?' : s[i];
	if (shown < len) {
		memcpy(q + k, "...", 3);
		k += 3;
	}
	q[k++] = '"';
	q[k] = '\0';
	size_t used = strlen(list);
	/* Whole entries only: a message never ends inside a quote. */
	if (used + k + 6 < listsz)
		snprintf(list + used, listsz - used, "%s%s", used ? ", " : "", q);
	else if (used + 6 < listsz && strcmp(list + used - 3, "...") != 0)
		snprintf(list + used, listsz - used, ", ...");
}

/* Reads a capability list. Names that are not capabilities go to unknown
 * (may be NULL); *tidy is cleared when any entry is not canonical, repeated
 * or unknown, so the list must be rewritten. */
static int read_caps(decision *c, json_t *list, const char *what, caps_set *set, char *unknown,
		     size_t unknown_sz, bool *tidy, bool *any_unknown)
{
	size_t i;
	json_t *v;
	*set = 0;
	if (list == NULL || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return cg_error_set(c->err, EINVAL, "%s: %s is not a list", decision_where(c),
				    what);
	json_array_foreach(list, i, v)
	{
		if (!json_is_string(v))
			return cg_error_set(c->err, EINVAL, "%s: %s[%zu] is not a string",
					    decision_where(c), what, i);
		const char *s = json_string_value(v);
		size_t len = json_string_length(v);
		int n = caps_lookup(s, len);
		if (n < 0) {
			if (unknown != NULL)
				append_unknown(unknown, unknown_sz, s, len);
			*any_unknown = true;
			*tidy = false;
			continue;
		}
		if (!caps_is_canonical(s, len) || (*set & CAPS_BIT(n)))
			*tidy = false;
		*set |= CAPS_BIT(n);
	}
	return 0;
}

static json_t *caps_list(caps_set s)
{
	json_t *a = json_array();
	for (int i = 0; a && i < 64; i++)
		if ((s & CAPS_BIT(i)) && caps_name(i) &&
		    json_array_append_new(a, json_string_nocheck(caps_name(i))) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

int judge_caps(decision *c, decision_ctr *ct)
{
	const policy_spec *sp = c->spec;
	json_t *caps = json_object_get(ct->sc, "capabilities");
	if (caps != NULL && !json_is_null(caps) && !json_is_object(caps))
		return cg_error_set(c->err, EINVAL,
				    "%s: securityContext.capabilities is not an object",
				    decision_where(c));
	bool unknown_add = false;
	ct->tidy = true;
	ct->unknown_add[0] = '\0';
	if (read_caps(c, json_object_get(caps, "add"), "capabilities.add", &ct->add,
		      ct->unknown_add, sizeof(ct->unknown_add), &ct->tidy, &unknown_add) < 0 ||
	    read_caps(c, json_object_get(caps, "drop"), "capabilities.drop", &ct->drop, NULL, 0,
		      &ct->tidy, &ct->unknown_drop) < 0)
		return -1;
	json_t *priv = json_object_get(ct->sc, "privileged");
	if (priv != NULL && !json_is_null(priv) && !json_is_boolean(priv))
		return cg_error_set(c->err, EINVAL,
				    "%s: securityContext.privileged is not a boolean",
				    decision_where(c));
	/* privileged: true grants every capability whatever the lists say. */
	ct->bad_priv = json_is_true(priv) && !sp->allow_privileged;

	/* A specific drop wins over an add, as containerd and CRI-O apply them;
	 * dropping ALL is the baseline and does not cancel defaultAdd. */
	caps_set allowed = sp->allowed;
	ct->drop_specific = ct->drop & CAPS_KNOWN_MASK;
	caps_set want = (ct->add | sp->default_add) & ~ct->drop_specific;
	caps_set disallowed = want & ~allowed;
	ct->keep = want & allowed;
	char names[512];

	if (disallowed || unknown_add) {
		char list[800];
		snprintf(list, sizeof(list), "%s%s%s",
			 caps_set_format(disallowed, names, sizeof(names)),
			 (disallowed && unknown_add) ? ", " : "", ct->unknown_add);
		if (sp->on_disallowed == POLICY_DENY) {
			decision_deny(c, "%s adds %s (not in allowedCapabilities)",
				      decision_label(ct), list);
		} else {
			decision_warn(c, "%s: removed %s (not allowed by capgate policy)",
				      decision_label(ct), list);
			decision_change(c, ct, "remove %s: not in allowedCapabilities", list);
			decision_audit(c, "stripped", list);
			/* SCC admission adds its defaultAddCapabilities to
			 * every container that does not drop them by name
			 * (drop ALL does not count), in Validate too, where
			 * an SCC whose defaults change the pod is refused
			 * (capabilities/mustrunas.go Generate,
			 * sccadmission/admission.go): a stripped default
			 * would come back and fail the pod. capgate cannot
			 * always know the defaults (an SCC it does not know,
			 * one an admin changed), so on OpenShift every
			 * stripped capability is also dropped by name. */
			if (c->openshift)
				ct->drop_extra = disallowed;
		}
	}
	if (ct->bad_priv) {
		if (sp->on_disallowed == POLICY_DENY) {
			decision_deny(c, "%s is privileged (allowPrivileged is false)",
				      decision_label(ct));
		} else {
			decision_warn(c, "%s: privileged set to false (allowPrivileged is false)",
				      decision_label(ct));
			decision_change(c, ct, "set privileged: false: it grants every capability");
			decision_audit(c, "stripped", "privileged");
		}
	}
	return 0;
}

int judge_root(decision *c, decision_ctr *ct)
{
	const policy_spec *sp = c->spec;
	/* Only where capgate itself takes the runtime's defaults away: a
	 * container that dropped ALL already ran without them (a privileged
	 * one that capgate makes unprivileged had them and more). */
	if (!(sp->required_drop & CAPS_BIT(CAPS_ALL)) || (ct->drop & CAPS_BIT(CAPS_ALL)) ||
	    ct->user != 0)
		return 0;
	long long port = 0;
	if (container_low_port(c, ct, &port) < 0)
		return -1;
	caps_set nbs = CAPS_BIT(CAPS_NET_BIND_SERVICE);
	bool kept = false, refused = false;
	if (port > 0 && !(ct->drop_specific & nbs) && !(ct->keep & nbs)) {
		/* Root binds ports below 1024 with NET_BIND_SERVICE, which the
		 * runtime's default set gave it; drop ALL would take it away.
		 * Under an SCC capgate does not know, it adds nothing. */
		if ((sp->allowed & nbs) && !decision_scc_unknown(c)) {
			ct->keep |= nbs;
			kept = true;
			decision_change(
				c, ct,
				"add NET_BIND_SERVICE: it may run as root and declares port "
				"%lld, which drop ALL would close",
				port);
		} else {
			refused = true;
		}
	}
	ct->lost_defaults = runtime_default_set() & ~ct->keep & ~ct->drop_specific;
	char lost[300];
	format_defaults(ct->lost_defaults, lost, sizeof(lost));
	/* One warning per container: capgate cannot know which of these the
	 * image needs, but it must not take them away silently. */
	if (kept)
		decision_warn(c,
			      "%s may run as root: kept NET_BIND_SERVICE for port %lld; drop ALL "
			      "removes %s",
			      decision_label(ct), port, lost);
	else if (refused)
		decision_warn(
			c,
			"%s may run as root: port %lld needs NET_BIND_SERVICE, not allowed; drop "
			"ALL also removes %s",
			decision_label(ct), port, lost);
	else if (ct->lost_defaults)
		decision_warn(c, "%s may run as root: drop ALL removes its runtime defaults %s",
			      decision_label(ct), lost);
	return 0;
}

int judge_emit(decision *c, decision_ctr *ct)
{
	const policy_spec *sp = c->spec;
	char names[512];
	caps_set must_drop = sp->required_drop | ct->drop_specific | ct->drop_extra;
	bool compliant = ct->tidy && ct->add == ct->keep && (ct->drop & must_drop) == must_drop &&
			 !ct->unknown_drop;
	if (!compliant) {
		if ((sp->required_drop & CAPS_BIT(CAPS_ALL)) && !(ct->drop & CAPS_BIT(CAPS_ALL))) {
			if (ct->lost_defaults)
				decision_change(
					c, ct,
					"drop ALL (as root it loses the runtime defaults %s)",
					format_defaults(ct->lost_defaults, names, sizeof(names)));
			else
				decision_change(c, ct, "drop ALL");
		}
		if (ct->unknown_drop)
			decision_change(c, ct, "remove names that are not capabilities from drop");
		if (!ct->tidy)
			decision_change(c, ct, "rewrite capability names in canonical form");
		if (ct->add & ct->drop_specific)
			decision_change(
				c, ct,
				"remove %s from add: also dropped by name, and a named drop wins",
				caps_set_format(ct->add & ct->drop_specific, names, sizeof(names)));
		if (ct->drop_extra & ~ct->drop)
			decision_change(
				c, ct,
				"drop %s by name: SCC admission adds back a default capability "
				"that is not dropped by name",
				caps_set_format(ct->drop_extra & ~ct->drop, names, sizeof(names)));
		if (sp->required_drop & CAPS_KNOWN_MASK & ~ct->drop)
			decision_change(
				c, ct, "drop %s (requiredDropCapabilities)",
				caps_set_format(sp->required_drop & CAPS_KNOWN_MASK & ~ct->drop,
						names, sizeof(names)));
		caps_set defaults = ct->keep & ~ct->add & sp->default_add;
		if (defaults)
			decision_change(c, ct, "add %s (defaultAddCapabilities)",
					caps_set_format(defaults, names, sizeof(names)));
		json_t *v = json_object();
		if (v == NULL)
			return decision_oom(c);
		if (ct->keep && json_object_set_new(v, "add", caps_list(ct->keep)) < 0)
			c->oom = true;
		if (json_object_set_new(v, "drop", caps_list(must_drop)) < 0)
			c->oom = true;
		static const char *const sc_key[] = {"securityContext"};
		if (patch_set_nested(c->ops, ct->obj, &ct->path, sc_key, 1, "capabilities", v,
				     c->err) < 0)
			c->oom = true;
		c->changed = true;
	}
	if (ct->bad_priv && sp->on_disallowed == POLICY_STRIP) {
		patch_path p;
		if (patch_path_join(&p, &ct->path, "securityContext", c->err) < 0 ||
		    patch_path_join(&p, &p, "privileged", c->err) < 0 ||
		    patch_add(c->ops, &p, json_false(), c->err) < 0)
			c->oom = true;
		c->changed = true;
	}
	return 0;
}
