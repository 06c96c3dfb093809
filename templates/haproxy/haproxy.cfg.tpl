# labforge: written at `up` from templates/haproxy/haproxy.cfg.tpl. HAProxy runs in the
# foreground as the lab's user (no daemon, no pidfile, no chroot), logs to stdout (the lab log).
global
    log stdout format raw local0 info
    maxconn 256

defaults
    mode http
    log global
    option httplog
    option dontlognull
    option forwardfor
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout http-request 10s
    timeout http-keep-alive 2s
    timeout queue 5s
    timeout check 1s
    # A connection refused by a stopped instance (or closed without a reply) is retried on
    # another instance; a request that got a late reply is never replayed.
    retries 2
    option redispatch 1
    retry-on conn-failure empty-response

frontend api
    bind {{HOST}}:{{PORT}}
    default_backend api

backend api
    balance roundrobin
    # An instance is down after 2 failed checks 500 ms apart, up again after 1 good one.
    option httpchk GET /health
    http-check expect status 200
    default-server inter 500ms fastinter 250ms downinter 1s fall 2 rise 1
{{SERVERS}}
{{STATS}}
