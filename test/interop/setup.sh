#!/usr/bin/env bash
# Installs the real peers for the interop tests. Idempotent; safe to re-run.
#
#   test/interop/setup.sh            # both peers
#   test/interop/setup.sh python     # only the Python peer
#   test/interop/setup.sh go         # only the Go peer
#
# Python: creates test/interop/python/.venv and installs requirements.txt (pinned).
# Go:     builds test/interop/go/bin/goharness against go-delayed.
#   - If go.mod pins github.com/yizhisec/go-delayed, a plain `go build` is used.
#   - Otherwise (the module proxy refuses go-delayed, see PEERS.md) set GO_DELAYED_DIR to a
#     local source tree of the module (and GOLOG_DIR for github.com/keakon/golog if the proxy
#     refuses that too); the build then uses bin/go.local.mod, a throw-away copy of go.mod
#     with `replace` lines, and the committed go.mod/go.sum stay untouched.
# Exits non-zero, loudly, when a requested peer could not be installed.
#
# Environment: PYTHON (default: python3.11, else python3), GO (default: go),
#              GO_DELAYED_DIR, GOLOG_DIR.
set -u

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY_DIR="$HERE/python"
GO_DIR="$HERE/go"
GO_BIN="${GO:-go}"
GO_DELAYED_MODULE="github.com/yizhisec/go-delayed"
GOLOG_MODULE="github.com/keakon/golog"
# Any version works for a replaced module; this is the pseudo-version go-delayed's go.mod names.
GOLOG_VERSION="v0.0.0-20230320151447-bcec4afe0e72"

want_python=0
want_go=0
if [ $# -eq 0 ]; then want_python=1; want_go=1; fi
for arg in "$@"; do
  case "$arg" in
    python) want_python=1 ;;
    go) want_go=1 ;;
    *) echo "usage: $0 [python] [go]" >&2; exit 2 ;;
  esac
done

failures=()

loud() {
  echo "" >&2
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
  echo "!! interop setup: $*" >&2
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
}

setup_python() {
  local py="${PYTHON:-}"
  if [ -z "$py" ]; then
    if command -v python3.11 >/dev/null 2>&1; then py=python3.11; else py=python3; fi
  fi
  if [ ! -x "$PY_DIR/.venv/bin/python" ]; then
    echo "==> creating $PY_DIR/.venv with $py"
    "$py" -m venv "$PY_DIR/.venv" || { loud "cannot create the Python venv with $py"; return 1; }
  fi
  echo "==> pip install -r requirements.txt"
  "$PY_DIR/.venv/bin/python" -m pip install --disable-pip-version-check -q -r "$PY_DIR/requirements.txt" \
    || { loud "pip could not install the Python peer (delayed) from requirements.txt"; return 1; }
  local version
  version="$("$PY_DIR/.venv/bin/python" -c 'import delayed, msgpack, redis; print(delayed.__version__)')" \
    || { loud "the Python peer is installed but does not import"; return 1; }
  local pinned
  pinned="$(sed -n 's/^delayed==//p' "$PY_DIR/requirements.txt")"
  if [ "$version" != "$pinned" ]; then
    loud "delayed $version is installed, requirements.txt pins $pinned"
    return 1
  fi
  echo "==> Python peer ready: delayed $version ($PY_DIR/.venv)"
  # rpqueue only feeds the data-queue bench, which reports why it is missing: a warning, not a failure.
  local rpqueue_version
  if rpqueue_version="$("$PY_DIR/.venv/bin/python" -c 'import rpqueue; print(rpqueue.VERSION)' 2>/dev/null)"; then
    echo "==> rpqueue $rpqueue_version ready for the data-queue bench"
  else
    echo "warning: the venv cannot import rpqueue (it needs Python <= 3.11); the bench's data group will skip it" >&2
  fi
}

setup_go() {
  command -v "$GO_BIN" >/dev/null 2>&1 || { loud "go is not installed"; return 1; }
  mkdir -p "$GO_DIR/bin"
  cd "$GO_DIR" || return 1
  if grep -q "^[[:space:]]*$GO_DELAYED_MODULE " go.mod || grep -q "require $GO_DELAYED_MODULE " go.mod; then
    echo "==> go build (go-delayed pinned in go.mod)"
    "$GO_BIN" build -o bin/goharness . || { loud "go build of the Go harness failed"; return 1; }
  elif [ -n "${GO_DELAYED_DIR:-}" ]; then
    [ -f "$GO_DELAYED_DIR/go.mod" ] || { loud "GO_DELAYED_DIR=$GO_DELAYED_DIR holds no go.mod"; return 1; }
    echo "==> go build against local sources: GO_DELAYED_DIR=$GO_DELAYED_DIR ${GOLOG_DIR:+GOLOG_DIR=$GOLOG_DIR}"
    cp go.mod bin/go.local.mod
    cp go.sum bin/go.local.sum 2>/dev/null || : > bin/go.local.sum
    local edits=(-require="$GO_DELAYED_MODULE@v0.0.0-00010101000000-000000000000"
                 -replace="$GO_DELAYED_MODULE=$GO_DELAYED_DIR")
    if [ -n "${GOLOG_DIR:-}" ]; then
      edits+=(-require="$GOLOG_MODULE@$GOLOG_VERSION" -replace="$GOLOG_MODULE=$GOLOG_DIR")
    fi
    "$GO_BIN" mod edit -modfile=bin/go.local.mod "${edits[@]}" || { loud "go mod edit failed"; return 1; }
    GOFLAGS=-mod=mod "$GO_BIN" build -modfile=bin/go.local.mod -o bin/goharness . \
      || { loud "go build of the Go harness against GO_DELAYED_DIR failed"; return 1; }
  else
    echo "==> go-delayed is not pinned in go.mod; asking the module proxy for it"
    local out
    local probe_dir
    probe_dir="$(mktemp -d)"
    if out="$(cd "$probe_dir" && GOFLAGS= "$GO_BIN" list -m -versions "$GO_DELAYED_MODULE" 2>&1)"; then
      rmdir "$probe_dir" 2>/dev/null
      loud "the proxy now serves $GO_DELAYED_MODULE ($out). Pin it once:
!!   cd test/interop/go && go get $GO_DELAYED_MODULE@<version> && go mod tidy
!! then commit go.mod and go.sum and re-run this script."
    else
      rmdir "$probe_dir" 2>/dev/null
      loud "the Go peer cannot be installed: the module proxy refuses it.
!! $out
!! Set GO_DELAYED_DIR (and GOLOG_DIR) to local source trees to build anyway; see PEERS.md."
    fi
    return 1
  fi
  ./bin/goharness 2>/dev/null; [ $? -eq 2 ] || { loud "bin/goharness was built but does not run"; return 1; }
  echo "==> Go peer ready: $GO_DIR/bin/goharness"
}

if [ $want_python -eq 1 ]; then
  (setup_python) || failures+=("python")
fi
if [ $want_go -eq 1 ]; then
  (setup_go) || failures+=("go")
fi

if [ ${#failures[@]} -ne 0 ]; then
  loud "FAILED: ${failures[*]} peer(s) not installed"
  exit 1
fi
echo "==> interop peers ready"
