"""Nothing keras-hpx writes or reads is pickled or evaluated (the README's security note)."""

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "keras_hpx"
# Calls that run or unpickle data: none may appear in the library's code.
FORBIDDEN = re.compile(
    r"\b(import pickle|from pickle|cPickle|dill|cloudpickle|marshal\.loads|shelve|"
    r"yaml\.load|allow_pickle\s*=\s*True|torch\.load|eval\(|exec\()"
)


def test_no_pickle_or_eval_in_the_library():
    hits = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if FORBIDDEN.search(code):
                hits.append(f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}")
    assert not hits, "\n".join(hits)


def test_the_pattern_catches_what_it_should():
    for bad in ("import pickle", "x = eval(s)", "np.load(f, allow_pickle=True)", "yaml.load(f)"):
        assert FORBIDDEN.search(bad), bad
    assert not FORBIDDEN.search("json.loads(text)")
