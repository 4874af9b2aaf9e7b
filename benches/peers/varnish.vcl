# Varnish as a peer in scripts/bench.sh (started with one thread pool, malloc storage,
# no log reader): caches the detail for 10 minutes from the origin (the bench's ceiling,
# a bare server of the gateway's masked body), whatever the origin's Cache-Control, Vary
# or Cache-Status say, as nginx's proxy_ignore_headers does; the Cache-Status a client
# sees is Varnish's own. The script fills @ORIGIN_HOST@ and @ORIGIN_PORT@.
vcl 4.1;

backend origin {
  .host = "@ORIGIN_HOST@";
  .port = "@ORIGIN_PORT@";
}

sub vcl_recv {
  if (req.method != "GET" && req.method != "HEAD") {
    return (pass);
  }
  return (hash);
}

sub vcl_backend_response {
  unset beresp.http.Cache-Status;
  unset beresp.http.Set-Cookie;
  unset beresp.http.Vary;
  set beresp.ttl = 10m;
  return (deliver);
}

sub vcl_deliver {
  if (obj.hits > 0) {
    set resp.http.Cache-Status = "varnish; hit";
  } else {
    set resp.http.Cache-Status = "varnish; fwd=miss";
  }
}
