"""The reuse check's band index: the same verdicts as the full scan, over the same covers (the organisation's
delivered covers of other releases), and its keys (organisation and pHash bands) always in step with the rows."""

import random

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from generation import jobs
from generation.engine.sentinel import thresholds as T
from generation.engine.sentinel.phash import (
    _RANK,
    BAND_RADII,
    FOUND_WITHIN,
    REACH,
    IndexedHashes,
    _known,
    band_keys,
    bands,
    colour_distance,
    distance,
    reuse,
)
from generation.models import CoverImage, CoverTask
from tests.conftest import make_org


def old_reuse(value: int, signature: str, known_hashes) -> tuple[str, dict]:
    """reuse() as it was before the index: the reference the indexed path must agree with."""
    worst, nearest, nearest_colour = "pass", 64, None
    for item in filter(None, map(_known, known_hashes)):
        bits = distance(value, item[0])
        colour = colour_distance(signature, item[1]) if item[1] else None
        if bits <= T.REUSE_FAIL_BITS and (colour is None or colour <= T.REUSE_COLOUR_FAIL):
            verdict = "fail"
        elif bits <= T.REUSE_REVIEW_BITS and (colour is None or colour <= T.REUSE_COLOUR_REVIEW):
            verdict = "review"
        else:
            verdict = "pass"
        if (_RANK[verdict], -bits) > (_RANK[worst], -nearest):
            worst, nearest, nearest_colour = verdict, bits, colour
        elif bits < nearest and worst == "pass":
            nearest, nearest_colour = bits, colour
    values = {"reuse_distance": nearest}
    if nearest_colour is not None:
        values["reuse_colour_distance"] = round(nearest_colour, 1)
    return worst, values


def flip(rng: random.Random, value: int, bits: int) -> int:
    for b in rng.sample(range(64), bits):
        value ^= 1 << b
    return value


def signature_at(rng: random.Random) -> str:
    """A random colour signature, its Lab bytes clear of 0 and 255 so that shifting them does not clip."""
    return bytes(rng.randint(40, 215) for _ in range(48)).hex()


def shade(signature: str, channel: int, delta: float) -> str:
    """The signature with one Lab channel (1: a, 2: b) moved by `delta` in every cell: delta E `delta` from it, and
    sqrt(x^2 + y^2) between a shade of x on one channel and a shade of y on the other."""
    raw = bytearray(bytes.fromhex(signature))
    for i in range(channel, len(raw), 3):
        raw[i] += round(delta)
    return raw.hex()


def assert_same(value: int, signature: str, indexed, everything: list, reference: bool = True) -> tuple[str, dict]:
    """The indexed reuse() has the full scan's verdict, and its values whenever the nearest cover is one the index
    is sure to find (farther, it reports a real cover's distance that is never nearer than the true nearest). The
    full scan is reuse() over the list, itself checked against the loop as it was (`reference`, it is slow)."""
    want = reuse(value, signature, everything)
    if reference:
        assert old_reuse(value, signature, everything) == want
    got = reuse(value, signature, indexed)
    assert got[0] == want[0], (f"{value:016x}", got, want)
    if want[1]["reuse_distance"] <= FOUND_WITHIN:
        assert got == want, (f"{value:016x}", got, want)
    else:
        assert FOUND_WITHIN < want[1]["reuse_distance"] <= got[1]["reuse_distance"]
    return want


def test_the_bands_reach_every_hash_the_thresholds_judge():
    assert REACH == max(T.REUSE_FAIL_BITS, T.REUSE_REVIEW_BITS) and FOUND_WITHIN >= REACH
    assert sum(r + 1 for r in BAND_RADII) == FOUND_WITHIN + 1
    rng = random.Random(1)
    for bits in range(FOUND_WITHIN + 1):
        for _ in range(400):
            a = rng.getrandbits(64)
            b = flip(rng, a, bits)
            keys = band_keys(a)
            assert any(part in keys[n] for n, part in enumerate(bands(b))), (f"{a:016x}", f"{b:016x}")
    # ... and the radii are no larger than that: r_n + 1 bits off in every band is out of the index's reach.
    a = rng.getrandbits(64)
    b = a
    for n, r in enumerate(BAND_RADII):
        for bit in range(r + 1):
            b ^= 1 << (16 * (3 - n) + bit)
    assert distance(a, b) == FOUND_WITHIN + 1
    assert not any(part in band_keys(a)[n] for n, part in enumerate(bands(b)))


def test_bands_are_the_hex_digits():
    assert bands(0x0123456789ABCDEF) == [0x0123, 0x4567, 0x89AB, 0xCDEF]
    assert [len(k) for k in band_keys(0)] == [1 + 16 + 120 if r == 2 else 1 + 16 for r in BAND_RADII]


def in_memory_index(items: list, counts: list[bool]) -> IndexedHashes:
    """IndexedHashes over a list: candidates by band as the database finds them, some of which do not count."""
    parsed = [_known(item) for item in items]
    item_bands = [bands(p[0]) for p in parsed]

    def candidates(keys):
        sets = [set(k) for k in keys]
        return [(i, items[i] if isinstance(items[i], str) else items[i][0]) for i, b in enumerate(item_bands)
                if any(part in sets[n] for n, part in enumerate(b))]

    def counted(keys):
        return {i: parsed[i][1] for i in keys if counts[i]}

    return IndexedHashes(candidates, counted, lambda: [item for item, c in zip(items, counts, strict=True) if c])


def test_the_indexed_reuse_gives_the_full_scans_verdicts_on_random_covers():
    rng = random.Random(7)
    centres = [(rng.getrandbits(64), signature_at(rng)) for _ in range(40)]
    items, counts = [], []
    for _ in range(1500):
        value, signature = rng.choice(centres)
        value = flip(rng, value, rng.choice((0, 1, 3, 4, 5, 6, 9, 10, 11, 12, 14, 18, 24)))
        kind = rng.random()
        if kind < 0.1:
            items.append(f"{value:016x}")  # an older row: the pHash alone
        elif kind < 0.15:
            items.append((f"{value:016x}", None))
        else:
            items.append((f"{value:016x}", shade(signature, 1, rng.choice((0, 2, 4, 6, 7, 9)))))
        counts.append(rng.random() < 0.8)  # the rest: the family's covers or another organisation's
    items += [f"{rng.getrandbits(64):016x}" for _ in range(300)]
    counts += [True] * 300
    index = in_memory_index(items, counts)
    everything = list(index)
    seen = {"pass": 0, "review": 0, "fail": 0}
    distances = set()
    for n in range(700):
        value, signature = rng.choice(centres)
        value = rng.getrandbits(64) if n % 5 == 0 else flip(rng, value, rng.randint(0, 16))
        signature = shade(signature, 2, rng.choice((0, 3, 5, 6, 6, 7, 7, 8, 20)))
        verdict, values = assert_same(value, signature, index, everything, reference=n % 10 == 0)
        seen[verdict] += 1
        distances.add(values["reuse_distance"])
    assert seen["pass"] > 100 and seen["fail"] > 100 and seen["review"] > 5, seen
    assert {T.REUSE_REVIEW_BITS, T.REUSE_REVIEW_BITS + 1, T.REUSE_FAIL_BITS, T.REUSE_FAIL_BITS + 1} <= distances


def test_equal_distances_resolve_as_in_the_full_scan():
    # Two covers with one pHash and other colours: the first listed decides, with and without the index.
    value = 0x00FF00FF00FF00FF
    items = [(f"{value:016x}", "40" * 48), (f"{value:016x}", "80" * 48), (f"{value ^ 1:016x}", "40" * 48)]
    index = in_memory_index(items, [True, True, True])
    for probe in (value, value ^ 0b110, value ^ 0xFFF, value ^ (0xFFFF << 20)):
        for signature in ("40" * 48, "80" * 48, "60" * 48):
            assert_same(probe, signature, index, items)


def test_the_nearest_far_cover_that_counts_is_found_past_the_first_batches():
    # 60 candidates, all farther than REACH (band 0 the same, the rest far off): only a few of them count.
    value = 0xABCD000000000000
    rng = random.Random(2)
    items = [f"{value ^ sum(1 << b for b in rng.sample(range(48), 11 + n % 30)):016x}" for n in range(60)]
    by_distance = sorted(range(60), key=lambda i: distance(value, int(items[i], 16)))
    calls = []

    def index_counting(counts):
        index = in_memory_index(items, counts)
        counted = index._counted
        index._counted = lambda keys: calls.append(len(keys)) or counted(keys)
        return index

    for rank in (0, 15, 16, 40, 59):  # the nearest that counts is the rank-th nearest candidate
        counts = [by_distance.index(i) >= rank for i in range(60)]
        index = index_counting(counts)
        assert_same(value, "80" * 48, index, list(index))
        calls.clear()
        assert reuse(value, "80" * 48, index)[1]["reuse_distance"] == distance(value, int(items[by_distance[rank]], 16))
        assert calls == [16, 32, 12][:1 + (rank >= 16) + (rank >= 48)]  # batches of 16, 32, then the last 12
    index = index_counting([False] * 60)
    assert index.near(value) == [] and reuse(value, "80" * 48, index) == ("pass", {"reuse_distance": 64})


def test_a_plain_list_still_works():
    assert reuse(5, "00" * 48, [f"{5:016x}"])[0] == "fail"
    assert reuse(5, "00" * 48, [])[1] == {"reuse_distance": 64}
    assert reuse(5, "00" * 48, [("", None), (None,)]) == ("pass", {"reuse_distance": 64})


# -- against the database ------------------------------------------------------------------------------------------

def add_cover(task: CoverTask, index: int, phash: str, signature: str | None = None, passed: bool = True
              ) -> CoverImage:
    qa = {"values": {"phash": phash, "colour_signature": signature}} if signature else {}
    return CoverImage.objects.create(task=task, index=index, variant="text", seed=index, format="png", width=1,
                                     height=1, bytes=1, storage_path=f"x/{index}.png", filename="c.png",
                                     passed=passed, verdict="pass" if passed else "review", phash=phash, qa=qa)


def stored_keys(image: CoverImage) -> list[int | None]:
    return list(CoverImage.objects.filter(pk=image.pk).values_list("reuse_key0", "reuse_key1", "reuse_key2",
                                                                     "reuse_key3").get())


def keys_of(org_id: int, value: int) -> list[int]:
    return [org_id * 65536 + band for band in bands(value)]


@pytest.mark.django_db
def test_the_database_computes_the_keys_on_every_write():
    org = make_org("Bands")
    task = CoverTask.objects.create(organization=org, genre="hiphop", params={}, count=1)
    rng = random.Random(3)
    values = [0, 2**64 - 1, 0x0123456789ABCDEF, *(rng.getrandbits(64) for _ in range(20))]
    created = [add_cover(task, i, f"{v:016x}") for i, v in enumerate(values)]
    created.append(add_cover(task, 90, "0123456789ABCDEF"))  # upper case reads the same
    values.append(0x0123456789ABCDEF)
    assert {image.organization_id for image in created} == {org.pk}  # save() copies the task's
    for image, value in zip(created, values, strict=True):
        assert stored_keys(image) == keys_of(org.pk, value)
    bulk = CoverImage.objects.bulk_create([
        CoverImage(task=task, organization=org, index=100 + i, variant="text", seed=i, format="png", width=1,
                   height=1, bytes=1, storage_path="x", filename="c.png", passed=True, phash=f"{v:016x}")
        for i, v in enumerate(values)])
    assert [stored_keys(image) for image in bulk] == [keys_of(org.pk, v) for v in values]
    CoverImage.objects.filter(pk=created[0].pk).update(phash="fedcba9876543210")  # no save(): still in step
    assert stored_keys(created[0]) == keys_of(org.pk, 0xFEDCBA9876543210)


@pytest.mark.django_db
def test_a_cover_without_its_organisation_is_still_found():
    # bulk_create does not call save(): a row left without its organisation has no keys, and is a candidate of
    # every lookup (counted only for its task's organisation), never a miss.
    org, other_org = make_org("Northside Records"), make_org("Outsider Music")
    delivered = CoverTask.objects.create(organization=org, genre="edm", params={}, count=1)
    [image] = CoverImage.objects.bulk_create([CoverImage(
        task=delivered, index=0, variant="text", seed=1, format="png", width=1, height=1, bytes=1, storage_path="x",
        filename="c.png", passed=True, phash="00ff00ff00ff00ff", qa={"values": {"colour_signature": "4a" * 48}})])
    assert stored_keys(image) == [None] * 4
    task = CoverTask.objects.create(organization=org, genre="hiphop", params={}, count=1)
    assert reuse(0x00FF00FF00FF00FF, "4a" * 48, jobs.known_hashes(task))[0] == "fail"
    foreign = CoverTask.objects.create(organization=other_org, genre="hiphop", params={}, count=1)
    assert reuse(0x00FF00FF00FF00FF, "4a" * 48, jobs.known_hashes(foreign))[0] == "pass"


@pytest.fixture
def releases(db):
    """An organisation's delivered covers: the task to check, its family, other releases; and another one's."""
    org, other_org = make_org("Northside Records"), make_org("Outsider Music")
    make = CoverTask.objects.create
    root = make(organization=org, genre="hiphop", params={}, count=3)
    task = make(organization=org, genre="hiphop", params={}, count=3, parent=root)
    sibling = make(organization=org, genre="hiphop", params={}, count=3, parent=root)
    others = [make(organization=org, genre="edm", params={}, count=3) for _ in range(60)]
    foreign = make(organization=other_org, genre="edm", params={}, count=3)
    return {"task": task, "root": root, "sibling": sibling, "others": others, "foreign": foreign}


@pytest.mark.django_db
def test_known_hashes_count_only_the_organisations_other_releases(releases, django_assert_max_num_queries):
    rng = random.Random(11)
    r = releases
    family = {}
    for n, owner in enumerate((r["task"], r["root"], r["sibling"])):
        family[owner.pk] = add_cover(owner, n, f"{rng.getrandbits(64):016x}", signature_at(rng))
    foreign = add_cover(r["foreign"], 0, f"{rng.getrandbits(64):016x}", signature_at(rng))
    held_back = add_cover(r["others"][0], 0, f"{rng.getrandbits(64):016x}", signature_at(rng), passed=False)
    add_cover(r["others"][0], 1, "")  # no pHash (an older row): never a candidate
    delivered = add_cover(r["others"][1], 0, f"{rng.getrandbits(64):016x}", signature_at(rng))
    signature = delivered.qa["values"]["colour_signature"]

    with django_assert_max_num_queries(0):
        known = jobs.known_hashes(r["task"])
    everything = list(known)
    assert everything == [(delivered.phash, signature)] and known == everything

    def check(image: CoverImage):
        with django_assert_max_num_queries(2):  # the candidates, then the few that count with their colours
            return reuse(int(image.phash, 16), image.qa["values"]["colour_signature"], known)

    assert check(delivered) == ("fail", {"reuse_distance": 0, "reuse_colour_distance": 0.0})
    # The index is scoped: another organisation's cover is not even a candidate.
    assert foreign.pk not in dict(known._candidates(band_keys(int(foreign.phash, 16))))
    assert delivered.pk in dict(known._candidates(band_keys(int(delivered.phash, 16))))
    for image in [*family.values(), foreign, held_back]:  # the same artwork again, but not another release's
        verdict, values = check(image)
        assert verdict == "pass" and values["reuse_distance"] > REACH, image
        assert_same(int(image.phash, 16), image.qa["values"]["colour_signature"], known, everything)
    # A staff approval makes a review cover count (passed=True), as in the full scan.
    held_back.passed = True
    held_back.save(update_fields=["passed"])
    assert check(held_back)[0] == "fail"
    # The root's own check leaves out its variations, the sibling's leaves out the root and the task.
    for owner in (r["root"], r["sibling"]):
        known = jobs.known_hashes(owner)
        for image in family.values():
            assert reuse(int(image.phash, 16), image.qa["values"]["colour_signature"], known)[0] == "pass"
        assert reuse(int(delivered.phash, 16), signature, known)[0] == "fail"


@pytest.mark.django_db
def test_known_hashes_give_the_full_scans_verdicts(releases):
    rng = random.Random(5)
    r = releases
    centres = [(rng.getrandbits(64), signature_at(rng)) for _ in range(25)]
    owners = [*r["others"], r["task"], r["root"], r["sibling"], r["foreign"]]
    images = []
    for n, owner in enumerate(owners * 3):
        value, signature = rng.choice(centres)
        value = flip(rng, value, rng.choice((0, 2, 4, 5, 8, 10, 11, 13, 20)))
        images.append(add_cover(owner, n // len(owners), f"{value:016x}",
                                shade(signature, 1, rng.choice((0, 2, 4, 6, 7))) if n % 7 else None,
                                passed=n % 11 != 0))
    known = jobs.known_hashes(r["task"])
    everything = list(known)
    assert len(everything) == sum(1 for i in images if i.passed and i.task.organization_id == r["task"]
                                  .organization_id and i.task_id not in (r["task"].pk, r["root"].pk, r["sibling"].pk))
    seen = set()
    for _ in range(250):
        value, signature = rng.choice(centres)
        value = flip(rng, value, rng.randint(0, 14))
        signature = shade(signature, 2, rng.choice((0, 3, 5, 6, 7, 20)))
        seen.add(assert_same(value, signature, known, everything)[0])
    assert seen == {"pass", "review", "fail"}


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_keys_of_existing_covers():
    executor = MigrationExecutor(connection)
    before = [("generation", "0006_image_starts")]
    after = [node for node in executor.loader.graph.leaf_nodes() if node[0] == "generation"]
    executor.migrate(before)
    try:
        apps = executor.loader.project_state(before).apps
        org = make_org("Before the index")  # accounts is not migrated here: today's model
        task = apps.get_model("generation", "CoverTask").objects.create(organization_id=org.pk, genre="hiphop",
                                                                         params={}, count=2)
        image = apps.get_model("generation", "CoverImage")
        for index, phash in enumerate(("0123456789abcdef", "")):
            image.objects.create(task_id=task.pk, index=index, variant="text", seed=1, format="png", width=1,
                                 height=1, bytes=1, storage_path="x", filename="c.png", passed=True, phash=phash)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(after)
    cover = CoverImage.objects.get(phash="0123456789abcdef")
    assert cover.organization_id == org.pk
    assert stored_keys(cover) == keys_of(org.pk, 0x0123456789ABCDEF)
    assert CoverImage.objects.get(phash="").organization_id == org.pk
