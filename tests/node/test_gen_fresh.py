"""gen/ and the grpcio test stubs must be exactly what `just gen` makes from proto/ today."""

from __future__ import annotations

import filecmp
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import codegen  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _tree(base: Path) -> dict[str, Path]:
    return {str(p.relative_to(base)): p for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def _assert_same(expected_dir: Path, producer) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
        producer(Path(tmp))
        fresh, committed = _tree(Path(tmp)), _tree(expected_dir)
        assert sorted(fresh) == sorted(committed), f"{expected_dir.name}/ is stale: run `just gen`"
        stale = [name for name in fresh if not filecmp.cmp(fresh[name], committed[name], shallow=False)]
        assert not stale, f"stale generated files {stale}: run `just gen`"


def test_gen_matches_proto():
    _assert_same(ROOT / "gen", codegen.generate_betterproto)


def test_grpcio_stubs_match_proto():
    _assert_same(ROOT / "tests" / "grpcio_stubs", codegen.generate_grpcio)
