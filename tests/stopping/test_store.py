import math
import multiprocessing
import os
import re

import pytest

from keras_hpx.stopping import CurveStore, FileStore, MemoryStore, get_store


@pytest.fixture(params=["memory", "file"])
def store(request, tmp_path):
    return MemoryStore() if request.param == "memory" else FileStore(tmp_path / "c.jsonl")


def test_round_trip(store):
    store.append("a", 0, 1.0)
    store.append("a", 1, float("nan"))
    store.append("b", 0, float("inf"))
    store.finish("a", stopped=True, reason="too slow", step=1)
    curves = store.curves()
    assert list(curves) == ["a", "b"]
    assert curves["a"].values[0] == 1.0 and math.isnan(curves["a"].values[1])
    assert curves["a"].finished and curves["a"].stopped
    assert curves["a"].reason == "too slow" and curves["a"].stop_step == 1
    assert math.isinf(curves["b"].values[0]) and not curves["b"].finished
    assert store.references(exclude="a") == [{0: math.inf}]


def test_a_run_placed_in_a_bracket_keeps_it(store):
    store.place("a", 2)
    store.append("a", 0, 1.0)
    store.append("b", 0, 2.0)
    curves = store.curves()
    assert (curves["a"].bracket, curves["b"].bracket) == (2, 0)
    assert curves["a"].values == {0: 1.0}  # the placement is not a point
    assert store.references() == [{0: 1.0}, {0: 2.0}]


def test_file_store_reads_incrementally_and_sees_other_instances(tmp_path):
    path = tmp_path / "sub" / "c.jsonl"
    one, two = FileStore(path), FileStore(str(path))
    assert one.curves() == {}
    one.append("a", 0, 1.0)
    assert two.curves()["a"].values == {0: 1.0}
    two.append("a", 1, 0.5)
    assert one.curves()["a"].values == {0: 1.0, 1: 0.5}
    # a half-written last line is left for the next read
    with open(path, "a") as f:
        f.write('{"run":"b","step":0,')
    assert "b" not in one.curves()
    with open(path, "a") as f:
        f.write('"value":2.0}\n')
    assert one.curves()["b"].values == {0: 2.0}


def _writer(path, run, n):
    store = FileStore(path)
    for step in range(n):
        store.append(run, step, float(step))
    store.finish(run)


def test_file_store_concurrent_writers_lose_nothing(tmp_path):
    path = str(tmp_path / "c.jsonl")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, f"r{i}", 200)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    curves = FileStore(path).curves()
    assert sorted(curves) == ["r0", "r1", "r2", "r3"]
    for c in curves.values():
        assert c.values == {s: float(s) for s in range(200)} and c.finished
    with open(path) as f:
        assert sum(1 for _ in f) == 4 * 201


def test_get_store():
    assert isinstance(get_store(None), MemoryStore)
    assert isinstance(get_store("x.jsonl"), FileStore)
    s = MemoryStore()
    assert get_store(s) is s
    with pytest.raises(TypeError, match="store=3"):
        get_store(3)
    with pytest.raises(TypeError, match="path=''"):
        FileStore("")


def test_file_store_pickles_by_path(tmp_path):
    import pickle

    s = FileStore(tmp_path / "c.jsonl")
    s.append("a", 0, 1.0)
    t = pickle.loads(pickle.dumps(s))
    assert t.path == s.path and t.curves()["a"].values == {0: 1.0}
    assert os.path.isabs(t.path)


def test_base_class_is_abstract():
    with pytest.raises(NotImplementedError):
        CurveStore().append("a", 0, 1.0)


def test_file_store_skips_damaged_lines_and_names_them(tmp_path):
    path = tmp_path / "c.jsonl"
    store = FileStore(path)
    store.append("a", 0, 1.0)
    with open(path, "ab") as f:
        f.write(b'{"run":"a","step":1,"val\n')  # cut mid-record, then its end came
        f.write(b"\xff\xfe garbage\n")
        f.write(b'["not", "a", "record"]\n')
        f.write(b'{"run":"a","step":"x","value":1.0}\n')  # a record of the wrong shape
    store.append("a", 2, 0.5)
    with pytest.warns(UserWarning, match=rf"{re.escape(str(path))}: line\(s\) \[2, 3, 4\] damaged"):
        curves = FileStore(path).curves()
    assert curves["a"].values == {0: 1.0, 2: 0.5}


def test_a_record_written_after_a_cut_last_line_is_not_lost(tmp_path):
    # A writer killed mid-line leaves no line end; the next record must not be glued to it.
    path = tmp_path / "c.jsonl"
    store = FileStore(path)
    store.append("a", 0, 1.0)
    with open(path, "ab") as f:
        f.write(b'{"run":"a","st')
    store.append("a", 1, 0.5)
    with pytest.warns(UserWarning, match=r"line\(s\) \[2\] damaged"):
        assert FileStore(path).curves()["a"].values == {0: 1.0, 1: 0.5}
