"""The mutation check (tests/mutation_check.py) mutates code by its text: each mutant's code must still be
found, once, or the check silently stops covering that mistake when the code moves or is restyled."""

import pytest

from tests.mutation_check import MUTANTS, ROOT


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_each_mutant_finds_its_code_once_and_still_compiles(mutant):
    source = (ROOT / mutant.path).read_text(encoding="utf-8")
    assert source.count(mutant.before) == 1
    compile(source.replace(mutant.before, mutant.after), mutant.path, "exec")
