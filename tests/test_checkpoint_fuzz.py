"""Checkpoint fuzzing (#11): damaged files are refused before any parameter changes, or load
exactly. Random byte flips (anywhere), truncations, swapped members and lying sizes."""

import random
import zipfile

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

CASES_PER_KIND = 400  # bounded: the whole file runs in a few seconds


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    mg.manual_seed(3)
    model = nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    optimizer = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    (model(mg.randn(8, 5)) ** 2).mean().backward()
    optimizer.step()
    checkpoint = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": 1}
    path = tmp_path_factory.mktemp("fuzz") / "checkpoint.npz"
    mg.save(checkpoint, path)
    return path.read_bytes(), checkpoint


def assert_equal_trees(loaded, saved):
    if isinstance(saved, dict):
        assert list(loaded) == list(saved)
        for key in saved:
            assert_equal_trees(loaded[key], saved[key])
    elif isinstance(saved, list | tuple):
        assert type(loaded) is type(saved) and len(loaded) == len(saved)
        for a, b in zip(loaded, saved):
            assert_equal_trees(a, b)
    elif isinstance(saved, np.ndarray):
        assert loaded.dtype == saved.dtype and loaded.shape == saved.shape
        assert loaded.tobytes() == saved.tobytes()
    else:
        assert type(loaded) is type(saved) and loaded == saved


def try_into_fresh_model(path, checkpoint):
    """Load `path` into a fresh model: refused (model untouched) or loaded exactly."""
    mg.manual_seed(9)
    model = nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    before = {name: array.copy() for name, array in model.state_dict().items()}
    try:
        loaded = mg.load(path)
        model.load_state_dict(loaded["model"])
    except (ValueError, KeyError, TypeError) as error:
        assert str(error), "a refusal must say why"
        for name, array in model.state_dict().items():
            assert array.tobytes() == before[name].tobytes(), f"{name} changed by a refusal"
        return "refused"
    assert_equal_trees(loaded, checkpoint)
    return "exact"


def run(tmp_path, checkpoint, variants):
    path = tmp_path / "damaged.npz"
    outcomes = {"refused": 0, "exact": 0}
    for data in variants:
        path.write_bytes(data)
        outcomes[try_into_fresh_model(path, checkpoint)] += 1
    return outcomes


def test_random_byte_flips_anywhere(tmp_path, saved):
    data, checkpoint = saved
    rng = random.Random(0)

    def variants():
        for _ in range(CASES_PER_KIND):
            damaged = bytearray(data)
            for _ in range(rng.choice((1, 1, 2, 8))):
                damaged[rng.randrange(len(damaged))] ^= rng.randrange(1, 256)
            yield bytes(damaged)

    outcomes = run(tmp_path, checkpoint, variants())
    assert outcomes["refused"] > CASES_PER_KIND // 2  # most flips hit checked bytes


def test_truncations_and_appended_garbage(tmp_path, saved):
    data, checkpoint = saved
    rng = random.Random(1)
    cuts = [0, 1, 4, 22, len(data) - 1, len(data) - 22] + [rng.randrange(len(data))
                                                           for _ in range(CASES_PER_KIND)]
    outcomes = run(tmp_path, checkpoint, (data[:cut] for cut in cuts))
    assert outcomes == {"refused": len(cuts), "exact": 0}
    # Bytes appended or prepended: zip locates its directory from the end, so these may load;
    # they must then load exactly.
    run(tmp_path, checkpoint, [data + b"\x00" * 100, b"junk" + data, data + data])


def members_of(data):
    import io
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info, archive.read(info)) for info in archive.infolist()]


def rebuild(members):
    import io
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info, content in members:
            archive.writestr(info.filename, content)
    return buffer.getvalue()


def test_swapped_dropped_duplicated_and_renamed_members(tmp_path, saved):
    data, checkpoint = saved
    members = members_of(data)
    rng = random.Random(2)
    variants = []
    for _ in range(CASES_PER_KIND // 3):
        a, b = rng.sample(range(len(members)), 2)
        contents = [content for _, content in members]
        contents[a], contents[b] = contents[b], contents[a]  # same names, swapped bytes
        variants.append(rebuild([(info, content) for (info, _), content
                                 in zip(members, contents)]))
        dropped = members[:a] + members[a + 1:]
        variants.append(rebuild(dropped))
        renamed = list(members)
        renamed[a] = (zipfile.ZipInfo(members[a][0].filename + "x"), members[a][1])
        variants.append(rebuild(renamed))
    outcomes = run(tmp_path, checkpoint, variants)
    assert outcomes["exact"] == 0


def test_size_lies_in_local_and_central_headers(tmp_path, saved):
    data, checkpoint = saved
    rng = random.Random(3)
    # Offsets of the size fields: local header 18 (compressed) and 22 (uncompressed),
    # central directory entry 20 and 24 (APPNOTE.TXT 4.3.7 and 4.3.12).
    fields = []
    for signature, offsets in ((b"PK\x03\x04", (18, 22)), (b"PK\x01\x02", (20, 24))):
        start = data.find(signature)
        while start != -1:
            fields += [start + offset for offset in offsets]
            start = data.find(signature, start + 1)
    variants = []
    for _ in range(CASES_PER_KIND):
        damaged = bytearray(data)
        field = rng.choice(fields)
        lie = rng.choice((0, 1, 0xFFFFFFFF, 0xFFFFFFFE, 2**31, rng.randrange(2**32)))
        damaged[field:field + 4] = lie.to_bytes(4, "little")
        variants.append(bytes(damaged))
    outcomes = run(tmp_path, checkpoint, variants)
    assert outcomes["refused"] > 0
