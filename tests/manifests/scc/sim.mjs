// OpenShift's SecurityContextConstraints admission, simulated on v1 Pod JSON.
//
// Implemented from openshift/apiserver-library-go, pkg/securitycontextconstraints
// at release-4.19 and release-4.20 (the two differ in sccadmission only by the
// validated-scc-subject-type annotation and how SCC users are authorised) and
// master for the kernel-gated safe sysctls (release-4.21 on). Every rule names
// the file it comes from, relative to that directory; sim-test.mjs pins each
// with a pod the rule accepts and one it rejects. Kubernetes' own helpers the
// plugin calls are cited by their vendored path (k8s.io/kubernetes/...).
//
// The model: a cluster holds SCC objects (fixtures/<version>/*.yaml, copied
// from openshift/cluster-kube-apiserver-operator, defaulted as stored), a
// namespace with its openshift.io/sa.scc.* annotations, and the subjects that
// may `use` SCCs. admit() is the mutating phase (before webhooks), validate()
// the validating phase (after them).
import { readFileSync, readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const here = dirname(fileURLToPath(import.meta.url));
const clone = (v) => (v === undefined ? undefined : structuredClone(v));

// ---- SCC objects -------------------------------------------------------------

// util/util.go GetAllFSTypesAsSet (FSTypeImage from openshift/api security/v1).
export const FS_TYPES = ["hostPath", "azureFile", "flocker", "flexVolume", "emptyDir", "gcePersistentDisk",
	"awsElasticBlockStore", "gitRepo", "secret", "nfs", "iscsi", "glusterfs", "persistentVolumeClaim", "rbd",
	"cinder", "cephFS", "downwardAPI", "fc", "configMap", "vsphere", "quobyte", "azureDisk",
	"photonPersistentDisk", "projected", "portworxVolume", "scaleIO", "storageOS", "csi", "ephemeral", "image"];

// sccdefaults/defaults.go SetDefaults_SCC: what the stored object holds.
export function defaultSCC(input) {
	const scc = clone(input);
	scc.fsGroup ??= {};
	scc.fsGroup.type ||= "RunAsAny";
	scc.supplementalGroups ??= {};
	scc.supplementalGroups.type ||= "RunAsAny";
	scc.users ??= [];
	scc.groups ??= [];
	let vols;
	if (scc.volumes === undefined || scc.volumes === null) vols = new Set(["*"]);
	else if (scc.volumes.length === 0) vols = new Set([scc.allowHostDirVolumePlugin ? "hostPath" : "none"]);
	else vols = new Set(scc.volumes);
	if (scc.allowHostDirVolumePlugin) {
		if (!vols.has("*")) vols.add("hostPath");
	} else {
		const all = vols.has("*");
		vols.delete("*");
		vols.delete("hostPath");
		if (all) for (const t of FS_TYPES) if (t !== "hostPath") vols.add(t);
	}
	scc.volumes = [...vols].sort();
	if (scc.allowPrivilegeEscalation === undefined || scc.allowPrivilegeEscalation === null) scc.allowPrivilegeEscalation = true;
	return scc;
}

// nested-container.yaml's description is a single-quoted scalar whose
// continuation lines sit at its key's indentation, which go-yaml (what the
// operator reads it with) folds and this YAML 1.2 reader refuses: indent
// them, which folds to the same text.
function foldQuoted(text) {
	const out = [];
	let open = false;
	for (const line of text.split("\n")) {
		if (open) {
			out.push(`  ${line}`);
			if (/'\s*$/.test(line) && !/''\s*$/.test(line)) open = false;
			continue;
		}
		out.push(line);
		const m = /^\s*[^\s#'][^:]*:\s*'(.*)$/.exec(line);
		if (m && (m[1].replace(/''/g, "").match(/'/g) ?? []).length === 0) open = true;
	}
	return out.join("\n");
}

// The default SCCs a release ships, as the operator writes them.
export function loadManifests(version) {
	const dir = join(here, "fixtures", version);
	return readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort()
		.map((f) => parse(foldQuoted(readFileSync(join(dir, f), "utf8"))));
}

// ... and as stored.
export function loadSCCs(version) {
	return loadManifests(version).map(defaultSCC);
}

// util/sort/byrestrictions.go pointValue.
const POINTS = {
	privileged: 1_600_000, hostPorts: 800_000, hostNetwork: 400_000, hostVolume: 200_000, nonTrivialVolume: 100_000,
	RunAsAny: 40_000, MustRunAsNonRoot: 30_000, MustRunAsRange: 20_000, MustRunAs: 10_000,
	capDefault: 5000, capAddOne: 300, capAllowAll: 4000, capAllowOne: 10, capDropAll: -3000, capDropOne: -50,
	capMax: 9999, capMin: 0,
};
function volumePoints(scc) {
	let host = false, nonTrivial = false;
	for (const v of scc.volumes ?? []) {
		if (v === "hostPath" || v === "*") host = true;
		else if (!["secret", "configMap", "emptyDir", "downwardAPI", "projected", "none"].includes(v)) nonTrivial = true;
	}
	return host ? POINTS.hostVolume : nonTrivial ? POINTS.nonTrivialVolume : 0;
}
function capabilityPoints(scc) {
	const has = (c, list) => (list ?? []).some((x) => x.toUpperCase() === c);
	let p = POINTS.capDefault + POINTS.capAddOne * (scc.defaultAddCapabilities ?? []).length;
	if (has("*", scc.allowedCapabilities) || has("ALL", scc.allowedCapabilities)) p += POINTS.capAllowAll;
	else p += POINTS.capAllowOne * (scc.allowedCapabilities ?? []).length;
	if (has("ALL", scc.requiredDropCapabilities)) p += POINTS.capDropAll;
	else p += POINTS.capDropOne * (scc.requiredDropCapabilities ?? []).length;
	return Math.min(POINTS.capMax, Math.max(POINTS.capMin, p));
}
export function pointValue(scc) {
	let p = 0;
	if (scc.allowPrivilegedContainer) p += POINTS.privileged;
	p += volumePoints(scc);
	if (scc.allowHostNetwork) p += POINTS.hostNetwork;
	if (scc.allowHostPorts) p += POINTS.hostPorts;
	p += capabilityPoints(scc);
	p += POINTS[scc.seLinuxContext?.type] ?? 0;
	p += POINTS[scc.runAsUser?.type] ?? 0;
	return p;
}

// util/sort/bypriority.go: higher priority first, then fewer points
// (more restrictive), then name.
export function byPriority(a, b) {
	const pa = a.priority ?? 0, pb = b.priority ?? 0;
	if (pa !== pb) return pb - pa;
	const ra = pointValue(a), rb = pointValue(b);
	if (ra !== rb) return ra - rb;
	return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

// ---- providers: the SCC resolved against the namespace ----------------------

// library-go pkg/security/uid ParseBlock: "START/SIZE" or "START-END".
function parseBlock(s) {
	let m = /^(\d+)\/(\d+)$/.exec(s);
	if (m) return { start: Number(m[1]), end: Number(m[1]) + Number(m[2]) - 1 };
	m = /^(\d+)-(\d+)$/.exec(s);
	if (m) return { start: Number(m[1]), end: Number(m[2]) };
	throw new Error(`bad block ${s}`);
}

const UID_RANGE = "openshift.io/sa.scc.uid-range";
const MCS = "openshift.io/sa.scc.mcs";
const SUPPLEMENTAL = "openshift.io/sa.scc.supplemental-groups";

// sccmatching/matcher.go CreateProviderFromConstraint: pre-allocated uid
// range, SELinux level and groups come from the namespace's annotations.
export function provider(input, namespace) {
	const scc = clone(input);
	const ann = namespace.metadata?.annotations ?? {};
	const groups = () => (ann[SUPPLEMENTAL] ?? ann[UID_RANGE]).split(",").map(parseBlock);
	if (scc.runAsUser?.type === "MustRunAsRange" && scc.runAsUser.uidRangeMin == null && scc.runAsUser.uidRangeMax == null) {
		const b = parseBlock(ann[UID_RANGE]);
		scc.runAsUser.uidRangeMin = b.start;
		scc.runAsUser.uidRangeMax = b.end;
	}
	if (scc.seLinuxContext?.type === "MustRunAs" && !scc.seLinuxContext.seLinuxOptions?.level) {
		scc.seLinuxContext.seLinuxOptions ??= {};
		scc.seLinuxContext.seLinuxOptions.level = ann[MCS];
	}
	if (scc.fsGroup?.type === "MustRunAs" && !(scc.fsGroup.ranges ?? []).length) {
		const b = groups()[0];
		scc.fsGroup.ranges = [{ min: b.start, max: b.start }];
	}
	if (scc.supplementalGroups?.type === "MustRunAs" && !(scc.supplementalGroups.ranges ?? []).length)
		scc.supplementalGroups.ranges = groups().map((b) => ({ min: b.start, max: b.end }));
	// sccmatching/provider.go NewSimpleProvider: strategies that cannot be
	// built make the provider an error.
	const ru = scc.runAsUser ?? {};
	if (ru.type === "MustRunAs" && ru.uid == null) throw new Error(`${scc.metadata.name}: MustRunAs requires a UID`);
	if (ru.type === "MustRunAsRange" && (ru.uidRangeMin == null || ru.uidRangeMax == null))
		throw new Error(`${scc.metadata.name}: MustRunAsRange requires a range`);
	if (!["MustRunAs", "MustRunAsRange", "MustRunAsNonRoot", "RunAsAny"].includes(ru.type))
		throw new Error(`${scc.metadata.name}: Unrecognized RunAsUser strategy type ${ru.type}`);
	return scc;
}

// ---- strategies ---------------------------------------------------------------

// user/mustrunas.go, user/mustrunasrange.go, user/nonroot.go, user/runasany.go
const userStrategy = {
	generate(scc) {
		const ru = scc.runAsUser;
		if (ru.type === "MustRunAs") return ru.uid;
		if (ru.type === "MustRunAsRange") return ru.uidRangeMin;
		return undefined;
	},
	validate(scc, where, runAsNonRoot, runAsUser) {
		const ru = scc.runAsUser;
		switch (ru.type) {
		case "MustRunAs":
			if (runAsUser == null) return [`${where}.runAsUser: Required value`];
			return runAsUser === ru.uid ? [] : [`${where}.runAsUser: Invalid value: ${runAsUser}: must be: ${ru.uid}`];
		case "MustRunAsRange":
			if (runAsUser == null) return [`${where}.runAsUser: Required value`];
			return runAsUser >= ru.uidRangeMin && runAsUser <= ru.uidRangeMax ? []
				: [`${where}.runAsUser: Invalid value: ${runAsUser}: must be in the ranges: [${ru.uidRangeMin}, ${ru.uidRangeMax}]`];
		case "MustRunAsNonRoot":
			if (runAsNonRoot == null && runAsUser == null) return [`${where}.runAsNonRoot: Required value: must be true`];
			if (runAsNonRoot === false) return [`${where}.runAsNonRoot: Invalid value: false: must be true`];
			if (runAsUser === 0) return [`${where}.runAsUser: Invalid value: 0: running with the root UID is forbidden`];
			return [];
		default:
			return [];
		}
	},
};

// selinux/mustrunas.go, selinux/runasany.go
const seLinuxStrategy = {
	generate(scc) {
		if (scc.seLinuxContext?.type !== "MustRunAs") return undefined;
		const o = scc.seLinuxContext.seLinuxOptions ?? {};
		const out = {};
		for (const k of ["user", "role", "type", "level"]) if (o[k]) out[k] = o[k];
		return out;
	},
	validate(scc, where, opts) {
		if (scc.seLinuxContext?.type !== "MustRunAs") return [];
		if (opts == null) return [`${where}.seLinuxOptions: Required value`];
		const want = scc.seLinuxContext.seLinuxOptions ?? {};
		const errs = [];
		if (!equalLevels(want.level ?? "", opts.level ?? "")) errs.push(`${where}.seLinuxOptions.level: Invalid value: must be ${want.level}`);
		for (const k of ["role", "type", "user"])
			if ((opts[k] ?? "") !== (want[k] ?? "")) errs.push(`${where}.seLinuxOptions.${k}: Invalid value: must be ${want[k] ?? ""}`);
		return errs;
	},
};
function equalLevels(expected, actual) {
	if (expected === actual) return true;
	const e = expected.split(":"), a = actual.split(":");
	if (e.length < 2 || a.length < 2) return false;
	const [es, ...er] = e, [as, ...ar] = a;
	if (es !== as) return false;
	const cats = (x) => x.join(":").split(",").sort().join(",");
	return cats(er) === cats(ar);
}

// group/mustrunas.go, group/runasany.go
function groupStrategy(opts, field) {
	return {
		generate: () => (opts.type === "MustRunAs" ? [opts.ranges[0].min] : undefined),
		generateSingle: () => (opts.type === "MustRunAs" ? opts.ranges[0].min : undefined),
		validate(groups) {
			if (opts.type !== "MustRunAs") return [];
			const errs = [];
			if (groups.length === 0) errs.push(`${field}: Invalid value: unable to validate empty groups against required ranges`);
			for (const g of groups)
				if (!opts.ranges.some((r) => g >= r.min && g <= r.max)) errs.push(`${field}: Invalid value: ${g} is not an allowed group`);
			return errs;
		},
	};
}

// capabilities/mustrunas.go: set semantics on the literal names.
const capsStrategy = {
	generate(scc, container) {
		const defaultAdd = new Set(scc.defaultAddCapabilities ?? []);
		const requiredDrop = new Set(scc.requiredDropCapabilities ?? []);
		const caps = container.securityContext?.capabilities;
		const add = new Set(caps?.add ?? []), drop = new Set(caps?.drop ?? []);
		for (const d of drop) defaultAdd.delete(d);
		const combinedAdd = new Set([...defaultAdd, ...add]);
		const combinedDrop = new Set([...requiredDrop, ...drop]);
		if (combinedAdd.size === add.size && combinedDrop.size === drop.size) return caps;
		const out = {};
		if (combinedAdd.size) out.add = [...combinedAdd].sort();
		if (combinedDrop.size) out.drop = [...combinedDrop].sort();
		return out;
	},
	validate(scc, where, caps) {
		if (caps == null) {
			if (!(scc.defaultAddCapabilities ?? []).length && !(scc.requiredDropCapabilities ?? []).length) return [];
			return [`${where}.capabilities: Invalid value: required capabilities are not set on the securityContext`];
		}
		const allowed = new Set(scc.allowedCapabilities ?? []);
		if (allowed.has("*")) return [];
		const defaultAdd = new Set(scc.defaultAddCapabilities ?? []);
		const errs = [];
		for (const c of caps.add ?? [])
			if (!defaultAdd.has(c) && !allowed.has(c)) errs.push(`${where}.capabilities.add: Invalid value: "${c}": capability may not be added`);
		const drops = new Set(caps.drop ?? []);
		for (const d of scc.requiredDropCapabilities ?? [])
			if (!drops.has(d)) errs.push(`${where}.capabilities.drop: Invalid value: ${d} is required to be dropped but was not found`);
		return errs;
	},
};

// seccomp/strategy.go, with provider.go's seccompFieldForAnnotation and the
// annotation keys of k8s.io/kubernetes/pkg/apis/core.
export const SECCOMP_POD = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER = "container.seccomp.security.alpha.kubernetes.io/";
function seccompAnnotationForField(f) {
	if (f?.type === "Unconfined") return "unconfined";
	if (f?.type === "RuntimeDefault") return "runtime/default";
	if (f?.type === "Localhost" && f.localhostProfile != null) return `localhost/${f.localhostProfile}`;
	return "";
}
function seccompFieldForAnnotation(a) {
	if (a === "unconfined") return { type: "Unconfined" };
	if (a === "runtime/default" || a === "docker/default") return { type: "RuntimeDefault" };
	if (a.startsWith("localhost/") && a.length > "localhost/".length) return { type: "Localhost", localhostProfile: a.slice(10) };
	return undefined;
}
function seccompStrategy(profiles) {
	const allowAny = (profiles ?? []).includes("*");
	const allowed = (profiles ?? []).filter((p) => p !== "*");
	const runtimeDefault = allowed.some((p) => p === "docker/default" || p === "runtime/default");
	const check = (where, profile) => {
		if (!allowAny && allowed.length === 0 && profile !== "") return [`${where}: Forbidden: seccomp may not be set`];
		if (allowed.length === 0 && profile === "") return [];
		if (allowAny) return [];
		for (const p of allowed) {
			if (profile === p) return [];
			if (runtimeDefault && (profile === "docker/default" || profile === "runtime/default")) return [];
		}
		return [`${where}: Forbidden: ${profile} is not an allowed seccomp profile. Valid values are ${allowed.join(" ")}`];
	};
	return {
		generate(pod) {
			const a = pod.metadata?.annotations?.[SECCOMP_POD];
			if (a) return a;
			const f = pod.spec.securityContext?.seccompProfile;
			if (f) return seccompAnnotationForField(f);
			return allowed[0] ?? "";
		},
		validatePod(pod) {
			let p = pod.metadata?.annotations?.[SECCOMP_POD] ?? "";
			if (!p && pod.spec.securityContext?.seccompProfile) p = seccompAnnotationForField(pod.spec.securityContext.seccompProfile);
			return check(`pod.metadata.annotations[${SECCOMP_POD}]`, p);
		},
		validateContainer(pod, c) {
			let p;
			if (c.securityContext?.seccompProfile) p = seccompAnnotationForField(c.securityContext.seccompProfile);
			else if (pod.metadata?.annotations?.[SECCOMP_CONTAINER + c.name] !== undefined) p = pod.metadata.annotations[SECCOMP_CONTAINER + c.name];
			else if (pod.spec.securityContext?.seccompProfile) p = seccompAnnotationForField(pod.spec.securityContext.seccompProfile);
			else p = pod.metadata?.annotations?.[SECCOMP_POD] ?? "";
			return check(`pod.metadata.annotations[${SECCOMP_CONTAINER + c.name}]`, p);
		},
	};
}

// sysctl/mustmatchpatterns.go. 4.19 and 4.20 allow the legacy list; from
// release-4.21 (master) three newer sysctls join it when the kernel of the
// host running kube-apiserver (utilkernel.GetVersion) is new enough.
export const LEGACY_SAFE_SYSCTLS = ["kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
	"net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"];
const NEWER_SYSCTLS = [["net.ipv4.ip_local_reserved_ports", "3.16"], ["net.ipv4.tcp_rmem", "4.15"], ["net.ipv4.tcp_wmem", "4.15"]];
const atLeast = (v, w) => {
	const a = v.split(".").map(Number), b = w.split(".").map(Number);
	for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
	return true;
};
export function safeSysctls(version, apiserverKernel) {
	const list = [...LEGACY_SAFE_SYSCTLS];
	if (version !== "4.19" && version !== "4.20" && apiserverKernel)
		for (const [name, k] of NEWER_SYSCTLS) if (atLeast(apiserverKernel, k)) list.push(name);
	return list;
}
function sysctlErrors(scc, pod, safe) {
	const match = (patterns, name) => (patterns ?? []).some((p) => (p.endsWith("*") ? name.startsWith(p.slice(0, -1)) : p === name));
	const errs = [];
	(pod.spec.securityContext?.sysctls ?? []).forEach((s, i) => {
		const where = `pod.spec.securityContext.sysctls[${i}]`;
		if (match(scc.forbiddenSysctls, s.name)) errs.push(`${where}: Forbidden: sysctl "${s.name}" is not allowed`);
		else if (safe.includes(s.name)) return;
		else if (match(scc.allowedUnsafeSysctls, s.name)) return;
		else errs.push(`${where}: Forbidden: unsafe sysctl "${s.name}" is not allowed`);
	});
	return errs;
}

// util/util.go GetVolumeFSType and IsOnlyServiceAccountTokenSources;
// provider.go allowsVolumeType.
const VOLUME_KEYS = { hostPath: "hostPath", emptyDir: "emptyDir", gcePersistentDisk: "gcePersistentDisk",
	awsElasticBlockStore: "awsElasticBlockStore", gitRepo: "gitRepo", secret: "secret", nfs: "nfs", iscsi: "iscsi",
	glusterfs: "glusterfs", persistentVolumeClaim: "persistentVolumeClaim", rbd: "rbd", flexVolume: "flexVolume",
	cinder: "cinder", cephfs: "cephFS", flocker: "flocker", downwardAPI: "downwardAPI", fc: "fc", azureFile: "azureFile",
	configMap: "configMap", vsphereVolume: "vsphere", quobyte: "quobyte", azureDisk: "azureDisk",
	photonPersistentDisk: "photonPersistentDisk", projected: "projected", portworxVolume: "portworxVolume",
	scaleIO: "scaleIO", storageos: "storageOS", csi: "csi", ephemeral: "ephemeral", image: "image" };
export function volumeType(v) {
	for (const [k, t] of Object.entries(VOLUME_KEYS)) if (v[k] != null) return t;
	return null;
}
function onlyServiceAccountTokenSources(projected) {
	for (const s of projected.sources ?? []) {
		if (!s.serviceAccountToken && !s.configMap && !s.downwardAPI) return false;
		if (s.serviceAccountToken && (s.serviceAccountToken.path !== "token" || s.serviceAccountToken.audience)) return false;
		if (s.configMap) {
			const want = { "kube-root-ca.crt": "ca.crt", "openshift-service-ca.crt": "service-ca.crt" }[s.configMap.name];
			const items = s.configMap.items ?? [];
			if (!want || items.length !== 1 || items[0].key !== want || items[0].path !== want) return false;
		}
		for (const d of s.downwardAPI?.items ?? [])
			if (d.path !== "namespace" || d.fieldRef?.apiVersion !== "v1" || d.fieldRef?.fieldPath !== "metadata.namespace") return false;
	}
	return true;
}
function volumeErrors(scc, pod) {
	const vols = pod.spec.volumes ?? [];
	const allowed = new Set(scc.volumes ?? []);
	const errs = [];
	if (vols.length > 0 && !allowed.has("*")) {
		vols.forEach((v, i) => {
			const t = volumeType(v);
			if (t === null) errs.push(`spec.volumes[${i}]: Invalid value: unknown volume type`);
			else if (!(allowed.has(t) || (allowed.has("secret") && t === "projected" && onlyServiceAccountTokenSources(v.projected))))
				errs.push(`spec.volumes[${i}]: Invalid value: "${t}": ${t} volumes are not allowed to be used`);
		});
	}
	if (vols.length > 0 && (scc.allowedFlexVolumes ?? []).length > 0 && (allowed.has("*") || allowed.has("flexVolume")))
		vols.forEach((v, i) => {
			if (v.flexVolume && !scc.allowedFlexVolumes.some((f) => f.driver === v.flexVolume.driver))
				errs.push(`spec.volumes[${i}].driver: Invalid value: Flexvolume driver is not allowed to be used`);
		});
	return errs;
}

// ---- AssignSecurityContext (sccmatching/matcher.go, provider.go) -----------

// k8s.io/kubernetes/pkg/apis/core/pods VisitContainersWithPath order.
const LISTS = ["initContainers", "containers", "ephemeralContainers"];
const ensure = (o, k) => (o[k] ??= {});
const isNil = (v) => v === undefined || v === null;

// provider.go CreatePodSecurityContext, through the pod accessors of
// k8s.io/kubernetes/pkg/securitycontext/accessors.go (a value is only
// written where the pod had none; the context is created on the first
// non-empty write).
function createPodSecurityContext(scc, pod) {
	const spec = pod.spec;
	const annotations = pod.metadata?.annotations ? { ...pod.metadata.annotations } : undefined;
	const setPod = (k, v) => {
		if (spec.securityContext === undefined && isNil(v)) return;
		ensure(spec, "securityContext")[k] = v;
		if (isNil(v)) delete spec.securityContext[k];
	};
	const sup = groupStrategy(scc.supplementalGroups, "supplementalGroups");
	const fs = groupStrategy(scc.fsGroup, "fsGroup");
	if (isNil(spec.securityContext?.supplementalGroups)) {
		const g = sup.generate(); // SetSupplementalGroups writes no empty list
		if ((g ?? []).length) setPod("supplementalGroups", g);
	}
	if (isNil(spec.securityContext?.fsGroup)) setPod("fsGroup", fs.generateSingle());
	if (isNil(spec.securityContext?.seLinuxOptions)) setPod("seLinuxOptions", seLinuxStrategy.generate(scc));
	const profile = seccompStrategy(scc.seccompProfiles).generate(pod);
	let outAnnotations = annotations;
	if (profile !== "") {
		outAnnotations ??= {};
		outAnnotations[SECCOMP_POD] = profile;
		setPod("seccompProfile", seccompFieldForAnnotation(profile));
	}
	return outAnnotations;
}

// provider.go CreateContainerSecurityContext, through the effective
// container accessors (a value is written on the container only where the
// effective one, container or pod, differs).
function createContainerSecurityContext(scc, pod, c) {
	const psc = pod.spec.securityContext ?? {};
	const eff = (k) => (isNil(c.securityContext?.[k]) ? psc[k] : c.securityContext[k]);
	const setEff = (k, v, podLevel = true) => {
		const cur = podLevel ? eff(k) : c.securityContext?.[k];
		if (equal(cur, v)) return;
		if (c.securityContext === undefined && isNil(v)) return;
		ensure(c, "securityContext")[k] = v;
		if (isNil(v)) delete c.securityContext[k];
	};
	if (isNil(eff("runAsUser"))) setEff("runAsUser", userStrategy.generate(scc));
	if (isNil(eff("seLinuxOptions"))) setEff("seLinuxOptions", seLinuxStrategy.generate(scc));
	if (isNil(eff("runAsNonRoot"))) {
		const uid = eff("runAsUser");
		const nonRoot = isNil(uid) ? scc.runAsUser.type === "MustRunAsNonRoot" : uid > 0;
		if (nonRoot) setEff("runAsNonRoot", true);
	}
	const caps = capsStrategy.generate(scc, c);
	setEff("capabilities", caps, false);
	if (scc.readOnlyRootFilesystem && isNil(c.securityContext?.readOnlyRootFilesystem)) setEff("readOnlyRootFilesystem", true, false);
	const privileged = c.securityContext?.privileged === true;
	const sysAdmin = (caps?.add ?? []).includes("CAP_SYS_ADMIN");
	const ann = pod.metadata?.annotations?.[SECCOMP_CONTAINER + c.name];
	if (ann !== undefined) setEff("seccompProfile", seccompFieldForAnnotation(ann), false);
	if (!isNil(scc.defaultAllowPrivilegeEscalation) && isNil(c.securityContext?.allowPrivilegeEscalation) && !privileged && !sysAdmin)
		setEff("allowPrivilegeEscalation", scc.defaultAllowPrivilegeEscalation, false);
	if (scc.allowPrivilegeEscalation === false && isNil(c.securityContext?.allowPrivilegeEscalation))
		setEff("allowPrivilegeEscalation", false, false);
}

// provider.go ValidatePodSecurityContext.
function validatePod(scc, pod, ctx) {
	const psc = pod.spec.securityContext ?? {};
	const where = `provider ${scc.metadata.name}: .spec.securityContext`;
	const errs = [];
	errs.push(...groupStrategy(scc.fsGroup, `${where}.fsGroup`).validate(isNil(psc.fsGroup) ? [] : [psc.fsGroup]));
	errs.push(...groupStrategy(scc.supplementalGroups, `${where}.supplementalGroups`).validate(psc.supplementalGroups ?? []));
	errs.push(...seccompStrategy(scc.seccompProfiles).validatePod(pod));
	errs.push(...seLinuxStrategy.validate(scc, where, psc.seLinuxOptions));
	if (!scc.allowHostNetwork && pod.spec.hostNetwork) errs.push(`${where}.hostNetwork: Invalid value: true: Host network is not allowed to be used`);
	if (!scc.allowHostPID && pod.spec.hostPID) errs.push(`${where}.hostPID: Invalid value: true: Host PID is not allowed to be used`);
	if (!scc.allowHostIPC && pod.spec.hostIPC) errs.push(`${where}.hostIPC: Invalid value: true: Host IPC is not allowed to be used`);
	// userNamespaceLevel RequirePodLevel (restricted-v3, nested-container).
	if (scc.userNamespaceLevel === "RequirePodLevel" && pod.spec.hostUsers !== false)
		errs.push(`${where}.hostUsers: Invalid value: Host Users must be set to false`);
	errs.push(...sysctlErrors(scc, pod, safeSysctls(ctx.version, ctx.apiserverKernel)));
	errs.push(...volumeErrors(scc, pod));
	return errs;
}

// provider.go ValidateContainerSecurityContext.
function validateContainer(scc, pod, c, where) {
	const psc = pod.spec.securityContext ?? {};
	const csc = c.securityContext ?? {};
	const eff = (k) => (isNil(csc[k]) ? psc[k] : csc[k]);
	const errs = [];
	errs.push(...userStrategy.validate(scc, where, eff("runAsNonRoot"), eff("runAsUser")));
	errs.push(...seLinuxStrategy.validate(scc, where, eff("seLinuxOptions")));
	errs.push(...seccompStrategy(scc.seccompProfiles).validateContainer(pod, c));
	if (!scc.allowPrivilegedContainer && csc.privileged === true) errs.push(`${where}.privileged: Invalid value: true: Privileged containers are not allowed`);
	errs.push(...capsStrategy.validate(scc, where, csc.capabilities));
	if (!scc.allowHostNetwork && pod.spec.hostNetwork) errs.push(`${where}.hostNetwork: Invalid value: true: Host network is not allowed to be used`);
	if (!scc.allowHostPorts)
		for (const l of LISTS) for (const o of pod.spec[l] ?? []) for (const p of o.ports ?? [])
			if (p.hostPort > 0) errs.push(`${where}.hostPort: Invalid value: ${p.hostPort}: Host ports are not allowed to be used`);
	if (!scc.allowHostPID && pod.spec.hostPID) errs.push(`${where}.hostPID: Invalid value: true: Host PID is not allowed to be used`);
	if (!scc.allowHostIPC && pod.spec.hostIPC) errs.push(`${where}.hostIPC: Invalid value: true: Host IPC is not allowed to be used`);
	if (scc.readOnlyRootFilesystem && csc.readOnlyRootFilesystem !== true)
		errs.push(`${where}.readOnlyRootFilesystem: Invalid value: ReadOnlyRootFilesystem must be set to true`);
	if (scc.allowPrivilegeEscalation === false && csc.allowPrivilegeEscalation !== false)
		errs.push(`${where}.allowPrivilegeEscalation: Invalid value: Allowing privilege escalation for containers is not allowed`);
	return errs;
}

// matcher.go AssignSecurityContext: defaults, then validation, on a copy;
// every container must validate under the one SCC.
export function assign(scc, input, ctx) {
	const pod = clone(input);
	pod.metadata ??= {};
	const annotations = createPodSecurityContext(scc, pod);
	if (annotations === undefined) delete pod.metadata.annotations;
	else pod.metadata.annotations = annotations;
	const errs = validatePod(scc, pod, ctx);
	for (const l of LISTS)
		(pod.spec[l] ?? []).forEach((c, i) => {
			createContainerSecurityContext(scc, pod, c);
			errs.push(...validateContainer(scc, pod, c, `provider ${scc.metadata.name}: .spec.${l}[${i}].securityContext`));
		});
	return { pod, errs };
}

// apiequality.Semantic.DeepEqual (k8s.io/apimachinery third_party/forked/
// golang/reflect): nil and empty slices and maps are equal. Assignment never
// creates an empty struct, so an empty object counts as absent too.
export function equal(a, b) {
	const empty = (v) => isNil(v) || (Array.isArray(v) && v.length === 0) || (typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0);
	if (empty(a) && empty(b)) return true;
	if (Array.isArray(a) || Array.isArray(b)) {
		if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
		return a.every((x, i) => equal(x, b[i]));
	}
	if (a && b && typeof a === "object" && typeof b === "object") {
		for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) if (!equal(a[k], b[k])) return false;
		return true;
	}
	return a === b;
}

// ---- who may use an SCC (matcher.go ConstraintAppliesTo, scc_authz_check.go) --

// A subject: {name, groups, rbac: [SCC names it may `use` through RBAC]};
// ctx.groupRBAC maps a group to the SCCs granted to it.
function appliesTo(scc, subject, ctx) {
	if (!subject) return false;
	if ((scc.users ?? []).includes(subject.name)) return true;
	if ((subject.groups ?? []).some((g) => (scc.groups ?? []).includes(g))) return true;
	const name = scc.metadata.name;
	return (subject.rbac ?? []).includes(name) ||
		(subject.groups ?? []).some((g) => (ctx.groupRBAC?.[g] ?? []).includes(name));
}
// 4.20 (scc_authz_check.go): the pod's service account first, then the
// requesting user, and the annotation says which; 4.19 (admission.go
// allowedForUserOrSA): either.
function allowedForType(scc, ctx) {
	if (appliesTo(scc, ctx.serviceAccount, ctx)) return "serviceaccount";
	if (appliesTo(scc, ctx.user, ctx)) return "user";
	return "none";
}

// ---- the plugin (sccadmission/admission.go) -----------------------------------

export const SCC_ANNOTATION = "openshift.io/scc";
export const REQUIRED_SCC = "openshift.io/required-scc";
const SUBJECT_TYPE = "security.openshift.io/validated-scc-subject-type";

// listSortedSCCs: the required SCC alone, else all by priority; when the
// spec may not change, the hinted SCC first, the rest in order.
function listSorted(ctx, required, hint, specMutationAllowed) {
	let list;
	if (required) {
		const r = ctx.sccs.find((s) => s.metadata.name === required);
		if (!r) return { error: `failed to retrieve the required SCC "${required}"` };
		list = [r];
	} else list = [...ctx.sccs];
	list.sort(byPriority);
	if (!specMutationAllowed && hint) list = [...list.filter((s) => s.metadata.name === hint), ...list.filter((s) => s.metadata.name !== hint)];
	return { list };
}

// computeSecurityContext: the first SCC, in order, that the user or the
// service account may use and that admits the pod; without spec mutation
// (Validate, updates) only one whose defaults leave the pod as it is.
function compute(ctx, pod, specMutationAllowed, ephemeralMutationAllowed, required, hint) {
	const { list, error } = listSorted(ctx, required, hint, specMutationAllowed);
	if (error) return { errs: [error] };
	let providers;
	try {
		providers = list.map((s) => provider(s, ctx.namespace));
	} catch (e) {
		return { errs: [e.message] };
	}
	const errs = [], tried = [];
	for (const scc of providers) {
		const type = allowedForType(scc, ctx);
		if (type === "none") {
			errs.push(`provider "${scc.metadata.name}": Forbidden: not usable by user or serviceaccount`);
			continue;
		}
		const r = assign(scc, pod, ctx);
		if (r.errs.length) {
			errs.push(...r.errs);
			tried.push(scc.metadata.name);
			continue;
		}
		if (specMutationAllowed) return { pod: r.pod, scc: scc.metadata.name, type, errs };
		if (ephemeralMutationAllowed) {
			const only = { ...r.pod, spec: { ...r.pod.spec, ephemeralContainers: pod.spec.ephemeralContainers } };
			if (equal(pod, only)) return { pod: r.pod, scc: scc.metadata.name, type, errs };
		} else if (equal(pod, r.pod)) return { pod: r.pod, scc: scc.metadata.name, type, errs };
		// the no-change rule
		errs.push(`provider ${scc.metadata.name}: failures final validation after mutating admission`);
		tried.push(scc.metadata.name);
	}
	return { errs, tried };
}

// shouldIgnore: Windows pods, ignored subresources, and updates that change
// neither the spec nor anything but ignorable annotations.
function shouldIgnore(ctx, pod) {
	if (["exec", "attach", "binding", "eviction", "log", "portforward", "proxy", "status"].includes(ctx.subresource)) return true;
	if (pod.spec?.os?.name === "windows") return true;
	if (ctx.operation === "UPDATE" && equal(pod.spec, ctx.oldPod.spec)) {
		const a = pod.metadata?.annotations ?? {}, o = ctx.oldPod.metadata?.annotations ?? {};
		const keys = new Set([...Object.keys(a), ...Object.keys(o)]);
		if ([...keys].every((k) => a[k] === o[k] || k === "k8s.ovn.org/pod-networks")) {
			const strip = (p) => ({ ...p, metadata: { ...p.metadata, annotations: undefined, ownerReferences: undefined, finalizers: undefined } });
			return equal(strip(pod), strip(ctx.oldPod));
		}
	}
	return false;
}

// Admit: the mutating phase, before webhooks. Returns {pod} (annotated with
// the SCC chosen) or {errs}.
export function admit(ctx, input) {
	if (shouldIgnore(ctx, input)) return { pod: clone(input), ignored: true };
	const required = input.metadata?.annotations?.[REQUIRED_SCC];
	if (ctx.operation === "UPDATE" && required !== ctx.oldPod.metadata?.annotations?.[REQUIRED_SCC])
		return { errs: [`invalid change of required security context constraint annotation: ${REQUIRED_SCC}`] };
	const create = (ctx.operation ?? "CREATE") === "CREATE";
	const eph = create || (ctx.operation === "UPDATE" && ctx.subresource === "ephemeralcontainers");
	const r = compute(ctx, input, create, eph, required, "");
	if (!r.pod) return { errs: ["unable to validate against any security context constraint", ...r.errs] };
	const pod = r.pod;
	pod.metadata.annotations ??= {};
	pod.metadata.annotations[SCC_ANNOTATION] = r.scc;
	if (ctx.version !== "4.19") pod.metadata.annotations[SUBJECT_TYPE] = r.type;
	return { pod, scc: r.scc };
}

// Validate: the validating phase, after webhooks. required-scc must be the
// SCC Admit chose; then the chosen SCC first, else any other the user may
// use, counts only if its defaults change nothing.
export function validate(ctx, pod) {
	if (shouldIgnore(ctx, pod)) return { ok: true, ignored: true };
	const required = pod.metadata?.annotations?.[REQUIRED_SCC];
	const hint = pod.metadata?.annotations?.[SCC_ANNOTATION];
	if (required && required !== hint) return { ok: false, errs: [`required scc/${required} does not match the suggested scc/${hint}`] };
	const r = compute(ctx, pod, false, false, required, hint);
	if (r.pod && equal(pod, r.pod)) return { ok: true, scc: r.scc, rematched: r.scc !== hint };
	return { ok: false, errs: ["unable to validate against any security context constraint", ...r.errs] };
}

// A namespace as OpenShift's namespace controller annotates it.
export function namespace(name, uidStart = 1000680000, mcs = "s0:c26,c15") {
	return { metadata: { name, annotations: { [UID_RANGE]: `${uidStart}/10000`, [MCS]: mcs, [SUPPLEMENTAL]: `${uidStart}/10000` } } };
}

// What system:authenticated may use in a release
// (crb-systemauthenticated-scc-restricted-v2.yaml, and -v3 from 4.20).
export function authenticatedGrants(version) {
	return { "system:authenticated": version === "4.19" ? ["restricted-v2"] : ["restricted-v2", "restricted-v3"] };
}
