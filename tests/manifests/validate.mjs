// Validates every object of the given multi-document YAML files ("-" reads
// stdin) against its API schema and prints one TAP line per object:
//   Kubernetes kinds        kubernetes-models (OpenAPI schema of the API)
//   cert-manager.io kinds   @kubernetes-models/cert-manager (its CRD schema)
//   SecurityContextConstraints  scc-schema.mjs + OpenShift's cross-field rules
// An object of any other kind is a failure, never a silent pass.
// Usage: node validate.mjs LABEL FILE...   (LABEL prefixes the test names)
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import Ajv from "ajv";
import { sccSchema } from "./scc-schema.mjs";

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validateScc = ajv.compile(sccSchema);

function groupPath(apiVersion) {
	const slash = apiVersion.lastIndexOf("/");
	return slash < 0 ? ["", apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
}

function sccCrossFieldErrors(o) {
	// What OpenShift's SCC validation adds to the schema: no capability both
	// required-dropped and allowed or default-added, no sysctl both allowed and
	// forbidden.
	const errs = [];
	const drop = new Set(o.requiredDropCapabilities ?? []);
	for (const f of ["allowedCapabilities", "defaultAddCapabilities"])
		for (const c of o[f] ?? [])
			if (drop.has(c)) errs.push(`${c} is in both requiredDropCapabilities and ${f}`);
	const forbidden = new Set(o.forbiddenSysctls ?? []);
	for (const s of o.allowedUnsafeSysctls ?? [])
		if (forbidden.has(s)) errs.push(`${s} is both allowed and forbidden`);
	return errs;
}

async function validateObject(o) {
	if (o === null || typeof o !== "object" || Array.isArray(o)) return ["document is not an object"];
	const { apiVersion, kind } = o;
	if (typeof apiVersion !== "string" || typeof kind !== "string") return ["no apiVersion/kind"];
	if (apiVersion === "security.openshift.io/v1" && kind === "SecurityContextConstraints") {
		if (!validateScc(o)) return validateScc.errors.map((e) => `${e.instancePath} ${e.message}`);
		return sccCrossFieldErrors(o);
	}
	const [group, version] = groupPath(apiVersion);
	let module;
	if (group.endsWith("cert-manager.io"))
		module = `@kubernetes-models/cert-manager/${group}/${version}/${kind}`;
	else if (group === "" || !group.includes(".") || group.endsWith(".k8s.io"))
		module = `kubernetes-models/${group === "" ? "" : group + "/"}${version}/${kind}`;
	else return [`no schema known for ${apiVersion} ${kind}`];
	let Model;
	try {
		Model = (await import(module))[kind];
	} catch {
		return [`no schema known for ${apiVersion} ${kind}`];
	}
	try {
		new Model(o).validate();
	} catch (e) {
		return [e.message];
	}
	return [];
}

const [label, ...files] = process.argv.slice(2);
let failed = 0;
for (const file of files) {
	const text = readFileSync(file === "-" ? 0 : file, "utf8");
	const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true });
	if (!Array.isArray(docs) || docs.length === 0) {
		console.log(`not ok - ${label}: ${file} holds no YAML document`);
		failed++;
		continue;
	}
	for (const [i, doc] of docs.entries()) {
		const where = `${label}: ${file === "-" ? "stdin" : file} #${i + 1}`;
		if (doc.errors.length) {
			console.log(`not ok - ${where} parses`);
			for (const e of doc.errors) console.log(`# ${e.message.split("\n")[0]}`);
			failed++;
			continue;
		}
		const top = doc.toJS({ maxAliasCount: 0 });
		if (top === null) continue; // an empty document (a trailing ---)
		// A v1 List (capgate -o json) is validated item by item.
		const isList = top.kind === "List" && top.apiVersion === "v1" && Array.isArray(top.items);
		for (const o of isList ? top.items : [top]) {
			const errs = await validateObject(o);
			const name = `${where} ${o?.kind ?? "?"}/${o?.metadata?.name ?? "?"}`;
			if (errs.length) {
				console.log(`not ok - ${name} validates`);
				for (const e of errs) console.log(`# ${e}`);
				failed++;
			} else console.log(`ok - ${name} validates`);
		}
	}
}
process.exit(failed ? 1 : 0);
