# mpc-signer tasks. Every recipe works on a fresh clone with Python 3.11+ and just.
set shell := ["bash", "-euo", "pipefail", "-c"]

python := env_var_or_default("PYTHON", "python3")
venv := ".venv"
bin := venv / "bin"

default:
    @just --list

# Create .venv and install the project with EXTRAS: `dev` (tests, benchmarks; includes the node) by
# default, `node` for the runtime alone (re-run when pyproject.toml changes).
venv EXTRAS="dev":
    #!/usr/bin/env bash
    set -euo pipefail
    stamp={{venv}}/.installed-{{EXTRAS}}
    if [ -f {{venv}}/.installed-dev ] && [ ! pyproject.toml -nt {{venv}}/.installed-dev ]; then exit 0; fi
    if [ ! -x {{bin}}/python ]; then {{python}} -m venv {{venv}}; fi
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        echo "installing mpc-signer[{{EXTRAS}}] into {{venv}} ..." >&2
        # The venv's own pip (Python 3.11+) installs this project as is; upgrading it first costs ~7 s.
        {{bin}}/pip install -q --disable-pip-version-check -e '.[{{EXTRAS}}]'
        touch "$stamp"
    fi

# Run the whole test suite on two workers (pytest-xdist; how tests are shared out: tests/conftest.py).
# `just test -n 0` runs it in one process.
test *ARGS: venv
    PATH="$PWD/{{bin}}:$PATH" {{bin}}/python -m pytest -q -n 2 {{ARGS}}

# Run the node on the embedded defaults (plaintext gRPC on 0.0.0.0:9091, SQLite under ./data).
serve *ARGS: (venv "node")
    {{bin}}/signer serve {{ARGS}}

# Regenerate gen/ (betterproto2, grpclib server) and the grpcio test stubs from proto/.
gen: venv
    PATH="$PWD/{{bin}}:$PATH" {{bin}}/python tools/codegen.py

# Lint: ruff and mypy.
lint: venv
    {{bin}}/ruff check signer tests benchmarks tools examples
    {{bin}}/mypy signer tests/support/memstore.py

# Format the code.
fmt: venv
    {{bin}}/ruff format signer tests benchmarks tools examples
    {{bin}}/ruff check --fix signer tests benchmarks tools examples

# Benchmarks: JSON results (median, p99) in bench-results.json; FILTER selects entries by prefix.
bench *ARGS: venv
    PATH="$PWD/{{bin}}:$PATH" {{bin}}/python -m benchmarks {{ARGS}}

# The node's main job on a fresh machine: DKG, sign, verify against an in-process node (mTLS, tokens, MACs).
# Installs the runtime only (the `node` extra), not the dev tools.
demo *ARGS: (venv "node")
    {{bin}}/signer demo {{ARGS}}

# The TypeScript relay (interop/) drives two `signer serve` nodes: FROST and GG20 DKG + sign (needs Node 20 + npm).
interop *ARGS: venv
    [ -d interop/node_modules ] || (cd interop && npm ci --no-audit --no-fund)
    PATH="$PWD/{{bin}}:$PATH" {{bin}}/python -m pytest -q -s tests/interop {{ARGS}}
