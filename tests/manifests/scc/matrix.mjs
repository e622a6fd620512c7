// The OpenShift case matrix: every default SCC OpenShift ships (4.19 and
// 4.20) x {Pod, Deployment template} x {sysctl, wrapper delivery image,
// wrapper initContainer, imageVolume} x {capability allowed, disallowed by
// capgate's policy, added by the SCC's defaultAddCapabilities}.
//
// Each case is a workload as its author writes it for that SCC (pinned with
// openshift.io/required-scc, uid and user namespace as the SCC demands), run
// through the simulated admission chain (sim.mjs):
//   Pod:        Admit -> capgate -> Validate
//   Deployment: capgate (template) -> a pod from the template -> Admit ->
//               capgate -> Validate
// capgate's output must be accepted, capgate must leave openshift.io/scc and
// required-scc alone, and each output must evaluate to no patch
// (idempotence). What capgate does is also checked against what the SCC
// admits, worked out here from the SCC itself: the need met (sysctl or
// wrapper), deliberately left to a warning (the SCC admits no delivery), or
// nothing asked (the SCC allows no capability to add, or the policy strips
// it). One TAP line per SCC and object, and the counts.
// Usage: node matrix.mjs CAPGATE
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { admit, validate, loadSCCs, namespace, authenticatedGrants, defaultSCC, REQUIRED_SCC, SCC_ANNOTATION } from "./sim.mjs";
import { check } from "./capgate.mjs";

const bin = process.argv[2];
const tmp = mkdtempSync(join(tmpdir(), "sccmatrix-"));
const NS = "shop";
const IMAGE = "registry.example.com/capgate:0.1.0";
const VERSIONS = ["4.19", "4.20"];
const DELIVERIES = ["sysctl", "image", "initContainer", "imageVolume"];
const CAPABILITIES = ["allowed", "disallowed", "sccDefaultAdd"];
const OBJECTS = ["Pod", "Deployment"];
const SCC_DEFAULT = "CHOWN"; // what the admin made each SCC add by default

const allowsNBS = (scc) => (scc.allowedCapabilities ?? []).some((c) => c === "*" || c === "NET_BIND_SERVICE");
// The SCC as the sccDefaultAdd column's admin changed it.
const withDefault = (scc) => ({ ...structuredClone(scc), defaultAddCapabilities: [SCC_DEFAULT] });

// capgate's policy for a column: strategy sysctl, or auto with the wrapper's
// delivery (auto tries the sysctl first; these workloads declare no port
// below 1024, so the wrapper is what makes the capability work).
function policy(version, delivery, capability, sccs) {
	const nonRoot = delivery === "sysctl"
		? { strategy: "sysctl" }
		: { strategy: "auto", ambient: delivery === "image"
			? { delivery: "image", wrapperPath: "/usr/local/bin/capgate-ambient" }
			: { delivery, image: IMAGE } };
	const openshift = { enabled: true, version };
	// The admin who changed the SCCs describes them to capgate.
	if (capability === "sccDefaultAdd")
		openshift.sccs = sccs.map((s) => ({
			name: s.metadata.name, allowedCapabilities: s.allowedCapabilities ?? [],
			defaultAddCapabilities: [SCC_DEFAULT], requiredDropCapabilities: s.requiredDropCapabilities ?? [],
			runAsUser: s.runAsUser.type, volumes: s.volumes,
		}));
	return {
		apiVersion: "capgate.dev/v1", kind: "CapabilityPolicy", metadata: { name: `matrix-${delivery}-${capability}`.toLowerCase() },
		spec: { allowedCapabilities: capability === "disallowed" ? [] : ["NET_BIND_SERVICE"], nonRoot, openshift },
	};
}

// The pod spec a workload's author writes to run under scc: pinned to it,
// a non-root uid the SCC admits (the namespace range fills one in for
// MustRunAsRange without its own range), a user namespace where the SCC
// requires one, NET_BIND_SERVICE only where the SCC allows adding it.
function podTemplate(scc, delivery) {
	const ru = scc.runAsUser;
	const namespaceRange = ru.type === "MustRunAsRange" && ru.uidRangeMin == null;
	const sc = namespaceRange ? {} : { runAsUser: 1000 };
	if (allowsNBS(scc)) sc.capabilities = { add: ["NET_BIND_SERVICE"] };
	const spec = {
		securityContext: { runAsNonRoot: true },
		containers: [{
			name: "web", image: "registry.example.com/web:1", command: ["/web", "--listen"],
			// The sysctl needs a declared port; for the wrapper columns
			// the port is not declared, so no sysctl value is known.
			ports: [{ containerPort: delivery === "sysctl" ? 80 : 8443 }],
			securityContext: sc,
		}],
	};
	if (scc.userNamespaceLevel === "RequirePodLevel") spec.hostUsers = false;
	return { metadata: { labels: { app: "web" }, annotations: { [REQUIRED_SCC]: scc.metadata.name } }, spec };
}

function input(scc, object, delivery) {
	const t = podTemplate(scc, delivery);
	if (object === "Pod")
		return { apiVersion: "v1", kind: "Pod", metadata: { name: "web", namespace: NS, ...t.metadata }, spec: t.spec };
	return {
		apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: NS },
		spec: { replicas: 1, selector: { matchLabels: { app: "web" } }, template: t },
	};
}

// What capgate should do, worked out from the SCC (not from capgate).
function expected(scc, delivery, capability) {
	if (!allowsNBS(scc)) return "nothing asked";
	if (capability === "disallowed") return delivery === "sysctl" ? "met" : "nothing asked";
	if (delivery === "sysctl" || delivery === "image") return "met";
	const vols = new Set(scc.volumes);
	const allowed = new Set([...(scc.allowedCapabilities ?? []), ...(scc.defaultAddCapabilities ?? [])]);
	if (delivery === "initContainer")
		return scc.runAsUser.type === "RunAsAny" && (allowed.has("*") || allowed.has("SETFCAP")) &&
			(vols.has("*") || vols.has("emptyDir")) ? "met" : "warned";
	return vols.has("*") || vols.has("image") ? "met" : "warned";
}

function outcome(pod, warnings) {
	const c = pod.spec.containers[0];
	if ((c.command ?? [])[0]?.endsWith("capgate-ambient")) return "met";
	if ((pod.spec.securityContext?.sysctls ?? []).some((s) => s.name === "net.ipv4.ip_unprivileged_port_start")) return "met";
	if (warnings.some((w) => w.includes("will have no effect"))) return "warned";
	return "nothing asked";
}

let failed = 0;
const counts = { cases: 0, accepted: 0, met: 0, warned: 0, "nothing asked": 0 };
const byVersion = {};
const lines = new Map(); // "version scc object" -> problems

function ctxFor(version, sccs, name) {
	return {
		version, sccs, namespace: namespace(NS), groupRBAC: authenticatedGrants(version),
		// The ReplicaSet controller creates the Deployment's pods; the
		// pod's service account is granted the SCC it pins.
		user: { name: "system:serviceaccount:kube-system:replicaset-controller", groups: ["system:authenticated", "system:serviceaccounts"], rbac: [] },
		serviceAccount: { name: `system:serviceaccount:${NS}:default`, groups: ["system:serviceaccounts", `system:serviceaccounts:${NS}`], rbac: [name] },
	};
}

for (const version of VERSIONS) {
	const shipped = loadSCCs(version);
	byVersion[version] = shipped.length;
	for (const delivery of DELIVERIES) {
		for (const capability of CAPABILITIES) {
			const sccs = capability === "sccDefaultAdd" ? shipped.map((s) => defaultSCC(withDefault(s))) : shipped;
			const label = `${version}-${delivery}-${capability}`;
			const pfile = join(tmp, `${label}-policy.yaml`);
			writeFileSync(pfile, stringify(policy(version, delivery, capability, sccs)));
			const cells = [];
			for (const scc of sccs) for (const object of OBJECTS) cells.push({ scc, object, problems: [] });
			const fail = (cell, why) => cell.problems.push(`${delivery}/${capability}: ${why}`);

			// 1. The Deployments' templates through capgate, then again.
			const deps = cells.filter((c) => c.object === "Deployment");
			const tOut = check(bin, tmp, `${label}-templates`, pfile, deps.map((c) => input(c.scc, "Deployment", delivery)));
			const tAgain = check(bin, tmp, `${label}-templates-again`, pfile, tOut.map((r) => r.object));
			deps.forEach((c, i) => {
				if (tOut[i].denied) fail(c, `capgate denied the template: ${tOut[i].denied}`);
				if (tAgain[i].patched || tAgain[i].denied) fail(c, `template not idempotent: ${tAgain[i].changes.join("; ")}`);
				const a = tOut[i].object.spec.template.metadata?.annotations ?? {};
				if (a[REQUIRED_SCC] !== c.scc.metadata.name || a[SCC_ANNOTATION] !== undefined) fail(c, "template's SCC annotations changed");
				c.template = tOut[i].object.spec.template;
			});

			// 2. Every pod through Admit: the Pods as written, the
			// Deployments' as the ReplicaSet makes them.
			for (const c of cells) {
				const ctx = ctxFor(version, sccs, c.scc.metadata.name);
				c.ctx = ctx;
				const p = c.object === "Pod" ? input(c.scc, "Pod", delivery)
					: { apiVersion: "v1", kind: "Pod", metadata: { ...structuredClone(c.template.metadata), name: "web-7d4b9c-x2x9z", namespace: NS }, spec: structuredClone(c.template.spec) };
				const a = admit(ctx, p);
				if (!a.pod) fail(c, `Admit rejected ${c.object === "Pod" ? "the pod" : "capgate's template"}: ${a.errs.slice(1, 3).join("; ")}`);
				c.admitted = a.pod;
			}
			const live = cells.filter((c) => c.admitted);

			// 3. capgate on the admitted pods, Validate, capgate again.
			const pOut = check(bin, tmp, `${label}-pods`, pfile, live.map((c) => c.admitted));
			const pAgain = check(bin, tmp, `${label}-pods-again`, pfile, pOut.map((r) => r.object));
			live.forEach((c, i) => {
				const out = pOut[i].object;
				if (pOut[i].denied) return fail(c, `capgate denied the pod: ${pOut[i].denied}`);
				const v = validate(c.ctx, out);
				if (!v.ok) fail(c, `Validate rejected capgate's output: ${v.errs.slice(1, 3).join("; ")}`);
				else if (v.scc !== c.scc.metadata.name) fail(c, `Validate re-matched ${v.scc}`);
				if (pAgain[i].patched || pAgain[i].denied) fail(c, `pod not idempotent: ${pAgain[i].changes.join("; ")}`);
				const a = out.metadata.annotations, b = c.admitted.metadata.annotations;
				if (a[SCC_ANNOTATION] !== b[SCC_ANNOTATION] || a[REQUIRED_SCC] !== b[REQUIRED_SCC]) fail(c, "openshift.io/scc or required-scc changed");
				const got = outcome(out, pOut[i].warnings), want = expected(c.scc, delivery, capability);
				if (got !== want) fail(c, `capgate's outcome is "${got}", the SCC admits "${want}" (${pOut[i].warnings.join(" | ")})`);
				c.outcome = got;
			});
			for (const c of cells) {
				counts.cases++;
				const key = `${version} ${c.scc.metadata.name} ${c.object}`;
				if (!lines.has(key)) lines.set(key, { n: 0, problems: [] });
				const l = lines.get(key);
				l.n++;
				l.problems.push(...c.problems);
				if (c.problems.length === 0) {
					counts.accepted++;
					counts[c.outcome]++;
				}
			}
		}
	}
}
for (const [key, l] of lines) {
	const ok = l.problems.length === 0;
	console.log(`${ok ? "ok" : "not ok"} - openshift matrix ${key}: ${l.n} cases through Admit, capgate, Validate; idempotent`);
	if (!ok) {
		failed++;
		for (const p of l.problems.slice(0, 6)) console.log(`#   ${p}`);
	}
}
const expect = VERSIONS.reduce((n, v) => n + byVersion[v], 0) * OBJECTS.length * DELIVERIES.length * CAPABILITIES.length;
const whole = counts.cases === expect;
console.log(`${whole ? "ok" : "not ok"} - openshift matrix: every case ran (${counts.cases} of ${expect})`);
if (!whole) failed++;
console.log(`# openshift matrix: ${counts.cases} cases (${VERSIONS.map((v) => `${byVersion[v]} SCCs in ${v}`).join(", ")} x ${OBJECTS.length} objects x ${DELIVERIES.length} deliveries x ${CAPABILITIES.length} capability columns)`);
console.log(`# openshift matrix: ${counts.accepted} accepted by Admit -> capgate -> Validate and idempotent: ${counts.met} with the capability made to work (sysctl or wrapper), ${counts.warned} deliberately left to a warning (the SCC admits no such delivery), ${counts["nothing asked"]} with nothing to make work (the SCC allows no capability to add, or the policy strips it)`);
rmSync(tmp, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
