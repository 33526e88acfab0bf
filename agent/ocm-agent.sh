OCM_AGENT_VERSION="0.1.1"
# shellcheck shell=bash
#
# ocm-agent: the node-side half of OCM. OCM uploads this one file to every node and runs
#   bash ocm-agent.sh [--state-dir <dir>] <verb> [args...]
# over SSH (or locally). Every verb prints exactly one JSON object on stdout (except `backup`,
# which streams a tar), diagnostics go to stderr, and a non-zero exit means failure.
#
# Portability is the point: bash 3.2 (macOS) and bash 5 (Linux), BSD and GNU tools, no jq, no
# TTY. So: no associative arrays, no readarray, no ${x,,}, no GNU-only flags without a fallback.
# Input never reaches a shell string: arguments are passed as argument vectors, full stop.

export LC_ALL=C # byte semantics for pattern matching, sorting and the awk JSON reader
umask 022

# ---------------------------------------------------------------------------------------------
# Output and failure

# JSON string literal for $1 (RFC 8259 escaping; bytes >= 0x80 pass through as-is).
json_str() {
  local s=$1 i c hex
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  case $s in
    *[$'\001'-$'\037']*)
      i=1
      while [ "$i" -le 31 ]; do
        hex=$(printf '%02x' "$i")
        # shellcheck disable=SC2059 # the format is the escape being built
        c=$(printf "\\x$hex")
        s=${s//$c/\\u00$hex}
        i=$((i + 1))
      done
      ;;
  esac
  printf '"%s"' "$s"
}

# A JSON string for $1, or null when it is empty.
json_str_or_null() {
  if [ -n "$1" ]; then json_str "$1"; else printf 'null'; fi
}

# A JSON number for $1 when it looks like one, else null.
json_num_or_null() {
  case $1 in
    '' | *[!0-9.-]* | *.*.* | -*-* | ?*-*) printf 'null' ;;
    *) printf '%s' "$1" ;;
  esac
}

json_bool() {
  if [ "$1" = 1 ] || [ "$1" = true ]; then printf 'true'; else printf 'false'; fi
}

say() { printf '%s\n' "ocm-agent: $*" >&2; }

# Print {"error": msg} on stdout, the message on stderr, and exit with $2 (default 1).
fail() {
  say "$1"
  printf '{"error":%s}\n' "$(json_str "$1")"
  exit "${2:-1}"
}

# ---------------------------------------------------------------------------------------------
# Small portable tools

have() { command -v "$1" >/dev/null 2>&1; }

# `stat` differs between GNU (-c) and BSD (-f); decide once.
STAT_FLAVOUR=
stat_flavour() {
  if [ -z "$STAT_FLAVOUR" ]; then
    if stat -c %s / >/dev/null 2>&1; then STAT_FLAVOUR=gnu; else STAT_FLAVOUR=bsd; fi
  fi
}
# "<size> <mtime>" per existing file among "$@" (following symlinks), one line each.
file_stamp() {
  stat_flavour
  if [ "$STAT_FLAVOUR" = gnu ]; then stat -L -c '%s %Y' "$@" 2>/dev/null; else stat -L -f '%z %m' "$@" 2>/dev/null; fi
}

sha256_of() {
  local out
  if have sha256sum; then
    out=$(sha256sum <"$1") || return 1
  elif have shasum; then
    out=$(shasum -a 256 <"$1") || return 1
  elif have openssl; then
    out=$(openssl dgst -sha256 <"$1") || return 1
    out=${out##*= }
  else
    return 1
  fi
  printf '%s' "${out%% *}"
}

# Run "$@" with a time limit of $1 seconds; 124 when it ran out (like GNU timeout).
run_with_timeout() {
  local limit=$1
  shift
  if have timeout; then
    timeout "$limit" "$@"
    return $?
  fi
  # macOS has no timeout(1): a watchdog that exits by itself once the command is gone, with its
  # descriptors closed so it never holds a caller's pipe open.
  "$@" &
  local pid=$!
  (
    waited=0
    while kill -0 "$pid" 2>/dev/null; do
      if [ "$waited" -ge "$limit" ]; then
        kill -TERM "$pid" 2>/dev/null
        sleep 2
        kill -KILL "$pid" 2>/dev/null
        exit 0
      fi
      sleep 1
      waited=$((waited + 1))
    done
  ) </dev/null >/dev/null 2>&1 &
  local watchdog=$!
  wait "$pid"
  local rc=$?
  kill "$watchdog" 2>/dev/null
  wait "$watchdog" 2>/dev/null
  if [ "$rc" -eq 143 ] || [ "$rc" -eq 137 ]; then return 124; fi
  return "$rc"
}

# Is the process alive? A zombie is not: kill -0 succeeds on one until its new parent (often a
# slow init) reaps it, which would make a stopped gateway look running.
pid_alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local stat rest
  if [ -r "/proc/$1/stat" ]; then
    read -r stat <"/proc/$1/stat" 2>/dev/null || return 1
    rest=${stat##*) }
    case $rest in Z* | X*) return 1 ;; esac
    return 0
  fi
  stat=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  case $stat in *Z*) return 1 ;; esac
  return 0
}

# UTC timestamp that is safe in file names and git refs.
utc_stamp() { date -u +%Y-%m-%dT%H-%M-%SZ; }

# ---------------------------------------------------------------------------------------------
# A small JSON reader in awk (macOS nodes have no jq). Two modes:
#   json_get <path>  : stdin holds a command's output; the first line-leading JSON value in it is
#                      parsed strictly and the raw text of the value at <path> (dot-separated keys
#                      and array indexes, "" = the whole value) is printed. Exit 1: path absent,
#                      3: no JSON found.
#   json5_get <path> : the same for a JSON5 document (the OpenClaw config) starting at byte 1.
#   json5_check      : stdin must be exactly one JSON5 value (comments, trailing commas, unquoted
#                      keys, single quotes...). Exit 0 when it parses, 2 with a reason otherwise.
# shellcheck disable=SC2016 # an awk program: its $ are awk's
JSON_AWK='
function fail(m) { if (E == "") E = m " at byte " P; return 0 }
function ws(   c) {
  while (P <= N) {
    c = C[P]
    if (c == " " || c == "\t" || c == "\n" || c == "\r") { P++; continue }
    if (J5 && c == "/" && C[P + 1] == "/") { while (P <= N && C[P] != "\n") P++; continue }
    if (J5 && c == "/" && C[P + 1] == "*") {
      P += 2
      while (P <= N && !(C[P] == "*" && C[P + 1] == "/")) P++
      if (P > N) return fail("unterminated comment")
      P += 2; continue
    }
    break
  }
  return 1
}
function str(   q, c) {
  q = C[P]; P++
  while (P <= N) {
    c = C[P]
    if (c == "\\") { P += 2; continue }
    if (c == q) { P++; return 1 }
    if (!J5 && c < " ") return fail("control character in string")
    if (c == "\n") return fail("newline in string")
    P++
  }
  return fail("unterminated string")
}
function lit(w,   l) {
  l = length(w)
  if (substr(BUF, P, l) == w) { P += l; return 1 }
  return fail("unexpected token")
}
function num(   s, t) {
  s = P
  while (P <= N && C[P] ~ /[-+0-9.eExXa-fA-FInityNa]/) P++
  t = substr(BUF, s, P - s)
  if (t == "") return fail("unexpected character")
  if (J5) {
    if (t ~ /^[-+]?(0[xX][0-9a-fA-F]+|([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?|Infinity|NaN)$/) return 1
  } else if (t ~ /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/) return 1
  P = s
  return fail("bad number")
}
function obj(path,   c, k, ks) {
  P++
  if (!ws()) return 0
  if (C[P] == "}") { P++; return 1 }
  while (1) {
    if (!ws()) return 0
    c = C[P]
    if (J5 && c == "}") { P++; return 1 }
    if (c == "\"" || (J5 && c == "\047")) {
      ks = P
      if (!str()) return 0
      k = substr(BUF, ks + 1, P - ks - 2)
    } else if (J5 && c ~ /[A-Za-z_$]/) {
      ks = P
      while (P <= N && C[P] ~ /[A-Za-z0-9_$]/) P++
      k = substr(BUF, ks, P - ks)
    } else return fail("expected a key")
    if (!ws()) return 0
    if (C[P] != ":") return fail("expected :")
    P++
    if (!val(path == "" ? k : path "." k)) return 0
    if (!ws()) return 0
    if (C[P] == ",") { P++; continue }
    if (C[P] == "}") { P++; return 1 }
    return fail("expected , or }")
  }
}
function arr(path,   i) {
  P++
  if (!ws()) return 0
  if (C[P] == "]") { P++; return 1 }
  i = 0
  while (1) {
    if (!ws()) return 0
    if (J5 && C[P] == "]") { P++; return 1 }
    if (!val(path == "" ? i : path "." i)) return 0
    i++
    if (!ws()) return 0
    if (C[P] == ",") { P++; continue }
    if (C[P] == "]") { P++; return 1 }
    return fail("expected , or ]")
  }
}
function val(path,   c, s, ok) {
  if (!ws()) return 0
  if (P > N) return fail("unexpected end")
  s = P; c = C[P]
  if (c == "{") ok = obj(path)
  else if (c == "[") ok = arr(path)
  else if (c == "\"" || (J5 && c == "\047")) ok = str()
  else if (c == "t") ok = lit("true")
  else if (c == "f") ok = lit("false")
  else if (c == "n") ok = lit("null")
  else ok = num()
  if (ok && !FOUND && path == WANT) { FOUND = 1; OUT = substr(BUF, s, P - s) }
  return ok
}
{ BUF = BUF $0 "\n" }
END {
  N = split(BUF, C, "")
  if (MODE == "get5") {
    J5 = 1; P = 1; E = ""; FOUND = 0
    if (val("") && FOUND) { print OUT; exit 0 }
    exit 1
  }
  if (MODE == "check5") {
    J5 = 1; P = 1; E = ""; WANT = "\001"
    if (val("") && ws() && P > N) exit 0
    if (E == "") E = "trailing content at byte " P
    print E > "/dev/stderr"
    exit 2
  }
  for (i = 1; i <= N; i++) {
    if ((i == 1 || C[i - 1] == "\n") && (C[i] == "{" || C[i] == "[")) {
      P = i; E = ""; FOUND = 0
      if (val("")) {
        if (FOUND) { print OUT; exit 0 }
        exit 1
      }
    }
  }
  exit 3
}'

json_get() { awk -v MODE=get -v WANT="$1" "$JSON_AWK"; }
json5_get() { awk -v MODE=get5 -v WANT="$1" "$JSON_AWK"; }
json5_check() { awk -v MODE=check5 -v WANT= "$JSON_AWK"; }

# The text of a raw JSON string literal (common escapes; \uXXXX stays as it is). Enough for
# versions, paths and error messages.
json_unquote() {
  local s=$1 bs=$'\001'
  case $s in \"*\") ;; *) printf '%s' "$s"; return ;; esac
  s=${s#\"}
  s=${s%\"}
  s=${s//\\\\/$bs}
  s=${s//\\\"/\"}
  s=${s//\\\//\/}
  s=${s//\\n/$'\n'}
  s=${s//\\t/$'\t'}
  s=${s//\\r/}
  s=${s//$bs/\\}
  printf '%s' "$s"
}

# ---------------------------------------------------------------------------------------------
# Where things are

STATE_DIR_ARG=
resolve_state_dir() {
  if [ -n "$STATE_DIR_ARG" ]; then
    STATE=$STATE_DIR_ARG
  elif [ -n "${OPENCLAW_STATE_DIR:-}" ]; then
    STATE=$OPENCLAW_STATE_DIR
  elif [ -n "${OPENCLAW_CONFIG_PATH:-}" ]; then
    STATE=$(dirname -- "$OPENCLAW_CONFIG_PATH")
  elif [ -n "${OPENCLAW_HOME:-}" ]; then
    STATE=$OPENCLAW_HOME/.openclaw
  else
    STATE=${HOME:-~}/.openclaw
  fi
  STATE=${STATE%/}
  [ -n "$STATE" ] || STATE=/
  CONFIG=${OPENCLAW_CONFIG_PATH:-$STATE/openclaw.json}
  OCM_DIR=$STATE/.ocm
  # openclaw itself must see the same state dir the agent resolved (e.g. from --state-dir).
  export OPENCLAW_STATE_DIR="$STATE"
}

# The workspace: $OPENCLAW_WORKSPACE_DIR, else agents.defaults.workspace from the config, else
# <state>/workspace. Resolved lazily because it needs the config parsed.
WS=
resolve_workspace() {
  [ -n "$WS" ] && return
  if [ -n "${OPENCLAW_WORKSPACE_DIR:-}" ]; then
    WS=$OPENCLAW_WORKSPACE_DIR
  else
    local configured=''
    if [ -f "$CONFIG" ]; then
      configured=$(json5_get agents.defaults.workspace <"$CONFIG" 2>/dev/null)
      case $configured in \"*\") configured=$(json_unquote "$configured") ;; *) configured= ;; esac
      # shellcheck disable=SC2088 # a literal "~/" in the config, expanded by hand
      case $configured in "~/"*) configured=${HOME:-}/${configured#"~/"} ;; esac
    fi
    WS=${configured:-$STATE/workspace}
  fi
  WS=${WS%/}
}

try_ocm_dir() {
  [ -d "$OCM_DIR" ] && return 0
  mkdir -p "$OCM_DIR" 2>/dev/null || return 1
  # Undo copies and temp tars hold the raw config (with secrets): owner only.
  chmod 700 "$OCM_DIR" 2>/dev/null
}
ensure_ocm_dir() { try_ocm_dir || fail "cannot create $OCM_DIR (read-only or full disk?)"; }

# <state>/.ocm/agent.conf: KEY=VALUE lines, parsed (never sourced). Unknown keys are ignored.
CONF_GATEWAY_START=
CONF_GATEWAY_STOP=
CONF_OPENCLAW_BIN=
CONF_GATEWAY_MODE=
CONF_GATEWAY_STOP_TIMEOUT=
CONF_NODE_BIN=
read_agent_conf() {
  local file=$OCM_DIR/agent.conf line key value
  [ -f "$file" ] || return 0
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%$'\r'}
    case $line in *=*) ;; *) continue ;; esac
    key=${line%%=*}
    case $key in '' | [0-9]* | *[!A-Za-z0-9_]*) continue ;; esac
    value=${line#*=}
    case $value in
      \"*\") value=${value#\"}; value=${value%\"} ;;
      \'*\') value=${value#\'}; value=${value%\'} ;;
    esac
    case $key in
      GATEWAY_START) CONF_GATEWAY_START=$value ;;
      GATEWAY_STOP) CONF_GATEWAY_STOP=$value ;;
      OPENCLAW_BIN) CONF_OPENCLAW_BIN=$value ;;
      GATEWAY_MODE) CONF_GATEWAY_MODE=$value ;;
      GATEWAY_STOP_TIMEOUT) CONF_GATEWAY_STOP_TIMEOUT=$value ;;
      NODE_BIN) CONF_NODE_BIN=$value ;;
    esac
  done <"$file"
}

OS=$(uname -s 2>/dev/null)

# The openclaw executable, or empty when it is not installed.
OPENCLAW=
find_openclaw() {
  if [ -n "$CONF_OPENCLAW_BIN" ]; then
    if [ -x "$CONF_OPENCLAW_BIN" ]; then OPENCLAW=$CONF_OPENCLAW_BIN; fi
  else
    OPENCLAW=$(command -v openclaw 2>/dev/null)
  fi
}

require_openclaw() {
  find_openclaw
  [ -n "$OPENCLAW" ] || fail "openclaw is not installed (not on PATH and no OPENCLAW_BIN in $OCM_DIR/agent.conf)"
}

# ---------------------------------------------------------------------------------------------
# openclaw --version, cached: the real CLI takes about a second to start, status must not.

OC_VERSION_RAW=
OC_VERSION=
read_openclaw_version() {
  find_openclaw
  [ -n "$OPENCLAW" ] || return 0
  # Keyed on the binary (a real update rewrites it) and on the sim's version file (the sim
  # keeps its version in state, not in its own file).
  local key cache=$OCM_DIR/openclaw-version.cache cached_key=''
  key="$OPENCLAW|$(file_stamp "$OPENCLAW" "$STATE/.sim/version")"
  key=${key//$'\n'/|}
  if [ -f "$cache" ]; then
    {
      IFS= read -r cached_key
      IFS= read -r OC_VERSION_RAW
    } <"$cache"
  fi
  if [ "$cached_key" != "$key" ] || [ -z "$OC_VERSION_RAW" ]; then
    OC_VERSION_RAW=$(run_with_timeout 20 "$OPENCLAW" --version 2>/dev/null </dev/null)
    # Keep the line that carries the version (the real CLI may print warnings first).
    local line picked=''
    while IFS= read -r line; do
      case $line in *[0-9].[0-9]*) picked=$line; break ;; esac
    done <<EOF
$OC_VERSION_RAW
EOF
    OC_VERSION_RAW=$picked
    if [ -n "$OC_VERSION_RAW" ] && [ -d "$OCM_DIR" ]; then
      printf '%s\n%s\n' "$key" "$OC_VERSION_RAW" >"$cache.$$" 2>/dev/null && mv -f "$cache.$$" "$cache" 2>/dev/null
    fi
  fi
  local word
  for word in $OC_VERSION_RAW; do
    case $word in
      v[0-9]*.[0-9]* | [0-9]*.[0-9]*) OC_VERSION=${word#v}; break ;;
    esac
  done
}

forget_openclaw_version() { rm -f "$OCM_DIR/openclaw-version.cache"; }

# ---------------------------------------------------------------------------------------------
# Gateway control: systemd user unit, LaunchAgent, or GATEWAY_START run detached with its pid
# in <state>/.ocm/gateway.pid. Several nodes share a machine in tests, so the gateway is never
# found by process name.

SYSTEMD_UNIT=openclaw-gateway.service
LAUNCHD_LABEL=ai.openclaw.gateway
PID_FILE=

systemd_unit_installed() {
  [ "$OS" = Linux ] && have systemctl || return 1
  local dir
  for dir in "${XDG_CONFIG_HOME:-${HOME:-/nonexistent}/.config}/systemd/user" /etc/systemd/user \
    /usr/lib/systemd/user /usr/local/lib/systemd/user /lib/systemd/user; do
    [ -f "$dir/$SYSTEMD_UNIT" ] && return 0
  done
  return 1
}

launchd_plist() { printf '%s' "${HOME:-/nonexistent}/Library/LaunchAgents/$LAUNCHD_LABEL.plist"; }

GATEWAY_MODE=
decide_gateway_mode() {
  case $CONF_GATEWAY_MODE in
    systemd | launchd | command) GATEWAY_MODE=$CONF_GATEWAY_MODE; return ;;
  esac
  if systemd_unit_installed; then
    GATEWAY_MODE=systemd
  elif [ "$OS" = Darwin ] && [ -f "$(launchd_plist)" ]; then
    GATEWAY_MODE=launchd
  elif [ -n "$CONF_GATEWAY_START" ]; then
    GATEWAY_MODE='command'
  else
    GATEWAY_MODE=none
  fi
}

user_systemctl() {
  # Over SSH there is often no session bus variable even though the user manager runs.
  if [ -z "${XDG_RUNTIME_DIR:-}" ] && [ -d "/run/user/$(id -u)" ]; then
    XDG_RUNTIME_DIR=/run/user/$(id -u)
    export XDG_RUNTIME_DIR
  fi
  systemctl --user "$@"
}

# A live (non-zombie) member of process group $1, in GROUP_MEMBER. The command-mode gateway
# leads its own group; the shell that ran GATEWAY_START may be gone while the gateway itself is
# still draining its last turn, and that gateway still owns the state dir.
GROUP_MEMBER=''
group_alive() {
  local pgid=$1 group stat member
  GROUP_MEMBER=''
  while read -r group member stat; do
    [ "$group" = "$pgid" ] || continue
    case $stat in Z* | X*) ;; *) GROUP_MEMBER=$member; return 0 ;; esac
  done <<EOF
$(ps -A -o pgid= -o pid= -o stat= 2>/dev/null)
EOF
  return 1
}

# Sets GW_RUNNING (0/1) and GW_PID (may be empty).
GW_RUNNING=0
GW_PID=
gateway_probe() {
  GW_RUNNING=0
  GW_PID=
  case $GATEWAY_MODE in
    systemd)
      if user_systemctl is-active --quiet "$SYSTEMD_UNIT" 2>/dev/null; then
        GW_RUNNING=1
        local shown
        shown=$(user_systemctl show -p MainPID "$SYSTEMD_UNIT" 2>/dev/null)
        shown=${shown#MainPID=}
        case $shown in '' | 0 | *[!0-9]*) ;; *) GW_PID=$shown ;; esac
      fi
      ;;
    launchd)
      local line
      while IFS= read -r line; do
        case $line in
          *'"PID" = '*)
            line=${line#*= }
            line=${line%;}
            case $line in '' | *[!0-9]*) ;; *) GW_PID=$line; GW_RUNNING=1 ;; esac
            ;;
        esac
      done <<EOF
$(launchctl list "$LAUNCHD_LABEL" 2>/dev/null)
EOF
      ;;
    *)
      PID_FILE=$OCM_DIR/gateway.pid
      if [ -f "$PID_FILE" ]; then
        local pid
        IFS= read -r pid <"$PID_FILE"
        case $pid in
          '' | *[!0-9]*) ;;
          *)
            if pid_alive "$pid"; then
              GW_RUNNING=1
              GW_PID=$pid
            elif group_alive "$pid"; then
              GW_RUNNING=1
              GW_PID=$GROUP_MEMBER
            fi
            ;;
        esac
      fi
      ;;
  esac
}

# Start the command-mode gateway detached: own session (or process group) so that stopping it
# can signal everything it spawned, stdio away from the caller so SSH does not wait for it.
spawn_gateway_command() {
  local log=$OCM_DIR/gateway.log
  # Keep the log from growing without bound across restarts.
  if [ -f "$log" ] && [ "$(wc -c <"$log")" -gt 5242880 ]; then mv -f "$log" "$log.1"; fi
  printf '%s ocm-agent: starting gateway: %s\n' "$(utc_stamp)" "$CONF_GATEWAY_START" >>"$log"
  # GATEWAY_START is the operator's own command line from agent.conf, so a shell runs it.
  if have setsid; then
    # Not a job-control group leader, so setsid(1) calls setsid() and execs without forking:
    # $! is the pid of that shell, which is also the session and group id.
    nohup setsid sh -c "$CONF_GATEWAY_START" </dev/null >>"$log" 2>&1 &
    GW_PID=$!
  else
    # macOS has no setsid(1): job control gives the background job its own process group.
    set -m
    nohup sh -c "$CONF_GATEWAY_START" </dev/null >>"$log" 2>&1 &
    GW_PID=$!
    set +m
  fi
  printf '%s\n' "$GW_PID" >"$PID_FILE"
}

gateway_start() {
  gateway_probe
  [ "$GW_RUNNING" = 1 ] && return 0
  case $GATEWAY_MODE in
    systemd)
      user_systemctl start "$SYSTEMD_UNIT" >&2 || { GATEWAY_ERROR="systemctl --user start $SYSTEMD_UNIT failed"; return 1; }
      ;;
    launchd)
      local domain
      domain=gui/$(id -u)
      launchctl bootstrap "$domain" "$(launchd_plist)" >&2 2>/dev/null ||
        launchctl kickstart "$domain/$LAUNCHD_LABEL" >&2 ||
        { GATEWAY_ERROR="launchctl could not start $LAUNCHD_LABEL"; return 1; }
      ;;
    command)
      [ -n "$CONF_GATEWAY_START" ] || { GATEWAY_ERROR="GATEWAY_MODE=command but no GATEWAY_START in $OCM_DIR/agent.conf"; return 1; }
      ensure_ocm_dir
      spawn_gateway_command
      ;;
    *)
      GATEWAY_ERROR="no way to start the gateway: no systemd unit $SYSTEMD_UNIT, no LaunchAgent $LAUNCHD_LABEL, and no GATEWAY_START in $OCM_DIR/agent.conf"
      return 1
      ;;
  esac
  # A command that dies at once (typo, missing binary) should fail the start, not look fine.
  local tries=0
  while [ "$tries" -lt 10 ]; do
    sleep 0.1
    gateway_probe
    [ "$GW_RUNNING" = 1 ] && [ "$tries" -ge 2 ] && return 0
    tries=$((tries + 1))
  done
  gateway_probe
  if [ "$GW_RUNNING" != 1 ]; then
    GATEWAY_ERROR="the gateway exited right after starting (see $OCM_DIR/gateway.log)"
    return 1
  fi
  return 0
}

gateway_stop() {
  gateway_probe
  case $GATEWAY_MODE in
    systemd)
      [ "$GW_RUNNING" = 1 ] || return 0
      user_systemctl stop "$SYSTEMD_UNIT" >&2 || { GATEWAY_ERROR="systemctl --user stop $SYSTEMD_UNIT failed"; return 1; }
      ;;
    launchd)
      [ "$GW_RUNNING" = 1 ] || return 0
      launchctl bootout "gui/$(id -u)/$LAUNCHD_LABEL" >&2 || { GATEWAY_ERROR="launchctl bootout $LAUNCHD_LABEL failed"; return 1; }
      ;;
    *)
      if [ -n "$CONF_GATEWAY_STOP" ]; then
        sh -c "$CONF_GATEWAY_STOP" </dev/null >&2 || say "GATEWAY_STOP exited non-zero"
      fi
      local leader=''
      [ -f "$OCM_DIR/gateway.pid" ] && IFS= read -r leader <"$OCM_DIR/gateway.pid"
      case $leader in '' | *[!0-9]*) leader='' ;; esac
      if [ -n "$leader" ] && { pid_alive "$leader" || group_alive "$leader"; }; then
        # Signal the whole group (the gateway and its workers), then wait until every member
        # is gone: a gateway finishing a turn takes a while, and starting a second one on the
        # same state dir before then fails. Bounded; KILL after GATEWAY_STOP_TIMEOUT seconds.
        local limit=${CONF_GATEWAY_STOP_TIMEOUT:-60} waited=0
        case $limit in '' | *[!0-9]*) limit=60 ;; esac
        kill -TERM -- "-$leader" 2>/dev/null || kill -TERM "$leader" 2>/dev/null
        while { pid_alive "$leader" || group_alive "$leader"; } && [ "$waited" -lt $((limit * 5)) ]; do
          sleep 0.2
          waited=$((waited + 1))
        done
        if pid_alive "$leader" || group_alive "$leader"; then
          say "gateway group $leader still running after ${limit}s; killing it"
          kill -KILL -- "-$leader" 2>/dev/null || kill -KILL "$leader" 2>/dev/null
          waited=0
          while { pid_alive "$leader" || group_alive "$leader"; } && [ "$waited" -lt 25 ]; do
            sleep 0.2
            waited=$((waited + 1))
          done
        fi
        if pid_alive "$leader" || group_alive "$leader"; then
          GATEWAY_ERROR="gateway process group $leader did not stop"
          return 1
        fi
      fi
      rm -f "$OCM_DIR/gateway.pid"
      ;;
  esac
  local tries=0
  while [ "$tries" -lt 50 ]; do
    gateway_probe
    [ "$GW_RUNNING" = 1 ] || return 0
    sleep 0.2
    tries=$((tries + 1))
  done
  GATEWAY_ERROR="the gateway is still running after stop"
  return 1
}

gateway_result() {
  gateway_probe
  printf '{"ok":true,"mode":%s,"running":%s,"pid":%s}\n' "$(json_str "$GATEWAY_MODE")" \
    "$(json_bool "$GW_RUNNING")" "$(json_num_or_null "$GW_PID")"
}

# ---------------------------------------------------------------------------------------------
# System facts for `status`

# n/d as a percentage with one decimal.
percent() {
  local n=$1 d=$2 x
  if [ -z "$d" ] || [ "$d" -le 0 ] 2>/dev/null; then printf 'null'; return; fi
  x=$(((n * 1000 + d / 2) / d))
  [ "$x" -gt 1000 ] && x=1000
  [ "$x" -lt 0 ] && x=0
  printf '%s.%s' "$((x / 10))" "$((x % 10))"
}

# "1.23" -> 123 (hundredths), for integer math on load averages.
hundredths() {
  local whole=${1%%.*} frac=''
  case $1 in *.*) frac=${1#*.} ;; esac
  frac=${frac}00
  frac=${frac:0:2}
  case $whole$frac in '' | *[!0-9]*) printf '0'; return ;; esac
  printf '%s' "$((10#$whole * 100 + 10#$frac))"
}

collect_system() {
  local line
  # shellcheck disable=SC2046 # three words wanted
  set -- $(uname -snm 2>/dev/null)
  SYS_OS=${1:-unknown}
  SYS_HOST=${2:-unknown}
  SYS_ARCH=${3:-unknown}
  SYS_NCPU=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
  case $SYS_NCPU in '' | *[!0-9]* | 0) SYS_NCPU=1 ;; esac
  SYS_LOAD1='' SYS_UPTIME='' SYS_MEM_TOTAL_KB='' SYS_MEM_USED_KB='' SYS_CPU=''

  if [ -r /proc/loadavg ]; then
    read -r SYS_LOAD1 line </proc/loadavg
    read -r SYS_UPTIME line </proc/uptime
    SYS_UPTIME=${SYS_UPTIME%%.*}
    local total='' avail='' key value
    while read -r key value line; do
      case $key in
        MemTotal:) total=$value ;;
        MemAvailable:) avail=$value ;;
      esac
      [ -n "$total" ] && [ -n "$avail" ] && break
    done </proc/meminfo
    SYS_MEM_TOTAL_KB=$total
    [ -n "$total" ] && [ -n "$avail" ] && SYS_MEM_USED_KB=$((total - avail))
    cpu_from_proc_stat
  else
    # macOS / BSD
    line=$(sysctl -n vm.loadavg 2>/dev/null) # "{ 1.23 1.45 1.67 }"
    # shellcheck disable=SC2086 # "{ 1.23 1.45 1.67 }" split into words
    set -- $line
    SYS_LOAD1=$2
    line=$(sysctl -n kern.boottime 2>/dev/null) # "{ sec = 1700000000, usec = 0 } ..."
    line=${line#*sec = }
    line=${line%%,*}
    case $line in '' | *[!0-9]*) ;; *) SYS_UPTIME=$(($(date +%s) - line)) ;; esac
    local bytes pagesize active wired compressed
    bytes=$(sysctl -n hw.memsize 2>/dev/null)
    case $bytes in '' | *[!0-9]*) ;; *) SYS_MEM_TOTAL_KB=$((bytes / 1024)) ;; esac
    pagesize=$(sysctl -n hw.pagesize 2>/dev/null || echo 4096)
    while IFS=: read -r key value; do
      value=${value//[ .]/}
      case $key in
        'Pages active') active=$value ;;
        'Pages wired down') wired=$value ;;
        'Pages occupied by compressor') compressed=$value ;;
      esac
    done <<EOF
$(vm_stat 2>/dev/null)
EOF
    if [ -n "$active" ] && [ -n "$wired" ]; then
      SYS_MEM_USED_KB=$(((active + wired + ${compressed:-0}) * pagesize / 1024))
    fi
  fi
  if [ -z "$SYS_CPU" ] && [ -n "$SYS_LOAD1" ]; then
    # No fresh sample to compare with: the 1-minute load per core is the honest cheap proxy.
    SYS_CPU=$(percent "$(hundredths "$SYS_LOAD1")" "$((SYS_NCPU * 100))")
  fi

  SYS_DISK=
  # shellcheck disable=SC2046 # df's columns as words
  set -- $(df -P -k "$STATE" 2>/dev/null | tail -n 1)
  case $5 in [0-9]*%) SYS_DISK=${5%\%} ;; esac
}

# CPU use since the previous status call, from /proc/stat counters kept in <state>/.ocm, when
# that sample is between 1 s and 10 min old (two samples 100 ms apart would make status slow).
cpu_from_proc_stat() {
  local _cpu user nice system idle iowait irq softirq steal rest total idle_all
  read -r _cpu user nice system idle iowait irq softirq steal rest </proc/stat
  total=$((user + nice + system + idle + ${iowait:-0} + ${irq:-0} + ${softirq:-0} + ${steal:-0}))
  idle_all=$((idle + ${iowait:-0}))
  local sample=$OCM_DIR/cpu.sample prev_total prev_idle prev_at
  if [ -f "$sample" ]; then
    read -r prev_total prev_idle prev_at <"$sample"
    case "$prev_total$prev_idle$prev_at" in
      '' | *[!0-9]*) ;;
      *)
        local age=$((SYS_UPTIME - prev_at)) dt=$((total - prev_total))
        if [ "$age" -ge 1 ] && [ "$age" -le 600 ] && [ "$dt" -gt 0 ]; then
          SYS_CPU=$(percent "$((dt - (idle_all - prev_idle)))" "$dt")
        fi
        ;;
    esac
  fi
  if [ -d "$OCM_DIR" ]; then
    printf '%s %s %s\n' "$total" "$idle_all" "$SYS_UPTIME" >"$sample" 2>/dev/null
  fi
}

# ---------------------------------------------------------------------------------------------
# The backed-up file set

WORKSPACE_TOP_FILES="AGENTS.md SOUL.md USER.md IDENTITY.md MEMORY.md TOOLS.md HEARTBEAT.md"

# Names that are never packed, at any depth: secrets, databases, config backups, git dirs.
never_packed_name() {
  case $1 in
    .env | secrets.json | *.sqlite* | openclaw.json.bak* | openclaw.json.last-good | gateway.systemd.env) return 0 ;;
  esac
  return 1
}

# Can a ustar header hold "workspace/<rel>"? Names over 100 bytes need a split at a "/" into a
# prefix of at most 155 bytes and a name of at most 100.
ustar_fits() {
  local path=workspace/$1 head='' rest
  [ "${#path}" -le 100 ] && return 0
  [ "${#path}" -le 256 ] || return 1
  rest=$path
  while :; do
    case $rest in */*) ;; *) return 1 ;; esac
    head=$head${rest%%/*}
    rest=${rest#*/}
    if [ "${#rest}" -le 100 ]; then
      [ "${#head}" -le 155 ]
      return
    fi
    head=$head/
  done
}

# Print the workspace files in the backed-up set, NUL-separated, relative to the workspace.
# Regular files only: symlinks are skipped, and find does not descend into linked directories.
# A name ustar cannot hold is left out of the set (so restore never removes it either).
list_workspace_files() {
  [ -d "$WS" ] || return 0
  (
    cd "$WS" || exit 0
    local name dir
    for name in $WORKSPACE_TOP_FILES; do
      if [ -f "$name" ] && [ ! -L "$name" ]; then printf '%s\0' "$name"; fi
    done
    for dir in memory skills; do
      [ -d "$dir" ] && [ ! -L "$dir" ] || continue
      find "$dir" \( -name .git -o -name credentials \) -prune -o -type f \
        ! -name .env ! -name secrets.json ! -name '*.sqlite*' ! -name 'openclaw.json.bak*' \
        ! -name openclaw.json.last-good ! -name gateway.systemd.env -print0
    done | while IFS= read -r -d '' name; do
      if ustar_fits "$name"; then printf '%s\0' "$name"; else say "not backed up (name too long for a tar header): $name"; fi
    done
  )
}

# Is a tar member name inside the layout `backup` produces (and `restore` accepts)?
in_layout() {
  local name=$1 rest part
  case $name in
    openclaw.json | cron-export.json | workspace | workspace/) return 0 ;;
    workspace/*) rest=${name#workspace/} ;;
    *) return 1 ;;
  esac
  rest=${rest%/}
  case $rest in
    AGENTS.md | SOUL.md | USER.md | IDENTITY.md | MEMORY.md | TOOLS.md | HEARTBEAT.md) return 0 ;;
    memory | skills) return 0 ;;
    memory/* | skills/*) ;;
    *) return 1 ;;
  esac
  # Every component must be a plain name that backup could have produced.
  while :; do
    part=${rest%%/*}
    case $part in
      '' | . | .. | .git | credentials) return 1 ;;
    esac
    never_packed_name "$part" && return 1
    [ "$part" = "$rest" ] && return 0
    rest=${rest#*/}
  done
}

has_dotdot_or_absolute() {
  case $1 in
    /* | .. | ../* | */.. | */../*) return 0 ;;
  esac
  return 1
}

# Write a ustar archive of the backed-up set to stdout. $1 = "with-cron" adds cron-export.json.
# The staging dir holds a copy of the config (it may live outside the state dir), the cron
# export, and a `workspace` symlink so member names come out as workspace/<path> without
# GNU-only --transform or BSD-only -s.
write_backup_tar() {
  local with_cron=$1 stage
  stage=$(mktemp -d "$OCM_DIR/backup.XXXXXX") || { say "cannot create a temp dir in $OCM_DIR"; return 1; }
  TEMP_PATHS="$TEMP_PATHS $stage"
  local -a members
  members=()
  if [ -f "$CONFIG" ]; then
    cp "$CONFIG" "$stage/openclaw.json" || return 1
    members[${#members[@]}]=openclaw.json
  fi
  if [ "$with_cron" = with-cron ]; then
    cron_list_json >"$stage/cron-export.json"
    members[${#members[@]}]=cron-export.json
  fi
  if [ -d "$WS" ]; then
    ln -s "$WS" "$stage/workspace" || return 1
    local rel
    while IFS= read -r -d '' rel; do
      members[${#members[@]}]=workspace/$rel
    done < <(list_workspace_files)
  fi
  if [ "${#members[@]}" -eq 0 ]; then
    # An empty archive is still an archive: two zero blocks.
    dd if=/dev/zero bs=512 count=2 2>/dev/null
    return 0
  fi
  local rc
  (cd "$stage" && tar -cf - --format=ustar "${members[@]}")
  rc=$?
  # GNU tar exits 1 when a file changed while it was read: the archive is still whole, and
  # the next backup catches up. 2 and above are real failures.
  if [ "$rc" -eq 1 ] && tar --version 2>/dev/null | grep -q 'GNU tar'; then
    say "a file changed while it was archived"
    return 0
  fi
  return "$rc"
}

# ---------------------------------------------------------------------------------------------
# Temp files and the restore lock (released on any exit)

TEMP_PATHS=
LOCK_DIR=
cleanup() {
  local p
  for p in $TEMP_PATHS; do rm -rf "$p"; done
  if [ -n "$LOCK_DIR" ]; then rm -rf "$LOCK_DIR"; fi
}
trap cleanup EXIT

take_restore_lock() {
  LOCK_DIR=$OCM_DIR/restore.lock
  if ! mkdir "$LOCK_DIR" 2>/dev/null; then
    local holder=''
    [ -f "$LOCK_DIR/pid" ] && IFS= read -r holder <"$LOCK_DIR/pid"
    if [ -n "$holder" ] && pid_alive "$holder"; then
      LOCK_DIR=
      fail "another restore is running on this node (pid $holder)"
    fi
    rm -rf "$LOCK_DIR"
    mkdir "$LOCK_DIR" 2>/dev/null || { LOCK_DIR=; fail "cannot take the restore lock $OCM_DIR/restore.lock"; }
  fi
  printf '%s\n' "$$" >"$LOCK_DIR/pid"
  # Holding the lock, nothing else is restoring: whatever a killed restore left behind goes now.
  # The incoming archive holds this node's own secrets, so it must not linger.
  sweep_leftovers 'incoming.*' 0
  sweep_leftovers 'restore.??????' 0
}

# Remove this agent's temp files named like $1 that are older than $2 minutes (0: any age).
# A killed agent cannot run its EXIT trap, so the next run cleans up after it.
sweep_leftovers() {
  local pattern=$1 minutes=$2 path
  if [ "$minutes" -gt 0 ]; then
    find "$OCM_DIR" -maxdepth 1 -name "$pattern" -mmin +"$minutes" 2>/dev/null
  else
    find "$OCM_DIR" -maxdepth 1 -name "$pattern" 2>/dev/null
  fi | while IFS= read -r path; do
    [ -n "$path" ] && rm -rf "$path"
  done
}

# ---------------------------------------------------------------------------------------------
# Restore

# Check a tar file against the layout and extract it into a fresh directory. Refuses (exit 3,
# nothing changed) absolute names, `..`, links, devices, fifos and anything outside the layout.
# Prints the staging directory.
REFUSE=3
validate_and_stage() {
  local tarfile=$1 names types n_names n_types stage
  names=$(tar -tf "$tarfile" 2>/dev/null) || fail "not a readable tar archive" "$REFUSE"
  types=$(tar -tvf "$tarfile" 2>/dev/null) || fail "not a readable tar archive" "$REFUSE"
  n_names=0
  n_types=0
  local line
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    n_names=$((n_names + 1))
    has_dotdot_or_absolute "$line" && fail "refused: archive member '$line' is absolute or has a '..' component" "$REFUSE"
    in_layout "$line" || fail "refused: archive member '$line' is outside the backup layout" "$REFUSE"
  done <<EOF
$names
EOF
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    n_types=$((n_types + 1))
    case $line in
      -* | d*) ;;
      *) fail "refused: archive has a link, device or fifo member: $line" "$REFUSE" ;;
    esac
  done <<EOF
$types
EOF
  [ "$n_names" = "$n_types" ] || fail "refused: could not list the archive consistently" "$REFUSE"
  stage=$(mktemp -d "$OCM_DIR/restore.XXXXXX") || fail "cannot create a temp dir in $OCM_DIR"
  TEMP_PATHS="$TEMP_PATHS $stage"
  # Extract into the empty staging dir only; -o: files belong to us, not to uids in the archive.
  tar -xof "$tarfile" -C "$stage" || fail "could not extract the archive" "$REFUSE"
  # Belt and braces: only regular files and directories may have come out.
  local odd
  odd=$(find "$stage" ! -type f ! -type d | head -n 1)
  [ -z "$odd" ] || fail "refused: archive produced a non-regular file: ${odd#"$stage"/}" "$REFUSE"
  chmod -R u+rwX,go-w,a-st "$stage" 2>/dev/null
  STAGE=$stage
}

# Refuse (before anything changes) when writing a staged workspace file would go through a
# symlink or over a directory in the live workspace.
check_targets() {
  local stage=$1 rel parent
  [ -d "$stage/workspace" ] || return 0
  [ -L "$WS" ] && fail "refused: the workspace $WS is a symlink" "$REFUSE"
  while IFS= read -r -d '' rel; do
    rel=${rel#./}
    [ -d "$WS/$rel" ] && [ ! -L "$WS/$rel" ] && fail "refused: $WS/$rel is a directory in the live workspace" "$REFUSE"
    parent=$(dirname -- "$rel")
    while [ "$parent" != . ] && [ "$parent" != / ]; do
      if [ -L "$WS/$parent" ] || { [ -e "$WS/$parent" ] && [ ! -d "$WS/$parent" ]; }; then
        fail "refused: $WS/$parent is a symlink or not a directory" "$REFUSE"
      fi
      parent=$(dirname -- "$parent")
    done
  done < <(cd "$stage/workspace" && find . -type f -print0)
  return 0
}

# Make the live files match a staged backup: staged workspace files replace live ones, live
# files of the backed-up set that the backup lacks are removed, the config is written 0600.
# Each file lands by rename from a temp copy in its own directory. Prints the file count.
APPLIED=0
apply_stage() {
  local stage=$1 rel dest count=0
  # The archive is the whole truth about the backed-up workspace files.
  while IFS= read -r -d '' rel; do
    [ -e "$stage/workspace/$rel" ] || rm -f "$WS/$rel" || return 1
  done < <(list_workspace_files)
  if [ -d "$stage/workspace" ]; then
    mkdir -p "$WS" || return 1
    while IFS= read -r -d '' rel; do
      rel=${rel#./}
      dest=$WS/$rel
      mkdir -p "$(dirname -- "$dest")" || return 1
      cp "$stage/workspace/$rel" "$dest.ocm-new.$$" || { rm -f "$dest.ocm-new.$$"; return 1; }
      mv -f "$dest.ocm-new.$$" "$dest" || { rm -f "$dest.ocm-new.$$"; return 1; }
      count=$((count + 1))
    done < <(cd "$stage/workspace" && find . -type f -print0)
  fi
  # Directories emptied by removals go too (never the workspace itself).
  local dir
  for dir in memory skills; do
    [ -d "$WS/$dir" ] && [ ! -L "$WS/$dir" ] && find "$WS/$dir" -mindepth 1 -type d -empty -delete 2>/dev/null
  done
  if [ -f "$stage/openclaw.json" ]; then
    mkdir -p "$(dirname -- "$CONFIG")" || return 1
    (umask 077 && cp "$stage/openclaw.json" "$CONFIG.ocm-new.$$") || return 1
    chmod 600 "$CONFIG.ocm-new.$$" && mv -f "$CONFIG.ocm-new.$$" "$CONFIG" || { rm -f "$CONFIG.ocm-new.$$"; return 1; }
    count=$((count + 1))
  fi
  APPLIED=$count
  return 0
}

UNDO_KEEP=5
undo_ids() {
  # Newest last; ids are timestamps (plus -N when two land in one second), so name order works.
  local f
  for f in "$OCM_DIR"/undo/*.tar; do
    [ -f "$f" ] || continue
    f=${f##*/}
    printf '%s\n' "${f%.tar}"
  done | sort
}

new_undo_id() {
  local id n=1
  id=$(utc_stamp)
  local base=$id
  while [ -e "$OCM_DIR/undo/$id.tar" ]; do
    n=$((n + 1))
    id=$base-$(printf '%02d' "$n")
  done
  printf '%s' "$id"
}

prune_undo() {
  local ids count
  ids=$(undo_ids)
  count=$(printf '%s\n' "$ids" | grep -c .)
  if [ "$count" -gt "$UNDO_KEEP" ]; then
    printf '%s\n' "$ids" | head -n "$((count - UNDO_KEEP))" | while IFS= read -r id; do
      rm -f "$OCM_DIR/undo/$id.tar"
    done
  fi
}

# Stop the gateway, apply a staged backup, start the gateway again. When applying fails and
# an undo copy exists, the undo copy is applied instead before failing.
restore_staged() {
  local stage=$1 undo_tar=$2
  if ! apply_stage "$stage"; then
    local why="extracting the backup into place failed"
    if [ -n "$undo_tar" ]; then
      say "$why; putting the undo copy back"
      validate_and_stage "$undo_tar"
      apply_stage "$STAGE" || why="$why, and putting the undo copy back failed too"
    fi
    gateway_start || say "$GATEWAY_ERROR"
    fail "$why"
  fi
}

# ---------------------------------------------------------------------------------------------
# cron

# The jobs list JSON as `cron-list` prints it.
cron_list_json() {
  local out jobs
  find_openclaw
  decide_gateway_mode
  gateway_probe
  if [ -n "$OPENCLAW" ] && [ "$GW_RUNNING" = 1 ]; then
    out=$(run_with_timeout 30 "$OPENCLAW" cron list --all --json </dev/null 2>/dev/null)
    if [ $? -eq 0 ]; then
      jobs=$(printf '%s\n' "$out" | json_get jobs 2>/dev/null)
      [ -n "$jobs" ] || jobs=$(printf '%s\n' "$out" | json_get "" 2>/dev/null)
      case $jobs in
        \[*)
          printf '{"jobs":%s,"source":"gateway"}\n' "$jobs"
          return 0
          ;;
      esac
    fi
    say "openclaw cron list failed; falling back to cron/jobs.json"
  fi
  # 2026.6+ keeps jobs in SQLite, readable without the gateway.
  local db=$STATE/state/openclaw.sqlite
  if [ -f "$db" ]; then
    jobs=$(cron_jobs_from_sqlite "$db")
    case $jobs in
      \[*)
        printf '{"jobs":%s,"source":"sqlite"}\n' "$jobs"
        return 0
        ;;
    esac
  fi
  if [ -f "$STATE/cron/jobs.json" ]; then
    jobs=$(json_get jobs <"$STATE/cron/jobs.json" 2>/dev/null)
    [ -n "$jobs" ] || jobs=$(json_get "" <"$STATE/cron/jobs.json" 2>/dev/null)
    case $jobs in
      \[*)
        printf '{"jobs":%s,"source":"file"}\n' "$jobs"
        return 0
        ;;
    esac
    say "cron/jobs.json is not a JSON job list"
  fi
  if [ -f "$db" ]; then
    # Jobs exist but nothing here can read them: say so rather than export an empty list.
    printf '{"jobs":[],"source":"unavailable","detail":%s}\n' \
      "$(json_str "cron jobs are in $db; start the gateway, or install sqlite3 (or Node >= 22.13) on the node")"
    return 0
  fi
  printf '{"jobs":[],"source":"none"}\n'
}

# The node's Node.js: NODE_BIN from agent.conf, the one beside openclaw (npm global prefix),
# or node on PATH.
find_node() {
  if [ -n "$CONF_NODE_BIN" ] && [ -x "$CONF_NODE_BIN" ]; then
    printf '%s' "$CONF_NODE_BIN"
  elif [ -n "$OPENCLAW" ] && [ -x "$(dirname -- "$OPENCLAW")/node" ]; then
    printf '%s' "$(dirname -- "$OPENCLAW")/node"
  else
    command -v node 2>/dev/null
  fi
}

# Print the cron_jobs table's job_json rows as one JSON array (read-only), or nothing.
cron_jobs_from_sqlite() {
  local db=$1 out node
  local query="SELECT '[' || COALESCE(group_concat(job_json, ','), '') || ']' FROM (SELECT job_json FROM cron_jobs ORDER BY sort_order, job_id)"
  if have sqlite3; then
    out=$(sqlite3 -readonly "$db" "$query" 2>/dev/null </dev/null)
  fi
  if [ -z "$out" ]; then
    node=$(find_node)
    if [ -n "$node" ]; then
      out=$(OCM_CRON_DB=$db OCM_CRON_QUERY=$query run_with_timeout 20 "$node" -e '
        const { DatabaseSync } = require("node:sqlite");
        const db = new DatabaseSync(process.env.OCM_CRON_DB, { readOnly: true });
        const row = db.prepare(process.env.OCM_CRON_QUERY).get();
        process.stdout.write(String(Object.values(row)[0]));' 2>/dev/null </dev/null)
    fi
  fi
  # Only a well-formed array counts.
  printf '%s\n' "$out" | json_get "" 2>/dev/null
}

# ---------------------------------------------------------------------------------------------
# Verbs

verb_version() {
  printf '{"agent_version":%s}\n' "$(json_str "$OCM_AGENT_VERSION")"
}

verb_status() {
  # Caches only: a full or read-only state dir must not stop status from reporting it.
  [ -d "$STATE" ] && try_ocm_dir
  collect_system
  read_openclaw_version
  decide_gateway_mode
  gateway_probe
  local installed=0
  [ -n "$OPENCLAW" ] && installed=1
  local mem_total_mb=null mem_pct=null
  if [ -n "$SYS_MEM_TOTAL_KB" ]; then
    mem_total_mb=$((SYS_MEM_TOTAL_KB / 1024))
    [ -n "$SYS_MEM_USED_KB" ] && mem_pct=$(percent "$SYS_MEM_USED_KB" "$SYS_MEM_TOTAL_KB")
  fi
  printf '{"agent_version":%s,"hostname":%s,"os":%s,"arch":%s,"cpu_pct":%s,"mem_pct":%s,"mem_total_mb":%s,"disk_pct":%s,"uptime_s":%s,"load1":%s,"state_dir":%s,"gateway_mode":%s,"openclaw":{"installed":%s,"version":%s,"version_raw":%s,"running":%s,"pid":%s}}\n' \
    "$(json_str "$OCM_AGENT_VERSION")" "$(json_str "$SYS_HOST")" "$(json_str "$SYS_OS")" \
    "$(json_str "$SYS_ARCH")" "$(json_num_or_null "$SYS_CPU")" "$mem_pct" "$mem_total_mb" \
    "$(json_num_or_null "$SYS_DISK")" "$(json_num_or_null "$SYS_UPTIME")" \
    "$(json_num_or_null "$SYS_LOAD1")" "$(json_str "$STATE")" "$(json_str "$GATEWAY_MODE")" \
    "$(json_bool "$installed")" "$(json_str_or_null "$OC_VERSION")" \
    "$(json_str_or_null "$OC_VERSION_RAW")" "$(json_bool "$GW_RUNNING")" "$(json_num_or_null "$GW_PID")"
}

verb_openclaw_version() {
  read_openclaw_version
  local installed=0
  [ -n "$OPENCLAW" ] && installed=1
  printf '{"installed":%s,"version":%s,"raw":%s}\n' "$(json_bool "$installed")" \
    "$(json_str_or_null "$OC_VERSION")" "$(json_str_or_null "$OC_VERSION_RAW")"
}

verb_health() {
  local checks='' all=1
  add_check() { # name ok detail
    [ "$2" = 1 ] || all=0
    [ -n "$checks" ] && checks="$checks,"
    checks="$checks{\"name\":$(json_str "$1"),\"ok\":$(json_bool "$2"),\"detail\":$(json_str "$3")}"
  }
  decide_gateway_mode
  gateway_probe
  if [ "$GW_RUNNING" = 1 ]; then
    add_check gateway_running 1 "running (mode $GATEWAY_MODE${GW_PID:+, pid $GW_PID})"
  else
    add_check gateway_running 0 "not running (mode $GATEWAY_MODE)"
  fi

  local why
  if [ ! -f "$CONFIG" ]; then
    add_check config_parses 0 "missing: $CONFIG"
  elif why=$(json5_check <"$CONFIG" 2>&1); then
    add_check config_parses 1 "$CONFIG"
  else
    add_check config_parses 0 "$CONFIG: $why"
  fi

  resolve_workspace
  if [ -d "$WS" ]; then add_check workspace_present 1 "$WS"; else add_check workspace_present 0 "missing: $WS"; fi

  find_openclaw
  if [ -z "$OPENCLAW" ]; then
    add_check openclaw_health 0 "openclaw is not installed"
  elif [ "$GW_RUNNING" != 1 ]; then
    add_check openclaw_health 0 "skipped: the gateway is not running"
  else
    local out rc okv
    # Without --timeout, `openclaw health` can hang for a minute when the gateway is wedged.
    out=$(run_with_timeout 25 "$OPENCLAW" health --json --timeout 10000 </dev/null 2>/dev/null)
    rc=$?
    okv=$(printf '%s\n' "$out" | json_get ok 2>/dev/null)
    if [ "$rc" -eq 0 ] && [ "$okv" != false ]; then
      add_check openclaw_health 1 "openclaw health: ok"
    elif [ "$rc" -eq 124 ]; then
      add_check openclaw_health 0 "openclaw health timed out"
    else
      add_check openclaw_health 0 "openclaw health failed (exit $rc)"
    fi
  fi
  printf '{"ok":%s,"checks":[%s]}\n' "$(json_bool "$all")" "$checks"
}

verb_gateway() { # start|stop|restart
  decide_gateway_mode
  GATEWAY_ERROR=
  case $1 in
    stop) gateway_stop || fail "$GATEWAY_ERROR" ;;
    start) gateway_start || fail "$GATEWAY_ERROR" ;;
    restart)
      gateway_stop || fail "$GATEWAY_ERROR"
      gateway_start || fail "$GATEWAY_ERROR"
      ;;
  esac
  gateway_result
}

verb_cron_list() { cron_list_json; }

verb_ask() {
  local key=$1 message=$2 limit=${3:-120}
  [ $# -ge 2 ] || fail "usage: ask <session-key> <message> [timeout-s]" 2
  case $key in
    '' | *[!A-Za-z0-9:_-]*) fail "invalid session key (allowed: A-Z a-z 0-9 : _ -, 1-100 characters)" 2 ;;
  esac
  [ "${#key}" -le 100 ] || fail "invalid session key (longer than 100 characters)" 2
  case $limit in '' | *[!0-9]*) fail "timeout must be a whole number of seconds" 2 ;; esac
  [ "$limit" -ge 1 ] && [ "$limit" -le 3600 ] || fail "timeout must be 1-3600 seconds" 2
  require_openclaw
  local out rc errfile
  errfile=$(mktemp "${TMPDIR:-/tmp}/ocm-ask.XXXXXX") || fail "cannot create a temp file"
  TEMP_PATHS="$TEMP_PATHS $errfile"
  # The message is one argv element: never part of a command string.
  out=$(run_with_timeout "$((limit + 30))" "$OPENCLAW" agent --agent main --session-key "$key" \
    --message "$message" --json --timeout "$limit" </dev/null 2>"$errfile")
  rc=$?
  # Best effort: the session was only for this one question. OpenClaw stores --session-key K
  # as agent:main:K and only deletes it under that name.
  run_with_timeout 30 "$OPENCLAW" sessions delete "agent:main:$key" --yes --json </dev/null >&2 2>&1 ||
    say "could not delete session agent:main:$key"
  if [ "$rc" -ne 0 ]; then
    [ "$rc" -eq 124 ] && fail "openclaw agent timed out after $((limit + 30)) s"
    # The CLI reports its own failures as {"ok":false,"error":{"message":...}} on stdout.
    local why
    why=$(printf '%s\n' "$out" | json_get error.message 2>/dev/null)
    case $why in \"*) why=$(json_unquote "$why") ;; *) why=$(tail -c 600 "$errfile") ;; esac
    fail "openclaw agent failed (exit $rc): $why"
  fi
  local raw text usage
  raw=$(printf '%s\n' "$out" | json_get "") || fail "openclaw agent printed no JSON"
  text=$(printf '%s\n' "$raw" | json_get result.payloads.0.text 2>/dev/null)
  [ -n "$text" ] || text=$(printf '%s\n' "$raw" | json_get payloads.0.text 2>/dev/null)
  case $text in \"*) ;; *) text='""' ;; esac
  usage=$(printf '%s\n' "$raw" | json_get result.meta.agentMeta.usage 2>/dev/null)
  [ -n "$usage" ] || usage=$(printf '%s\n' "$raw" | json_get meta.agentMeta.usage 2>/dev/null)
  case $usage in \{*) ;; *) usage='{}' ;; esac
  printf '{"text":%s,"usage":%s,"raw":%s}\n' "$text" "$usage" "$raw"
}

verb_file_check() {
  local rel=$1
  [ $# -ge 1 ] && [ -n "$rel" ] || fail "usage: file-check <relative path>" 2
  has_dotdot_or_absolute "$rel" && fail "refused: the path must be relative to the state dir, without '..'" 2
  local path=$STATE/$rel exists=0 size='' sum=''
  if [ -L "$path" ]; then
    # Report links without following them out of the state dir.
    printf '{"path":%s,"exists":true,"type":"symlink","size":null,"sha256":null}\n' "$(json_str "$rel")"
    return 0
  fi
  if [ -e "$path" ]; then
    exists=1
    if [ -f "$path" ]; then
      size=$(wc -c <"$path" | tr -d ' ')
      sum=$(sha256_of "$path") || sum=
    fi
  fi
  printf '{"path":%s,"exists":%s,"size":%s,"sha256":%s}\n' "$(json_str "$rel")" \
    "$(json_bool "$exists")" "$(json_num_or_null "$size")" "$(json_str_or_null "$sum")"
}

verb_backup() {
  # A missing config almost always means a wrong state dir; an archive without it would read
  # as "everything was deleted" in the backup history.
  [ -f "$CONFIG" ] || fail "no OpenClaw config at $CONFIG (wrong state dir?)"
  resolve_workspace
  [ -d "$WS" ] || say "no workspace at $WS; backing up the config only"
  ensure_ocm_dir
  sweep_leftovers 'backup.??????' 60
  # Not JSON: the tar goes to stdout. A failure mid-stream can only be reported on stderr.
  write_backup_tar with-cron || {
    say "backup failed"
    exit 1
  }
}

verb_config_raw() {
  [ -f "$CONFIG" ] || fail "no OpenClaw config at $CONFIG"
  local b64
  b64=$(base64 <"$CONFIG" | tr -d '\n\r') || fail "cannot read $CONFIG"
  printf '{"path":%s,"content_b64":%s}\n' "$(json_str "$CONFIG")" "$(json_str "$b64")"
}

verb_restore() {
  ensure_ocm_dir
  resolve_workspace
  decide_gateway_mode
  take_restore_lock
  local incoming
  incoming=$(mktemp "$OCM_DIR/incoming.XXXXXX") || fail "cannot create a temp file in $OCM_DIR"
  TEMP_PATHS="$TEMP_PATHS $incoming"
  cat >"$incoming" || fail "could not save the archive under $OCM_DIR (disk full?); nothing was changed"
  [ -s "$incoming" ] || fail "refused: empty archive on stdin" "$REFUSE"
  validate_and_stage "$incoming"
  local stage=$STAGE
  check_targets "$stage"

  GATEWAY_ERROR=
  gateway_stop || fail "could not stop the gateway: $GATEWAY_ERROR"

  mkdir -p "$OCM_DIR/undo" || fail "cannot create $OCM_DIR/undo"
  local id undo
  id=$(new_undo_id)
  undo=$OCM_DIR/undo/$id.tar
  if ! write_backup_tar no-cron >"$undo.part"; then
    rm -f "$undo.part"
    gateway_start || say "$GATEWAY_ERROR"
    fail "could not make the undo copy; nothing was changed"
  fi
  mv -f "$undo.part" "$undo"
  prune_undo

  restore_staged "$stage" "$undo"
  local started=1
  gateway_start || {
    started=0
    say "restored, but the gateway did not start: $GATEWAY_ERROR"
  }
  printf '{"ok":true,"undo_id":%s,"files":%s,"gateway_started":%s}\n' "$(json_str "$id")" \
    "$APPLIED" "$(json_bool "$started")"
}

verb_restore_undo() {
  ensure_ocm_dir
  resolve_workspace
  decide_gateway_mode
  local id=${1:-}
  if [ -z "$id" ]; then
    id=$(undo_ids | tail -n 1)
    [ -n "$id" ] || fail "no undo copy on this node"
  fi
  case $id in *[!A-Za-z0-9:_-]*) fail "invalid undo id" 2 ;; esac
  local undo=$OCM_DIR/undo/$id.tar
  [ -f "$undo" ] || fail "no undo copy named $id"
  take_restore_lock
  validate_and_stage "$undo"
  local stage=$STAGE
  check_targets "$stage"
  GATEWAY_ERROR=
  gateway_stop || fail "could not stop the gateway: $GATEWAY_ERROR"
  restore_staged "$stage" ""
  local started=1
  gateway_start || {
    started=0
    say "put back, but the gateway did not start: $GATEWAY_ERROR"
  }
  printf '{"ok":true,"undo_id":%s,"files":%s,"gateway_started":%s}\n' "$(json_str "$id")" \
    "$APPLIED" "$(json_bool "$started")"
}

verb_update() {
  local version=$1
  case $version in
    '' | -* | *[!A-Za-z0-9._+-]*) fail "usage: update <version> (letters, digits, . _ + -)" 2 ;;
  esac
  require_openclaw
  local out rc errfile
  errfile=$(mktemp "${TMPDIR:-/tmp}/ocm-update.XXXXXX") || fail "cannot create a temp file"
  TEMP_PATHS="$TEMP_PATHS $errfile"
  out=$(run_with_timeout 900 "$OPENCLAW" update --tag "$version" --yes --json </dev/null 2>"$errfile")
  rc=$?
  forget_openclaw_version
  read_openclaw_version
  local raw status why=''
  raw=$(printf '%s\n' "$out" | json_get "" 2>/dev/null) || raw=null
  status=$(printf '%s\n' "$raw" | json_get status 2>/dev/null)
  status=$(json_unquote "$status")
  if [ "$rc" -ne 0 ]; then
    why="openclaw update failed (exit $rc): $(tail -c 400 "$errfile")"
  else
    # Exit 0 does not mean updated: OpenClaw skips installs it does not recognise as its own.
    case $status in
      skipped | error | failed)
        local reason
        reason=$(json_unquote "$(printf '%s\n' "$raw" | json_get reason 2>/dev/null)")
        why="openclaw update did not update (status $status${reason:+: $reason})"
        ;;
    esac
    case $version in
      [0-9]*) [ -n "$why" ] || [ "$OC_VERSION" = "$version" ] || why="openclaw update exited 0 but the version is still ${OC_VERSION:-unknown}, not $version" ;;
    esac
  fi
  if [ -n "$why" ]; then
    say "$why"
    printf '{"ok":false,"version":%s,"error":%s,"raw":%s}\n' "$(json_str_or_null "$OC_VERSION")" \
      "$(json_str "$why")" "$raw"
    exit 1
  fi
  printf '{"ok":true,"version":%s,"raw":%s}\n' "$(json_str_or_null "$OC_VERSION")" "$raw"
}

verb_usage_cost() {
  local days=${1:-30}
  case $days in '' | *[!0-9]*) fail "days must be a whole number" 2 ;; esac
  [ "$days" -ge 1 ] && [ "$days" -le 366 ] || fail "days must be 1-366" 2
  require_openclaw
  local out rc raw
  out=$(run_with_timeout 60 "$OPENCLAW" gateway usage-cost --json --days "$days" </dev/null)
  rc=$?
  [ "$rc" -eq 0 ] || fail "openclaw gateway usage-cost failed (exit $rc)"
  raw=$(printf '%s\n' "$out" | json_get "") || fail "openclaw gateway usage-cost printed no JSON"
  printf '{"raw":%s}\n' "$raw"
}

usage() {
  fail "usage: ocm-agent.sh [--state-dir <dir>] <version|status|health|openclaw-version|openclaw-restart|openclaw-stop|openclaw-start|cron-list|ask|file-check|backup|config-raw|restore|restore-undo|update|usage-cost> [args...]" 2
}

# ---------------------------------------------------------------------------------------------
# Main

main() {
  if [ "${1:-}" = --state-dir ]; then
    [ $# -ge 2 ] && [ -n "$2" ] || usage
    STATE_DIR_ARG=$2
    shift 2
  fi
  [ $# -ge 1 ] || usage
  local verb=$1
  shift
  resolve_state_dir
  read_agent_conf
  case $verb in
    version) verb_version ;;
    status) verb_status ;;
    health) verb_health ;;
    openclaw-version) verb_openclaw_version ;;
    openclaw-restart) verb_gateway restart ;;
    openclaw-stop) verb_gateway stop ;;
    openclaw-start) verb_gateway start ;;
    cron-list) verb_cron_list ;;
    ask) verb_ask "$@" ;;
    file-check) verb_file_check "$@" ;;
    backup) verb_backup ;;
    config-raw) verb_config_raw ;;
    restore) verb_restore ;;
    restore-undo) verb_restore_undo "$@" ;;
    update) verb_update "$@" ;;
    usage-cost) verb_usage_cost "$@" ;;
    *) usage ;;
  esac
}

main "$@"
