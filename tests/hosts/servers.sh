#!/usr/bin/env bash
# Extra real servers for the mtls_check matrix (tests/integration/test_mtls_matrix.py), beside the
# nginx stand-in (standin.sh). Everything listens on 127.0.0.1 only, runs in the foreground under
# `timeout` (a bounded lifetime: leftovers die by themselves after TTL seconds) and keeps its
# config, pid and log files under DIR.
#
# Usage: servers.sh start|stop DIR PKI PORT_BASE [TTL]     (TTL defaults to 900 s)
#   PORT_BASE    openssl s_server, TLS 1.3 only, -Verify: rejects a missing or untrusted client
#                certificate with a TLS alert (after the handshake, on the client's first read)
#   PORT_BASE+1  the same, TLS 1.2 only (the alert ends the handshake)
#   PORT_BASE+2  openssl s_server, TLS 1.1 only, no client certificate (no shared version)
#   PORT_BASE+3  nginx, TLS 1.2 only, mTLS: GET / 200; POST /vipuserservices/QueryService_1_8
#                answers getServerTime with status 0001 (an application error); /close drops the
#                connection without an answer (nginx's 444)
#   PORT_BASE+4  TCP listener that accepts and never says a word (timeout after connecting)
#   PORT_BASE+5  TCP listener whose accept queue is full: SYNs are dropped (connect timeout)
#   PORT_BASE+6  tinyproxy allowing CONNECT from 127.0.0.1 to the ports given in ALLOW_PORTS
#   PORT_BASE+7  tinyproxy refusing CONNECT to every port (403)
#   PORT_BASE+8  nothing (a closed port)
# Server certificates and the client CA come from PKI (made by make_pki.py).
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR PKI PORT_BASE [TTL]" >&2; exit 2; }
(($# >= 2)) || usage
ACTION=$1
DIR=$2
PKI=${3:-}
BASE=${4:-0}
TTL=${5:-900}
NAMES=(s13 s12 s11 nginx silent full proxy-allow proxy-deny)

pid_of() {
    # The pid of a server started here, only if it is alive and still our `timeout` wrapper.
    local pid
    [[ -s $DIR/$1.pid ]] || return 1
    pid=$(<"$DIR/$1.pid")
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
        [[ $(cat "/proc/$pid/comm" 2>/dev/null) == timeout ]] || return 1
    echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

launch() { # name command...
    local name=$1
    shift
    # timeout makes itself a process group leader: stop kills the group, server and all.
    timeout --kill-after=5 "$TTL" "$@" </dev/null >"$DIR/$name.log" 2>&1 &
    echo $! >"$DIR/$name.pid"
}

s_server() { # name port extra-args...
    local name=$1 port=$2
    shift 2
    launch "$name" openssl s_server -quiet -www -accept "127.0.0.1:$port" \
        -cert "$PKI/server.crt" -key "$PKI/server.key" -cert_chain "$PKI/intermediate-ca.crt" "$@"
}

write_nginx() {
    local port=$1
    # shellcheck disable=SC2016  # $request_id and $time_iso8601 are nginx variables
    local soap='<?xml version="1.0" encoding="UTF-8"?>
<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><GetServerTimeResponse xmlns="https://schemas.symantec.com/vip/2011/04/vipuserservices"><requestId>$request_id</requestId><status>0001</status><statusMessage>Internal error (matrix)</statusMessage></GetServerTimeResponse></S:Body></S:Envelope>
'
    mkdir -p "$DIR/nginx/logs" "$DIR/nginx/tmp"
    cat >"$DIR/nginx/nginx.conf" <<EOF
user root;
worker_processes 1;
daemon off;
pid $DIR/nginx/nginx.pid;
error_log $DIR/nginx/logs/error.log info;
events {
    worker_connections 64;
}
http {
    access_log $DIR/nginx/logs/access.log;
    client_body_temp_path $DIR/nginx/tmp/body;
    proxy_temp_path       $DIR/nginx/tmp/proxy;
    fastcgi_temp_path     $DIR/nginx/tmp/fastcgi;
    uwsgi_temp_path       $DIR/nginx/tmp/uwsgi;
    scgi_temp_path        $DIR/nginx/tmp/scgi;
    default_type text/plain;
    server {
        listen 127.0.0.1:$port ssl;
        server_name vip-standin.test;
        ssl_protocols TLSv1.2;
        ssl_certificate     $PKI/server-fullchain.crt;
        ssl_certificate_key $PKI/server.key;
        ssl_client_certificate $PKI/client-ca.crt;
        ssl_verify_client on;
        location / {
            return 200 "vip-matrix tls1.2 ok\n";
        }
        location = /close {
            return 444;
        }
        location = /vipuserservices/QueryService_1_8 {
            default_type text/xml;
            return 200 '$soap';
        }
    }
}
EOF
}

write_listener() {
    cat >"$DIR/listener.py" <<'EOF'
"""silent PORT: accept and never answer. full PORT: fill the accept queue, never accept."""
import socket
import sys
import time

mode, port = sys.argv[1], int(sys.argv[2])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
held = []
if mode == "full":
    srv.listen(0)
    # One connection fills a backlog of 0; the kernel then drops every further SYN.
    held.append(socket.create_connection(("127.0.0.1", port)))
    open(sys.argv[3], "w").close()
    while True:
        time.sleep(60)
srv.listen(16)
while True:
    conn, _ = srv.accept()
    held.append(conn)  # keep it open, say nothing
EOF
}

write_proxy() { # name port connect-ports...
    local name=$1 port=$2 p
    shift 2
    {
        echo "User nobody"
        echo "Group nogroup"
        echo "Port $port"
        echo "Listen 127.0.0.1"
        echo "Timeout 30"
        echo "MaxClients 20"
        echo "Allow 127.0.0.1"
        echo "LogLevel Info"
        for p in "$@"; do echo "ConnectPort $p"; done
    } >"$DIR/$name.conf"
}

start() {
    [[ -n $PKI && -e $PKI/done && $BASE =~ ^[0-9]+$ && $TTL =~ ^[0-9]+$ ]] || usage
    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd)
    PKI=$(cd "$PKI" && pwd)
    stop
    local verify=(-Verify 1 -verify_return_error -CAfile "$PKI/client-ca.crt")
    s_server s13 "$BASE" -tls1_3 "${verify[@]}"
    s_server s12 $((BASE + 1)) -tls1_2 "${verify[@]}"
    s_server s11 $((BASE + 2)) -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
    write_nginx $((BASE + 3))
    launch nginx /usr/sbin/nginx -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -e "$DIR/nginx/logs/error.log"
    write_listener
    launch silent python3 "$DIR/listener.py" silent $((BASE + 4))
    rm -f "$DIR/full.ready"
    launch full python3 "$DIR/listener.py" full $((BASE + 5)) "$DIR/full.ready"
    # ALLOW_PORTS: the ports the allowing proxy may CONNECT to (default: this script's servers)
    # shellcheck disable=SC2086
    write_proxy proxy-allow $((BASE + 6)) ${ALLOW_PORTS:-$BASE $((BASE + 1)) $((BASE + 3))}
    write_proxy proxy-deny $((BASE + 7)) 1
    launch proxy-allow tinyproxy -d -c "$DIR/proxy-allow.conf"
    launch proxy-deny tinyproxy -d -c "$DIR/proxy-deny.conf"
    local port i
    for port in $BASE $((BASE + 1)) $((BASE + 2)) $((BASE + 3)) $((BASE + 4)) $((BASE + 6)) $((BASE + 7)); do
        for ((i = 0; i < 50; i++)); do
            port_open "$port" && continue 2
            sleep 0.1
        done
        echo "servers: port $port not accepting connections; logs in $DIR" >&2
        tail -n 3 "$DIR"/*.log >&2 || true
        stop
        exit 1
    done
    for ((i = 0; i < 50; i++)); do
        [[ -e $DIR/full.ready ]] && break
        sleep 0.1
    done
    [[ -e $DIR/full.ready ]] || { echo "servers: full listener not ready" >&2; stop; exit 1; }
    if port_open $((BASE + 8)); then
        echo "servers: port $((BASE + 8)) should be closed but accepts connections" >&2
        stop
        exit 1
    fi
}

stop() {
    local name pid i
    for name in "${NAMES[@]}"; do
        pid=$(pid_of "$name") || { rm -f "$DIR/$name.pid"; continue; }
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
        rm -f "$DIR/$name.pid"
    done
}

case $ACTION in
    start) start ;;
    stop) stop ;;
    *) usage ;;
esac
