# Sourced by the scripts that run a README recipe as written (host-recipe.sh,
# tls-recipe.sh): finds or builds the binary and puts it on PATH (the recipes
# call `paycombat-gateway` by name, as an installed binary), extracts the shell
# block after a `<!-- MARKER -->` line, moves its loopback ports to free ones,
# and runs it with every process it starts stopped (TERM, then KILL after
# 10 s), whatever happens. The recipe's output is in "$out" afterwards.

recipe_binary() {
  local bin=${PAYCOMBAT_GATEWAY_BIN:-target/debug/paycombat-gateway}
  if [ -z "${PAYCOMBAT_GATEWAY_BIN:-}" ]; then
    cargo build --locked --quiet --bin paycombat-gateway
  fi
  [ -x "$bin" ] || { echo "no binary at $bin" >&2; exit 1; }
  PATH="$(cd "$(dirname "$bin")" && pwd):$PATH"
  export PATH
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
    echo $((20000 + RANDOM % 40000))
}

# recipe_run MARKER NAME API_PORT: the README block under MARKER, with the sandbox
# (8081), the API listener (API_PORT, on 127.0.0.1 and localhost) and the admin
# listener (9090) moved to free ports.
recipe_run() {
  local marker=$1 name=$2 api_default=$3 block status
  block=$(awk -v marker="<!-- $marker -->" '$0 == marker { armed = 1; next }
               armed && /^```sh$/ { inside = 1; next }
               inside && /^```$/ { exit }
               inside { print }' README.md)
  [ -n "$block" ] || { echo "README.md has no $marker block" >&2; exit 1; }
  sandbox_port=$(free_port) api_port=$(free_port) admin_port=$(free_port)
  block=$(printf '%s\n' "$block" | sed -e "s/127\.0\.0\.1:8081/127.0.0.1:$sandbox_port/g" \
    -e "s/127\.0\.0\.1:$api_default/127.0.0.1:$api_port/g" -e "s/localhost:$api_default/localhost:$api_port/g" \
    -e "s/127\.0\.0\.1:9090/127.0.0.1:$admin_port/g")
  out=$(mktemp)
  recipe_home=$PWD
  trap recipe_stop EXIT
  trap 'exit 143' TERM INT
  echo "running the README $name (sandbox :$sandbox_port, gateway :$api_port, admin :$admin_port)"
  status=0
  eval "$block" >"$out" 2>&1 || status=$?
  cat "$out"
  if [ "$status" -ne 0 ]; then
    echo "the recipe failed (exit $status)" >&2
    [ -n "${DIR:-}" ] && tail -n 20 "$DIR"/*.log >&2 2>/dev/null
    exit 1
  fi
}

recipe_stop() {
  local pid
  for pid in ${GATEWAY_PID:-} ${SANDBOX_PID:-}; do
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  cd "$recipe_home"
  [ -n "${DIR:-}" ] && rm -rf "$DIR"
  rm -f "$out"
}
