# Source this file: pg_throwaway_start starts a private PostgreSQL cluster on 127.0.0.1
# (trust auth, temporary data folder) and exports TEST_DATABASE_URL; pg_throwaway_stop ends it.
pg_throwaway_start() {
  local bindir
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bindir" ]; then
    echo "pg-throwaway: no PostgreSQL server found (apt-get install postgresql)" >&2
    return 1
  fi
  PG_THROWAWAY_DIR=$(mktemp -d /tmp/pgci.XXXXXX)
  PG_THROWAWAY_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  local as=()
  # PostgreSQL refuses to run as root: use the postgres system user when we are root.
  if [ "$(id -u)" = "0" ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$PG_THROWAWAY_DIR"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$bindir/initdb" -D "$PG_THROWAWAY_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  "${as[@]}" "$bindir/pg_ctl" -D "$PG_THROWAWAY_DIR/data" -l "$PG_THROWAWAY_DIR/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PG_THROWAWAY_PORT -k $PG_THROWAWAY_DIR -c fsync=off -c max_connections=200" start >/dev/null
  PG_THROWAWAY_BIN=$bindir
  PG_THROWAWAY_AS="${as[*]}"
  export TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:${PG_THROWAWAY_PORT}/postgres"
}

pg_throwaway_stop() {
  if [ -n "${PG_THROWAWAY_DIR:-}" ] && [ -d "$PG_THROWAWAY_DIR" ]; then
    $PG_THROWAWAY_AS "$PG_THROWAWAY_BIN/pg_ctl" -D "$PG_THROWAWAY_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_THROWAWAY_DIR"
  fi
}
