# mpc-signer tasks. Every recipe works on a fresh clone with Python 3.11+ and just.
set shell := ["bash", "-euo", "pipefail", "-c"]

python := env_var_or_default("PYTHON", "python3")
venv := ".venv"
bin := venv / "bin"

default:
    @just --list

# Create .venv and install the project with its dev extra (re-run when pyproject.toml changes).
venv:
    #!/usr/bin/env bash
    set -euo pipefail
    stamp={{venv}}/.installed
    if [ ! -x {{bin}}/python ]; then {{python}} -m venv {{venv}}; fi
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        {{bin}}/pip install -q --upgrade pip
        {{bin}}/pip install -q -e '.[dev]'
        touch "$stamp"
    fi

# Run the whole test suite.
test *ARGS: venv
    PATH="$PWD/{{bin}}:$PATH" {{bin}}/python -m pytest -q {{ARGS}}

# Run the node on the embedded defaults (plaintext gRPC on 0.0.0.0:9091, SQLite under ./data).
serve *ARGS: venv
    {{bin}}/signer serve {{ARGS}}

# Regenerate gen/ (betterproto2, grpclib server) and the grpcio test stubs from proto/.
gen: venv
    PATH="$PWD/{{bin}}:$PATH" {{bin}}/python tools/codegen.py

# Lint: ruff and mypy.
lint: venv
    {{bin}}/ruff check signer tests benchmarks tools
    {{bin}}/mypy signer tests/support/memstore.py

# Format the code.
fmt: venv
    {{bin}}/ruff format signer tests benchmarks tools
    {{bin}}/ruff check --fix signer tests benchmarks tools

# Benchmarks: JSON results (median, p99) in bench-results.json; FILTER selects entries by prefix.
bench *ARGS: venv
    PATH="$PWD/{{bin}}:$PATH" {{bin}}/python -m benchmarks {{ARGS}}

# The node's main job on a fresh machine: DKG, sign, verify against an in-process node (mTLS, tokens, MACs).
demo *ARGS: venv
    {{bin}}/signer demo {{ARGS}}

# The TypeScript relay (interop/) drives two `signer serve` nodes: FROST and GG20 DKG + sign (needs Node 20 + npm).
interop *ARGS: venv
    [ -d interop/node_modules ] || (cd interop && npm ci --no-audit --no-fund)
    PATH="$PWD/{{bin}}:$PATH" {{bin}}/python -m pytest -q -s tests/interop {{ARGS}}
