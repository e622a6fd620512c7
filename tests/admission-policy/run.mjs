// The differential test: capgate's webhook engine against the CEL that
// `capgate admission-policy` renders from the same policy, on the same
// requests. Prints TAP lines and the figures. See README.md.
//
// node run.mjs --capgate BIN --driver BIN [--seed N] [--generated N] [--seconds S]
//   [--verbose] [--policies default,NAME...] [--no-data] [--no-hostile] [--tamper WHAT]
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { compileRendered, GVR } from "./policy.mjs";
import { stripNulls } from "./shim.mjs";
import { generate, rng, spell, ODD_NAMES, KINDS, wrap } from "./gen.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const argv = process.argv.slice(2);
const opt = (name, def) => {
	const i = argv.indexOf(`--${name}`);
	return i >= 0 ? argv[i + 1] : def;
};
const CAPGATE = opt("capgate", join(root, "build/capgate"));
const DRIVER = opt("driver", join(root, "build/tests/admission-driver"));
const SEED = Number(opt("seed", String(Date.now() % 1000000)));
const GENERATED = Number(opt("generated", "3000"));
const SECONDS = Number(opt("seconds", "25"));
const VERBOSE = argv.includes("--verbose");
// --tamper WHAT: break the rendered CEL on purpose (run.sh checks that the
// test then fails, so that every rule below is one the inputs exercise):
const TAMPERS = {
	// names compared case-sensitively, as the weak policies people copy do
	case: [".upperAscii()", ""],
	// init containers never judged
	init: ['\\"initContainers\\"', '\\"noSuchList\\"'],
	// an installer-like container recognised in a pod that runs no wrapper
	installer: ["variables.wrapperInPod", "true"],
	// a controller's copy of a template patched and denied
	owner: ["o.controller == true", "false"],
	// a Job's template patched on UPDATE
	job: ["variables.update && variables.kind == \\\"Job\\\"", "false"],
	// an UPDATE that leaves the template as it was denied
	unchanged: ["variables.oldTemplate == variables.template", "false"],
	// the ephemeral containers that exist judged again
	ephemeral: ["c.name in variables.oldEphemeralNames", "false"],
	// a root container's NET_BIND_SERVICE for a low port not kept
	rootport: ["r.lowPort && !r.nonRoot", "false"],
	// an object being deleted judged
	deleting: ["object.metadata.deletionTimestamp != null", "false"],
	// non-ASCII quoted one '?' per character, not per byte
	quote: ['[\\"?\\", \\"??\\", \\"???\\", \\"????\\"]', '[\\"?\\", \\"?\\", \\"?\\", \\"?\\"]'],
	// "" not named, as before issue 9
	empty: ['\\"unknownAdd\\": dyn(r.add.filter(n,', '\\"unknownAdd\\": dyn(r.add.filter(n, n != \\"\\" &&'],
	// issue 11: capgate's installer judged again (the former bug (a))
	judged: ["variables.containers.filter(r, !r.own && !", "variables.containers.filter(r, !"],
	// the three-word installer of older templates not taken for capgate's
	legacy: ["size(c.command) == 3 ?", "false ?"],
	// an installer's --caps taken when it is not the canonical list
	capslist: ['c.command[3].substring(7).split(\\",\\")) ==', 'c.command[3].substring(7).split(\\",\\")) !='],
	// an installer's named drops required to be ALL alone
	drops: ["dyn(c.securityContext.capabilities.drop)", 'dyn([\\"ALL\\"])'],
	// an installer that drops SETFCAP by name taken for capgate's
	setfcap: ['!(\\"SETFCAP\\" in c.securityContext.capabilities.drop) &&', ""],
	// openshift.io/required-scc not read
	requiredscc: ['\\"openshift.io/required-scc\\" in variables.annotations ?', "false ?"],
	// a template's openshift.io/scc taken as its SCC
	templatescc: ['variables.kind == \\"Pod\\" && variables.admittedScc != null', "variables.admittedScc != null"],
	// an SCC's named required drops left allowed
	sccdrop: ["!(c in variables.sccs[variables.scc].drop)", "true"],
	// an SCC that allows every capability narrowing like the others
	sccstar: ['\\"ALL\\" in variables.sccs[variables.scc].allowed ||', ""],
	// defaults given under an SCC capgate does not know
	unknowndefaults: ["variables.sccUnknown ? [] :", ""],
	// NET_BIND_SERVICE added for a root container's low port under an unknown SCC
	unknownport: ["!variables.sccUnknown &&", ""],
	// a capability stripped on OpenShift not dropped by name
	dropextra: ["r.mustDrop + r.want.filter(x, !(x in variables.allowed))", "r.mustDrop"],
	// spec.openshift.enabled ignored
	enabled: ["variables.admittedScc != null || true", "variables.admittedScc != null || false"],
};
const TAMPER = opt("tamper", null);
let tampered = 0; // rendered policies the tampering changed
if (TAMPER && !TAMPERS[TAMPER]) throw new Error(`unknown --tamper ${TAMPER}`);
// --policies default,deny,...: only these (default: the embedded one, else
// a file name in policies/ without .yaml); --no-data: no data cases.
const ONLY = argv.includes("--only-default") ? ["default"] : opt("policies", null)?.split(",");
const NO_DATA = argv.includes("--no-data");
const NO_HOSTILE = argv.includes("--no-hostile");

let failures = 0;
const ok = (cond, name) => {
	console.log(`${cond ? "ok" : "not ok"} - ${name}`);
	if (!cond) failures++;
	return cond;
};
const diag = (s) => console.log(String(s).replace(/^/gm, "# "));

// ---- the engine, through the driver ------------------------------------
function driver(policyPath, requests) {
	if (requests.length === 0) return [];
	const input = requests.map((r) => JSON.stringify(r)).join("\n") + "\n";
	const p = spawnSync(DRIVER, [policyPath], { input, maxBuffer: 1 << 30 });
	if (p.status !== 0) throw new Error(`driver ${policyPath}: exit ${p.status}: ${p.stderr}`);
	const lines = p.stdout.toString().trim().split("\n");
	if (lines.length !== requests.length) throw new Error(`driver: ${lines.length} answers for ${requests.length} requests`);
	return lines.map((l) => JSON.parse(l));
}

function render(policyPath, args = []) {
	const pargs = policyPath === "-" ? [] : ["--policy", policyPath];
	const p = spawnSync(CAPGATE, ["admission-policy", ...pargs, "--mutating", "-o", "json", ...args]);
	if (p.status !== 0) throw new Error(`capgate admission-policy ${policyPath}: ${p.stderr}`);
	let text = p.stdout.toString();
	if (TAMPER) {
		const [from, to] = TAMPERS[TAMPER];
		if (text.includes(from)) tampered++;
		text = text.replaceAll(from, to);
	}
	return JSON.parse(text).items;
}

// ---- what the engine decided -------------------------------------------
const DECISION_MODE = { patched: "enforce", denied: "enforce", warned: "warn", audited: "audit" };
const ACTION_MODE = { Deny: "enforce", Warn: "warn", Audit: "audit" };

// The part of a decision the CEL must reproduce.
function summary(d) {
	return d.error ? { error: d.error } : { allowed: d.allowed, decision: d.audit?.decision ?? null, mutated: d.mutated };
}

// Is the object one the apiserver can admit (so a VAP ever sees it)?
// Container names set, DNS labels (IsDNS1123Label), unique across the
// three lists.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
function admissible(c) {
	const t = templateOf(c.object, c.kind);
	const spec = t?.spec;
	if (!spec || typeof spec !== "object") return true;
	const names = new Set();
	for (const l of ["initContainers", "containers", "ephemeralContainers"]) {
		const list = spec[l];
		if (list == null) continue;
		if (!Array.isArray(list)) return false;
		for (const ctr of list) {
			if (ctr === null || typeof ctr !== "object" || typeof ctr.name !== "string" || !DNS_LABEL.test(ctr.name)) return false;
			if (names.has(ctr.name)) return false;
			names.add(ctr.name);
		}
	}
	return true;
}

function templateOf(o, kind) {
	if (!o || typeof o !== "object") return null;
	switch (kind) {
		case "Pod":
			return o;
		case "PodTemplate":
			return o.template;
		case "CronJob":
			return o.spec?.jobTemplate?.spec?.template;
		default:
			return o.spec?.template;
	}
}

// Whether every operation of an engine patch changes capgate's own wrapper
// installer (an init container named capgate-ambient-install) in obj.
function onlyInstaller(obj, patch) {
	return (
		Array.isArray(patch) &&
		patch.length > 0 &&
		patch.every((op) => {
			const m = /^(.*)\/(initContainers)\/(\d+)\//.exec(op.path ?? "");
			if (!m) return false;
			let t = obj;
			for (const k of m[1].split("/").slice(1)) t = t?.[k.replaceAll("~1", "/").replaceAll("~0", "~")];
			return t?.initContainers?.[Number(m[3])]?.name === "capgate-ambient-install";
		})
	);
}

// Container labels as messages write them: `container "x"`.
function labelsIn(msg) {
	return [...String(msg ?? "").matchAll(/(?:initContainer|ephemeralContainer|container) "[^"]*"/g)].map((m) => m[0]);
}

// ---- one policy, many requests -----------------------------------------
const stats = {
	cases: 0,
	compared: 0,
	nonRootCompared: 0,
	excludedEngineError: 0,
	excludedInadmissible: 0,
	disagreements: 0,
	bySource: {},
	celMillis: 0,
	engineMillis: 0,
	mapped: 0,
	vapEvaluations: 0,
	engineNotIdempotent: 0,
	engineRepatchesInstaller: 0,
	notRendered: {},
	messagesExact: 0,
	outcomes: {},
	messagesByName: 0,
};
const shown = [];

// What the webhook did on a request that the objects do not render (the
// non-root strategy's parts that issue 11 changed), counted so that the
// scope of "compared under strategy none" is visible: an existing
// installer brought up to date by wrapping (--caps, named drops), a
// wrapper refused for the names or mounts it needs, or by the SCC.
const NOT_RENDERED = {
	"installer --caps rewritten": (d) => d.patch?.some((op) => /\/initContainers\/\d+\/command$/.test(op.path) && op.value?.[1] === "--install"),
	"installer named drops rewritten": (d, c) => d.patch?.some((op) => {
		const m = /^(.*)\/initContainers\/(\d+)\/securityContext\/capabilities\/drop$/.exec(op.path);
		if (!m) return false;
		let t = c.object;
		for (const k of m[1].split("/").slice(1)) t = t?.[k.replaceAll("~1", "/").replaceAll("~0", "~")];
		return t?.initContainers?.[Number(m[2])]?.name === "capgate-ambient-install";
	}),
	"wrapper refused: its volume, installer name or mounts taken": (d) => [d.message ?? "", ...(d.warnings ?? [])].some((w) => /is the pod's own|mounts capgate-ambient writable|its own mounts conflict/.test(w)),
	"wrapper refused by the SCC": (d) => [d.message ?? "", ...(d.warnings ?? [])].some((w) => w.includes("its SCC admits no fitting sysctl or wrapper")),
};
function countNotRendered(c, real) {
	for (const [what, test] of Object.entries(NOT_RENDERED)) if (test(real, c)) stats.notRendered[what] = (stats.notRendered[what] ?? 0) + 1;
}

function disagree(c, what) {
	stats.disagreements++;
	if (shown.length < 15) shown.push(`${c.source} [${c.policyName}#${c.index}] ${c.kind} ${c.operation}${c.subResource ? "/" + c.subResource : ""}: ${what}`);
	if (VERBOSE) diag(JSON.stringify({ what, case: c }));
}

function runPolicy(policyName, policyPath, cases) {
	const objects = render(policyPath);
	const { vaps, maps } = compileRendered(objects);
	const map = maps[0];
	const reqs = [];
	for (const c of cases) {
		const base = { op: "decide", kind: c.kind, operation: c.operation, namespace: c.namespace, subResource: c.subResource, object: c.object, oldObject: c.oldObject };
		reqs.push(base, { ...base, nonRoot: "none" });
	}
	let t = process.hrtime.bigint();
	const answers = driver(policyPath, reqs);
	stats.engineMillis += Number(process.hrtime.bigint() - t) / 1e6;

	const pending = []; // MAP results to apply
	// The engine on its own results (patched ones): it must find nothing
	// more to do. A re-patch is a disagreement; one that changes nothing
	// but capgate's own installer (the former engine bug (a): the
	// installer given defaultAddCapabilities, then no longer recognised,
	// fixed by issue 11: the installer is not judged at all) is also
	// counted apart, and must stay 0.
	const redo = [];
	cases.forEach((c, i) => {
		const real = answers[2 * i];
		const none = answers[2 * i + 1];
		const base = { op: "decide", kind: c.kind, operation: c.operation, namespace: c.namespace, subResource: c.subResource, oldObject: c.oldObject };
		if (real.audit?.decision === "patched") redo.push({ i, variant: "real", req: { ...base, object: real.mutated } });
		if (none.audit?.decision === "patched") redo.push({ i, variant: "none", req: { ...base, object: none.mutated, nonRoot: "none" } });
	});
	const redone = driver(policyPath, redo.map((x) => x.req));
	const repatched = new Map(); // "i:variant" -> "installer" | "other"
	redo.forEach((x, k) => {
		const d = redone[k];
		if (d.audit?.decision !== "patched") return;
		const from = (x.variant === "real" ? answers[2 * x.i] : answers[2 * x.i + 1]).mutated;
		repatched.set(`${x.i}:${x.variant}`, onlyInstaller(from, d.patch) ? "installer" : "other");
	});
	t = process.hrtime.bigint();
	const vapRun = (c, obj, ctx = {}) => {
		stats.vapEvaluations++;
		return vaps.map((v) => ({ v, r: v.validate(c, obj, c.oldObject ? stripNulls(c.oldObject) : null, ctx) }));
	};
	cases.forEach((c, i) => {
		c.policyName = policyName;
		stats.cases++;
		stats.bySource[c.source] = (stats.bySource[c.source] ?? 0) + 1;
		const real = answers[2 * i];
		const none = answers[2 * i + 1];
		if (real.error || none.error) {
			stats.excludedEngineError++; // wrong JSON types: the apiserver refuses them first
			return;
		}
		if (!admissible(c)) {
			stats.excludedInadmissible++;
			return;
		}
		const nonRootActs = !isDeepStrictEqual(summary(real), summary(none));
		const ref = nonRootActs ? none : real;
		for (const v of ["real", "none"]) {
			const what = repatched.get(`${i}:${v}`);
			if (!what) continue;
			stats.engineNotIdempotent++;
			if (what === "installer") stats.engineRepatchesInstaller++;
			disagree(c, `the engine patches its own result (${v}) again${what === "installer" ? ", only its installer (the former bug (a))" : ""}`);
		}
		stats.compared++;
		if (nonRootActs) stats.nonRootCompared++;
		countNotRendered(c, real);
		const outcome = `${c.operation}${c.subResource ? "/" + c.subResource : ""} ${ref.skipped ? "skipped: " + ref.skipped : (ref.audit?.decision ?? "compliant") + (ref.unpatched ? ": " + ref.unpatched : "")}`;
		stats.outcomes[outcome] = (stats.outcomes[outcome] ?? 0) + 1;
		const seen = stripNulls(c.object);
		const decision = ref.audit?.decision;
		const wantMode = decision ? DECISION_MODE[decision] : null;
		// 1. The VAP's verdict on the request.
		const ctx = {};
		const results = vapRun(c, seen, ctx);
		for (const { v, r } of results) if (r.error) disagree(c, `${v.name}: ${r.error}`);
		const fired = results.filter(({ r }) => r.applies && r.failed);
		const firedModes = fired.map(({ v }) => ACTION_MODE[v.actions[0]]);
		if (!isDeepStrictEqual(firedModes, wantMode ? [wantMode] : []))
			disagree(c, `engine decision ${decision ?? "none"} (${nonRootActs ? "nonRoot none" : "as is"}), VAP fired [${firedModes}]: ${fired.map(({ r }) => r.message).join(" | ")}`);
		// A denial's message is the webhook's, word for word, where the
		// webhook's fixed buffers did not cut it (then it must name the
		// same containers).
		if (decision === "denied" && fired.length) {
			const msg = fired[0].r.message;
			if (ref.message.length < 500 && !ref.message.includes(", ... (not in")) {
				stats.messagesExact++;
				if (msg !== ref.message) disagree(c, `VAP message ${JSON.stringify(msg)}, engine ${JSON.stringify(ref.message)}`);
			} else {
				stats.messagesByName++;
				for (const l of labelsIn(ref.message)) if (!msg.includes(l)) disagree(c, `VAP message lacks ${l}: ${msg}`);
			}
		}
		// 2. Beside the webhook: the VAP admits what the webhook let through.
		if (real.allowed && real.audit?.decision === "patched") {
			const after = vapRun(c, stripNulls(real.mutated));
			const rejected = after.filter(({ r }) => r.applies && r.failed);
			const why = rejected.map(({ r }) => r.message ?? r.error).join(" | ");
			if (rejected.length) disagree(c, `the VAP rejects the webhook's own result: ${why}`);
		}
		// 3. The MAP's JSON Patch, applied below.
		if (map) {
			const m = map.mutate(c, seen, c.oldObject ? stripNulls(c.oldObject) : null, ctx);
			if (m.error) disagree(c, `MAP: ${m.error}`);
			else pending.push({ c, ref, seen, ops: m.ops, decision });
		}
	});
	stats.celMillis += Number(process.hrtime.bigint() - t) / 1e6;
	if (!map) return;
	const applied = driver(policyPath, pending.map((p) => ({ op: "apply", object: p.seen, patch: p.ops })));
	t = process.hrtime.bigint();
	pending.forEach((p, i) => {
		const a = applied[i];
		const { c, ref, decision } = p;
		if (a.error) return disagree(c, `MAP patch does not apply: ${a.error}: ${JSON.stringify(p.ops)}`);
		stats.mapped++;
		const want = decision === "patched" ? stripNulls(ref.mutated) : p.seen;
		if (!isDeepStrictEqual(a.result, want))
			disagree(c, `MAP result differs from the webhook's: ops ${JSON.stringify(p.ops)}; want ${JSON.stringify(templateOf(want, c.kind)?.spec)}; got ${JSON.stringify(templateOf(a.result, c.kind)?.spec)}`);
		// The VAP admits the MAP's result exactly when the webhook admits the request.
		const actx = {};
		const after = vapRun(c, a.result, actx);
		const rejects = after.some(({ v, r }) => r.applies && r.failed && v.actions.includes("Deny"));
		if (rejects !== (decision === "denied"))
			disagree(c, `VAP on the MAP's result: rejects=${rejects}, engine ${decision ?? "none"}`);
		// Re-invocation: the MAP's result needs no further patch.
		const again = maps[0].mutate(c, a.result, c.oldObject ? stripNulls(c.oldObject) : null, actx);
		if (again.error || again.ops.length)
			disagree(c, `MAP not idempotent: ${again.error ?? JSON.stringify(again.ops)}`);
	});
	stats.celMillis += Number(process.hrtime.bigint() - t) / 1e6;
}

// ---- the inputs ---------------------------------------------------------
function dataCases() {
	const dir = join(root, "tests/cases");
	const out = [];
	const load = (file) => {
		const [loaded] = driver("-", [{ op: "yaml", file }]);
		if (loaded.error) throw new Error(`${file}: ${loaded.error}`);
		const objs = [];
		for (const d of loaded.docs) {
			if (d?.kind?.endsWith?.("List") && Array.isArray(d.items)) objs.push(...d.items);
			else objs.push(d);
		}
		return objs;
	};
	for (const name of readdirSync(dir).sort()) {
		const input = join(dir, name, "input.yaml");
		if (!existsSync(input)) continue;
		const policy = existsSync(join(dir, name, "policy.yaml")) ? join(dir, name, "policy.yaml") : "-";
		// The request as tests/cases/run.sh gives it to `capgate check`:
		// --operation, --subresource, and old.yaml's object of the same
		// kind, namespace and name as the oldObject (else none).
		const args = existsSync(join(dir, name, "args")) ? readFileSync(join(dir, name, "args"), "utf8").trim().split(/\s+/) : [];
		const arg = (k) => (args.indexOf(k) >= 0 ? args[args.indexOf(k) + 1] : null);
		const operation = arg("--operation") ?? "CREATE";
		const subResource = arg("--subresource") ?? "";
		const olds = existsSync(join(dir, name, "old.yaml")) ? load(join(dir, name, "old.yaml")) : [];
		const nsOf = (o) => o?.metadata?.namespace || "default";
		for (const o of load(input)) {
			if (!GVR[o?.kind]) continue; // capgate does not judge it: no policy matches it either
			const ns = nsOf(o);
			const old = olds.find((x) => x?.kind === o.kind && nsOf(x) === ns && (x.metadata?.name ?? "") === (o.metadata?.name ?? "")) ?? null;
			out.push({ source: "data", policy, name, kind: o.kind, operation, subResource, namespace: ns, object: o, oldObject: old });
		}
	}
	return out;
}

// The hostile suite's bypass spellings (tests/hostile/run.sh) and more, in
// every kind, as add, as drop, and with privileged.
function hostileCases(kinds) {
	const names = ["SYS_ADMIN", "cap_sys_admin", "Sys_Admin", "CAP_SYS_ADMIN", "SYS_\u0041DMIN", "cap_net_raw", "Cap_Sys_Ptrace",
		"NET_BIND_SERVICE", "net_bind_service", "CAP_NET_BIND_SERVICE", "Cap_Net_Bind_Service", ...ODD_NAMES];
	const out = [];
	for (const kind of kinds)
		for (const n of names)
			for (const where of ["add", "drop", "both", "dup"]) {
				const caps = where === "add" ? { add: [n] } : where === "drop" ? { drop: [n] } : where === "both" ? { add: [n], drop: [n, "ALL"] } : { add: [n, n], drop: ["ALL", "all"] };
				const ctr = { name: "app", image: "nginx:1.27", securityContext: { capabilities: caps, privileged: where === "dup" } };
				const tmpl = { metadata: { labels: { app: "h" } }, spec: { containers: [ctr], initContainers: [{ ...ctr, name: "init" }] } };
				out.push({ source: "hostile", kind, operation: "CREATE", subResource: "", namespace: "shop", object: wrap(kind, "hostile", "shop", tmpl), oldObject: null });
			}
	return out;
}

// Pods that run the policy's wrapper and hold installers, genuine or one
// member off; under a policy without a wrapper image, installers with an
// image the policy does not name.
function generatedCases(policyPath, count, seed, deadline) {
	const [w] = driver(policyPath, [{ op: "wrapper" }]);
	const own = { image: w.image ?? "capgate:0.1.0", wrapperPath: w.wrapperPath };
	const r = rng(seed);
	const out = [];
	for (let i = 0; i < count && Date.now() < deadline; i++) out.push({ source: "generated", index: i, ...generate(r, own, i) });
	return out;
}

// ---- main ---------------------------------------------------------------
const policyDir = join(here, "policies");
const extra = readdirSync(policyDir).filter((f) => f.endsWith(".yaml")).sort().map((f) => join(policyDir, f));
const shortName = (p) => (p === "-" ? "default" : p.replace(/^.*\//, "").replace(/\.yaml$/, ""));
const wanted = (p) => !ONLY || ONLY.includes(shortName(p));
const data = NO_DATA ? [] : dataCases();
const byPolicy = new Map();
for (const c of data) {
	if (!wanted(c.policy)) continue;
	if (!byPolicy.has(c.policy)) byPolicy.set(c.policy, []);
	byPolicy.get(c.policy).push(c);
}
// Every spelling in every kind under the default policy; in a Pod and a
// CronJob (the shallowest and the deepest template) under the others.
for (const p of ["-", ...extra].filter(wanted)) {
	if (!byPolicy.has(p)) byPolicy.set(p, []);
	if (NO_HOSTILE) continue;
	const hostile = hostileCases(p === "-" ? KINDS : ["Pod", "CronJob"]);
	byPolicy.get(p).push(...hostile.map((c, i) => ({ ...c, index: i })));
}

const genPolicies = ["-", ...extra, join(root, "tests/cases/exemptions-image-name-labels/policy.yaml"), join(root, "tests/cases/openshift-scc-narrows-defaults/policy.yaml"), join(root, "tests/cases/mode-warn/policy.yaml")].filter(wanted);
const perPolicy = Math.ceil(GENERATED / genPolicies.length);
let genDeadline;
console.log(`# seed ${SEED} (replay: node tests/admission-policy/run.mjs --seed ${SEED} --generated ${GENERATED})`);
const t0 = Date.now();
let generatedTotal = 0;
for (const [policy, cases] of byPolicy) {
	runPolicy(policy === "-" ? "default" : policy.replace(root + "/", ""), policy, cases);
}
const genStart = Date.now();
genDeadline = genStart + SECONDS * 1000;
const genStats = { cel: stats.celMillis, engine: stats.engineMillis };
genPolicies.forEach((p, k) => {
	if (Date.now() > genDeadline) return;
	const cases = generatedCases(p, perPolicy, SEED + k, genDeadline);
	generatedTotal += cases.length;
	runPolicy(p === "-" ? "default" : p.replace(root + "/", ""), p, cases);
});
const genSeconds = (Date.now() - genStart) / 1000;
const genCelSeconds = (stats.celMillis - genStats.cel) / 1000;
const genEngineSeconds = (stats.engineMillis - genStats.engine) / 1000;

for (const s of shown) diag(s);
if (TAMPER && tampered === 0) throw new Error(`--tamper ${TAMPER}: ${TAMPERS[TAMPER][0]} is in no rendered policy`);
ok(stats.compared > 0, `differential: ${stats.compared} requests compared, ${stats.disagreements} disagreements`);
ok(stats.disagreements === 0, `differential: VAP verdicts, MAP results and re-invocation agree with the engine (${stats.disagreements} disagreements)`);
ok((NO_DATA || stats.bySource.data > 0) && (NO_HOSTILE || stats.bySource.hostile > 0), `differential: inputs: ${JSON.stringify(stats.bySource)}`);
ok(generatedTotal >= Math.min(1000, GENERATED), `differential: ${generatedTotal} generated requests (seed ${SEED}) in ${genSeconds.toFixed(1)} s: ${(generatedTotal / Math.max(genCelSeconds, 1e-3)).toFixed(0)} requests/s through CEL (VAP + MAP + VAP again), ${(generatedTotal / Math.max(genEngineSeconds, 1e-3)).toFixed(0)} requests/s through the engine (twice each)`);
ok(stats.engineNotIdempotent === 0, `differential: the engine patches none of its own results again (${stats.engineNotIdempotent}; of which only its installer, the former bug (a): ${stats.engineRepatchesInstaller})`);
console.log(`# compared, by the engine's outcome: ${JSON.stringify(Object.fromEntries(Object.entries(stats.outcomes).sort()))}`);
console.log(`# denial messages: ${stats.messagesExact} equal to the webhook's word for word, ${stats.messagesByName} (cut by the webhook's buffers) compared by the containers they name`);
console.log(`# compared ${stats.compared}: of which ${stats.nonRootCompared} where the non-root strategy acts, compared with the engine under nonRoot.strategy none`);
console.log(`# not rendered, seen in the webhook's decisions (issue 11's non-root parts; compared under strategy none where they change the decision): ${JSON.stringify(stats.notRendered)}`);
console.log(`# excluded ${stats.excludedEngineError} the engine cannot judge (wrong JSON types; kube-apiserver refuses them before admission), ${stats.excludedInadmissible} inadmissible (container names missing, repeated or not DNS labels; pod validation refuses them)`);
console.log(`# MAP results applied with capgate's RFC 6902 applier: ${stats.mapped}; VAP evaluations: ${stats.vapEvaluations}; total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
process.exit(failures ? 1 : 0);
