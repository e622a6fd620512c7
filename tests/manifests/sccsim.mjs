// OpenShift ordering, as data cases (openshift-cases/*/): each input.yaml is
// a Pod or a Deployment as its author writes it. The simulated SCC
// admission (scc/sim.mjs, from OpenShift's code) and capgate play the rest:
//   Pod:        Admit -> capgate -> Validate -> capgate again
//   Deployment: capgate (template) -> capgate again -> a pod from the
//               template -> Admit -> capgate -> Validate -> capgate again
// Each case says whether SCC admission accepts capgate's output (or, to
// show that the simulation can fail, rejects it), whether capgate changes the
// pod, and what it warns; capgate must leave openshift.io/scc and
// openshift.io/required-scc alone, and a second pass must change nothing
// (reinvocationPolicy: IfNeeded).
//
// case.yaml: why, version (the fixtures: "4.19" or "4.20"), namespace,
// policy (else capgate's default), grants (SCCs the pod's service account
// may `use`), sccs (more SCC objects in the cluster: files, or "generated"
// for `capgate scc --policy POLICY --name capgate`), expect (admitted |
// rejected), changes (capgate patches the pod: true | false), warning (a
// text one of the pod's warnings holds).
//
// Usage: node sccsim.mjs CAPGATE CASES_DIR
//        node sccsim.mjs deployment VERSION SCC FILE   (FILE's Deployments'
//        pod templates are admitted, and validated, under SCC)
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, existsSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { admit, validate, loadSCCs, namespace, authenticatedGrants, defaultSCC, REQUIRED_SCC, SCC_ANNOTATION } from "./scc/sim.mjs";
import { check } from "./scc/capgate.mjs";

let failed = 0;
const report = (ok, name, detail) => {
	console.log(`${ok ? "ok" : "not ok"} - ${name}`);
	if (!ok) {
		failed++;
		for (const d of [].concat(detail ?? [])) console.log(`#   ${d}`);
	}
};
const docs = (file) => parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS()).filter(Boolean)
	.flatMap((o) => (o.kind === "List" ? o.items : [o]));

function cluster(version, ns, sccs, grants) {
	return {
		version, sccs: [...loadSCCs(version), ...sccs.map(defaultSCC)], namespace: namespace(ns), groupRBAC: authenticatedGrants(version),
		user: { name: "system:serviceaccount:kube-system:replicaset-controller", groups: ["system:authenticated", "system:serviceaccounts"], rbac: [] },
		serviceAccount: { name: `system:serviceaccount:${ns}:default`, groups: ["system:serviceaccounts", `system:serviceaccounts:${ns}`], rbac: grants },
	};
}
const podFrom = (d, ns) => ({ apiVersion: "v1", kind: "Pod",
	metadata: { ...structuredClone(d.spec.template.metadata ?? {}), name: `${d.metadata.name}-7d4b9c-x2x9z`, namespace: ns },
	spec: structuredClone(d.spec.template.spec) });
const ann = (o, k) => o?.metadata?.annotations?.[k];

if (process.argv[2] === "deployment") {
	// capgate's own Deployment under an SCC it should run under.
	const [, , , version, sccName, file] = process.argv;
	for (const d of docs(file).filter((o) => o.kind === "Deployment")) {
		const ns = d.metadata.namespace ?? "capgate";
		const ctx = cluster(version, ns, [], []);
		const p = podFrom(d, ns);
		const a = admit(ctx, p);
		const label = `${d.metadata.name} Deployment's pods under OpenShift ${version}`;
		report(a.scc === sccName, `${label}: SCC admission picks ${sccName} (system:authenticated's, pinned by required-scc)`, a.errs ?? a.scc);
		if (a.pod) report(validate(ctx, a.pod).ok, `${label}: and validates them`, validate(ctx, a.pod).errs);
	}
	process.exit(failed ? 1 : 0);
}

const [bin, dir] = process.argv.slice(2);
const tmp = mkdtempSync(join(tmpdir(), "sccsim-"));
for (const name of readdirSync(dir).sort()) {
	const cdir = join(dir, name);
	if (!existsSync(join(cdir, "case.yaml"))) continue;
	try {
		runCase(name, cdir);
	} catch (e) {
		report(false, `openshift ${name}: runs`, (e.stderr ?? e.message).toString().split("\n").slice(0, 3));
	}
}
rmSync(tmp, { recursive: true, force: true });
process.exit(failed ? 1 : 0);

function runCase(name, cdir) {
	const c = parse(readFileSync(join(cdir, "case.yaml"), "utf8"));
	const label = `openshift ${name}`;
	const ns = c.namespace ?? "shop";
	const pfile = c.policy ?? null;
	const extra = [];
	for (const s of c.sccs ?? []) {
		if (s === "generated") {
			const out = execFileSync(bin, ["scc", ...(pfile ? ["--policy", pfile] : []), "--name", "capgate", "-o", "json"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
			extra.push(JSON.parse(out));
		} else extra.push(...docs(join(cdir, s)));
	}
	const ctx = cluster(String(c.version ?? "4.20"), ns, extra, c.grants ?? []);
	const input = docs(join(cdir, "input.yaml"))[0];
	let pod = input;
	if (input.kind !== "Pod") {
		const [t] = check(bin, tmp, `${name}-template`, pfile, [input]);
		const [t2] = check(bin, tmp, `${name}-template-again`, pfile, [t.object]);
		report(!t.denied && !t2.patched && !t2.denied, `${label}: capgate's template is a fixed point`, [t.denied, ...t2.changes].filter(Boolean));
		report(ann(t.object.spec.template, REQUIRED_SCC) === ann(input.spec.template, REQUIRED_SCC) && !ann(t.object.spec.template, SCC_ANNOTATION),
			`${label}: the template's SCC annotations unchanged`);
		pod = podFrom(t.object, ns);
	}
	const a = admit(ctx, pod);
	report(!!a.pod, `${label}: SCC admission admits the pod as it comes in${input.kind !== "Pod" ? " from capgate's template" : ""} (${a.scc ?? "none"})`, a.errs);
	if (!a.pod) return;
	const [first] = check(bin, tmp, name, pfile, [a.pod]);
	const changes = c.changes ?? true;
	report(!first.denied && first.patched === changes, `${label}: capgate ${changes ? "changes" : "leaves"} the pod`, [first.denied, ...first.changes, ...first.warnings].filter(Boolean));
	if (c.warning) report(first.warnings.some((w) => w.includes(c.warning)), `${label}: capgate warns "${c.warning}"`, first.warnings);
	const v = validate(ctx, first.object);
	if (c.expect === "rejected") {
		report(!v.ok, `${label}: SCC admission rejects capgate's output, as the case says`, v.errs);
		if (!v.ok) for (const e of v.errs.slice(1, 4)) console.log(`#   ${e}`);
	} else report(v.ok && v.scc === a.scc, `${label}: SCC admission validates capgate's output under ${a.scc}, unchanged`, v.errs ?? v.scc);
	report([SCC_ANNOTATION, REQUIRED_SCC].every((k) => ann(first.object, k) === ann(a.pod, k)), `${label}: openshift.io/scc and required-scc unchanged`);
	const [second] = check(bin, tmp, `${name}-again`, pfile, [first.object]);
	report(!second.patched && !second.denied, `${label}: a second pass changes nothing`, second.changes);
}
