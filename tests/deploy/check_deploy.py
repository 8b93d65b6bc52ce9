#!/usr/bin/env python3
"""deploy/ checked offline: what a user relies on when applying it.

  check_deploy.py SOURCE_DIR HORDE_BINARY manifests   the Job, ConfigMap and
      headless Service as kubectl kustomize renders them (exit 77, skipped, without kubectl)
  check_deploy.py SOURCE_DIR HORDE_BINARY files       the Dockerfile linted,
      collect.sh's marker extraction, the scenario read by horde, shellcheck

No cluster and no Docker daemon are needed: `kubectl create --dry-run=client`
still asks a server for its API list, so the manifests are rendered by
`kubectl kustomize` (offline) and their fields checked here against what the
docs promise (Indexed, parallelism = completions, Guaranteed QoS with whole
CPUs, the sysctls, the scenario ConfigMap, --barrier naming worker 0 through
the headless Service).
"""
import re
import shutil
import subprocess
import sys

import yaml

SKIP = 77
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)


def render(source):
    out = subprocess.run(["kubectl", "kustomize", f"{source}/deploy/k8s"], capture_output=True,
                         text=True, timeout=60)
    if out.returncode != 0:
        sys.exit(f"kubectl kustomize deploy/k8s failed: {out.stderr}")
    return [d for d in yaml.safe_load_all(out.stdout) if d]


# Namespaced sysctls Kubernetes lets any pod set (the "safe" set, 1.29+).
SAFE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
                "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range",
                "net.ipv4.ip_unprivileged_port_start", "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
                "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"}


def whole_cpus(value):
    return re.fullmatch(r"[1-9][0-9]*", str(value)) is not None


def check_guaranteed(c):
    r = c.get("resources", {})
    req, lim = r.get("requests", {}), r.get("limits", {})
    for k in ("cpu", "memory"):
        check(k in lim and req.get(k) == lim.get(k),
              f"container {c['name']}: requests.{k} must equal limits.{k} (Guaranteed QoS)")
    check(whole_cpus(lim.get("cpu")), f"container {c['name']}: cpu must be whole CPUs")


def check_job(job, config_maps):
    s = job["spec"]
    check(job["apiVersion"] == "batch/v1", "Job apiVersion batch/v1")
    check(s.get("completionMode") == "Indexed", "Job completionMode must be Indexed")
    n = s.get("completions")
    check(isinstance(n, int) and n >= 1 and s.get("parallelism") == n,
          "Job parallelism must equal completions")
    check(s.get("backoffLimit") == 0, "backoffLimit 0: a dead worker stays missing, not late")
    pod = s["template"]["spec"]
    check(pod.get("restartPolicy") == "Never", "restartPolicy Never")
    for sc in pod.get("securityContext", {}).get("sysctls", []):
        check(sc["name"] in SAFE_SYSCTLS, f"pod sysctl {sc['name']} is not in the safe set")
    for c in pod.get("initContainers", []) + pod["containers"]:
        check_guaranteed(c)
    tune = [c for c in pod.get("initContainers", []) if c.get("args", [])[:1] == ["tune"]]
    check(len(tune) == 1 and "--apply" in tune[0]["args"]
          and tune[0].get("securityContext", {}).get("privileged") is True,
          "a privileged init container runs horde tune --apply")
    main = pod["containers"][0]
    args = main.get("args", [])
    check(args[:1] == ["run"], "the container runs horde run")
    check("--workers" in args and args[args.index("--workers") + 1] == str(n),
          "horde run --workers N with N = completions")
    check("--json" in args and args[args.index("--json") + 1] == "-",
          "horde run --json - (the result between markers on stdout)")
    check("--start-at" in args, "horde run --start-at: every worker starts at once")
    for v in pod.get("volumes", []):
        if "configMap" in v:
            name = v["configMap"]["name"]
            check(name in config_maps, f"volume {v['name']}: ConfigMap {name} is not rendered")
            for item in v["configMap"].get("items", []):
                check(item["key"] in config_maps.get(name, {}),
                      f"ConfigMap {name} has no key {item['key']}")
    for e in main.get("env", []):
        ref = e.get("valueFrom", {}).get("configMapKeyRef")
        if ref:
            check(ref["key"] in config_maps.get(ref["name"], {}),
                  f"env {e['name']}: ConfigMap {ref['name']} has no key {ref['key']}")


def check_barrier(job, services):
    """--barrier names worker 0 by its stable DNS name: JOB-0.SUBDOMAIN, the
    subdomain a headless Service selecting the Job's pods on that port."""
    pod = job["spec"]["template"]
    args = pod["spec"]["containers"][0].get("args", [])
    check("--barrier" in args, "horde run --barrier: pub/sub plans need worker 0's address")
    host, _, port = args[args.index("--barrier") + 1].rpartition(":")
    subdomain = pod["spec"].get("subdomain")
    check(subdomain is not None and host == f"{job['metadata']['name']}-0.{subdomain}",
          f"--barrier host {host}: expected JOBNAME-0.SUBDOMAIN (subdomain {subdomain})")
    service = services.get(subdomain)
    check(service is not None, f"no Service {subdomain} for the pods' subdomain")
    if service is None:
        return
    spec = service["spec"]
    check(spec.get("clusterIP") == "None", f"Service {subdomain} must be headless")
    labels = pod["metadata"].get("labels", {})
    check(all(labels.get(k) == v for k, v in spec.get("selector", {}).items()),
          f"Service {subdomain} does not select the Job's pods")
    check(any(str(p.get("port")) == port for p in spec.get("ports", [])),
          f"Service {subdomain} has no port {port}")


def manifests(source):
    if shutil.which("kubectl") is None:
        print("kubectl is absent: the manifests are not rendered (apt-get install "
              "kubernetes-client)")
        return SKIP
    docs = render(source)
    kinds = [d["kind"] for d in docs]
    check(kinds.count("Job") == 1 and "ConfigMap" in kinds, f"rendered kinds: {kinds}")
    config_maps = {d["metadata"]["name"]: d.get("data", {}) for d in docs
                   if d["kind"] == "ConfigMap"}
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    for d in docs:
        if d["kind"] == "Job":
            check_job(d, config_maps)
            check_barrier(d, services)
    scenario = config_maps.get("horde-scenario", {}).get("scenario.yaml", "")
    check("connections" in yaml.safe_load(scenario), "the scenario names its connections")
    return 0


def dockerfile_instructions(path):
    """(instruction, arguments) per logical line: continuations joined, comments dropped."""
    out, pending = [], ""
    for line in open(path):
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        word, _, rest = full.partition(" ")
        out.append((word.upper(), rest.strip()))
    check(not pending, "Dockerfile ends inside a continued line")
    return out


def lint_dockerfile(source):
    ins = dockerfile_instructions(f"{source}/deploy/Dockerfile")
    known = {"FROM", "RUN", "COPY", "WORKDIR", "ENTRYPOINT", "CMD", "ENV", "ARG", "LABEL",
             "USER", "EXPOSE"}
    for word, _ in ins:
        check(word in known, f"Dockerfile: unknown instruction {word}")
    stages = [rest for word, rest in ins if word == "FROM"]
    check(len(stages) >= 2, "Dockerfile: multi-stage")
    check(stages[0].startswith("debian:12 ") and stages[0].endswith("AS build"),
          "Dockerfile: the build stage is debian:12 AS build")
    check(stages[-1] == "scratch", "Dockerfile: the final stage holds only what is copied in")
    last = max(i for i, (w, _) in enumerate(ins) if w == "FROM")
    for word, rest in ins[last + 1:]:
        check(word in {"COPY", "ENTRYPOINT", "CMD", "LABEL", "USER"},
              f"Dockerfile final stage: {word} (it has no shell)")
        if word == "COPY":
            check(rest.startswith("--from=build "), "final stage copies from the build only")
    entry = [rest for word, rest in ins if word == "ENTRYPOINT"]
    check(entry == ['["/usr/local/bin/horde"]'], "ENTRYPOINT in exec form: the horde binary")
    installs = " ".join(rest for word, rest in ins if word == "RUN" and "apt-get install" in rest)
    check("--no-install-recommends" in installs and "rm -rf /var/lib/apt/lists" in installs,
          "apt-get install --no-install-recommends, lists removed")
    # Every package the image builds with is one CI installs: same Debian, same names.
    ci = open(f"{source}/.ci/install-deps").read()
    for pkg in re.findall(r"\b(lib[a-z0-9+.-]+-dev|nlohmann-json3-dev|g\+\+|cmake|ninja-build)\b",
                          installs):
        check(pkg in ci, f"Dockerfile installs {pkg}, which .ci/install-deps does not")


def check_extract(source):
    collect = f"{source}/deploy/collect.sh"

    def extract(text):
        return subprocess.run(["bash", collect, "--extract"], input=text, capture_output=True,
                              text=True, timeout=30)

    doc = '{\n "schema": "horde.run/1"\n}\n'
    ok = extract("horde run: starting\n-----BEGIN HORDE RESULT-----\n" + doc +
                 "-----END HORDE RESULT-----\nhorde run: done\n")
    check(ok.returncode == 0 and ok.stdout == doc, f"collect.sh --extract: {ok.stdout!r}")
    cut = extract("-----BEGIN HORDE RESULT-----\n{\n")
    check(cut.returncode == 1 and "END HORDE RESULT" in cut.stderr, "a cut-short log is refused")
    none = extract("horde run: killed\n")
    check(none.returncode == 1 and "BEGIN HORDE RESULT" in none.stderr, "a log without a result")


def check_scenario(source, horde):
    # The file parses as horde run's flags: the run itself may fail (no
    # server on port 1), but never as a usage error (exit 2).
    out = subprocess.run([horde, "run", "--scenario", f"{source}/deploy/k8s/scenario.yaml",
                          "ws://127.0.0.1:1/", "-c", "1", "--connect-rate", "10/s",
                          "--duration", "1s", "--quiet"], capture_output=True, text=True,
                         timeout=60)
    check(out.returncode != 2, f"horde run --scenario deploy/k8s/scenario.yaml: {out.stderr}")


def files(source, horde):
    lint_dockerfile(source)
    check_extract(source)
    check_scenario(source, horde)
    if shutil.which("shellcheck"):
        sc = subprocess.run(["shellcheck", f"{source}/deploy/collect.sh",
                             f"{source}/deploy/launch.sh"], capture_output=True, text=True)
        check(sc.returncode == 0, f"shellcheck: {sc.stdout}")
    else:
        print("shellcheck is absent: the scripts are not linted")
    return 0


def main():
    source, horde, what = sys.argv[1:4]
    code = manifests(source) if what == "manifests" else files(source, horde)
    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print(f"deploy {what}: ok" if code == 0 else f"deploy {what}: skipped")
    return code


if __name__ == "__main__":
    sys.exit(main())
