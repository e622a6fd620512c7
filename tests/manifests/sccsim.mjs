// OpenShift ordering, as data cases (openshift-cases/*/): each pod.yaml is a
// pod as SCC admission's mutating phase leaves it (uid from the namespace
// range, drop ALL, openshift.io/scc set). This script then plays the rest:
//   capgate (capgate check -o yaml)  ->  SCC validation  ->  capgate again.
// It checks that the SCC admits (or, where case.yaml says so, rejects) what
// capgate emitted, that capgate left openshift.io/scc and
// openshift.io/required-scc alone, and that a second pass changes nothing
// (reinvocationPolicy: IfNeeded).
// SCC validation here follows OpenShift's apiserver-library-go for the fields
// capgate touches: capabilities (mustrunas: literal names, add must be in
// allowed or defaultAdd unless "*", every required drop present), sysctls
// (mustMatchPatterns: forbidden, then safe list, then allowedUnsafe),
// runAsUser (MustRunAsRange / RunAsAny), privilege escalation, privileged,
// volume types.
// Usage: node sccsim.mjs CAPGATE CASES_DIR
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, existsSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";

const SAFE = ["kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
	"net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"];

const matches = (patterns, name) => (patterns ?? []).some((p) => (p.endsWith("*") ? name.startsWith(p.slice(0, -1)) : p === name));

export function sccErrors(scc, pod, uidRange) {
	const errs = [];
	const spec = pod.spec;
	const psc = spec.securityContext ?? {};
	for (const s of psc.sysctls ?? []) {
		if (matches(scc.forbiddenSysctls, s.name)) errs.push(`sysctl ${s.name} is forbidden`);
		else if (!SAFE.includes(s.name) && !matches(scc.allowedUnsafeSysctls, s.name)) errs.push(`unsafe sysctl ${s.name} is not allowed`);
	}
	const vols = scc.volumes ?? [];
	for (const v of spec.volumes ?? []) {
		const type = Object.keys(v).find((k) => k !== "name");
		if (!vols.includes("*") && !vols.includes(type)) errs.push(`volume ${v.name}: ${type} is not allowed`);
	}
	const allowed = new Set(scc.allowedCapabilities ?? []);
	const defAdd = new Set(scc.defaultAddCapabilities ?? []);
	for (const list of ["initContainers", "containers", "ephemeralContainers"]) {
		for (const c of spec[list] ?? []) {
			const sc = c.securityContext ?? {};
			const caps = sc.capabilities;
			const where = `${list}/${c.name}`;
			if (!caps && ((scc.requiredDropCapabilities ?? []).length || defAdd.size)) errs.push(`${where}: required capabilities are not set`);
			if (!allowed.has("*"))
				for (const cap of caps?.add ?? [])
					if (!allowed.has(cap) && !defAdd.has(cap)) errs.push(`${where}: capability ${cap} may not be added`);
			const dropped = new Set(caps?.drop ?? []);
			for (const cap of scc.requiredDropCapabilities ?? [])
				if (!dropped.has(cap)) errs.push(`${where}: ${cap} is required to be dropped`);
			const uid = sc.runAsUser ?? psc.runAsUser;
			if (scc.runAsUser?.type === "MustRunAsRange" && !(uid >= uidRange[0] && uid <= uidRange[1]))
				errs.push(`${where}: runAsUser ${uid} is not in ${uidRange.join("-")}`);
			if (scc.allowPrivilegeEscalation === false && sc.allowPrivilegeEscalation !== false)
				errs.push(`${where}: allowPrivilegeEscalation must be false`);
			if (!scc.allowPrivilegedContainer && sc.privileged === true) errs.push(`${where}: privileged`);
		}
	}
	return errs;
}

function capgate(bin, args) {
	try {
		return { code: 0, out: execFileSync(bin, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }) };
	} catch (e) {
		return { code: e.status, out: e.stdout, err: e.stderr };
	}
}

const [bin, dir] = process.argv.slice(2);
const tmp = mkdtempSync(join(tmpdir(), "sccsim-"));
let failed = 0;
const report = (ok, name, detail) => {
	console.log(`${ok ? "ok" : "not ok"} - ${name}`);
	if (!ok) {
		failed++;
		for (const d of [].concat(detail ?? [])) console.log(`# ${d}`);
	}
};
for (const name of readdirSync(dir).sort()) {
	const cdir = join(dir, name);
	if (!existsSync(join(cdir, "case.yaml"))) continue;
	const c = parse(readFileSync(join(cdir, "case.yaml"), "utf8"));
	const label = `openshift ${name}`;
	const policy = c.policy ? ["--policy", c.policy] : [];
	let sccFile = c.scc;
	if (sccFile === "generated") {
		const g = capgate(bin, ["scc", ...policy, "-o", "json"]);
		sccFile = join(tmp, `${name}-scc.json`);
		writeFileSync(sccFile, g.out ?? "");
	}
	const scc = parseAllDocuments(readFileSync(sccFile, "utf8")).map((d) => d.toJS()).find((o) => o?.kind === "SecurityContextConstraints");
	const input = parse(readFileSync(join(cdir, "pod.yaml"), "utf8"));
	// Only a pod its SCC admits gets past the mutating phase to capgate.
	const pre = sccErrors(scc, input, c.uidRange);
	report(pre.length === 0, `${label}: SCC ${scc.metadata.name} admits the pod as it comes in`, pre);
	const first = capgate(bin, ["check", "--namespace", c.namespace, ...policy, "-o", "yaml", join(cdir, "pod.yaml")]);
	if (first.code !== 0 && first.code !== 1) {
		report(false, `${label}: capgate check runs`, first.err);
		continue;
	}
	const out = parse(first.out);
	const changes = c.changes ?? true;
	report(first.code === (changes ? 1 : 0), `${label}: capgate ${changes ? "changes" : "leaves"} the pod`);
	const errs = sccErrors(scc, out, c.uidRange);
	if (c.expect === "rejected") {
		report(errs.length > 0, `${label}: SCC ${scc.metadata.name} rejects capgate's output, as the case says`, errs);
		for (const e of errs) console.log(`#   ${e}`);
	}
	else report(errs.length === 0, `${label}: SCC ${scc.metadata.name} admits capgate's output`, errs);
	const ann = (o, k) => o.metadata?.annotations?.[k];
	report(["openshift.io/scc", "openshift.io/required-scc"].every((k) => ann(out, k) === ann(input, k)),
		`${label}: openshift.io/scc and required-scc unchanged`);
	const again = join(tmp, `${name}-out.yaml`);
	writeFileSync(again, first.out);
	const second = capgate(bin, ["check", "--namespace", c.namespace, ...policy, "-o", "patch", again]);
	report(second.code === 0, `${label}: a second pass changes nothing`, second.out);
}
process.exit(failed ? 1 : 0);
