// Seeded random admission requests for the differential test: every kind
// capgate judges, CREATE and UPDATE, the pods/ephemeralcontainers
// subresource, init/regular/ephemeral containers, capability names in every
// spelling, and members that are missing, null or empty. Objects are what
// the apiserver can admit (container names unique and set, images set,
// fields of their API types); null members are kept, the harness strips
// them as the apiserver would.

// mulberry32: small, seedable, the same sequence everywhere.
export function rng(seed) {
	let a = seed >>> 0;
	const next = () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
	const r = {
		next,
		int: (n) => Math.floor(next() * n),
		chance: (p) => next() < p,
		pick: (l) => l[Math.floor(next() * l.length)],
	};
	return r;
}

export const CAPS = [
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
	"SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
	"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
	"LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
	"WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
];
// The ones policies allow and pods ask for most, so that allowed adds are common.
const COMMON = ["NET_BIND_SERVICE", "NET_RAW", "CHOWN", "KILL", "SETFCAP", "SYS_ADMIN", "NET_ADMIN"];

// Spellings the hostile suite uses, and more: every one is a name a pod
// author can write and a runtime may accept.
export function spell(r, name) {
	switch (r.int(9)) {
		case 0:
			return name.toLowerCase();
		case 1:
			return "CAP_" + name;
		case 2:
			return "cap_" + name.toLowerCase();
		case 3:
			return name
				.split("")
				.map((ch) => (r.chance(0.5) ? ch.toLowerCase() : ch))
				.join("");
		case 4:
			return "Cap_" + name.charAt(0) + name.slice(1).toLowerCase();
		default:
			return name;
	}
}

// Names that are not capabilities, or only look like one (messages quote
// them as written: control bytes and non-ASCII as '?', cut after 40 bytes).
export const ODD_NAMES = [
	"ALL", "all", "cap_all", "CAP_ALL", "NET_ADMN", "", "CAP_", "CAP_CAP_SYS_ADMIN", "SYS_ADMIN ",
	"NET_BIND_SERVICE\u0000SYS_ADMIN", "\uff33YS_ADMIN", "\u017fys_admin", "NET_BIND_SERV\u0130CE",
	"cap-sys-admin", "SYS ADMIN", "say \"SYS_ADMIN\"\\", "\u{1f512}LOCK", "CAP_" + "SYS_ADMIN_".repeat(5),
	"\u00e9".repeat(30), "a\tb\u007f",
];

function capNames(r, max) {
	const n = r.int(max + 1);
	const out = [];
	for (let i = 0; i < n; i++) {
		if (r.chance(0.12)) out.push(r.pick(ODD_NAMES));
		else out.push(spell(r, r.chance(0.7) ? r.pick(COMMON) : r.pick(CAPS)));
		if (r.chance(0.1) && out.length) out.push(out[out.length - 1]); // duplicate
	}
	return out;
}

// A member that is sometimes missing, sometimes null.
function maybe(r, o, key, make, pMissing = 0.3, pNull = 0.08) {
	const x = r.next();
	if (x < pMissing) return;
	if (x < pMissing + pNull) o[key] = null;
	else o[key] = make();
}

const IMAGES = [
	"nginx:1.27", "docker.io/library/nginx:1.27", "docker.io/calico/node:v3.28", "reg.example/ab/x:v2",
	"reg.example/zz/x:v2", "reg.example/b1/x:v10", "busybox:debug", "capgate:0.1.0",
	"registry.example.com/shop/checkout:2.14.1", "ghcr.io/org/tool@sha256:0123abcd",
];
const NAMES = ["app", "sidecar", "vpn", "init", "debug", "proxy", "web", "worker", "metrics", "shell"];

function securityContext(r) {
	const sc = {};
	maybe(r, sc, "capabilities", () => {
		const caps = {};
		maybe(r, caps, "add", () => capNames(r, 3), 0.35, 0.1);
		maybe(r, caps, "drop", () => (r.chance(0.5) ? [spell(r, "ALL")] : capNames(r, 2)), 0.3, 0.1);
		return caps;
	}, 0.2, 0.08);
	maybe(r, sc, "privileged", () => r.chance(0.5), 0.75, 0.05);
	maybe(r, sc, "runAsUser", () => r.pick([0, 101, 1000, 65532]), 0.6, 0.03);
	maybe(r, sc, "runAsNonRoot", () => r.chance(0.7), 0.8, 0.02);
	maybe(r, sc, "runAsGroup", () => r.pick([0, 1000, 3000]), 0.85, 0.02);
	maybe(r, sc, "allowPrivilegeEscalation", () => false, 0.7, 0);
	return sc;
}

// capgate's wrapper installer as the engine injects it (policy/wrapper.c),
// as the apiserver stores it (defaulted fields, a LimitRange's limit), as
// older capgates or other policies and SCCs wrote it (the three-word
// command, other --caps, other named drops: still capgate's), or one
// member off: the CEL must recognise exactly the engine's installer.
const INSTALL = ["/capgate/capgate-ambient", "--install", "/capgate-install"];
const CAPS_LISTS = ["NET_BIND_SERVICE", "NET_RAW", "NET_BIND_SERVICE,NET_RAW", "CHOWN,NET_BIND_SERVICE", "SYS_ADMIN", "CHOWN,KILL,NET_BIND_SERVICE,NET_RAW"];
// Drop lists capgate writes: ALL, then what the policy and the SCC
// require dropped by name or add by default, in capability order.
const DROP_LISTS = [["ALL"], ["ALL", "MKNOD"], ["ALL", "KILL", "SETGID", "SETUID", "MKNOD"], ["ALL", "NET_ADMIN"], ["ALL", "CHOWN", "MKNOD"], ["NET_ADMIN", "ALL"]];
const INSTALLER_OFF = [
	(c) => (c.args = ["--install", "/tmp"]),
	(c) => (c.securityContext.runAsUser = 1000),
	(c) => (c.securityContext.capabilities.add = ["SETFCAP", "SYS_ADMIN"]),
	(c) => (c.restartPolicy = "Always"),
	(c) => c.volumeMounts.push({ name: "host", mountPath: "/host" }),
	(c) => (c.image = "registry.example/other:1"),
	(c) => delete c.resources,
	(c) => (c.resources.requests.cpu = "1"),
	(c) => (c.resources.claims = [{ name: "gpu" }]),
	(c) => (c.command = ["/bin/sh", "-c", "setcap cap_sys_admin+ep /x"]),
	// --caps: not the canonical list capgate writes
	(c, r) => (c.command = [...INSTALL, r.pick(["--caps=", "--caps=NET_RAW,NET_BIND_SERVICE", "--caps=net_bind_service", "--caps=CAP_NET_RAW", "--caps=ALL", "--caps=NET_BIND_SERVICE,NET_BIND_SERVICE", "--caps=NET_BIND_SERVICE,", "--caps=NET_BIND_SERV", "--caps NET_RAW", "--caps=NET_RAW,ALL"])]),
	(c, r) => (c.command = [...INSTALL, "--caps=NET_RAW", r.pick(["--", "x"])]),
	(c) => (c.command = [INSTALL[0], INSTALL[1], "/tmp", "--caps=NET_RAW"]),
	// drops: SETFCAP among them, or not canonical names of capabilities each once with ALL
	(c, r) => (c.securityContext.capabilities.drop = r.pick([["ALL", "SETFCAP"], ["SETFCAP", "ALL"], ["ALL", "MKNOD", "SETFCAP"]])),
	(c, r) => (c.securityContext.capabilities.drop = r.pick([["MKNOD"], [], ["all"], ["ALL", "mknod"], ["ALL", "ALL"], ["ALL", "MKNOD", "MKNOD"], ["ALL", "NET_ADMN"], ["ALL", "CAP_KILL"], ["ALL", ""]])),
	(c) => delete c.securityContext.capabilities.drop,
	(c) => (c.securityContext.privileged = false),
	(c) => delete c.securityContext.readOnlyRootFilesystem,
];
export function installer(r, own) {
	const c = {
		name: "capgate-ambient-install",
		image: own.image,
		command: [...INSTALL, `--caps=${r.pick(CAPS_LISTS)}`],
		volumeMounts: [{ name: "capgate-ambient", mountPath: "/capgate-install" }],
		securityContext: {
			allowPrivilegeEscalation: false,
			readOnlyRootFilesystem: true,
			runAsUser: 0,
			runAsNonRoot: false,
			capabilities: { add: ["SETFCAP"], drop: r.chance(0.5) ? ["ALL"] : [...r.pick(DROP_LISTS)] },
		},
		resources: { requests: { cpu: "10m", memory: "8Mi" }, limits: { cpu: "100m", memory: "16Mi" } },
	};
	if (r.chance(0.2)) c.command = [...INSTALL]; // before --caps existed
	if (r.chance(0.4)) Object.assign(c, { imagePullPolicy: "IfNotPresent", terminationMessagePath: "/dev/termination-log", terminationMessagePolicy: "File" });
	if (r.chance(0.2)) c.resources.limits["ephemeral-storage"] = "1Gi";
	if (r.chance(0.5)) r.pick(INSTALLER_OFF)(c, r);
	return c;
}

function container(r, name, own) {
	const c = { name, image: r.pick(IMAGES) };
	if (name === "capgate-ambient-install" && own && r.chance(0.7)) return installer(r, own);
	maybe(r, c, "securityContext", () => securityContext(r), 0.2, 0.08);
	if (r.chance(0.3)) c.ports = [{ containerPort: r.pick([80, 443, 8080, 53, 22]) }];
	if (r.chance(0.4)) c.command = [r.pick(["/bin/app", "/docker-entrypoint.sh", "sleep"])];
	// a command the wrapper already runs, as the webhook leaves it
	if (own && r.chance(0.15)) c.command = [own.wrapperPath, `--caps=${r.pick(["NET_BIND_SERVICE", "NET_RAW", "NET_BIND_SERVICE,NET_RAW"])}`, "--", "/bin/app"];
	if (r.chance(0.2)) c.args = ["--flag"];
	if (r.chance(0.1)) c.volumeMounts = [{ name: "data", mountPath: "/data" }];
	return c;
}

function podSpec(r, own, ephemeral) {
	const used = new Set();
	const fresh = () => {
		for (;;) {
			const n = r.chance(own ? 0.15 : 0.08) ? "capgate-ambient-install" : r.chance(0.85) ? r.pick(NAMES) : `c${r.int(50)}`;
			if (!used.has(n)) {
				used.add(n);
				return n;
			}
		}
	};
	const spec = {};
	const list = (n) => Array.from({ length: n }, () => container(r, fresh(), own));
	maybe(r, spec, "initContainers", () => list(r.int(3)), 0.5, 0.05);
	spec.containers = list(1 + r.int(3));
	if (ephemeral) maybe(r, spec, "ephemeralContainers", () => list(r.int(3)), 0.4, 0.05);
	if (r.chance(0.1)) spec.hostNetwork = true;
	if (r.chance(0.04)) spec.os = { name: "windows" };
	else if (r.chance(0.04)) spec.os = { name: "linux" };
	maybe(r, spec, "securityContext", () => {
		const p = {};
		maybe(r, p, "runAsUser", () => r.pick([0, 1000]), 0.6, 0.03);
		maybe(r, p, "runAsNonRoot", () => r.chance(0.8), 0.6, 0.03);
		maybe(r, p, "fsGroup", () => 2000, 0.7, 0);
		if (r.chance(0.1)) p.sysctls = [{ name: "net.ipv4.ip_unprivileged_port_start", value: r.pick(["0", "80", "1024"]) }];
		return p;
	}, 0.4, 0.05);
	if (r.chance(0.3)) spec.volumes = [{ name: "data", emptyDir: {} }];
	// An installer is mostly met beside the containers it installed for.
	if (own && spec.initContainers?.some?.((c) => c.name === "capgate-ambient-install") && r.chance(0.6))
		spec.containers[0].command = [own.wrapperPath, "--caps=NET_BIND_SERVICE", "--", "/bin/app"];
	return spec;
}

const NAMESPACES = ["default", "shop", "kube-system", "netops", "staging", "infra"];
const LABELS = [{}, { team: "net" }, { app: "web" }, { "capgate.dev/exempt": "true" }, { audit: "yes", team: "net" }];
// Built-in SCCs (of 4.19 and 4.20), ones the test policies describe or
// render (capgate, locked-down, anything), and ones capgate does not know.
const SCCS = ["restricted-v2", "anyuid", "privileged", "capgate", "locked-down", "no-such-scc", "nonroot-v2", "restricted", "restricted-v3", "nested-container", "hostmount-anyuid-v2", "hostaccess", "anything", ""];

function templateMeta(r, kind) {
	const m = {};
	maybe(r, m, "labels", () => ({ ...r.pick(LABELS) }), 0.3, 0.05);
	const ann = {};
	if (kind === "Pod" && r.chance(0.05)) ann["kubernetes.io/config.mirror"] = "abc";
	// The SCC that SCC admission chose (a Pod's; on a template it binds
	// nothing), and the one a pod or template pins.
	if (r.chance(0.25)) ann["openshift.io/scc"] = r.pick(SCCS);
	if (r.chance(0.2)) ann["openshift.io/required-scc"] = r.pick(SCCS);
	if (r.chance(0.1)) ann["capgate.dev/applied"] = "sysctl:app=NET_BIND_SERVICE";
	if (Object.keys(ann).length || r.chance(0.1)) m.annotations = ann;
	return m;
}

export const KINDS = ["Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicationController", "PodTemplate"];
const API = { Pod: "v1", PodTemplate: "v1", ReplicationController: "v1", Job: "batch/v1", CronJob: "batch/v1" };

// Wraps a pod template (metadata + spec) into an object of kind.
export function wrap(kind, name, ns, tmpl) {
	const o = { apiVersion: API[kind] ?? "apps/v1", kind, metadata: { name, namespace: ns } };
	const sel = { matchLabels: { app: name } };
	switch (kind) {
		case "Pod":
			o.metadata = { ...tmpl.metadata, name, namespace: ns };
			o.spec = tmpl.spec;
			break;
		case "PodTemplate":
			o.template = tmpl;
			break;
		case "CronJob":
			o.spec = { schedule: "*/5 * * * *", jobTemplate: { spec: { template: tmpl } } };
			break;
		case "Job":
		case "ReplicationController":
			o.spec = { template: tmpl };
			break;
		default:
			o.spec = { selector: sel, template: tmpl };
	}
	return o;
}

// One admission request: {kind, operation, subResource, namespace, object,
// oldObject}. own: {image, wrapperPath} of the policy's wrapper, or null.
export function generate(r, own, i) {
	const kind = r.pick(KINDS);
	const ns = r.pick(NAMESPACES);
	const isPod = kind === "Pod";
	let operation = "CREATE";
	let subResource = "";
	const x = r.next();
	if (isPod && x < 0.2) {
		operation = "UPDATE";
		subResource = "ephemeralcontainers";
	} else if (x < 0.4) {
		operation = "UPDATE";
	}
	const tmpl = { metadata: templateMeta(r, kind), spec: podSpec(r, own, isPod) };
	const object = wrap(kind, `gen-${i}`, ns, tmpl);
	// A controller's own copy (a ReplicaSet of a Deployment, a Job of a
	// CronJob): judged, never patched or denied.
	if (!isPod && r.chance(0.12)) object.metadata.ownerReferences = [{ apiVersion: "apps/v1", kind: "Deployment", name: "owner", uid: "u-1", controller: r.chance(0.7) }];
	let oldObject = null;
	if (operation === "UPDATE") {
		oldObject = structuredClone(object);
		const spec = isPod ? oldObject.spec : null;
		if (subResource) {
			// kubectl debug adds an ephemeral container to what was there.
			if (Array.isArray(spec.ephemeralContainers) && spec.ephemeralContainers.length && r.chance(0.8)) spec.ephemeralContainers.pop();
		} else if (!isPod) {
			oldObject.metadata.labels = { revision: "1" };
			// Half the updates change the pod template (a rollout), half
			// only the object around it (a label, a scale, a finalizer).
			const t = kind === "PodTemplate" ? oldObject.template : kind === "CronJob" ? oldObject.spec.jobTemplate.spec.template : oldObject.spec.template;
			if (r.chance(0.5)) {
				if (r.chance(0.5)) t.metadata.annotations = { "kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z" };
				else t.spec.containers[0].image = "registry.example/previous:1";
			}
		}
		// Finalizers being removed from an object being deleted.
		if (r.chance(0.08)) object.metadata.deletionTimestamp = "2026-01-01T00:00:00Z";
	}
	return { kind, operation, subResource, namespace: ns, object, oldObject };
}
