// The SCC simulator's own tests: every rule of sim.mjs is pinned by a pod
// the rule accepts and one it rejects (TAP). The expectations restate
// OpenShift's code (the file each rule cites), so a simulator that drifts
// from it fails here before it judges capgate.
import Ajv from "ajv";
import { sccSchema } from "../scc-schema.mjs";
import { admit, validate, assign, loadSCCs, loadManifests, byPriority, pointValue, defaultSCC, namespace, authenticatedGrants,
	equal, SCC_ANNOTATION, REQUIRED_SCC, SECCOMP_POD } from "./sim.mjs";

let failed = 0, n = 0;
function check(name, ok, detail) {
	n++;
	console.log(`${ok ? "ok" : "not ok"} - scc simulator: ${name}`);
	if (!ok) {
		failed++;
		for (const d of [].concat(detail ?? [])) console.log(`#   ${typeof d === "string" ? d : JSON.stringify(d)}`);
	}
}

const NS = namespace("shop");
const MIN = 1000680000;
function cluster(version, grants = [], extra = []) {
	const sccs = [...loadSCCs(version), ...extra.map(defaultSCC)];
	return {
		version, sccs, namespace: NS, groupRBAC: authenticatedGrants(version),
		user: { name: "alice", groups: ["system:authenticated"], rbac: grants },
		serviceAccount: { name: "system:serviceaccount:shop:default", groups: ["system:serviceaccounts", "system:serviceaccounts:shop"], rbac: [] },
	};
}
function pod(ctr = {}, spec = {}, annotations) {
	return {
		apiVersion: "v1", kind: "Pod",
		metadata: { name: "p", namespace: "shop", ...(annotations ? { annotations } : {}) },
		spec: { ...spec, containers: [{ name: "c", image: "i", ...ctr }] },
	};
}
const scc = (ctx, name) => ctx.sccs.find((s) => s.metadata.name === name);
// Admit under the one SCC named by required-scc, then Validate the result.
function through(ctx, p) {
	const a = admit(ctx, p);
	if (!a.pod) return { admitted: false, errs: a.errs };
	return { admitted: true, pod: a.pod, scc: a.scc, validated: validate(ctx, a.pod) };
}
const pinned = (name, ctr, spec, ann = {}) => pod(ctr, spec, { [REQUIRED_SCC]: name, ...ann });

const v419 = cluster("4.19"), v420 = cluster("4.20");

// ---- fixtures (cluster-kube-apiserver-operator) and SCC defaulting --------
check("4.19 ships 11 default SCCs, 4.20 adds restricted-v3 and nested-container",
	v419.sccs.length === 11 && v420.sccs.length === 13 && scc(v420, "restricted-v3") && scc(v420, "nested-container") && !scc(v419, "restricted-v3"));
{
	const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
	const v = ajv.compile(sccSchema);
	for (const version of ["4.19", "4.20"])
		for (const m of loadManifests(version))
			check(`fixture ${version} ${m.metadata.name} validates against scc-schema.mjs`, v(m), v.errors);
}
check("sccdefaults/defaults.go: allowHostDirVolumePlugin false drops hostPath; a nil volumes list allows all but hostPath",
	!defaultSCC({ metadata: { name: "x" }, volumes: ["hostPath", "emptyDir"] }).volumes.includes("hostPath") &&
	defaultSCC({ metadata: { name: "x" }, volumes: null }).volumes.includes("image") &&
	!defaultSCC({ metadata: { name: "x" }, volumes: null }).volumes.includes("hostPath"));
check("sccdefaults/defaults.go: allowPrivilegeEscalation defaults to true, group strategies to RunAsAny",
	defaultSCC({ metadata: { name: "x" } }).allowPrivilegeEscalation === true &&
	defaultSCC({ metadata: { name: "x" } }).fsGroup.type === "RunAsAny");

// ---- selection order (util/sort/bypriority.go, byrestrictions.go) ------------
{
	const order = [...v420.sccs].sort(byPriority).map((s) => s.metadata.name);
	check("selection order: priority first (anyuid's 10 before everything)", order[0] === "anyuid", order);
	check("selection order: then restrictiveness points (restricted-v2 before nonroot-v2 before privileged)",
		order.indexOf("restricted-v2") < order.indexOf("nonroot-v2") && order.indexOf("nonroot-v2") < order.indexOf("privileged") &&
		pointValue(scc(v420, "restricted-v2")) < pointValue(scc(v420, "nonroot-v2")), order);
	check("selection order: then name (restricted-v2 before restricted-v3, equal points)",
		pointValue(scc(v420, "restricted-v2")) === pointValue(scc(v420, "restricted-v3")) &&
		order.indexOf("restricted-v2") < order.indexOf("restricted-v3"), order);
	// runAsRange 20000 + SELinux MustRunAs 10000 + non-trivial volumes
	// (csi, ephemeral, persistentVolumeClaim) 100000 + capabilities 5000
	// + 10 (one allowed) - 3000 (drop ALL).
	check("selection order: points as computed by OpenShift (restricted-v2 132010; privileged over 1600000)",
		pointValue(scc(v420, "restricted-v2")) === 132010 && pointValue(scc(v420, "privileged")) > 1_600_000,
		[pointValue(scc(v420, "restricted-v2")), pointValue(scc(v420, "privileged"))]);
}

// ---- Admit (sccadmission/admission.go) -------------------------------------
{
	const ctx = cluster("4.20", ["anyuid"]);
	const r = admit(ctx, pod());
	check("Admit: the first usable SCC that admits the pod (anyuid by priority) is recorded in openshift.io/scc",
		r.pod?.metadata.annotations[SCC_ANNOTATION] === "anyuid" &&
		r.pod.metadata.annotations["security.openshift.io/validated-scc-subject-type"] === "user", r);
	const plain = admit(v420, pod());
	check("Admit: without grants, system:authenticated's restricted-v2", plain.pod?.metadata.annotations[SCC_ANNOTATION] === "restricted-v2");
	const root = admit(v420, pod({ securityContext: { runAsUser: 0 } }));
	check("Admit: rejects a pod no usable SCC admits (uid 0, restricted-v2/v3 only)", !root.pod && root.errs.join(" ").includes("runAsUser"), root.errs);
	check("Admit 4.19: no validated-scc-subject-type annotation",
		admit(v419, pod()).pod?.metadata.annotations["security.openshift.io/validated-scc-subject-type"] === undefined);
}
// required-scc pins the one SCC both phases use.
{
	const ctx = cluster("4.20", ["anyuid", "nonroot-v2"]);
	const r = admit(ctx, pinned("nonroot-v2", { securityContext: { runAsUser: 1000 } }));
	check("openshift.io/required-scc: Admit uses that SCC only (nonroot-v2 although anyuid sorts first)", r.pod?.metadata.annotations[SCC_ANNOTATION] === "nonroot-v2", r.errs);
	const bad = admit(ctx, pinned("nonroot-v2", { securityContext: { runAsUser: 0 } }));
	check("openshift.io/required-scc: a pod it rejects is rejected, though anyuid would admit it", !bad.pod, bad);
	const unusable = admit(cluster("4.20"), pinned("anyuid", {}));
	check("openshift.io/required-scc: an SCC the user may not use is refused", !unusable.pod && unusable.errs.join(" ").includes("not usable"), unusable.errs);
	const p = admit(ctx, pinned("nonroot-v2", { securityContext: { runAsUser: 1000 } })).pod;
	p.metadata.annotations[SCC_ANNOTATION] = "anyuid";
	check("Validate: required-scc must match the SCC Admit chose", !validate(ctx, p).ok);
	const upd = admit({ ...ctx, operation: "UPDATE", oldPod: pod() }, pinned("anyuid", {}));
	check("Admit on UPDATE: changing required-scc is forbidden", !upd.pod && upd.errs[0].includes("required security context constraint"));
}

// ---- Validate and the no-change rule ------------------------------------------
{
	const ctx = cluster("4.20");
	const a = admit(ctx, pod({ securityContext: { capabilities: { add: ["NET_BIND_SERVICE"] } } }));
	check("Validate: a pod as Admit left it passes, under the SCC Admit chose", validate(ctx, a.pod).ok && validate(ctx, a.pod).scc === "restricted-v2");
	const webhook = structuredClone(a.pod);
	delete webhook.spec.containers[0].securityContext.allowPrivilegeEscalation;
	const r = validate(ctx, webhook);
	check("Validate: the no-change rule: a field restricted-v2 would default again (allowPrivilegeEscalation removed) fails",
		!r.ok && r.errs.join(" ").includes("failures final validation after mutating admission"), r);
	// re-match: the hinted SCC fails, another usable one passes unchanged.
	const ctx2 = cluster("4.20", ["nonroot-v2"]);
	const a2 = admit(ctx2, pinned("restricted-v2", {})).pod;
	delete a2.metadata.annotations[REQUIRED_SCC];
	a2.spec.containers[0].securityContext.runAsUser = 1000; // a webhook sets a uid outside the range
	const r2 = validate(ctx2, a2);
	check("Validate: re-matches every usable SCC when the chosen one fails (nonroot-v2 takes a uid restricted-v2 rejects)",
		r2.ok && r2.scc === "nonroot-v2" && r2.rematched, r2);
	a2.metadata.annotations[REQUIRED_SCC] = "restricted-v2";
	check("Validate: required-scc prevents the re-match", !validate(ctx2, a2).ok);
}

// ---- runAsUser strategies (user/*.go) ----------------------------------------
{
	const r = through(v420, pinned("restricted-v2", {}));
	check("MustRunAsRange: Admit sets the namespace range's first uid", r.pod?.spec.containers[0].securityContext.runAsUser === MIN && r.validated.ok, r);
	check("MustRunAsRange: a uid in the range passes", through(v420, pinned("restricted-v2", { securityContext: { runAsUser: MIN + 5 } })).validated?.ok);
	check("MustRunAsRange: a uid outside the range is rejected", !through(v420, pinned("restricted-v2", { securityContext: { runAsUser: 1000 } })).admitted);
	check("MustRunAsRange with an SCC range (restricted-v3 1000-65534 in a user namespace)",
		through(v420, pinned("restricted-v3", {}, { hostUsers: false })).pod?.spec.containers[0].securityContext.runAsUser === 1000 &&
		!through(v420, pinned("restricted-v3", { securityContext: { runAsUser: 0 } }, { hostUsers: false })).admitted);
	const nr = cluster("4.20", ["nonroot-v2"]);
	check("MustRunAsNonRoot: runAsNonRoot true passes and is kept", through(nr, pinned("nonroot-v2", {}, { securityContext: { runAsNonRoot: true } })).validated?.ok);
	check("MustRunAsNonRoot: a non-zero uid passes, runAsNonRoot is set", through(nr, pinned("nonroot-v2", { securityContext: { runAsUser: 1000 } })).pod?.spec.containers[0].securityContext.runAsNonRoot === true);
	check("MustRunAsNonRoot: uid 0 is rejected", !through(nr, pinned("nonroot-v2", { securityContext: { runAsUser: 0 } })).admitted);
	check("MustRunAsNonRoot: nothing said about the user: Admit sets runAsNonRoot true (the kubelet then checks the image)",
		through(nr, pinned("nonroot-v2", {})).pod?.spec.containers[0].securityContext.runAsNonRoot === true);
	const fixed = { metadata: { name: "fixed-uid" }, runAsUser: { type: "MustRunAs", uid: 4242 }, seLinuxContext: { type: "RunAsAny" }, volumes: ["*"] };
	const mu = cluster("4.20", ["fixed-uid"], [fixed]);
	check("MustRunAs: Admit sets the SCC's uid", through(mu, pinned("fixed-uid", {})).pod?.spec.containers[0].securityContext.runAsUser === 4242);
	check("MustRunAs: another uid is rejected", !through(mu, pinned("fixed-uid", { securityContext: { runAsUser: 1000 } })).admitted);
	const any = cluster("4.20", ["anyuid"]);
	check("RunAsAny: uid 0 passes", through(any, pinned("anyuid", { securityContext: { runAsUser: 0 } })).validated?.ok);
	check("RunAsAny: no uid is set (the image decides)", through(any, pinned("anyuid", {})).pod?.spec.containers[0].securityContext?.runAsUser === undefined);
}

// ---- capabilities (capabilities/mustrunas.go) ---------------------------------
{
	check("capabilities: an allowed capability passes (restricted-v2 NET_BIND_SERVICE)",
		through(v420, pinned("restricted-v2", { securityContext: { capabilities: { add: ["NET_BIND_SERVICE"] } } })).validated?.ok);
	check("capabilities: one not allowed is rejected (restricted-v2 NET_RAW)",
		!through(v420, pinned("restricted-v2", { securityContext: { capabilities: { add: ["NET_RAW"] } } })).admitted);
	check("capabilities: names are literal (net_bind_service is not NET_BIND_SERVICE)",
		!through(v420, pinned("restricted-v2", { securityContext: { capabilities: { add: ["net_bind_service"] } } })).admitted);
	check("capabilities: \"*\" allows any (privileged)", through(cluster("4.20", ["privileged"]), pinned("privileged", { securityContext: { capabilities: { add: ["SYS_ADMIN"] } } })).validated?.ok);
	const v1 = cluster("4.20", ["restricted"]);
	const r = through(v1, pinned("restricted", {}));
	check("capabilities: Admit adds required drops by name (restricted: KILL, MKNOD, SETGID, SETUID)",
		equal(r.pod?.spec.containers[0].securityContext.capabilities.drop, ["KILL", "MKNOD", "SETGID", "SETUID"]) && r.validated?.ok, r);
	// drop ALL does not satisfy a named required drop: Validate would
	// add the names, which the no-change rule refuses.
	const p = structuredClone(r.pod);
	p.spec.containers[0].securityContext.capabilities.drop = ["ALL"];
	check("capabilities: required drops must appear by name; drop ALL alone fails Validate", !validate(v1, p).ok);
	const withDefault = { ...structuredClone(scc(v420, "anyuid")), metadata: { name: "anyuid-chown" }, defaultAddCapabilities: ["CHOWN"] };
	const d = cluster("4.20", ["anyuid-chown"], [withDefault]);
	const dr = through(d, pinned("anyuid-chown", { securityContext: { capabilities: { drop: ["ALL"] } } }));
	check("capabilities: Admit adds defaultAddCapabilities (drop ALL does not remove them)",
		equal(dr.pod?.spec.containers[0].securityContext.capabilities.add, ["CHOWN"]) && dr.validated.ok, dr.pod?.spec.containers[0]);
	const stripped = structuredClone(dr.pod);
	stripped.spec.containers[0].securityContext.capabilities = { drop: ["ALL", "MKNOD"] };
	check("capabilities: a default add removed without a named drop fails Validate (it would come back)", !validate(d, stripped).ok);
	stripped.spec.containers[0].securityContext.capabilities = { drop: ["ALL", "CHOWN", "MKNOD"] };
	check("capabilities: a default add dropped by name passes Validate", validate(d, stripped).ok);
	check("capabilities: a default add need not be in allowedCapabilities", !(withDefault.allowedCapabilities ?? []).includes("CHOWN"));
}

// ---- sysctls (sysctl/mustmatchpatterns.go) ------------------------------------
{
	const sysctl = (name, value = "1") => ({ securityContext: { sysctls: [{ name, value }] } });
	check("sysctls: a safe sysctl passes (ip_unprivileged_port_start)", through(v420, pinned("restricted-v2", {}, sysctl("net.ipv4.ip_unprivileged_port_start", "80"))).validated?.ok);
	check("sysctls: an unsafe one is rejected (net.core.somaxconn)", !through(v420, pinned("restricted-v2", {}, sysctl("net.core.somaxconn"))).admitted);
	const fb = { metadata: { name: "no-ping" }, runAsUser: { type: "RunAsAny" }, seLinuxContext: { type: "RunAsAny" }, volumes: ["*"], forbiddenSysctls: ["net.ipv4.ping*"] };
	const ctx = cluster("4.20", ["no-ping"], [fb]);
	check("sysctls: forbiddenSysctls patterns reject a safe one", !through(ctx, pinned("no-ping", {}, sysctl("net.ipv4.ping_group_range", "0 0"))).admitted);
	check("sysctls: forbiddenSysctls leave the other safe ones", through(ctx, pinned("no-ping", {}, sysctl("net.ipv4.tcp_syncookies"))).validated?.ok);
	check("sysctls: allowedUnsafeSysctls \"*\" (privileged) admits an unsafe one",
		through(cluster("4.20", ["privileged"]), pinned("privileged", {}, sysctl("net.core.somaxconn"))).validated?.ok);
	check("sysctls: 4.20 does not treat tcp_rmem as safe", !through(v420, pinned("restricted-v2", {}, sysctl("net.ipv4.tcp_rmem", "4096 87380 6291456"))).admitted);
	const k = (kernel) => ({ ...v420, version: "4.21", apiserverKernel: kernel }); // 4.21 ships 4.20's SCCs
	check("sysctls: from 4.21, tcp_rmem is safe when the kube-apiserver host's kernel is 4.15 or newer",
		through(k("5.14.0"), pinned("restricted-v2", {}, sysctl("net.ipv4.tcp_rmem", "4096 87380 6291456"))).validated?.ok &&
		!through(k("4.14.0"), pinned("restricted-v2", {}, sysctl("net.ipv4.tcp_rmem", "4096 87380 6291456"))).admitted);
}

// ---- volumes (provider.go allowsVolumeType, util/util.go) --------------------
{
	const vol = (v) => ({ volumes: [{ name: "v", ...v }] });
	check("volumes: emptyDir passes restricted-v2", through(v420, pinned("restricted-v2", {}, vol({ emptyDir: { medium: "Memory" } }))).validated?.ok);
	check("volumes: hostPath is rejected by restricted-v2", !through(v420, pinned("restricted-v2", {}, vol({ hostPath: { path: "/" } }))).admitted);
	const image = vol({ image: { reference: "reg/capgate:1", pullPolicy: "IfNotPresent" } });
	check("volumes: the image type passes 4.20's restricted-v2", through(v420, pinned("restricted-v2", {}, image)).validated?.ok);
	check("volumes: the image type is rejected by 4.19's restricted-v2", !through(v419, pinned("restricted-v2", {}, image)).admitted);
	const token = vol({ projected: { sources: [{ serviceAccountToken: { path: "token" } }, { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } }] } });
	const noProjected = { metadata: { name: "secrets-only" }, runAsUser: { type: "RunAsAny" }, seLinuxContext: { type: "RunAsAny" }, volumes: ["secret"] };
	const ctx = cluster("4.20", ["secrets-only"], [noProjected]);
	check("volumes: a service account token projection passes where secret is allowed", through(ctx, pinned("secrets-only", {}, token)).validated?.ok);
	check("volumes: another projection does not", !through(ctx, pinned("secrets-only", {}, vol({ projected: { sources: [{ secret: { name: "x" } }] } }))).admitted);
}

// ---- seccomp (seccomp/strategy.go) ---------------------------------------------
{
	const r = through(v420, pinned("restricted-v2", {}));
	check("seccomp: Admit sets runtime/default (field and pod annotation) under restricted-v2",
		r.pod?.spec.securityContext.seccompProfile?.type === "RuntimeDefault" && r.pod.metadata.annotations[SECCOMP_POD] === "runtime/default" && r.validated.ok);
	check("seccomp: Unconfined is rejected by restricted-v2",
		!through(v420, pinned("restricted-v2", { securityContext: { seccompProfile: { type: "Unconfined" } } })).admitted);
	const any = cluster("4.20", ["anyuid"]);
	check("seccomp: an SCC without seccompProfiles admits a pod that sets none", through(any, pinned("anyuid", {})).validated?.ok);
	check("seccomp: an SCC without seccompProfiles rejects one that sets one (\"seccomp may not be set\")",
		!through(any, pinned("anyuid", {}, { securityContext: { seccompProfile: { type: "RuntimeDefault" } } })).admitted);
}

// ---- allowPrivilegeEscalation, privileged, host namespaces ---------------------
{
	const r = through(v420, pinned("restricted-v2", {}));
	check("allowPrivilegeEscalation: Admit defaults it to false where the SCC forbids it", r.pod?.spec.containers[0].securityContext.allowPrivilegeEscalation === false);
	check("allowPrivilegeEscalation: true is rejected", !through(v420, pinned("restricted-v2", { securityContext: { allowPrivilegeEscalation: true } })).admitted);
	check("allowPrivilegeEscalation: anyuid allows it", through(cluster("4.20", ["anyuid"]), pinned("anyuid", { securityContext: { allowPrivilegeEscalation: true } })).validated?.ok);
	check("privileged: rejected by restricted-v2, admitted by privileged",
		!through(v420, pinned("restricted-v2", { securityContext: { privileged: true } })).admitted &&
		through(cluster("4.20", ["privileged"]), pinned("privileged", { securityContext: { privileged: true } })).validated?.ok);
	check("hostNetwork: rejected by restricted-v2, admitted by hostnetwork-v2",
		!through(v420, pinned("restricted-v2", {}, { hostNetwork: true })).admitted &&
		through(cluster("4.20", ["hostnetwork-v2"]), pinned("hostnetwork-v2", {}, { hostNetwork: true })).validated?.ok);
	check("userNamespaceLevel RequirePodLevel: restricted-v3 needs hostUsers: false",
		through(v420, pinned("restricted-v3", {}, { hostUsers: false })).validated?.ok && !through(v420, pinned("restricted-v3", {})).admitted);
	check("SELinux MustRunAs: Admit sets the namespace's level; another level is rejected",
		r.pod?.spec.securityContext.seLinuxOptions?.level === "s0:c26,c15" &&
		!through(v420, pinned("restricted-v2", {}, { securityContext: { seLinuxOptions: { level: "s0:c1,c2" } } })).admitted);
	check("SELinux MustRunAs: categories compare as a set", through(v420, pinned("restricted-v2", {}, { securityContext: { seLinuxOptions: { level: "s0:c15,c26" } } })).validated?.ok);
	check("fsGroup MustRunAs: Admit sets the first group; another is rejected",
		r.pod?.spec.securityContext.fsGroup === MIN && !through(v420, pinned("restricted-v2", {}, { securityContext: { fsGroup: 5 } })).admitted);
	check("supplementalGroups MustRunAs (hostnetwork-v2): Admit sets the first; another is rejected",
		equal(through(cluster("4.20", ["hostnetwork-v2"]), pinned("hostnetwork-v2", {})).pod?.spec.securityContext.supplementalGroups, [MIN]) &&
		!through(cluster("4.20", ["hostnetwork-v2"]), pinned("hostnetwork-v2", {}, { securityContext: { supplementalGroups: [7] } })).admitted);
	check("Windows pods are left alone", admit(v420, pod({}, { os: { name: "windows" }, hostNetwork: true })).ignored === true);
}

// The comparison itself can fail.
check("semantic equality: empty and absent lists are equal, values are not", equal({ a: [] }, {}) && !equal({ a: [1] }, {}) && !equal({ a: false }, { a: true }));
console.log(`# scc simulator: ${n} checks`);
process.exit(failed ? 1 : 0);
// Also exported for other tests: the assign step alone.
export { assign };
