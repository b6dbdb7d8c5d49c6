# The services .ci/run starts for the test suite, each on 127.0.0.1 on a port of its own,
# with its files under $CI_WORK: PostgreSQL, Redis (no persistence), PgBouncer in
# transaction pooling mode in front of that PostgreSQL, and MariaDB. Run as root.
#
#   export CI_WORK=$(mktemp -d); source .ci/services.sh; start_postgres; start_redis
#   bash .ci/services.sh stop_postgres        # one function, as the faults tests call them
#
# Ports can be moved with PG_PORT, PGBOUNCER_PORT, REDIS_PORT and MARIADB_PORT.

: "${CI_WORK:?CI_WORK must name a directory for the files of the services}"
PG_PORT=${PG_PORT:-54329}
PGBOUNCER_PORT=${PGBOUNCER_PORT:-64329}
REDIS_PORT=${REDIS_PORT:-63799}
MARIADB_PORT=${MARIADB_PORT:-33069}
export PG_PORT PGBOUNCER_PORT REDIS_PORT MARIADB_PORT

# The URLs the passes use.
POSTGRES_URL="postgres://postgres@127.0.0.1:$PG_PORT/refreshauth"
PGBOUNCER_URL="postgres://postgres@127.0.0.1:$PGBOUNCER_PORT/refreshauth?disable_server_side_cursors=1"
REDIS_URL_CI="redis://127.0.0.1:$REDIS_PORT/0"
MARIADB_URL="mysql://refreshauth:refreshauth@127.0.0.1:$MARIADB_PORT/refreshauth"

pg_bin() {
    ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1
}

wait_for() {  # wait_for <what> <command...>: up to 30 s for the command to succeed
    local what=$1
    shift
    for _ in $(seq 300); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "ci: $what did not start" >&2
    return 1
}

# --- PostgreSQL ---------------------------------------------------------------------

init_postgres() {
    mkdir -p "$CI_WORK/pg" && chown postgres "$CI_WORK/pg"
    su postgres -c "$(pg_bin)/initdb -D $CI_WORK/pg -A trust -U postgres" >/dev/null
    start_postgres
    psql "postgres://postgres@127.0.0.1:$PG_PORT/postgres" -qc "CREATE DATABASE refreshauth"
}

start_postgres() {
    su postgres -c "$(pg_bin)/pg_ctl -D $CI_WORK/pg -l $CI_WORK/pg/server.log -w start \
        -o '-p $PG_PORT -k $CI_WORK/pg -c listen_addresses=127.0.0.1 -c max_connections=300 \
            -c fsync=off'" >/dev/null
}

stop_postgres() {  # a fast shutdown: open transactions are rolled back, clients cut off
    su postgres -c "$(pg_bin)/pg_ctl -D $CI_WORK/pg -m fast -w stop" >/dev/null
}

# --- Redis --------------------------------------------------------------------------

start_redis() {
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
        --daemonize yes --maxmemory-policy noeviction --dir "$CI_WORK" \
        --pidfile "$CI_WORK/redis.pid" --logfile "$CI_WORK/redis.log"
    wait_for Redis redis-cli -p "$REDIS_PORT" ping
}

stop_redis() {  # without saving: it comes back empty, as a Redis without persistence does
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    for _ in $(seq 100); do
        redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 || return 0
        sleep 0.1
    done
}

# --- PgBouncer ----------------------------------------------------------------------

start_pgbouncer() {
    local dir=$CI_WORK/pgbouncer
    mkdir -p "$dir"
    # Any database name goes to the PostgreSQL above (test databases included);
    # transaction pooling: a server connection is a client's for one transaction only.
    cat >"$dir/pgbouncer.ini" <<EOF
[databases]
* = host=127.0.0.1 port=$PG_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGBOUNCER_PORT
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
admin_users = postgres
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 40
max_db_connections = 100
server_idle_timeout = 5
ignore_startup_parameters = extra_float_digits
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
    echo '"postgres" ""' >"$dir/userlist.txt"
    chown -R postgres "$dir"
    # PgBouncer refuses to run as root: -u drops to the postgres user.
    pgbouncer -d -u postgres "$dir/pgbouncer.ini"
    wait_for PgBouncer psql "postgres://postgres@127.0.0.1:$PGBOUNCER_PORT/postgres" -qc "SELECT 1"
}

stop_pgbouncer() {
    local pidfile=$CI_WORK/pgbouncer/pgbouncer.pid
    if [ -f "$pidfile" ]; then
        kill "$(cat "$pidfile")" 2>/dev/null || true
    fi
}

# --- MariaDB ------------------------------------------------------------------------

start_mariadb() {
    local dir=$CI_WORK/mariadb
    mkdir -p "$dir"
    mariadb-install-db --no-defaults --user=root --datadir="$dir/data" \
        --auth-root-authentication-method=socket --skip-test-db >"$dir/install.log" 2>&1
    # READ COMMITTED, as the example project sets per connection; utf8mb4 throughout.
    mariadbd --no-defaults --user=root --datadir="$dir/data" --socket="$dir/mariadb.sock" \
        --port="$MARIADB_PORT" --bind-address=127.0.0.1 --skip-name-resolve \
        --pid-file="$dir/mariadb.pid" --log-error="$dir/error.log" --skip-log-bin \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
        --transaction-isolation=READ-COMMITTED --max-connections=500 \
        --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2 \
        </dev/null >/dev/null 2>&1 &
    wait_for MariaDB mariadb-admin --socket="$dir/mariadb.sock" -uroot ping
    # A user that may create the test databases (test_refreshauth, ...).
    mariadb --socket="$dir/mariadb.sock" -uroot <<EOF
CREATE USER 'refreshauth'@'127.0.0.1' IDENTIFIED BY 'refreshauth';
GRANT ALL PRIVILEGES ON *.* TO 'refreshauth'@'127.0.0.1';
CREATE DATABASE refreshauth CHARACTER SET utf8mb4;
EOF
}

stop_mariadb() {
    local dir=$CI_WORK/mariadb
    if [ -S "$dir/mariadb.sock" ]; then
        mariadb-admin --socket="$dir/mariadb.sock" -uroot shutdown >/dev/null 2>&1 || true
    fi
    if [ -f "$dir/mariadb.pid" ]; then
        kill "$(cat "$dir/mariadb.pid")" 2>/dev/null || true
    fi
}

stop_all() {
    stop_pgbouncer
    stop_mariadb
    if [ -f "$CI_WORK/pg/postmaster.pid" ]; then
        su postgres -c "$(pg_bin)/pg_ctl -D $CI_WORK/pg -m immediate stop" >/dev/null 2>&1 || true
    fi
    if command -v redis-cli >/dev/null 2>&1; then
        redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    "$@"
fi
