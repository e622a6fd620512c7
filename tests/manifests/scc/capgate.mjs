// Runs `capgate check` on many objects at once and gives, per object, what
// capgate left (-o json), its warnings, whether it was denied and whether it
// was patched (the report). Shared by matrix.mjs and ../sccsim.mjs.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";

function run(bin, args) {
	try {
		return { code: 0, out: execFileSync(bin, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 }) };
	} catch (e) {
		return { code: e.status, out: e.stdout ?? "", err: e.stderr ?? "" };
	}
}

// `capgate check -o json` prints one indented JSON document after another.
function jsonStream(text) {
	const t = text.trim();
	return t ? JSON.parse(`[${t.replace(/\n}\n{/g, "\n},\n{")}]`) : [];
}

// The report: "FILE: document N (line L): Kind ns/name: verdict", then its
// indented lines.
function reportPerDoc(text) {
	const docs = [];
	for (const line of text.split("\n")) {
		const m = /: document (\d+) \(line \d+\): \S+ \S+: (.*)$/.exec(line);
		if (m) docs[Number(m[1]) - 1] = { verdict: m[2], warnings: [], changes: [], denied: null };
		else if (docs.length && line.startsWith("  ")) {
			const d = docs[docs.length - 1];
			if (line.startsWith("  warning: ")) d.warnings.push(line.slice(11));
			else if (line.startsWith("  denied: ")) d.denied = line.slice(10);
			else d.changes.push(line.trim());
		}
	}
	return docs;
}

// objects: plain JSON objects. Returns one result per object, in order:
// {object, patched, denied, warnings, changes}.
export function check(bin, dir, label, policyFile, objects, extra = []) {
	const file = join(dir, `${label}.yaml`);
	writeFileSync(file, objects.map((o) => stringify(o)).join("---\n"));
	const args = ["check", ...(policyFile ? ["--policy", policyFile] : []), ...extra];
	const json = run(bin, [...args, "-o", "json", file]);
	const report = run(bin, [...args, file]);
	if (json.code > 1 || report.code > 1) throw new Error(`capgate check ${label}: ${json.err || report.err}`);
	const outs = jsonStream(json.out), reps = reportPerDoc(report.out);
	if (outs.length !== objects.length || reps.length !== objects.length)
		throw new Error(`capgate check ${label}: ${outs.length} objects and ${reps.length} reports for ${objects.length} inputs`);
	return outs.map((object, i) => ({
		object, patched: /would be patched/.test(reps[i].verdict), denied: reps[i].denied,
		warnings: reps[i].warnings, changes: reps[i].changes,
	}));
}
