#!/usr/bin/env bash
# Install hilserl-bench into ./.venv, plus the system OpenGL libraries headless rendering needs.
#
#   bash scripts/install.sh          # package and runtime dependencies
#   bash scripts/install.sh --test   # also pytest, ruff and the [dm-control] extra the tests cover
#
# Safe to re-run: apt is used only for missing libraries, the venv is created only if
# absent, and pip runs only when pyproject.toml, constraints.txt or the extras changed
# since the last successful install. Versions are held to constraints.txt (known good).
# Works from any directory. Set PYTHON to choose the interpreter (default: python3, 3.11+).
set -euo pipefail

usage() { sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

extras=""
for arg in "$@"; do
  case "$arg" in
    --test) extras="[test,dm-control]" ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
log() { echo "[install] $*"; }

is_root() { [[ "$(id -u)" -eq 0 ]]; }
have_apt() { command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; }
apt_updated=0
apt_install() {
  if ((apt_updated == 0)); then
    apt-get update -qq
    apt_updated=1
  fi
  local out
  if ! out="$(DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" 2>&1)"; then
    echo "$out" >&2
    return 1
  fi
}

# 1. System GL: EGL (preferred, also works without a GPU through Mesa) and OSMesa (fallback).
gl_packages=(libegl1 libgl1 libosmesa6)
if have_apt; then
  missing=()
  for pkg in "${gl_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if ((${#missing[@]} == 0)); then
    log "system GL libraries present"
  elif is_root; then
    log "installing ${missing[*]} with apt-get"
    apt_install "${missing[@]}"
  else
    log "skipping ${missing[*]}: not root (run: sudo apt-get install -y ${missing[*]}); pixels may be unavailable"
  fi
else
  log "skipping system GL libraries: apt-get not found (install EGL or OSMesa with your package manager)"
fi

# 2. Python virtual environment.
python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
  echo "install.sh: '$python' not found; install Python 3.11+ or set PYTHON" >&2
  exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "install.sh: $("$python" --version 2>&1) is too old; hilserl-bench needs Python 3.11+ (set PYTHON)" >&2
  exit 1
fi
if [[ ! -x .venv/bin/python ]]; then
  rm -rf .venv
  log "creating .venv with $("$python" --version 2>&1)"
  if ! "$python" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    if have_apt && is_root; then
      version="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
      log "venv needs ensurepip; installing python${version}-venv with apt-get"
      apt_install "python${version}-venv"
      "$python" -m venv .venv
    else
      echo "install.sh: '$python -m venv' failed; install the venv module (Debian: apt-get install python3-venv)" >&2
      exit 1
    fi
  fi
fi

# 3. The package (editable), skipped when nothing changed since the last install.
stamp=".venv/.hilserl-bench-install"
hash="$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)"
want="$hash extras=${extras:-none}"
have="$(cat "$stamp" 2>/dev/null || true)"
if [[ "$have" == "$want" || (-z "$extras" && "$have" == "$hash extras=[test,dm-control]") ]] \
  && .venv/bin/python -c 'import hilserl_bench' 2>/dev/null; then
  log "hilserl-bench${extras} already installed in .venv"
else
  log "pip install -e .${extras} (first time: a few minutes)"
  .venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e ".${extras}"
  echo "$want" >"$stamp"
fi
log "done: .venv/bin/hilserl-bench --help"
