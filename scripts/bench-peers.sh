# Sourced by scripts/bench.sh once the ceiling runs: starts the caching peers on the
# server core, each in front of the ceiling (a bare server of the gateway's masked body
# and headers), and checks that each one's second read is a hit from its own cache and
# the gateway's body. Sets NGINX/HAPROXY/VARNISH (1 when running) and the pids measured:
# NGINX_OFF_PID, NGINX_LOG_PID, HAPROXY_PID, VARNISH_PID. Uses bench.sh's start,
# wait_http, die, log, have_peer and its addresses.
# shellcheck shell=bash
# shellcheck disable=SC2154  # the variables come from bench.sh

# A peer's second read must be a hit from its own cache (its own Cache-Status).
peer_hit() { # name addr
  curl -fsS -o /dev/null "http://$2$DETAIL/$FIXTURE_ID"
  curl -fsS -D "$RUN/$1.headers" -o "$RUN/$1.body" "http://$2$DETAIL/$FIXTURE_ID"
  [[ $(grep -ci '^cache-status:' "$RUN/$1.headers") == 1 ]] && grep -qi '^cache-status:.*hit' "$RUN/$1.headers" ||
    die "$1: second read of the fixture was not a hit from its cache ($RUN/$1.headers)"
  cmp -s "$RUN/$1.body" "$RUN/hit.body" || die "$1 does not serve the gateway's body"
}

# nginx proxy_cache as a peer: one worker on the server core, keep-alive to the
# origin (the ceiling: the gateway's masked body), proxy_cache_lock on; the origin's
# Cache-Control is overridden so the detail is cached as the gateway caches it (no
# client auth).
start_nginx() { # name listen access_log-directive
  local dir=$RUN/$1 user=""
  (( EUID == 0 )) && user="user root;"
  mkdir -p "$dir/cache" "$dir/tmp"
  cat >"$dir/nginx.conf" <<NGINXCONF
worker_processes 1;
$user
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  client_body_temp_path $dir/tmp; proxy_temp_path $dir/tmp; fastcgi_temp_path $dir/tmp;
  uwsgi_temp_path $dir/tmp; scgi_temp_path $dir/tmp;
  log_format json escape=json '{"time":"\$time_iso8601","request_id":"\$request_id","method":"\$request_method",'
    '"uri":"\$uri","status":\$status,"cache":"\$upstream_cache_status","upstream_status":"\$upstream_status",'
    '"upstream_time":"\$upstream_response_time","duration":\$request_time,"bytes_in":\$request_length,'
    '"bytes_out":\$bytes_sent,"peer":"\$remote_addr"}';
  keepalive_requests 1000000;
  proxy_cache_path $dir/cache keys_zone=detail:16m max_size=64m inactive=10m;
  upstream origin { server $CEILING_ADDR; keepalive 32; }
  server {
    listen $2 backlog=4096;
    $3
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_hide_header Cache-Status;
      proxy_cache detail;
      proxy_cache_lock on;
      proxy_cache_valid 200 10m;
      proxy_ignore_headers Cache-Control Expires Set-Cookie Vary;
      add_header Cache-Status \$upstream_cache_status;
    }
  }
}
NGINXCONF
  start "$1" nginx -p "$dir" -c "$dir/nginx.conf" -g "daemon off;"
  wait_http "$1" "http://$2$DETAIL/$FIXTURE_ID"
}
# The worker serves; the master (last in PIDS) supervises; both are measured (the
# cache loader exits after a minute, the cache manager idles).
nginx_pids() {
  local c
  for c in $(cat "/proc/$1/task/$1/children"); do
    tr '\0' ' ' <"/proc/$c/cmdline" | grep -q 'worker process' && echo -n "$c "
  done
  echo "$1"
}
NGINX=0
if have_peer nginx nginx; then
  NGINX=1
  start_nginx nginx-off "$NGINX_OFF_ADDR" "access_log off;"
  NGINX_OFF_PID=$(nginx_pids "${PIDS[-1]}")
  start_nginx nginx-log "$NGINX_LOG_ADDR" "access_log $RUN/nginx-log/access.log json buffer=64k flush=1s;"
  NGINX_LOG_PID=$(nginx_pids "${PIDS[-1]}")
  peer_hit nginx-off "$NGINX_OFF_ADDR"
else
  log "nginx not found: the nginx rows are skipped (apt-get install -y nginx)"
fi
# Placeholders in the peers' configs (benches/peers/) filled in for this run.
peer_config() { # template out
  sed -e "s|@LISTEN@|$3|g" -e "s|@ORIGIN@|$CEILING_ADDR|g" \
    -e "s|@ORIGIN_HOST@|${CEILING_ADDR%:*}|g" -e "s|@ORIGIN_PORT@|${CEILING_ADDR##*:}|g" "$1" >"$2"
}
# The process that serves, then the process supervising it (both measured).
children_and() { echo "$(cat "/proc/$1/task/$1/children" 2>/dev/null) $1"; }
HAPROXY=0
if have_peer haproxy haproxy; then
  HAPROXY=1
  peer_config "$ROOT/benches/peers/haproxy.cfg" "$RUN/haproxy.cfg" "$HAPROXY_ADDR"
  haproxy -c -q -f "$RUN/haproxy.cfg" || die "haproxy rejects $RUN/haproxy.cfg"
  start haproxy haproxy -db -f "$RUN/haproxy.cfg"
  HAPROXY_PID=${PIDS[-1]}
  wait_http haproxy "http://$HAPROXY_ADDR$DETAIL/$FIXTURE_ID"
  peer_hit haproxy "$HAPROXY_ADDR"
else
  log "haproxy not found: its row is skipped (apt-get install -y haproxy)"
fi
VARNISH=0
if have_peer varnishd varnish; then
  VARNISH=1
  peer_config "$ROOT/benches/peers/varnish.vcl" "$RUN/varnish.vcl" "$VARNISH_ADDR"
  mkdir -p "$RUN/varnish"
  # -j none: no privilege-separation jail (the run's files belong to whoever runs it);
  # one thread pool, 64 MiB of malloc storage like the others' caches; no log reader.
  start varnish varnishd -F -j none -n "$RUN/varnish" -a "$VARNISH_ADDR" -f "$RUN/varnish.vcl" \
    -T none -s malloc,64m -p thread_pools=1
  VARNISH_PID=${PIDS[-1]}
  wait_http varnish "http://$VARNISH_ADDR$DETAIL/$FIXTURE_ID"
  VARNISH_PID=$(children_and "$VARNISH_PID")
  peer_hit varnish "$VARNISH_ADDR"
else
  log "varnishd not found: its row is skipped (apt-get install -y varnish)"
fi
