// Checks of capgate's manifests beyond their schema; one TAP line per check.
//   node checks.mjs parse FILE...            every document of every file parses
//   node checks.mjs base FILE                what the base must promise (below)
//   node checks.mjs cert-manager FILE        base + cert-manager wiring
//   node checks.mjs openshift FILE           base + service-ca wiring and SCC
//   node checks.mjs same LABEL A B           same objects, once kustomize's
//                                            hashed ConfigMap name and capgate's
//                                            policy hash are set aside
//   node checks.mjs subset LABEL EXPECTED ACTUAL   ACTUAL holds every field of EXPECTED
//   node checks.mjs overlay-policy OVERLAY DEFAULT  the OpenShift overlay's policy
//   node checks.mjs policy-image LABEL MANIFESTS POLICY IMAGE
//                                            the ConfigMap's policy is POLICY
//                                            naming IMAGE as the wrapper's
import { readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { parse, parseAllDocuments } from "yaml";

let failed = 0;
function check(name, ok, detail) {
	console.log(`${ok ? "ok" : "not ok"} - ${name}`);
	if (!ok) {
		failed++;
		if (detail !== undefined) console.log(`# ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
	}
}

function load(file) {
	const docs = parseAllDocuments(readFileSync(file === "-" ? 0 : file, "utf8"), { uniqueKeys: true });
	const bad = docs.flatMap((d) => d.errors);
	if (bad.length) throw new Error(`${file}: ${bad[0].message}`);
	// A v1 List (capgate -o json) stands for its items, as kubectl applies it.
	return docs.map((d) => d.toJS({ maxAliasCount: 0 })).filter((o) => o !== null)
		.flatMap((o) => (o.kind === "List" && Array.isArray(o.items) ? o.items : [o]));
}

const find = (objs, kind, name) => objs.find((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));

function baseChecks(label, objs) {
	const ns = find(objs, "Namespace")?.metadata?.name;
	check(`${label}: one Namespace`, objs.filter((o) => o.kind === "Namespace").length === 1);
	const dep = find(objs, "Deployment", "capgate");
	check(`${label}: Deployment capgate`, dep !== undefined);
	if (!dep) return;
	const pod = dep.spec.template.spec;
	const c = pod.containers.find((x) => x.name === "capgate");
	const podLabels = dep.spec.template.metadata.labels;
	const selects = (sel) => sel && Object.entries(sel).every(([k, v]) => podLabels[k] === v);
	check(`${label}: 2+ replicas`, dep.spec.replicas >= 2, dep.spec.replicas);
	const pdb = find(objs, "PodDisruptionBudget");
	check(`${label}: a PodDisruptionBudget keeps a replica`,
		pdb && selects(pdb.spec.selector.matchLabels) && pdb.spec.minAvailable >= 1 && pdb.spec.minAvailable < dep.spec.replicas);
	const anti = pod.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0]?.podAffinityTerm
		?? pod.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[0];
	check(`${label}: pod anti-affinity across nodes`, anti && anti.topologyKey === "kubernetes.io/hostname" && selects(anti.labelSelector.matchLabels));
	const pc = pod.priorityClassName;
	check(`${label}: priority class exists`, pc === "system-cluster-critical" || find(objs, "PriorityClass", pc) !== undefined, pc);
	const port = c.ports.find((p) => p.containerPort === 8443);
	for (const [probe, path] of [["livenessProbe", "/healthz"], ["readinessProbe", "/readyz"]]) {
		const g = c[probe]?.httpGet;
		check(`${label}: ${probe} GET ${path} over HTTPS on 8443`,
			g && g.path === path && g.scheme === "HTTPS" && (g.port === 8443 || g.port === port?.name), g);
	}
	check(`${label}: requests and limits`, c.resources?.requests?.cpu && c.resources?.requests?.memory && c.resources?.limits?.memory);
	const psc = pod.securityContext ?? {}, csc = c.securityContext ?? {};
	check(`${label}: runAsNonRoot`, psc.runAsNonRoot === true || csc.runAsNonRoot === true);
	check(`${label}: drops ALL, adds nothing`, isDeepStrictEqual(csc.capabilities, { drop: ["ALL"] }), csc.capabilities);
	check(`${label}: readOnlyRootFilesystem, no privilege escalation`, csc.readOnlyRootFilesystem === true && csc.allowPrivilegeEscalation === false && csc.privileged !== true);
	check(`${label}: seccomp RuntimeDefault`, (csc.seccompProfile ?? psc.seccompProfile)?.type === "RuntimeDefault");
	check(`${label}: no API token mounted`, pod.automountServiceAccountToken === false);
	const args = c.args.join(" ");
	check(`${label}: serve flags`, args === "serve --policy /etc/capgate/policy/policy.yaml --tls-cert /etc/capgate/tls/tls.crt --tls-key /etc/capgate/tls/tls.key --listen 0.0.0.0:8443", args);
	const mount = (path) => c.volumeMounts.find((m) => m.mountPath === path);
	const vol = (m) => m && pod.volumes.find((v) => v.name === m.name);
	const pv = vol(mount("/etc/capgate/policy"));
	const cm = pv && find(objs, "ConfigMap", pv.configMap?.name);
	// A directory mount, not subPath: ConfigMap edits must reach the pod.
	check(`${label}: policy ConfigMap mounted as a directory at /etc/capgate/policy`,
		cm && mount("/etc/capgate/policy").subPath === undefined && typeof cm.data["policy.yaml"] === "string");
	check(`${label}: Secret capgate-tls mounted at /etc/capgate/tls`, vol(mount("/etc/capgate/tls"))?.secret?.secretName === "capgate-tls");
	const svc = find(objs, "Service", "capgate");
	check(`${label}: Service 443 -> 8443 selects the pods`,
		svc && selects(svc.spec.selector) && svc.spec.ports.some((p) => p.port === 443 && (p.targetPort === 8443 || p.targetPort === port?.name)));
	check(`${label}: namespaced objects in ${ns}`, objs.every((o) => !o.metadata.namespace || o.metadata.namespace === ns));
	const resources = (w) => new Set(w.rules.flatMap((r) => r.resources.map((res) => `${r.apiGroups[0] || "core"}/${res}:${r.operations.join(",")}`)));
	const wanted = ["core/pods:CREATE,UPDATE", "core/pods/ephemeralcontainers:UPDATE", "core/replicationcontrollers:CREATE,UPDATE",
		"core/podtemplates:CREATE,UPDATE", "apps/deployments:CREATE,UPDATE", "apps/replicasets:CREATE,UPDATE",
		"apps/statefulsets:CREATE,UPDATE", "apps/daemonsets:CREATE,UPDATE", "batch/jobs:CREATE,UPDATE", "batch/cronjobs:CREATE,UPDATE"];
	for (const [kind, path] of [["MutatingWebhookConfiguration", "/mutate"], ["ValidatingWebhookConfiguration", "/validate"]]) {
		const w = find(objs, kind)?.webhooks?.[0];
		check(`${label}: ${kind} exists`, w !== undefined);
		if (!w) continue;
		const s = w.clientConfig.service;
		check(`${label}: ${kind} calls ${path} on the Service`, s.name === svc?.metadata.name && s.namespace === ns && s.path === path && (s.port ?? 443) === 443);
		const got = resources(w);
		check(`${label}: ${kind} covers pods, ephemeral containers and workloads`, wanted.every((r) => got.has(r)), [...got]);
		check(`${label}: ${kind} v1 only, no side effects, 1-10 s timeout, fails closed`,
			isDeepStrictEqual(w.admissionReviewVersions, ["v1"]) && w.sideEffects === "None" && w.timeoutSeconds >= 1 && w.timeoutSeconds <= 10 && w.failurePolicy === "Fail" && w.matchPolicy === "Equivalent");
		const ex = w.namespaceSelector?.matchExpressions?.find((e) => e.key === "kubernetes.io/metadata.name");
		check(`${label}: ${kind} skips ${ns} and kube-system`, ex?.operator === "NotIn" && ex.values.includes(ns) && ex.values.includes("kube-system"), ex);
		if (kind.startsWith("Mutating")) check(`${label}: reinvocationPolicy IfNeeded`, w.reinvocationPolicy === "IfNeeded");
	}
	return { dep, pod, svc, ns };
}

const annotation = (o, k) => o?.metadata?.annotations?.[k];

function certManagerChecks(objs) {
	const { ns, svc } = baseChecks("cert-manager", objs);
	const cert = objs.find((o) => o.kind === "Certificate" && o.spec.secretName === "capgate-tls");
	const n = svc.metadata.name;
	check("cert-manager: Certificate for Secret capgate-tls covers the service names",
		cert && [n, `${n}.${ns}`, `${n}.${ns}.svc`, `${n}.${ns}.svc.cluster.local`].every((d) => cert.spec.dnsNames.includes(d)), cert?.spec?.dnsNames);
	const issuer = cert && find(objs, cert.spec.issuerRef.kind ?? "Issuer", cert.spec.issuerRef.name);
	const ca = issuer?.spec?.ca && objs.find((o) => o.kind === "Certificate" && o.spec.secretName === issuer.spec.ca.secretName);
	const root = ca && find(objs, ca.spec.issuerRef.kind ?? "Issuer", ca.spec.issuerRef.name);
	check("cert-manager: chain self-signed issuer -> CA certificate -> CA issuer -> serving certificate",
		ca?.spec?.isCA === true && root?.spec?.selfSigned !== undefined);
	for (const kind of ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"])
		check(`cert-manager: ${kind} gets its caBundle injected from the serving Certificate`,
			annotation(find(objs, kind), "cert-manager.io/inject-ca-from") === `${cert?.metadata.namespace}/${cert?.metadata.name}`);
}

function openshiftChecks(objs) {
	const { pod, svc, ns } = baseChecks("openshift", objs);
	check("openshift: no fixed runAsUser/runAsGroup/fsGroup", ["runAsUser", "runAsGroup", "fsGroup"].every((k) => pod.securityContext[k] === undefined && pod.containers.every((c) => c.securityContext?.[k] === undefined)));
	check("openshift: service-ca writes Secret capgate-tls", annotation(svc, "service.beta.openshift.io/serving-cert-secret-name") === "capgate-tls");
	for (const kind of ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"])
		check(`openshift: ${kind} gets the service-ca bundle`, annotation(find(objs, kind), "service.beta.openshift.io/inject-cabundle") === "true");
	const scc = find(objs, "SecurityContextConstraints");
	check("openshift: an SCC for the workloads that need more than restricted-v2", scc !== undefined);
	check("openshift: the SCC leaves the pods their safe sysctls (no forbiddenSysctls [\"*\"]) and admits no root",
		!(scc?.forbiddenSysctls ?? []).includes("*") && scc?.runAsUser?.type === "MustRunAsRange" && !(scc?.allowedCapabilities ?? []).includes("SETFCAP"));
	const role = objs.find((o) => o.kind === "ClusterRole" && o.rules?.some((r) => r.apiGroups.includes("security.openshift.io") &&
		r.resources.includes("securitycontextconstraints") && r.verbs.includes("use") && r.resourceNames.includes(scc?.metadata.name)));
	check("openshift: a ClusterRole may use the SCC, for the workloads' service accounts", role !== undefined);
	const sa = find(objs, "ServiceAccount");
	const bound = objs.some((o) => (o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding") && o.roleRef?.name === role?.metadata.name &&
		o.subjects?.some((s) => s.kind === "ServiceAccount" && s.name === sa?.metadata.name));
	check("openshift: the webhook's own service account is not granted it", !bound);
	check("openshift: the webhook's pods are pinned to restricted-v2", find(objs, "Deployment").spec.template.metadata.annotations?.["openshift.io/required-scc"] === "restricted-v2");
	const cm = find(objs, "ConfigMap");
	check("openshift: the policy says the cluster is OpenShift", parse(cm?.data?.["policy.yaml"] ?? "")?.spec?.openshift?.enabled === true);
}

// A policy as data, without the wrapper's image: capgate manifests sets
// spec.nonRoot.ambient.image to the image it deploys, and rewrites the text
// to do so (comments go); kustomize ships policy.yaml as written.
function policyData(text) {
	const p = parse(text);
	const nr = p?.spec?.nonRoot;
	if (nr?.ambient) {
		delete nr.ambient.image;
		if (Object.keys(nr.ambient).length === 0) delete nr.ambient;
		if (Object.keys(nr).length === 0) delete p.spec.nonRoot;
	}
	return p;
}

// kustomize names the ConfigMap capgate-policy-<hash>; capgate manifests
// names it capgate-policy and puts the policy's hash on the pod template.
function normalize(objs) {
	const s = JSON.stringify(objs).replace(/"capgate-policy-[a-z0-9]{10}"/g, '"capgate-policy"');
	const out = JSON.parse(s);
	for (const o of out) {
		if (o.kind === "ConfigMap" && typeof o.data?.["policy.yaml"] === "string")
			o.data["policy.yaml"] = policyData(o.data["policy.yaml"]);
		const a = o.spec?.template?.metadata?.annotations;
		if (a) {
			delete a["capgate.dev/policy-sha256"];
			if (Object.keys(a).length === 0) delete o.spec.template.metadata.annotations;
		}
	}
	return new Map(out.map((o) => [`${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`, o]));
}

function diff(a, b, path = "") {
	if (isDeepStrictEqual(a, b)) return null;
	if (a && b && typeof a === "object" && typeof b === "object" && Array.isArray(a) === Array.isArray(b)) {
		for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
			const d = diff(a[k], b[k], `${path}/${k}`);
			if (d) return d;
		}
	}
	return `${path}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`;
}

// ACTUAL holds every field of EXPECTED; null in EXPECTED means absent.
function subset(exp, act, path = "") {
	if (exp === null) return act === null || act === undefined ? null : `${path}: want it absent, got ${JSON.stringify(act)}`;
	if (typeof exp !== "object") return isDeepStrictEqual(exp, act) ? null : `${path}: want ${JSON.stringify(exp)}, got ${JSON.stringify(act)}`;
	if (Array.isArray(exp)) return isDeepStrictEqual(exp, act) ? null : `${path}: want ${JSON.stringify(exp)}, got ${JSON.stringify(act)}`;
	for (const k of Object.keys(exp)) {
		const d = subset(exp[k], act?.[k], `${path}/${k}`);
		if (d) return d;
	}
	return null;
}

const [cmd, ...args] = process.argv.slice(2);
switch (cmd) {
case "parse":
	for (const f of args) {
		try {
			load(f);
			check(`parses: ${f}`, true);
		} catch (e) {
			check(`parses: ${f}`, false, e.message.split("\n")[0]);
		}
	}
	break;
case "base": baseChecks(args[1] ?? "base", load(args[0])); break;
case "cert-manager": certManagerChecks(load(args[0])); break;
case "openshift": openshiftChecks(load(args[0])); break;
case "same": {
	const [label, fa, fb] = args;
	const a = normalize(load(fa)), b = normalize(load(fb));
	const keys = new Set([...a.keys(), ...b.keys()]);
	for (const k of [...keys].sort()) check(`${label}: ${k} agrees`, a.has(k) && b.has(k) && !diff(a.get(k), b.get(k)), a.has(k) && b.has(k) ? diff(a.get(k), b.get(k)) : `only in ${a.has(k) ? fa : fb}`);
	break;
}
case "policy-image": {
	// The ConfigMap's policy is POLICY with spec.nonRoot.ambient.image set
	// to IMAGE (byte for byte when POLICY names IMAGE already).
	const [label, fm, fp, image] = args;
	const text = load(fm).find((o) => o.kind === "ConfigMap")?.data?.["policy.yaml"] ?? "";
	const file = readFileSync(fp, "utf8");
	const got = parse(text), want = parse(file);
	want.spec ??= {};
	want.spec.nonRoot ??= {};
	want.spec.nonRoot.ambient ??= {};
	const named = want.spec.nonRoot.ambient.image;
	want.spec.nonRoot.ambient.image ??= image;
	check(`${label}: the ConfigMap's policy names the image`, got?.spec?.nonRoot?.ambient?.image === (named ?? image), got?.spec?.nonRoot?.ambient);
	check(`${label}: the ConfigMap's policy is the file otherwise`, !diff(want, got), diff(want, got));
	if (named === image) check(`${label}: a policy that names the image is kept verbatim`, text === file);
	break;
}
case "overlay-policy": {
	// The OpenShift overlay's policy is the default one plus
	// spec.openshift.enabled.
	const [fo, fd] = args;
	const o = parse(readFileSync(fo, "utf8")), d = parse(readFileSync(fd, "utf8"));
	const { openshift, ...rest } = o.spec;
	check("the OpenShift overlay's policy is policy/default.yaml with spec.openshift.enabled",
		openshift?.enabled === true && Object.keys(openshift).length === 1 && isDeepStrictEqual(rest, d.spec), diff(d.spec, rest));
	break;
}
case "subset": {
	const [label, fe, fa] = args;
	const e = load(fe), a = load(fa);
	check(label, e.length === a.length && e.every((x, i) => !subset(x, a[i])), e.map((x, i) => subset(x, a[i])).find((d) => d));
	break;
}
default:
	console.error(`unknown command ${cmd}`);
	process.exit(2);
}
process.exit(failed ? 1 : 0);
