// What kube-apiserver gives admission-policy CEL, for @bufbuild/cel (a
// conformance-tested CEL evaluator with the strings extension). See README.md.
//
// Provided here, as kube-apiserver provides them:
//   - the variables object, oldObject, request, params, namespaceObject and
//     variables (lazy, each evaluated once, in declaration order);
//   - JSON integers as CEL int, other numbers as double; members whose value
//     is null are absent, as in the unstructured objects the apiserver
//     converts from its typed objects;
//   - Kubernetes' lists library function <list>.indexOf(<value>);
//   - the strings extension's split() as cel-go has it (Go's strings.Split:
//     an empty separator splits into code points, where @bufbuild/cel 0.6.1
//     splits into UTF-16 units and cuts a character outside the BMP in two);
//   - the JSONPatch type of MutatingAdmissionPolicy (op, path, from, value).
// Anything else an expression calls fails as an unbound function.
import { celEnv, celMethod, CelScalar, listType, parse, plan, isCelError, isCelList } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import { create, createFileRegistry, toJson } from "@bufbuild/protobuf";
import {
	FieldDescriptorProto_Label as Label,
	FieldDescriptorProto_Type as Type,
	FileDescriptorProtoSchema,
	file_google_protobuf_struct,
} from "@bufbuild/protobuf/wkt";

// MutatingAdmissionPolicy's JSONPatch object type: value is any JSON value.
const jsonPatchFile = create(FileDescriptorProtoSchema, {
	name: "capgate_shim_jsonpatch.proto",
	syntax: "proto3",
	dependency: ["google/protobuf/struct.proto"],
	messageType: [
		{
			name: "JSONPatch",
			field: [
				{ name: "op", number: 1, type: Type.STRING, label: Label.OPTIONAL, jsonName: "op" },
				{ name: "path", number: 2, type: Type.STRING, label: Label.OPTIONAL, jsonName: "path" },
				{ name: "from", number: 3, type: Type.STRING, label: Label.OPTIONAL, jsonName: "from" },
				{
					name: "value",
					number: 4,
					type: Type.MESSAGE,
					typeName: ".google.protobuf.Value",
					label: Label.OPTIONAL,
					jsonName: "value",
				},
			],
		},
	],
});
const registry = createFileRegistry(jsonPatchFile, (n) =>
	n === "google/protobuf/struct.proto" ? file_google_protobuf_struct : undefined,
);
const jsonPatchSchema = registry.getMessage("JSONPatch");

// Kubernetes lists library: indexOf on a list of scalars (CEL equality).
function scalarEqual(a, b) {
	return typeof a === typeof b && (typeof a !== "object" || a === null) && a === b;
}
const indexOf = celMethod("indexOf", listType(CelScalar.DYN), [CelScalar.DYN], CelScalar.INT, function (x) {
	let i = 0n;
	for (const v of this) {
		if (typeof v === "object" && v !== null) throw new Error("indexOf: list elements must be scalars here");
		if (scalarEqual(v, x)) return i;
		i++;
	}
	return -1n;
});

// cel-go ext.Strings split(sep): Go's strings.Split, which for sep "" yields
// each code point (UTF-8 sequence) and otherwise splits as JavaScript does.
const goSplit = celMethod("split", CelScalar.STRING, [CelScalar.STRING], listType(CelScalar.DYN), function (sep) {
	return sep === "" ? [...this] : this.split(sep);
});
const stringsExt = strings.filter((f) => !(f.name === "split" && f.arguments.length === 1));
if (stringsExt.length !== strings.length - 1) throw new Error("shim: @bufbuild/cel's strings extension has changed: split(sep) not found once");

export const env = celEnv({ registry, funcs: [...stringsExt, goSplit, indexOf] });

// The functions and macros the rendered expressions may use; checked
// against every parsed expression so that nothing outside the documented
// subset slips in.
export const SUBSET = new Set([
	// operators
	"_&&_", "_||_", "!_", "_?_:_", "_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_", "_+_", "_-_",
	"_[_]", "@in", "-_", "@not_strictly_false",
	// standard functions and conversions
	"size", "matches", "startsWith", "dyn", "string",
	// strings extension
	"upperAscii", "lowerAscii", "substring", "join", "split",
	// conversions: bytes(string) for the UTF-8 length of a character in messages
	"bytes",
	// Kubernetes lists library
	"indexOf",
]);
const MACROS = new Set(["has", "all", "exists", "map", "filter"]);

// JSON -> CEL input: objects become Maps without their null members.
export function toCelInput(v) {
	if (v === null) return null;
	if (Array.isArray(v)) return v.map(toCelInput);
	if (typeof v === "number") return Number.isInteger(v) ? BigInt(v) : v;
	if (typeof v === "object") {
		const m = new Map();
		for (const [k, x] of Object.entries(v)) if (x !== null) m.set(k, toCelInput(x));
		return m;
	}
	return v;
}

// The same null-member removal on plain JSON (what the apiserver hands on).
export function stripNulls(v) {
	if (Array.isArray(v)) return v.map(stripNulls);
	if (v !== null && typeof v === "object") {
		const o = {};
		for (const [k, x] of Object.entries(v)) if (x !== null) o[k] = stripNulls(x);
		return o;
	}
	return v;
}

class EvalError extends Error {}

// Walks a parsed expression and returns the function names and macros it uses.
function callsIn(parsed) {
	const found = new Set();
	const macros = parsed.sourceInfo?.macroCalls ?? {};
	for (const m of Object.values(macros)) if (m.exprKind?.case === "callExpr") found.add("macro:" + m.exprKind.value.function);
	const walk = (e) => {
		if (!e || !e.exprKind) return;
		const k = e.exprKind;
		switch (k.case) {
			case "callExpr":
				found.add(k.value.function);
				walk(k.value.target);
				k.value.args.forEach(walk);
				break;
			case "selectExpr":
				walk(k.value.operand);
				break;
			case "listExpr":
				k.value.elements.forEach(walk);
				break;
			case "structExpr":
				k.value.entries.forEach((x) => {
					if (x.keyKind.case === "mapKey") walk(x.keyKind.value);
					walk(x.value);
				});
				break;
			case "comprehensionExpr":
				for (const f of ["iterRange", "accuInit", "loopCondition", "loopStep", "result"]) walk(k.value[f]);
				break;
		}
	};
	walk(parsed.expr);
	return found;
}

// Compiles an expression; throws when it fails to parse or uses a function
// outside SUBSET. The comprehension helpers the macros expand to are allowed.
export function compile(text, what) {
	let parsed;
	try {
		parsed = parse(text);
	} catch (e) {
		throw new Error(`${what}: does not parse: ${e.message}`);
	}
	for (const f of callsIn(parsed)) {
		if (f.startsWith("macro:")) {
			if (!MACROS.has(f.slice(6))) throw new Error(`${what}: macro ${f.slice(6)} is outside the subset`);
		} else if (!SUBSET.has(f)) throw new Error(`${what}: ${f} is outside the subset`);
	}
	return plan(env, parsed);
}

// A lazy `variables` map: each variable is evaluated on first use, once.
const MAP_SYMBOL = Symbol.for("@bufbuild/cel/map");
class LazyVariables {
	constructor(compiled, bindings) {
		this[MAP_SYMBOL] = {};
		this.compiled = compiled; // Map name -> planned expression, in order
		this.bindings = bindings;
		this.cache = new Map();
		this.evaluated = 0;
	}
	get size() {
		return this.compiled.size;
	}
	get(key) {
		if (!this.compiled.has(key)) return undefined;
		if (!this.cache.has(key)) {
			const r = this.compiled.get(key)({ ...this.bindings, variables: this });
			this.evaluated++;
			if (isCelError(r)) throw new EvalError(`variables.${key}: ${r.message}`);
			this.cache.set(key, r);
		}
		return this.cache.get(key);
	}
	has(key) {
		return this.compiled.has(key);
	}
	*entries() {
		for (const k of this.compiled.keys()) yield [k, this.get(k)];
	}
	keys() {
		return this.compiled.keys();
	}
	*values() {
		for (const k of this.compiled.keys()) yield this.get(k);
	}
	forEach(cb, thisArg) {
		for (const [k, v] of this.entries()) cb.call(thisArg, v, k, this);
	}
	[Symbol.iterator]() {
		return this.entries();
	}
}

// Evaluates one planned expression with the admission bindings. Returns
// {value} or {error}.
export function evaluate(planned, bindings, variables) {
	try {
		const r = planned({ ...bindings, variables });
		if (isCelError(r)) return { error: r.message };
		return { value: r };
	} catch (e) {
		return { error: e.message };
	}
}

export function newVariables(compiled, bindings) {
	return new LazyVariables(compiled, bindings);
}

// A CEL list of JSONPatch objects -> RFC 6902 operations.
export function jsonPatchOps(v) {
	if (!isCelList(v)) throw new Error("the mutation did not return a list");
	const ops = [];
	for (const x of v) {
		if (x?.desc?.typeName !== "JSONPatch") throw new Error("the mutation returned a non-JSONPatch element");
		ops.push(toJson(jsonPatchSchema, x.message));
	}
	return ops;
}

// The request variable: an admission.k8s.io AdmissionRequest without uid,
// object and oldObject (kube-apiserver's BuildRequestType), empty members
// omitted as the apiserver's conversion omits them.
export function requestBinding(c, gvr) {
	const r = {
		kind: { group: gvr.group, version: gvr.version, kind: c.kind },
		resource: { group: gvr.group, version: gvr.version, resource: gvr.resource },
		requestKind: { group: gvr.group, version: gvr.version, kind: c.kind },
		requestResource: { group: gvr.group, version: gvr.version, resource: gvr.resource },
		name: c.object?.metadata?.name ?? "",
		operation: c.operation,
		userInfo: { username: "capgate-differential-test", groups: ["system:authenticated"] },
		dryRun: false,
	};
	if (c.subResource) {
		r.subResource = c.subResource;
		r.requestSubResource = c.subResource;
	}
	if (c.namespace) r.namespace = c.namespace;
	return toCelInput(r);
}

export function namespaceBinding(ns) {
	return toCelInput({
		metadata: { name: ns, labels: { "kubernetes.io/metadata.name": ns } },
		spec: { finalizers: ["kubernetes"] },
		status: { phase: "Active" },
	});
}
