#!/usr/bin/python3
"""A small kubelet for the e2e suite: runs Pods, exactly as capgate leaves
them, through a container runtime's CRI (runtime.v1 over gRPC), making the
calls kubelet's kuberuntime makes for them, and writes what happened as JSON.

  kubelet.py --endpoint SOCK --descriptor cri.pb --root DIR --run-id ID
             [--cgroup-root NAME] [--jobs N] [--timeout S] POD.json=OUT.json...
  kubelet.py --endpoint SOCK --descriptor cri.pb --root DIR --run-id ID --cleanup
      (removes every container and sandbox: the containerd is the suite's own)

What is modelled (pkg/kubelet/kuberuntime, pkg/securitycontext, the emptyDir
plugin), and so reaches the runtime as a kubelet would send it:
  - the sandbox: pod sysctls, hostNetwork -> NODE network else POD (CNI),
    hostPID/shareProcessNamespace/hostIPC, the pod's runAsUser/runAsGroup,
    fsGroup + supplementalGroups, pod seccomp, privileged if any container
    is, port mappings, a cgroup parent per pod;
  - each container: pod and container securityContext merged as
    DetermineEffectiveSecurityContext does; capabilities add/drop passed
    through verbatim; run_as_user/group (else the image's user);
    no_new_privs from allowPrivilegeEscalation: false; readOnlyRootFilesystem;
    seccomp (container, else pod, else Unconfined); kubelet's default masked
    and read-only /proc paths; runAsNonRoot verified against the image's user
    (CreateContainerConfigError); command/args/env/workingDir; resources
    (cpu shares/quota, memory limit, QoS oom_score_adj);
  - volumes: emptyDir only; `medium: Memory` is a tmpfs mounted on the node
    (size=sizeLimit) exactly as kubelet mounts it, a disk emptyDir a
    directory; both mode 0777; volumeMounts with readOnly;
  - init containers one at a time, each must exit 0 before the next; then
    the app containers; logs (the CRI log files) and exit codes read back.
Not modelled (none of it changes a container's capabilities, see README.md):
image pulls (images must be present: ImageStatus, as with imagePullPolicy
Never), probes, restarts and restartPolicy (each container runs once), other
volume types, env valueFrom, /etc/hosts and termination-log mounts, DNS
config, service-account tokens, resource accounting beyond the cgroup values.
"""
import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import time
import uuid

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

# kubelet's DefaultProcMountMaskedPaths/ReadonlyPaths (pkg/securitycontext).
MASKED_PATHS = ["/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys",
                "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
                "/sys/devices/virtual/powercap"]
READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
QUANTITY = re.compile(r"^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$")
SUFFIX = {None: 1, "m": 0.001, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
          "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


class PodError(Exception):
    """The pod cannot be run as written (what kubelet reports as a pod event)."""


def quantity(q):
    """A resource.Quantity ("100m", "16Mi", 2) as a float."""
    m = QUANTITY.match(str(q))
    if not m:
        raise PodError("unsupported quantity %r" % (q,))
    return float(m.group(1)) * SUFFIX[m.group(2)]


def cgroup_mounts():
    """Every cgroup v1 hierarchy and cgroup2 mount point."""
    with open("/proc/self/mountinfo") as f:
        fields = [line.split() for line in f]
    return sorted({x[4] for x in fields if x[x.index("-") + 1] in ("cgroup", "cgroup2")})


class CRI:
    """runtime.v1 RuntimeService and ImageService over one channel; message
    classes come from the descriptor set of cri.proto, no generated code."""

    def __init__(self, endpoint, descriptor, timeout):
        fds = descriptor_pb2.FileDescriptorSet.FromString(open(descriptor, "rb").read())
        pool = descriptor_pool.DescriptorPool()
        for f in fds.file:
            pool.Add(f)
        factory = message_factory.MessageFactory(pool)
        get = getattr(factory, "GetMessageClass", None) or factory.GetPrototype
        self.msg = lambda name: get(pool.FindMessageTypeByName("runtime.v1." + name))
        self.channel = grpc.insecure_channel("unix://" + endpoint)
        self.timeout = timeout
        self.calls = {}
        for service in ("RuntimeService", "ImageService"):
            for m in pool.FindServiceByName("runtime.v1." + service).methods:
                self.calls[m.name] = self.channel.unary_unary(
                    "/runtime.v1.%s/%s" % (service, m.name),
                    request_serializer=lambda r: r.SerializeToString(),
                    response_deserializer=get(m.output_type).FromString)

    def __call__(self, method, request):
        return self.calls[method](request, timeout=self.timeout)


def rpc_error(e):
    return e.details() if isinstance(e, grpc.RpcError) else str(e)


def effective_sc(pod, c):
    """securitycontext.DetermineEffectiveSecurityContext: the container's
    securityContext, with the pod's runAsUser, runAsGroup, runAsNonRoot,
    seLinuxOptions and seccompProfile where the container sets none."""
    sc = dict(c.get("securityContext") or {})
    psc = pod["spec"].get("securityContext") or {}
    for k in ("runAsUser", "runAsGroup", "runAsNonRoot", "seLinuxOptions", "seccompProfile"):
        if k not in sc and k in psc:
            sc[k] = psc[k]
    return sc


def seccomp(cri, profile):
    """kubelet's getSeccompProfile: no profile is Unconfined (no
    --seccomp-default); Localhost needs the kubelet's seccomp root."""
    sp = cri.msg("SecurityProfile")()
    kind = (profile or {}).get("type", "Unconfined")
    if kind == "Localhost":
        raise PodError("seccompProfile Localhost is not modelled")
    sp.profile_type = {"RuntimeDefault": 0, "Unconfined": 1}[kind]
    return sp


def namespaces(cri, spec):
    ns = cri.msg("NamespaceOption")()
    ns.network = 2 if spec.get("hostNetwork") else 0
    ns.ipc = 2 if spec.get("hostIPC") else 0
    ns.pid = 2 if spec.get("hostPID") else (0 if spec.get("shareProcessNamespace") else 1)
    return ns


def pod_groups(spec):
    psc = spec.get("securityContext") or {}
    groups = [psc["fsGroup"]] if "fsGroup" in psc else []
    return groups + list(psc.get("supplementalGroups") or [])


def resources(cri, c, qos, mem_total):
    """generateLinuxContainerResources: shares from the cpu request (min 2),
    quota from the cpu limit over a 100 ms period, the memory limit, and the
    QoS class's oom_score_adj (containerd clamps it with
    restrict_oom_score_adj)."""
    res = cri.msg("LinuxContainerResources")()
    req = (c.get("resources") or {}).get("requests") or {}
    lim = (c.get("resources") or {}).get("limits") or {}
    cpu_req = quantity(req.get("cpu", lim.get("cpu", 0)))
    res.cpu_shares = max(2, int(cpu_req * 1024))
    if "cpu" in lim:
        res.cpu_period = 100000
        res.cpu_quota = max(1000, int(quantity(lim["cpu"]) * 100000))
    if "memory" in lim:
        res.memory_limit_in_bytes = int(quantity(lim["memory"]))
    if qos == "Guaranteed":
        res.oom_score_adj = -997
    elif qos == "BestEffort":
        res.oom_score_adj = 1000
    else:
        mem_req = quantity(req.get("memory", lim.get("memory", 0)))
        res.oom_score_adj = min(999, max(2, 1000 - int(1000 * mem_req / mem_total)))
    return res


def qos_class(spec):
    """v1/helper/qos.GetPodQOS, simplified to cpu and memory."""
    all_c = spec.get("initContainers", []) + spec.get("containers", [])
    guaranteed, any_set = True, False
    for c in all_c:
        r = c.get("resources") or {}
        req, lim = r.get("requests") or {}, r.get("limits") or {}
        any_set = any_set or bool(req) or bool(lim)
        for k in ("cpu", "memory"):
            if k not in lim or quantity(req.get(k, lim[k])) != quantity(lim[k]):
                guaranteed = False
    return "BestEffort" if not any_set else ("Guaranteed" if guaranteed else "Burstable")


class Pod:
    def __init__(self, kubelet, pod):
        self.k = kubelet
        self.cri = kubelet.cri
        self.pod = pod
        meta = pod.setdefault("metadata", {})
        self.name = meta.get("name", "pod")
        self.namespace = meta.get("namespace", "default")
        self.uid = meta.get("uid") or str(uuid.uuid4())
        self.spec = pod["spec"]
        self.dir = os.path.join(kubelet.root, "pods", self.uid)
        self.log_dir = os.path.join(kubelet.root, "logs",
                                    "%s_%s_%s" % (self.namespace, self.name, self.uid))
        self.volumes = {}
        self.tmpfs = []
        self.sandbox_id = None
        self.sandbox_config = None
        self.result = {"pod": "%s/%s" % (self.namespace, self.name), "sandbox": None,
                       "containers": [], "error": None}

    # --- volumes (the emptyDir plugin) ---------------------------------------
    def setup_volumes(self):
        for v in self.spec.get("volumes") or []:
            if set(v) - {"name", "emptyDir"}:
                raise PodError("volume %s: only emptyDir is modelled" % v["name"])
            ed = v.get("emptyDir") or {}
            path = os.path.join(self.dir, "volumes", "kubernetes.io~empty-dir", v["name"])
            os.makedirs(path, 0o750)
            if ed.get("medium") == "Memory":
                # A plain tmpfs (no nosuid: file capabilities work there),
                # size=sizeLimit as setupTmpfs passes it.
                opts = ["size=%d" % int(quantity(ed["sizeLimit"]))] if "sizeLimit" in ed else []
                cmd = ["mount", "-t", "tmpfs"] + (["-o", ",".join(opts)] if opts else [])
                subprocess.run(cmd + ["tmpfs", path], check=True, capture_output=True)
                self.tmpfs.append(path)
            elif ed.get("medium"):
                raise PodError("volume %s: medium %s is not modelled" % (v["name"], ed["medium"]))
            os.chmod(path, 0o777)  # emptyDir's setupDir: 0777 whatever the umask
            self.volumes[v["name"]] = path

    def mounts(self, c):
        out = []
        for vm in c.get("volumeMounts") or []:
            if vm["name"] not in self.volumes:
                raise PodError("container %s: volumeMount %s has no volume" % (c["name"], vm["name"]))
            m = self.cri.msg("Mount")()
            m.container_path = vm["mountPath"]
            m.host_path = self.volumes[vm["name"]]
            m.readonly = bool(vm.get("readOnly"))
            out.append(m)
        return out

    # --- the sandbox (generatePodSandboxConfig) -----------------------------
    def make_sandbox_config(self):
        cfg = self.cri.msg("PodSandboxConfig")()
        cfg.metadata.name = self.name
        cfg.metadata.namespace = self.namespace
        cfg.metadata.uid = self.uid
        if not self.spec.get("hostNetwork"):
            cfg.hostname = self.spec.get("hostname", self.name)[:63]
        cfg.log_directory = self.log_dir
        labels = dict((self.pod["metadata"].get("labels") or {}))
        labels.update({"io.kubernetes.pod.name": self.name,
                       "io.kubernetes.pod.namespace": self.namespace,
                       "io.kubernetes.pod.uid": self.uid,
                       "capgate-e2e.run": self.k.run_id})
        cfg.labels.update(labels)
        cfg.annotations.update(self.pod["metadata"].get("annotations") or {})
        for c in self.spec.get("containers", []):
            for p in c.get("ports") or []:
                pm = cfg.port_mappings.add()
                pm.protocol = {"TCP": 0, "UDP": 1, "SCTP": 2}[p.get("protocol", "TCP")]
                pm.container_port = p["containerPort"]
                pm.host_port = p.get("hostPort", 0)
                pm.host_ip = p.get("hostIP", "")
        lx = cfg.linux
        lx.cgroup_parent = "/%s/pod%s" % (self.k.cgroup_root, self.uid)
        psc = self.spec.get("securityContext") or {}
        sc = lx.security_context
        sc.namespace_options.CopyFrom(namespaces(self.cri, self.spec))
        if "runAsUser" in psc:
            sc.run_as_user.value = psc["runAsUser"]
        if "runAsGroup" in psc:
            sc.run_as_group.value = psc["runAsGroup"]
        sc.supplemental_groups.extend(pod_groups(self.spec))
        sc.seccomp.CopyFrom(seccomp(self.cri, psc.get("seccompProfile")))
        sc.privileged = any((c.get("securityContext") or {}).get("privileged")
                            for c in self.spec.get("initContainers", []) + self.spec.get("containers", []))
        for s in psc.get("sysctls") or []:
            # kubelet accepts slash-separated names and sends dotted ones.
            lx.sysctls[s["name"].replace("/", ".")] = s["value"]
        return cfg

    # --- a container (generateContainerConfig) -------------------------------
    def image_user(self, image):
        req = self.cri.msg("ImageStatusRequest")()
        req.image.image = image
        st = self.cri("ImageStatus", req)
        if not st.image.id:
            # imagePullPolicy Never: ErrImageNeverPull.
            raise PodError("image %s is not present (this kubelet does not pull)" % image)
        uid = st.image.uid.value if st.image.HasField("uid") else None
        return st.image.id, uid, st.image.username

    def container_config(self, c, qos, mem_total):
        image_id, img_uid, img_user = self.image_user(c["image"])
        sc = effective_sc(self.pod, c)
        # verifyRunAsNonRoot
        if sc.get("runAsNonRoot"):
            if "runAsUser" in sc and sc["runAsUser"] == 0:
                raise PodError("container's runAsUser breaks non-root policy (container %s)" % c["name"])
            if "runAsUser" not in sc and img_uid == 0:
                raise PodError("container has runAsNonRoot and image will run as root (container %s)" % c["name"])
            if "runAsUser" not in sc and img_uid is None and img_user:
                raise PodError("container has runAsNonRoot and image has non-numeric user (%s)" % img_user)
        cfg = self.cri.msg("ContainerConfig")()
        cfg.metadata.name = c["name"]
        cfg.image.image = image_id
        cfg.image.user_specified_image = c["image"]
        cfg.command.extend(c.get("command") or [])
        cfg.args.extend(c.get("args") or [])
        cfg.working_dir = c.get("workingDir", "")
        for e in c.get("env") or []:
            if "value" not in e:
                raise PodError("container %s: env %s: only value is modelled" % (c["name"], e["name"]))
            kv = cfg.envs.add()
            kv.key, kv.value = e["name"], e["value"].encode()
        cfg.mounts.extend(self.mounts(c))
        cfg.labels.update({"io.kubernetes.container.name": c["name"],
                           "io.kubernetes.pod.name": self.name,
                           "io.kubernetes.pod.namespace": self.namespace,
                           "io.kubernetes.pod.uid": self.uid})
        cfg.log_path = os.path.join(c["name"], "0.log")
        cfg.linux.resources.CopyFrom(resources(self.cri, c, qos, mem_total))
        lsc = cfg.linux.security_context
        caps = sc.get("capabilities") or {}
        # convertToRuntimeCapabilities: the strings as written, no normalising.
        lsc.capabilities.add_capabilities.extend(caps.get("add") or [])
        lsc.capabilities.drop_capabilities.extend(caps.get("drop") or [])
        lsc.privileged = bool(sc.get("privileged"))
        lsc.namespace_options.CopyFrom(namespaces(self.cri, self.spec))
        if "runAsUser" in sc:
            lsc.run_as_user.value = sc["runAsUser"]
        elif img_uid is not None:
            lsc.run_as_user.value = img_uid
        elif img_user:
            lsc.run_as_username = img_user
        if "runAsGroup" in sc:
            lsc.run_as_group.value = sc["runAsGroup"]
        lsc.readonly_rootfs = bool(sc.get("readOnlyRootFilesystem"))
        lsc.supplemental_groups.extend(pod_groups(self.spec))
        # AddNoNewPrivileges: only an explicit allowPrivilegeEscalation: false.
        lsc.no_new_privs = sc.get("allowPrivilegeEscalation") is False
        if not lsc.privileged and sc.get("procMount", "Default") == "Default":
            lsc.masked_paths.extend(MASKED_PATHS)
            lsc.readonly_paths.extend(READONLY_PATHS)
        lsc.seccomp.CopyFrom(seccomp(self.cri, sc.get("seccompProfile")))
        return cfg

    def run_container(self, c, init, qos, mem_total):
        rec = {"name": c["name"], "init": init, "created": False, "started": False,
               "exit_code": None, "reason": None, "error": None, "stdout": [], "stderr": [],
               "spec": None}
        self.result["containers"].append(rec)
        try:
            cfg = self.container_config(c, qos, mem_total)
        except (PodError, grpc.RpcError) as e:
            rec["error"] = "CreateContainerConfigError: " + rpc_error(e)
            return rec
        req = self.cri.msg("CreateContainerRequest")()
        req.pod_sandbox_id = self.sandbox_id
        req.config.CopyFrom(cfg)
        req.sandbox_config.CopyFrom(self.sandbox_config)
        try:
            cid = self.cri("CreateContainer", req).container_id
        except grpc.RpcError as e:
            rec["error"] = "CreateContainerError: " + rpc_error(e)
            return rec
        rec["created"], rec["id"] = True, cid
        start = self.cri.msg("StartContainerRequest")(container_id=cid)
        try:
            self.cri("StartContainer", start)
            rec["started"] = True
        except grpc.RpcError as e:
            rec["error"] = "RunContainerError: " + rpc_error(e)
        return rec

    def wait_exit(self, rec):
        """Polls ContainerStatus (kubelet's PLEG relists) until the container
        has exited, within the deadline; then reads its status, spec and log.
        containerd marks a container exited only after its output is in the
        log file, so the log read afterwards is complete."""
        if not rec["created"]:
            return rec
        req = self.cri.msg("ContainerStatusRequest")(container_id=rec["id"], verbose=True)
        deadline = time.monotonic() + self.k.timeout
        delay = 0.01
        while True:
            st = self.cri("ContainerStatus", req)
            if st.status.state == 2 or not rec["started"]:
                break
            if time.monotonic() > deadline:
                rec["error"] = "timeout: still %s after %ss" % (st.status.state, self.k.timeout)
                stop = self.cri.msg("StopContainerRequest")(container_id=rec["id"], timeout=0)
                self.cri("StopContainer", stop)
                st = self.cri("ContainerStatus", req)
                break
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        if st.status.state == 2:
            rec["exit_code"] = st.status.exit_code
        rec["reason"] = st.status.reason or None
        if st.status.message:
            rec["message"] = st.status.message
        try:
            spec = json.loads(st.info["info"]).get("runtimeSpec", {})
            proc = spec.get("process", {})
            rec["spec"] = {"user": proc.get("user"), "args": proc.get("args"),
                           "capabilities": proc.get("capabilities"),
                           "noNewPrivileges": bool(proc.get("noNewPrivileges")),
                           "readonlyRootfs": bool(spec.get("root", {}).get("readonly")),
                           "seccomp": spec.get("linux", {}).get("seccomp") is not None,
                           "mounts": [{"destination": m["destination"], "type": m.get("type"),
                                       "options": m.get("options")}
                                      for m in spec.get("mounts", [])
                                      if not m["destination"].startswith(("/proc", "/dev", "/sys"))]}
        except (KeyError, ValueError):
            pass
        self.read_log(rec, st.status.log_path)
        return rec

    @staticmethod
    def read_log(rec, path):
        """The CRI log format: "<RFC3339Nano> <stdout|stderr> <P|F> <text>";
        P is a partial line continued by the next record."""
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            return
        partial = {"stdout": "", "stderr": ""}
        for line in lines:
            parts = line.split(" ", 3)
            if len(parts) < 3 or parts[1] not in partial:
                continue
            text = partial[parts[1]] + (parts[3] if len(parts) > 3 else "")
            if parts[2] == "P":
                partial[parts[1]] = text
                continue
            partial[parts[1]] = ""
            rec[parts[1]].append(text)

    # --- the whole pod (SyncPod, then KillPod) -------------------------------
    def run(self):
        qos = qos_class(self.spec)
        try:
            os.makedirs(self.log_dir)
            self.setup_volumes()
            self.sandbox_config = self.make_sandbox_config()
            # kubelet retries a sandbox that failed to start, with the next
            # attempt number; up to three tries here, each one recorded.
            errors = []
            for attempt in range(3):
                self.sandbox_config.metadata.attempt = attempt
                req = self.cri.msg("RunPodSandboxRequest")()
                req.config.CopyFrom(self.sandbox_config)
                try:
                    self.sandbox_id = self.cri("RunPodSandbox", req).pod_sandbox_id
                    break
                except grpc.RpcError as e:
                    errors.append(rpc_error(e))
            if not self.sandbox_id:
                self.result["sandbox"] = {"error": errors[-1], "failed_attempts": errors}
                return self.result
            self.result["sandbox"] = {"id": self.sandbox_id, "error": None, "failed_attempts": errors,
                                      "sysctls": dict(self.sandbox_config.linux.sysctls)}
            # Init containers one at a time, each must exit 0 (restartPolicy
            # Never semantics: a failed init container fails the pod).
            for c in self.spec.get("initContainers") or []:
                rec = self.wait_exit(self.run_container(c, True, qos, self.k.mem_total))
                if rec["exit_code"] != 0:
                    self.result["error"] = "init container %s did not exit 0" % c["name"]
                    return self.result
            recs = [self.run_container(c, False, qos, self.k.mem_total)
                    for c in self.spec.get("containers") or []]
            for rec in recs:
                self.wait_exit(rec)
        except (PodError, OSError, subprocess.CalledProcessError) as e:
            self.result["error"] = str(e)
        except grpc.RpcError as e:
            self.result["error"] = rpc_error(e)
        finally:
            self.teardown()
        return self.result

    def teardown(self):
        if self.sandbox_id:
            try:
                self.cri("StopPodSandbox", self.cri.msg("StopPodSandboxRequest")(pod_sandbox_id=self.sandbox_id))
                self.cri("RemovePodSandbox", self.cri.msg("RemovePodSandboxRequest")(pod_sandbox_id=self.sandbox_id))
            except grpc.RpcError as e:
                self.result["teardown_error"] = rpc_error(e)
        for path in self.tmpfs:
            subprocess.run(["umount", path], check=False, capture_output=True)
        # The pod's cgroup, which kubelet's pod container manager removes
        # once the pod is gone (runc removed the containers' own).
        for mnt in cgroup_mounts():
            try:
                os.rmdir(os.path.join(mnt, self.k.cgroup_root, "pod" + self.uid))
            except OSError:
                pass


class Kubelet:
    def __init__(self, args):
        self.cri = CRI(args.endpoint, args.descriptor, args.timeout)
        self.root = args.root
        self.run_id = args.run_id
        self.cgroup_root = args.cgroup_root or "capgate-e2e-" + args.run_id
        self.timeout = args.timeout
        with open("/proc/meminfo") as f:
            self.mem_total = int(f.readline().split()[1]) * 1024

    def run_pod(self, src, dst):
        with open(src) as f:
            pod = json.load(f)
        t0 = time.monotonic()
        result = Pod(self, pod).run()
        result["seconds"] = round(time.monotonic() - t0, 3)
        tmp = dst + ".tmp"
        with open(tmp, "w") as f:
            json.dump(result, f, indent=1)
        os.replace(tmp, dst)
        return dst

    def cleanup(self):
        """Stops and removes every container and sandbox of this private
        containerd (an interrupted run): each step on its own, twice, as a
        call may fail while a half-made container is still settling."""
        errors = []
        for _ in range(2):
            errors = []
            for c in self.cri("ListContainers", self.cri.msg("ListContainersRequest")()).containers:
                for method, req in (("StopContainer", "StopContainerRequest"),
                                    ("RemoveContainer", "RemoveContainerRequest")):
                    msg = self.cri.msg(req)(container_id=c.id)
                    try:
                        self.cri(method, msg)
                    except grpc.RpcError as e:
                        errors.append("%s %s: %s" % (method, c.id[:12], rpc_error(e)))
            for sb in self.cri("ListPodSandbox", self.cri.msg("ListPodSandboxRequest")()).items:
                for method in ("StopPodSandbox", "RemovePodSandbox"):
                    try:
                        self.cri(method, self.cri.msg(method + "Request")(pod_sandbox_id=sb.id))
                    except grpc.RpcError as e:
                        errors.append("%s %s: %s" % (method, sb.id[:12], rpc_error(e)))
            if not errors:
                return 0
        print("\n".join(errors), file=sys.stderr)
        return 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", required=True, help="containerd's CRI socket")
    ap.add_argument("--descriptor", required=True, help="FileDescriptorSet of cri.proto")
    ap.add_argument("--root", required=True, help="pod directories and logs")
    ap.add_argument("--run-id", required=True, help="label value that marks this run's sandboxes")
    ap.add_argument("--cgroup-root", help="cgroup under which every pod's cgroup goes")
    ap.add_argument("--jobs", type=int, default=8, help="pods run at once")
    ap.add_argument("--timeout", type=float, default=60, help="seconds per CRI call and per container run")
    ap.add_argument("--cleanup", action="store_true")
    ap.add_argument("--version", action="store_true", help="print the runtime's Version and exit")
    ap.add_argument("pods", nargs="*", metavar="POD.json=OUT.json")
    a = ap.parse_args()
    k = Kubelet(a)
    if a.version:
        v = k.cri("Version", k.cri.msg("VersionRequest")(version="v1"))
        print(v.runtime_name, v.runtime_version, v.runtime_api_version)
        return 0
    if a.cleanup:
        return k.cleanup()
    jobs = [p.split("=", 1) for p in a.pods]
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as ex:
        for fut in concurrent.futures.as_completed([ex.submit(k.run_pod, s, d) for s, d in jobs]):
            fut.result()
    return 0


if __name__ == "__main__":
    sys.exit(main())
