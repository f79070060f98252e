"""deploy/k8s: every manifest valid for the Kubernetes API, and consistent with the server.

Offline and fast, so unmarked, except the test that runs the Envoy preStop hook against a real
Envoy. There is no kustomize binary here: the overlays' patches are RFC 6902 JSON patches,
which `build` applies with jsonpatch exactly as kustomize applies them, and the objects it
renders are validated like the files.
"""

from __future__ import annotations

import copy
import http.client
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jsonpatch
import kubernetes_validate
import pytest
import yaml

from nomic_serve.api.server import HEALTH_TEXT, HEALTH_VISION, SERVICE_NAME
from nomic_serve.config import ENVIRONMENT, Settings

from ..support.processes import free_port
from ..support.reference import REPO_ROOT, unavailable
from ..support.waiting import eventually_sync

K8S = REPO_ROOT / "deploy" / "k8s"
DOCKER = REPO_ROOT / "deploy" / "docker"
BASE, CPU, GPU, GATEWAY = K8S / "base", K8S / "overlays/cpu", K8S / "overlays/gpu", K8S / "gateway"
# The oldest Kubernetes the manifests support, and the newest the validator knows.
VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
# Every health entry the server registers ("" is the server as a whole).
REGISTERED = {"", SERVICE_NAME, HEALTH_TEXT, HEALTH_VISION}
CONFIG_MAP = "nomic-serve-config"
# The official Envoy image's user (`adduser --system envoy` in envoyproxy/envoy's
# ci/Dockerfile-envoy); it cannot be pulled here to read it.
ENVOY_IMAGE = "docker.io/envoyproxy/envoy:"
ENVOY_UID = 101
# Fields of kustomization.yaml that `build` implements; anything else fails, not ignored.
KUSTOMIZATION_FIELDS = {"apiVersion", "kind", "resources", "patches"}


# --- a kustomize build, for the subset the manifests use -----------------------------------


@dataclass(frozen=True)
class Kustomization:
    folder: Path
    resources: tuple[Path, ...]  # files and kustomization folders, resolved
    patches: tuple[tuple[Path, dict], ...]  # (JSON patch file, target)


@cache
def kustomization(folder: Path) -> Kustomization:
    data = yaml.safe_load((folder / "kustomization.yaml").read_text())
    unknown = set(data) - KUSTOMIZATION_FIELDS
    assert not unknown, f"{folder}: build() implements {KUSTOMIZATION_FIELDS}, not {unknown}"
    assert data["kind"] == "Kustomization"
    patches = tuple(((folder / p["path"]).resolve(), p["target"]) for p in data.get("patches", []))
    return Kustomization(
        folder, tuple((folder / r).resolve() for r in data.get("resources", [])), patches
    )


def load(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _targets(obj: dict, target: dict) -> bool:
    """Whether a kustomize patch target (group, version, kind, name) names this object."""
    group, _, version = obj["apiVersion"].rpartition("/")
    own = {"group": group, "version": version, "kind": obj["kind"], "name": obj["metadata"]["name"]}
    return all(own[key] == value for key, value in target.items())


@cache
def _build(folder: Path) -> tuple[dict, ...]:
    spec = kustomization(folder)
    objects: list[dict] = []
    for resource in spec.resources:
        objects += _build(resource) if resource.is_dir() else load(resource)
    for path, target in spec.patches:
        operations = yaml.safe_load(path.read_text())
        assert isinstance(operations, list), f"{path}: not a JSON patch (a list of operations)"
        hits = [i for i, obj in enumerate(objects) if _targets(obj, target)]
        assert hits, f"{path}: target {target} matches no resource"
        for i in hits:
            objects[i] = jsonpatch.apply_patch(objects[i], operations)
    ids = [(obj["kind"], obj["metadata"]["name"]) for obj in objects]
    assert len(ids) == len(set(ids)), f"{folder}: duplicate resources {ids}"
    return tuple(objects)


def build(folder: Path) -> list[dict]:
    """What `kustomize build folder` prints, as objects (fresh copies)."""
    return copy.deepcopy(list(_build(folder)))


def find(objects: list[dict], kind: str, name: str) -> dict:
    hits = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(hits) == 1, f"expected one {kind} {name}, found {len(hits)}"
    return hits[0]


def deployment(folder: Path = BASE) -> dict:
    name = "nomic-serve-gateway" if folder == GATEWAY else "nomic-serve"
    return find(build(folder), "Deployment", name)


def container(deployment: dict, name: str, init: bool = False) -> dict:
    spec = deployment["spec"]["template"]["spec"]
    hits = [c for c in spec["initContainers" if init else "containers"] if c["name"] == name]
    assert len(hits) == 1, f"{deployment['metadata']['name']}: no single container {name}"
    return hits[0]


def all_containers(deployment: dict) -> list[dict]:
    spec = deployment["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def config() -> dict[str, str]:
    return find(build(BASE), "ConfigMap", CONFIG_MAP)["data"]


def settings() -> Settings:
    """The server's settings under the ConfigMap, parsed by the server's own code."""
    return Settings.from_env(config())


def prestop_sleep(c: dict) -> float:
    """The seconds a preStop exec hook sleeps (its one `sleep N`)."""
    script = c["lifecycle"]["preStop"]["exec"]["command"][-1]
    sleeps = re.findall(r"\bsleep (\d+(?:\.\d+)?)\b", script)
    assert len(sleeps) == 1, f"{c['name']}: expected one `sleep N` in its preStop: {script!r}"
    return float(sleeps[0])


def server_drain_s() -> float:
    """The longest a server takes from its preStop hook to its exit."""
    s = settings()
    return (
        prestop_sleep(container(deployment(), "server")) + s.shutdown_delay_s + s.shutdown_grace_s
    )


def selects(selector: dict, labels: dict) -> bool:
    """Whether a Service selector (a plain map) or a LabelSelector matches these labels. An
    empty selector counts as no match: every selector here must name the pods it means."""
    assert "matchExpressions" not in selector, "matchExpressions are not modelled here"
    wanted = selector.get("matchLabels", selector)
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


def pod_labels(d: dict) -> dict:
    return d["spec"]["template"]["metadata"]["labels"]


def port_named(d: dict, target: int | str) -> tuple[str, int]:
    """(container, containerPort) a Service's targetPort reaches in the Deployment's pods."""
    hits = [
        (c["name"], p["containerPort"])
        for c in d["spec"]["template"]["spec"]["containers"]
        for p in c.get("ports", [])
        if target in (p.get("name"), p["containerPort"])
    ]
    assert len(hits) == 1, f"targetPort {target!r} names {len(hits)} container ports"
    return hits[0]


def image_uid(dockerfile: Path) -> int:
    """The numeric UID of the image's last USER (runAsNonRoot can only check a numeric one)."""
    users = re.findall(r"^\s*USER\s+(\S+)", dockerfile.read_text(), re.MULTILINE | re.IGNORECASE)
    assert users, f"{dockerfile}: no USER instruction"
    uid = users[-1].split(":")[0]
    assert uid.isdigit(), f"{dockerfile}: USER {users[-1]} should be numeric (UID[:GID])"
    return int(uid)


def validate(obj: dict, version: str) -> None:
    """Strict validation (an unknown field fails), reported in one line, not as the schema."""
    try:
        kubernetes_validate.validate(obj, version, strict=True)
        return
    except kubernetes_validate.ValidationError as error:
        where = ".".join(str(part) for part in error.path)
        problem = f"Kubernetes {error.version}: {where}: {error.message}"
    except kubernetes_validate.SchemaNotFoundError as error:
        problem = f"Kubernetes {version}: {error.message}"
    pytest.fail(f"{obj['kind']} {obj['metadata']['name']} is invalid for {problem}")


# --- the files -------------------------------------------------------------------------------

KUSTOMIZATIONS = sorted(p.parent.resolve() for p in K8S.rglob("kustomization.yaml"))
RESOURCE_FILES = sorted(
    {r for k in KUSTOMIZATIONS for r in kustomization(k).resources if not r.is_dir()}
)


def test_kustomizations_list_every_file() -> None:
    """Every YAML file under deploy/k8s is a kustomization, a resource one lists or a patch one
    applies, and everything listed exists: no manifest is left out of `kubectl apply -k`."""
    assert {BASE, CPU, GPU, GATEWAY} <= set(KUSTOMIZATIONS)
    listed: set[Path] = set()
    for folder in KUSTOMIZATIONS:
        spec = kustomization(folder)
        for resource in spec.resources:
            assert resource.is_file() or (resource / "kustomization.yaml").is_file(), resource
        for patch, _ in spec.patches:
            assert patch.is_file(), patch
        listed |= {folder / "kustomization.yaml", *spec.resources, *(p for p, _ in spec.patches)}
    files = {p.resolve() for p in K8S.rglob("*") if p.suffix in (".yaml", ".yml")}
    assert files - listed == set(), "YAML files no kustomization uses"


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", RESOURCE_FILES, ids=lambda p: str(p.relative_to(K8S)))
def test_manifest_files_validate(path: Path, version: str) -> None:
    """Each resource file against the official schemas, strict: an unknown field fails."""
    for obj in load(path):
        validate(obj, version)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("folder", KUSTOMIZATIONS, ids=lambda p: str(p.relative_to(K8S)))
def test_rendered_kustomizations_validate(folder: Path, version: str) -> None:
    """What each kustomization renders, overlay patches applied (the GPU Deployment)."""
    objects = build(folder)
    assert objects
    for obj in objects:
        validate(obj, version)


def test_cpu_overlay_is_the_base() -> None:
    assert build(CPU) == build(BASE)


def test_gpu_overlay_runs_the_gpu_image_on_one_gpu() -> None:
    base, gpu = deployment(BASE), deployment(GPU)
    server = container(gpu, "server")
    assert server["image"] == "nomic-serve:gpu"
    assert container(gpu, "envoy-config", init=True)["image"] == "nomic-serve:gpu"
    assert str(server["resources"]["limits"]["nvidia.com/gpu"]) == "1"
    assert {"name": "USE_GPU", "value": "1"} in server["env"]
    pod = gpu["spec"]["template"]["spec"]
    assert pod["nodeSelector"] and pod["tolerations"]
    # Nothing else moved: the sidecar and the probes are the base's.
    assert container(gpu, "envoy") == container(base, "envoy")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert server[probe] == container(base, "server")[probe]


# --- probes and shutdown ---------------------------------------------------------------------


def test_probes_use_health_entries_the_server_registers() -> None:
    server = container(deployment(), "server")
    grpc_port = settings().grpc_port
    probes = {name: server[name]["grpc"] for name in ("startupProbe", "readinessProbe")}
    probes["livenessProbe"] = server["livenessProbe"]["grpc"]
    for name, probe in probes.items():
        assert probe["port"] == grpc_port, f"{name} probes {probe['port']}, GRPC_PORT {grpc_port}"
        assert probe.get("service", "") in REGISTERED, f"{name}: {probe} is not registered"
    assert probes["readinessProbe"]["service"] == HEALTH_TEXT
    assert probes["startupProbe"]["service"] == HEALTH_TEXT
    assert probes["livenessProbe"].get("service", "") == ""


def test_startup_probe_allows_a_model_load() -> None:
    startup = container(deployment(), "server")["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 120


def test_liveness_outlasts_the_drain() -> None:
    """Draining turns "" NOT_SERVING too: the liveness probe must not restart a draining pod."""
    liveness = container(deployment(), "server")["livenessProbe"]
    assert liveness["periodSeconds"] * liveness["failureThreshold"] > server_drain_s()


def test_server_drains_before_sigterm_with_tini_as_pid_1() -> None:
    server = container(deployment(), "server")
    assert "command" not in server and "args" not in server, "tini must stay PID 1"
    command = server["lifecycle"]["preStop"]["exec"]["command"]
    assert command[:2] == ["/bin/sh", "-c"]
    assert re.match(r"kill -USR1 1 && sleep \d+$", command[2]), command


def test_termination_outlasts_the_drain() -> None:
    """Pod grace > Envoy's preStop sleep > server preStop sleep + SHUTDOWN_DELAY_S +
    SHUTDOWN_GRACE_S: the sidecar outlives the server, and nothing is SIGKILLed mid-drain."""
    base = deployment()
    envoy_sleep = prestop_sleep(container(base, "envoy"))
    assert envoy_sleep > server_drain_s()
    assert base["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > envoy_sleep
    gateway = deployment(GATEWAY)
    gateway_sleep = prestop_sleep(container(gateway, "envoy"))
    assert gateway["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > gateway_sleep


# --- security and resources ------------------------------------------------------------------

DEPLOYMENTS = (BASE, GPU, GATEWAY)


@pytest.mark.parametrize("folder", DEPLOYMENTS, ids=lambda p: p.name)
def test_pods_are_locked_down(folder: Path) -> None:
    pod = deployment(folder)["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC")
    for c in all_containers(deployment(folder)):
        context = c["securityContext"]
        assert context["runAsNonRoot"] is True, c["name"]
        assert context["readOnlyRootFilesystem"] is True, c["name"]
        assert context["allowPrivilegeEscalation"] is False, c["name"]
        assert context["capabilities"] == {"drop": ["ALL"]}, c["name"]
        assert not context.get("privileged"), c["name"]


@pytest.mark.parametrize("folder", DEPLOYMENTS, ids=lambda p: p.name)
def test_containers_run_as_their_image_user(folder: Path) -> None:
    """10001 is read from deploy/docker/Dockerfile (and Dockerfile.gpu for the GPU image)."""
    dockerfiles = {
        "nomic-serve:cpu": DOCKER / "Dockerfile",
        "nomic-serve:gpu": DOCKER / "Dockerfile.gpu",
    }
    for c in all_containers(deployment(folder)):
        if c["image"].startswith(ENVOY_IMAGE):
            expected = ENVOY_UID
        else:
            dockerfile = dockerfiles[c["image"]]
            if not dockerfile.is_file():
                unavailable(f"{dockerfile} not found: the image's UID cannot be checked")
            expected = image_uid(dockerfile)
        assert c["securityContext"]["runAsUser"] == expected, c["name"]


@pytest.mark.parametrize("folder", DEPLOYMENTS, ids=lambda p: p.name)
def test_every_container_has_requests_and_limits(folder: Path) -> None:
    for c in all_containers(deployment(folder)):
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(c["resources"][kind]), f"{c['name']} {kind}"


# --- services, selectors, ports --------------------------------------------------------------


def test_headless_service_selects_the_server_pods() -> None:
    objects = build(BASE)
    grpc_service = find(objects, "Service", "nomic-serve-grpc")["spec"]
    assert grpc_service["clusterIP"] == "None"
    assert grpc_service.get("publishNotReadyAddresses", False) is False
    assert selects(grpc_service["selector"], pod_labels(deployment()))
    [port] = grpc_service["ports"]
    assert port["appProtocol"] == "grpc"
    assert port["port"] == settings().grpc_port
    assert port_named(deployment(), port["targetPort"]) == ("server", settings().grpc_port)


def test_metrics_service_and_service_monitor_reach_the_metrics_port() -> None:
    """Every replica is a scrape target (headless, not-ready pods included) on METRICS_PORT,
    and the Prometheus Operator's ServiceMonitor selects that Service and names its port."""
    metrics = find(build(BASE), "Service", "nomic-serve-metrics")
    spec = metrics["spec"]
    assert spec["clusterIP"] == "None" and spec["publishNotReadyAddresses"] is True
    assert selects(spec["selector"], pod_labels(deployment()))
    [port] = spec["ports"]
    assert port["port"] == settings().metrics_port
    assert port_named(deployment(), port["targetPort"]) == ("server", settings().metrics_port)
    [monitor] = load(REPO_ROOT / "deploy" / "prometheus" / "servicemonitor.yaml")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["kind"] == "ServiceMonitor"
    assert selects(monitor["spec"]["selector"]["matchLabels"], metrics["metadata"]["labels"])
    # The gRPC and REST Services carry the server's labels too: the monitor picks one Service.
    chosen = [
        obj["metadata"]["name"]
        for obj in build(BASE)
        if obj["kind"] == "Service"
        and selects(monitor["spec"]["selector"]["matchLabels"], obj["metadata"]["labels"])
    ]
    assert chosen == ["nomic-serve-metrics"]
    [endpoint] = monitor["spec"]["endpoints"]
    assert endpoint["port"] == port["name"] and endpoint["path"] == "/metrics"


def test_rest_service_reaches_the_sidecar() -> None:
    rest = find(build(BASE), "Service", "nomic-serve")["spec"]
    assert rest.get("type", "ClusterIP") == "ClusterIP" and rest.get("clusterIP") != "None"
    assert selects(rest["selector"], pod_labels(deployment()))
    [port] = rest["ports"]
    assert port_named(deployment(), port["targetPort"]) == ("envoy", settings().port)
    assert (
        container(deployment(), "envoy")["readinessProbe"]["tcpSocket"]["port"] == settings().port
    )


def _arg(args: list[str], flag: str) -> str:
    assert args.count(flag) == 1, f"{flag} given {args.count(flag)} times in {args}"
    return args[args.index(flag) + 1]


def test_gateway_upstream_is_the_headless_service() -> None:
    gateway = deployment(GATEWAY)
    init = container(gateway, "envoy-config", init=True)
    args = init["args"]
    assert args[:2] == ["nomic-serve-envoy-config", "--gateway"]
    assert _arg(args, "--bundle") == "/etc/nomic-serve/envoy"
    headless = find(build(BASE), "Service", "nomic-serve-grpc")
    [port] = headless["spec"]["ports"]
    expected = f"{headless['metadata']['name']}.$(POD_NAMESPACE).svc.cluster.local:{port['port']}"
    assert _arg(args, "--upstream") == expected
    # $(POD_NAMESPACE) is expanded by the kubelet from the container's own env.
    env = {e["name"]: e for e in init["env"]}
    assert env["POD_NAMESPACE"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    for reference in re.findall(r"\$\((\w+)\)", " ".join(args)):
        assert reference in env, f"$({reference}) is not defined in {init['name']}'s env"


def test_gateway_listeners_match_its_ports() -> None:
    gateway = deployment(GATEWAY)
    args = container(gateway, "envoy-config", init=True)["args"]
    listen = {
        "grpc": int(_arg(args, "--listen-grpc").rsplit(":", 1)[1]),
        "http": int(_arg(args, "--listen-rest").rsplit(":", 1)[1]),
    }
    envoy = container(gateway, "envoy")
    assert {p["name"]: p["containerPort"] for p in envoy["ports"]} == listen
    assert envoy["readinessProbe"]["tcpSocket"]["port"] in listen.values()
    service = find(build(GATEWAY), "Service", "nomic-serve-gateway")["spec"]
    assert selects(service["selector"], pod_labels(gateway))
    for port in service["ports"]:
        assert port_named(gateway, port["targetPort"]) == ("envoy", listen[port["name"]])


def test_envoy_runs_the_bundle_its_init_container_renders() -> None:
    for folder in (BASE, GATEWAY):
        d = deployment(folder)
        init, envoy = container(d, "envoy-config", init=True), container(d, "envoy")
        bundle = _arg(init["args"], "--bundle")
        assert _arg(envoy["args"], "-c") == f"{bundle}/envoy.yaml"
        assert envoy["image"].startswith(ENVOY_IMAGE)
        assert "--disable-hot-restart" in envoy["args"]  # no shared memory, no base-id clash
        mounts = {m["mountPath"]: m for m in init["volumeMounts"]}
        envoy_mounts = {m["mountPath"]: m for m in envoy["volumeMounts"]}
        assert mounts[bundle]["name"] == envoy_mounts[bundle]["name"]
        assert envoy_mounts[bundle].get("readOnly") is True


def test_selectors_keep_servers_and_gateways_apart() -> None:
    """The server's Services, budget and policy never select gateway pods, nor the reverse."""
    server, gateway = pod_labels(deployment()), pod_labels(deployment(GATEWAY))
    for objects, own, other in ((build(BASE), server, gateway), (build(GATEWAY), gateway, server)):
        for obj in objects:
            if obj["kind"] in ("ConfigMap", "PersistentVolumeClaim", "HorizontalPodAutoscaler"):
                continue
            selector = obj["spec"].get("selector") or obj["spec"].get("podSelector")
            assert selects(selector, own), f"{obj['kind']} {obj['metadata']['name']}"
            assert not selects(selector, other), f"{obj['kind']} {obj['metadata']['name']}"


def test_autoscaler_and_disruption_budget_guard_the_deployment() -> None:
    objects = build(BASE)
    hpa = find(objects, "HorizontalPodAutoscaler", "nomic-serve")["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "nomic-serve",
    }
    assert hpa["minReplicas"] >= 2 and hpa["maxReplicas"] > hpa["minReplicas"]
    assert hpa["behavior"]["scaleDown"]["stabilizationWindowSeconds"] > 0
    names = {c["name"] for c in deployment()["spec"]["template"]["spec"]["containers"]}
    for metric in hpa["metrics"]:
        if metric["type"] == "ContainerResource":
            assert metric["containerResource"]["container"] in names
    # The HPA owns the count: a `replicas` in the manifest would reset it on every apply.
    assert "replicas" not in deployment()["spec"]
    pdb = find(objects, "PodDisruptionBudget", "nomic-serve")["spec"]
    assert pdb.get("maxUnavailable", 0) == 1 or pdb.get("minAvailable", 0) >= 1
    gateway_pdb = find(build(GATEWAY), "PodDisruptionBudget", "nomic-serve-gateway")["spec"]
    assert deployment(GATEWAY)["spec"]["replicas"] > gateway_pdb["maxUnavailable"]


def test_network_policies_admit_the_service_ports() -> None:
    """Ingress is open on every port a Service targets (and only those); the gateway may
    reach the replicas' gRPC port; both may resolve DNS."""
    for folder in (BASE, GATEWAY):
        objects, d = build(folder), deployment(folder)
        [policy] = [o["spec"] for o in objects if o["kind"] == "NetworkPolicy"]
        assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
        targets = {
            port_named(d, p["targetPort"])[1]
            for s in objects
            if s["kind"] == "Service"
            for p in s["spec"]["ports"]
        }
        admitted = {p["port"] for rule in policy["ingress"] for p in rule["ports"]}
        assert admitted == targets
        dns = [r for r in policy["egress"] if "to" not in r]
        assert {(p["port"], p["protocol"]) for r in dns for p in r["ports"]} == {
            (53, "UDP"),
            (53, "TCP"),
        }
    [policy] = [o["spec"] for o in build(GATEWAY) if o["kind"] == "NetworkPolicy"]
    to_servers = [
        rule
        for rule in policy["egress"]
        for peer in rule.get("to", [])
        if selects(peer.get("podSelector", {}), pod_labels(deployment()))
    ]
    assert [p["port"] for r in to_servers for p in r["ports"]] == [settings().grpc_port]


def test_config_map_holds_only_server_settings() -> None:
    """A misspelt variable would be silently ignored by the server: every key is one of
    nomic_serve.config.ENVIRONMENT, and the values parse."""
    assert set(config()) <= set(ENVIRONMENT), set(config()) - set(ENVIRONMENT)
    settings()  # raises ConfigError on a bad value
    for folder in DEPLOYMENTS:
        for c in all_containers(deployment(folder)):
            for source in c.get("envFrom", []):
                assert source["configMapRef"]["name"] == CONFIG_MAP
            for variable in c.get("env", []):
                ref = variable.get("valueFrom", {}).get("configMapKeyRef")
                if ref:
                    assert ref["name"] == CONFIG_MAP and ref["key"] in config(), ref


# --- the pod's Envoy, run for real ----------------------------------------------------------

BIN = Path(sys.executable).parent


def _replace(args: list[str], values: dict[str, str]) -> list[str]:
    """`args` with the value after each flag of `values` replaced."""
    args = list(args)
    for flag, value in values.items():
        args[args.index(flag) + 1] = value
    return args


def _connection_header(port: int) -> str | None:
    """The `connection` header of a response on a keep-alive HTTP/1.1 connection (urllib
    would ask for `Connection: close` itself); the route is one Envoy answers from the
    bundle, so no server is needed."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/openapi.json")
        response = conn.getresponse()
        response.read()
        assert response.status == 200, response.status
        return response.getheader("connection")
    finally:
        conn.close()


@pytest.mark.e2e
@pytest.mark.parametrize("folder", (BASE, GATEWAY), ids=lambda p: p.name)
def test_pod_envoy_runs_its_bundle_and_drains_on_prestop(folder: Path, tmp_path: Path) -> None:
    """The init container's command renders the bundle (ConfigMap environment, local ports),
    Envoy starts on it with the manifest's args and serves from it; then the preStop hook, as
    written, drains it: every response now tells its client to reconnect elsewhere, Envoy keeps
    serving (it must outlive the server's drain), and the hook sleeps as long as the other tests
    assume (`sleep` is a stub that records its argument)."""
    d = deployment(folder)
    init, envoy_spec = container(d, "envoy-config", init=True), container(d, "envoy")
    rest_port, admin_port = free_port(), free_port()
    bundle = tmp_path / "bundle"
    mounted = _arg(init["args"], "--bundle")
    init_args = _replace(init["args"], {"--bundle": str(bundle)})
    if "--gateway" in init_args:
        init_args = _replace(
            init_args,
            {
                "--upstream": f"127.0.0.1:{free_port()}",
                "--listen-grpc": f"127.0.0.1:{free_port()}",
                "--listen-rest": f"127.0.0.1:{rest_port}",
            },
        )
    environment = {
        **os.environ,
        **config(),
        "PORT": str(rest_port),
        "REST_HOST": "127.0.0.1",
        "GRPC_PORT": str(free_port()),
        "ENVOY_ADMIN_PORT": str(admin_port),
    }
    assert init_args[0] == "nomic-serve-envoy-config"
    subprocess.run([str(BIN / init_args[0]), *init_args[1:]], env=environment, check=True)
    envoy_args = list(envoy_spec["args"])
    envoy_args[envoy_args.index("-c") + 1] = _arg(envoy_args, "-c").replace(mounted, str(bundle))
    envoy = subprocess.Popen(
        [str(BIN / "envoy"), *envoy_args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def answers() -> bool:
            assert envoy.poll() is None, envoy.stderr.read() if envoy.stderr else ""
            try:
                _connection_header(rest_port)
            except OSError:
                return False
            return True

        eventually_sync(answers, timeout=30)
        assert _connection_header(rest_port) is None, "keep-alive before the drain"
        stubs = tmp_path / "bin"
        stubs.mkdir()
        recorded = tmp_path / "slept"
        (stubs / "sleep").write_text(f'#!/bin/sh\necho "$@" > {recorded}\n')
        (stubs / "sleep").chmod(0o755)
        hook = subprocess.run(
            envoy_spec["lifecycle"]["preStop"]["exec"]["command"],
            env={
                "PATH": f"{stubs}{os.pathsep}{os.environ['PATH']}",
                "ENVOY_ADMIN_PORT": str(admin_port),
            },
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert hook.returncode == 0, hook.stderr
        assert float(recorded.read_text()) == prestop_sleep(envoy_spec)
        assert _connection_header(rest_port) == "close"
        assert envoy.poll() is None, "Envoy exited on the drain; it must wait for SIGTERM"
    finally:
        envoy.terminate()
        envoy.communicate(timeout=30)
