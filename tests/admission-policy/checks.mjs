// Checks around the differential test, one TAP line each:
//   schema LABEL FILE...   every object in the files (YAML or a JSON List)
//                          validates against the Kubernetes OpenAPI schema
//                          of its kind (kubernetes-models 5.1.0 = Kubernetes
//                          1.36). v1beta1 MutatingAdmissionPolicy objects
//                          are checked against the v1 schema: the API was
//                          promoted from v1beta1 (1.34) to v1 (1.36) with
//                          the same fields (KEP-3962).
//   same YAML JSON         the YAML and JSON outputs hold the same objects
//   globs DRIVER SEED N    N random image globs: glob_to_re2() under CEL
//                          matches() against glibc fnmatch(), equal on ASCII
//                          images and never matching more on others
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { isDeepStrictEqual } from "node:util";
import { parseAllDocuments } from "yaml";
import { compile, evaluate } from "./shim.mjs";
import { rng } from "./gen.mjs";

let failed = 0;
const ok = (c, name) => {
	console.log(`${c ? "ok" : "not ok"} - ${name}`);
	if (!c) failed++;
};

function readObjects(file) {
	const text = readFileSync(file, "utf8");
	if (text.trimStart().startsWith("{")) return JSON.parse(text).items;
	return parseAllDocuments(text, { uniqueKeys: true }).map((d) => {
		if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
		return d.toJS();
	});
}

async function validate(o) {
	const [group, version] = o.apiVersion.split("/");
	const v = group === "admissionregistration.k8s.io" && version === "v1beta1" && o.kind.startsWith("MutatingAdmissionPolicy") ? "v1" : version;
	const mod = await import(`kubernetes-models/${group}/${v}/${o.kind}`);
	new mod[o.kind]({ ...o, apiVersion: `${group}/${v}` }).validate();
}

async function schema(label, files) {
	for (const f of files) {
		const objs = readObjects(f);
		ok(objs.length > 0, `${label}: ${f} holds objects`);
		for (const o of objs) {
			try {
				await validate(o);
				ok(true, `${label}: ${o.apiVersion} ${o.kind} ${o.metadata?.name} validates`);
			} catch (e) {
				ok(false, `${label}: ${o.apiVersion} ${o.kind} ${o.metadata?.name} validates`);
				console.log(`# ${String(e.message).split("\n").slice(0, 4).join(" / ")}`);
			}
		}
	}
}

function globs(driver, seed, n) {
	const r = rng(seed);
	const parts = ["a", "b", "c", "x", "-", "]", "[", "!", "^", "*", "?", "\\", ":", "/", ".", "[:alpha:]", "[:digit:]", "[a-c]", "[!a]"];
	const chars = ["a", "b", "c", "x", "-", "]", "[", "!", "^", ":", "/", ".", "1", "\n", "\u00e9", "*", "?", "\\"];
	const reqs = [];
	for (let i = 0; i < n; i++) {
		const g = Array.from({ length: 1 + r.int(7) }, () => r.pick(parts)).join("");
		const strings = Array.from({ length: 8 }, () => Array.from({ length: r.int(7) }, () => r.pick(chars)).join(""));
		// Strings the glob should match: its literal parts with * and ? filled.
		strings.push(g.replace(/\*/g, "ab").replace(/\?/g, "c").replace(/\\(.)/g, "$1"));
		reqs.push({ op: "glob", glob: g, strings });
	}
	const p = spawnSync(driver, ["-"], { input: reqs.map((x) => JSON.stringify(x)).join("\n") + "\n", maxBuffer: 1 << 28 });
	const answers = p.stdout.toString().trim().split("\n").map((l) => JSON.parse(l));
	const matches = compile("s.matches(re)", "glob check");
	let compared = 0,
		refused = 0,
		matched = 0,
		exact = 0,
		wrong = [];
	answers.forEach((a, i) => {
		if (a.error) {
			refused++;
			return;
		}
		reqs[i].strings.forEach((s, k) => {
			const m = evaluate(matches, { s, re: a.re });
			const cel = m.value === true;
			const fn = a.fnmatch[k];
			compared++;
			matched += fn;
			const ascii = /^[\x00-\x7f]*$/.test(s);
			if (m.error || (ascii ? cel !== fn : cel && !fn)) wrong.push(`${JSON.stringify(reqs[i].glob)} ~ ${JSON.stringify(s)}: fnmatch ${fn}, CEL ${m.error ?? cel} (${a.re})`);
			else if (ascii) exact++;
		});
	});
	for (const w of wrong.slice(0, 10)) console.log(`# ${w}`);
	ok(wrong.length === 0 && matched > 0, `globs: ${compared} (glob, image) pairs from ${n} globs (seed ${seed}): CEL = fnmatch on ${exact} ASCII images, never wider on the rest; ${matched} matches; ${refused} globs refused at render time`);
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === "schema") await schema(args[0], args.slice(1));
else if (cmd === "same") ok(isDeepStrictEqual(readObjects(args[0]), readObjects(args[1])), `${args[0]} and ${args[1]} hold the same objects`);
else if (cmd === "globs") globs(args[0], Number(args[1]), Number(args[2]));
else throw new Error(`unknown command ${cmd}`);
process.exit(failed ? 1 : 0);
