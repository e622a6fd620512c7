// JSON Schema of security.openshift.io/v1 SecurityContextConstraints, written
// for these tests from the field list of the OpenShift API (no npm package
// carries OpenShift's schemas; FSTypeImage and userNamespaceLevel from
// openshift/api security/v1); scc/sim-test.mjs checks it against every
// default SCC OpenShift 4.19 and 4.20 ship. Stricter than the CRD on purpose: unknown
// fields are errors (the apiserver would prune them silently, hiding a typo),
// and capability names must be capgate's canonical spelling.
const strings = { type: ["array", "null"], items: { type: "string", minLength: 1 } };
const capabilities = {
	type: ["array", "null"],
	uniqueItems: true,
	items: { type: "string", pattern: "^(ALL|[A-Z][A-Z0-9_]*)$", not: { pattern: "^CAP_" } },
};
// allowedCapabilities may also be "*" (privileged's), which capgate never
// writes.
const allowedCapabilities = { ...capabilities, items: { ...capabilities.items, pattern: "^(\\*|ALL|[A-Z][A-Z0-9_]*)$" } };
const sysctls = {
	type: ["array", "null"],
	uniqueItems: true,
	items: { type: "string", pattern: "^(\\*|[a-z0-9_]+(\\.[a-z0-9_]+)*(\\.\\*)?)$" },
};
const idRanges = {
	type: "array",
	items: {
		type: "object",
		additionalProperties: false,
		properties: { min: { type: "integer" }, max: { type: "integer" } },
	},
};
const groupStrategy = {
	type: ["object", "null"],
	additionalProperties: false,
	properties: { type: { enum: ["MustRunAs", "RunAsAny"] }, ranges: idRanges },
};

export const sccSchema = {
	type: "object",
	additionalProperties: false,
	required: [
		"apiVersion", "kind", "metadata",
		"allowHostDirVolumePlugin", "allowHostIPC", "allowHostNetwork", "allowHostPID",
		"allowHostPorts", "allowPrivilegedContainer", "allowedCapabilities",
		"defaultAddCapabilities", "priority", "readOnlyRootFilesystem",
		"requiredDropCapabilities", "volumes",
	],
	properties: {
		apiVersion: { const: "security.openshift.io/v1" },
		kind: { const: "SecurityContextConstraints" },
		metadata: {
			type: "object",
			required: ["name"],
			properties: {
				name: { type: "string", pattern: "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", maxLength: 253 },
				labels: { type: "object", additionalProperties: { type: "string" } },
				annotations: { type: "object", additionalProperties: { type: "string" } },
			},
		},
		priority: { type: ["integer", "null"] },
		allowPrivilegedContainer: { type: "boolean" },
		allowPrivilegeEscalation: { type: ["boolean", "null"] },
		defaultAllowPrivilegeEscalation: { type: ["boolean", "null"] },
		defaultAddCapabilities: capabilities,
		requiredDropCapabilities: capabilities,
		allowedCapabilities,
		allowedUnsafeSysctls: sysctls,
		forbiddenSysctls: sysctls,
		allowHostDirVolumePlugin: { type: "boolean" },
		allowHostNetwork: { type: "boolean" },
		allowHostPorts: { type: "boolean" },
		allowHostPID: { type: "boolean" },
		allowHostIPC: { type: "boolean" },
		readOnlyRootFilesystem: { type: "boolean" },
		volumes: {
			type: ["array", "null"],
			uniqueItems: true,
			items: {
				enum: [
					"*", "none", "azureFile", "azureDisk", "flocker", "flexVolume", "hostPath",
					"emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret",
					"nfs", "iscsi", "glusterfs", "persistentVolumeClaim", "rbd", "cinder",
					"cephFS", "downwardAPI", "fc", "configMap", "vsphere", "quobyte",
					"photonPersistentDisk", "projected", "portworxVolume", "scaleIO",
					"storageOS", "csi", "ephemeral", "image",
				],
			},
		},
		allowedFlexVolumes: {
			type: ["array", "null"],
			items: { type: "object", required: ["driver"], properties: { driver: { type: "string" } } },
		},
		seLinuxContext: {
			type: ["object", "null"],
			additionalProperties: false,
			properties: {
				type: { enum: ["MustRunAs", "RunAsAny"] },
				seLinuxOptions: {
					type: "object",
					additionalProperties: false,
					properties: {
						user: { type: "string" }, role: { type: "string" },
						type: { type: "string" }, level: { type: "string" },
					},
				},
			},
		},
		runAsUser: {
			type: ["object", "null"],
			additionalProperties: false,
			properties: {
				type: { enum: ["MustRunAs", "MustRunAsRange", "MustRunAsNonRoot", "RunAsAny"] },
				uid: { type: "integer" },
				uidRangeMin: { type: "integer" },
				uidRangeMax: { type: "integer" },
			},
		},
		supplementalGroups: groupStrategy,
		fsGroup: groupStrategy,
		users: strings,
		groups: strings,
		seccompProfiles: strings,
		userNamespaceLevel: { enum: ["AllowHostLevel", "RequirePodLevel"] },
	},
};
