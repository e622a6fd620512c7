// Runs rendered ValidatingAdmissionPolicy / MutatingAdmissionPolicy objects
// the way kube-apiserver does, over the CEL shim (shim.mjs):
//   matchConstraints.resourceRules (group, version, resource/subresource,
//   operation) -> matchConditions (all true; an error applies
//   failurePolicy) -> variables (lazy) -> validations / auditAnnotations, or
//   mutations (JSONPatch).
// Only the fields capgate renders are supported; any other selector in an
// object is an error here, so that nothing is silently taken as matching.
import {
	compile,
	evaluate,
	jsonPatchOps,
	namespaceBinding,
	newVariables,
	requestBinding,
	toCelInput,
} from "./shim.mjs";

// Where each kind capgate judges is served (group, version, resource).
export const GVR = {
	Pod: { group: "", version: "v1", resource: "pods" },
	PodTemplate: { group: "", version: "v1", resource: "podtemplates" },
	ReplicationController: { group: "", version: "v1", resource: "replicationcontrollers" },
	Deployment: { group: "apps", version: "v1", resource: "deployments" },
	ReplicaSet: { group: "apps", version: "v1", resource: "replicasets" },
	StatefulSet: { group: "apps", version: "v1", resource: "statefulsets" },
	DaemonSet: { group: "apps", version: "v1", resource: "daemonsets" },
	Job: { group: "batch", version: "v1", resource: "jobs" },
	CronJob: { group: "batch", version: "v1", resource: "cronjobs" },
};

function ruleMatches(rule, gvr, sub, op) {
	const any = (l, v) => Array.isArray(l) && (l.includes("*") || l.includes(v));
	const res = sub ? `${gvr.resource}/${sub}` : gvr.resource;
	return (
		any(rule.apiGroups, gvr.group) &&
		any(rule.apiVersions, gvr.version) &&
		any(rule.operations, op) &&
		Array.isArray(rule.resources) &&
		rule.resources.includes(res)
	);
}

function checkSupported(spec, name) {
	const mc = spec.matchConstraints ?? {};
	for (const k of ["namespaceSelector", "objectSelector", "excludeResourceRules"])
		if (mc[k] !== undefined) throw new Error(`${name}: matchConstraints.${k} is not supported by this harness`);
	if (spec.paramKind !== undefined) throw new Error(`${name}: paramKind is not supported by this harness`);
}

// A compiled policy object (VAP or MAP) with its binding.
export class CompiledPolicy {
	constructor(policy, binding) {
		const name = policy.metadata.name;
		this.name = name;
		this.kind = policy.kind;
		this.spec = policy.spec;
		checkSupported(this.spec, name);
		if (!binding || binding.spec?.policyName !== name) throw new Error(`${name}: no binding names it`);
		if (binding.spec.matchResources !== undefined || binding.spec.paramRef !== undefined)
			throw new Error(`${name}: binding selectors are not supported by this harness`);
		this.actions = binding.spec.validationActions ?? [];
		this.failClosed = (this.spec.failurePolicy ?? "Fail") === "Fail";
		this.conditions = (this.spec.matchConditions ?? []).map((m) => compile(m.expression, `${name} matchCondition ${m.name}`));
		this.signature = JSON.stringify(this.spec.variables ?? []);
		this.variables = new Map();
		for (const v of this.spec.variables ?? []) this.variables.set(v.name, compile(v.expression, `${name} variable ${v.name}`));
		this.validations = (this.spec.validations ?? []).map((v, i) => ({
			expr: compile(v.expression, `${name} validation ${i}`),
			message: v.messageExpression ? compile(v.messageExpression, `${name} messageExpression ${i}`) : null,
			staticMessage: v.message,
		}));
		this.audits = (this.spec.auditAnnotations ?? []).map((a) => ({
			key: a.key,
			expr: compile(a.valueExpression, `${name} auditAnnotation ${a.key}`),
		}));
		this.mutations = (this.spec.mutations ?? []).map((m, i) => {
			if (m.patchType !== "JSONPatch") throw new Error(`${name}: mutation ${i} is not JSONPatch`);
			return compile(m.jsonPatch.expression, `${name} mutation ${i}`);
		});
	}

	// Whether the request is in matchConstraints.
	matches(c) {
		const gvr = GVR[c.kind];
		if (!gvr) return false;
		return (this.spec.matchConstraints?.resourceRules ?? []).some((r) => ruleMatches(r, gvr, c.subResource, c.operation));
	}

	bindings(c, object, oldObject) {
		return {
			object: toCelInput(object),
			oldObject: oldObject == null ? null : toCelInput(oldObject),
			request: requestBinding(c, GVR[c.kind]),
			params: null,
			namespaceObject: c.namespace ? namespaceBinding(c.namespace) : null,
		};
	}

	// Runs matchConditions: {applies} or {error}.
	conditionsHold(b) {
		for (const cond of this.conditions) {
			const r = evaluate(cond, b, undefined);
			if (r.error) return { error: r.error };
			if (r.value !== true) return { applies: false };
		}
		return { applies: true };
	}

	// The bindings and variables for one request and object. Policies whose
	// variables are the same expressions share their values (a harness
	// shortcut: same expressions, same bindings, same values).
	context(ctx, c, object, oldObject) {
		ctx.bindings ??= this.bindings(c, object, oldObject);
		ctx.vars ??= new Map();
		if (!ctx.vars.has(this.signature)) ctx.vars.set(this.signature, newVariables(this.variables, ctx.bindings));
		return [ctx.bindings, ctx.vars.get(this.signature)];
	}

	// Validates object: {applies, failed, message, audit, error}.
	validate(c, object, oldObject, ctx = {}) {
		if (!this.matches(c)) return { applies: false };
		const [b, vars] = this.context(ctx, c, object, oldObject);
		const m = this.conditionsHold(b);
		if (m.error) return { applies: true, error: m.error, failed: this.failClosed };
		if (!m.applies) return { applies: false };
		const out = { applies: true, failed: false, audit: {} };
		for (const v of this.validations) {
			const r = evaluate(v.expr, b, vars);
			if (r.error) {
				out.error = r.error;
				out.failed = this.failClosed;
				break;
			}
			if (r.value !== true) {
				out.failed = true;
				const msg = v.message ? evaluate(v.message, b, vars) : { error: "none" };
				out.message = typeof msg.value === "string" && msg.value.trim() ? msg.value : v.staticMessage;
				break;
			}
		}
		for (const a of this.audits) {
			const r = evaluate(a.expr, b, vars);
			if (r.error) out.auditError = r.error;
			else if (typeof r.value === "string") out.audit[a.key] = r.value;
		}
		return out;
	}

	// The JSON Patch operations of the mutations: {applies, ops} or {error}.
	mutate(c, object, oldObject, ctx = {}) {
		if (!this.matches(c)) return { applies: false, ops: [] };
		const [b, vars] = this.context(ctx, c, object, oldObject);
		const m = this.conditionsHold(b);
		if (m.error) return { applies: true, error: m.error };
		if (!m.applies) return { applies: false, ops: [] };
		const ops = [];
		for (const mu of this.mutations) {
			const r = evaluate(mu, b, vars);
			if (r.error) return { applies: true, error: r.error };
			try {
				ops.push(...jsonPatchOps(r.value));
			} catch (e) {
				return { applies: true, error: e.message };
			}
		}
		return { applies: true, ops };
	}
}

// Splits rendered objects into compiled VAPs (each with its action) and the MAP.
export function compileRendered(objects) {
	const byKind = (k) => objects.filter((o) => o.kind === k);
	const bindingFor = (kind, name) => byKind(kind).find((b) => b.spec?.policyName === name);
	const vaps = byKind("ValidatingAdmissionPolicy").map(
		(p) => new CompiledPolicy(p, bindingFor("ValidatingAdmissionPolicyBinding", p.metadata.name)),
	);
	const maps = byKind("MutatingAdmissionPolicy").map(
		(p) => new CompiledPolicy(p, bindingFor("MutatingAdmissionPolicyBinding", p.metadata.name)),
	);
	return { vaps, maps };
}
