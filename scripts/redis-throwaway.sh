# Source this file: redis_throwaway_start starts a private Redis on 127.0.0.1 (a free port,
# no persistence, a temporary folder) and exports CELERY_BROKER_URL; redis_throwaway_stop ends it.
redis_throwaway_start() {
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "redis-throwaway: no redis-server found (apt-get install redis-server)" >&2
    return 1
  fi
  REDIS_THROWAWAY_DIR=$(mktemp -d /tmp/redisci.XXXXXX)
  REDIS_THROWAWAY_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  redis-server --bind 127.0.0.1 --port "$REDIS_THROWAWAY_PORT" --save "" --appendonly no \
    --dir "$REDIS_THROWAWAY_DIR" --daemonize yes --pidfile "$REDIS_THROWAWAY_DIR/redis.pid" \
    --logfile "$REDIS_THROWAWAY_DIR/log" >/dev/null
  for _ in $(seq 50); do
    redis-cli -p "$REDIS_THROWAWAY_PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  export CELERY_BROKER_URL="redis://127.0.0.1:${REDIS_THROWAWAY_PORT}/0"
}

redis_throwaway_stop() {
  if [ -n "${REDIS_THROWAWAY_DIR:-}" ] && [ -f "$REDIS_THROWAWAY_DIR/redis.pid" ]; then
    kill "$(cat "$REDIS_THROWAWAY_DIR/redis.pid")" 2>/dev/null || true
    sleep 0.2
    rm -rf "$REDIS_THROWAWAY_DIR"
  fi
}
