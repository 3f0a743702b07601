"""Every bad-input fixture fails with its exact message (``file:line: field.path: message``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import BASE, FIXTURES, PAPER_HEADER, write

from audit.errors import ValidationFailed
from audit.registry.store import check_file, validate

BAD = FIXTURES / "bad"

EXPECTED = {
    "yaml-syntax.yaml": [
        "13: YAML syntax error: expected ',' or '}', but got ':' (while parsing a flow mapping at line 12)",
    ],
    "unknown-field.yaml": ["14: results[0].finetune.epoch: unknown field (did you mean 'epochs'?)"],
    "wrong-type.yaml": [
        "12: results[0].top1.mean: must be a valid number, unable to parse string as a number (got 'high')",
    ],
    "negative-epochs.yaml": [
        "14: results[0].finetune.epochs: must be greater than or equal to 0 (got -5)",
        "16: results[0].prune.epochs: must be a valid integer (got 2.5)",
    ],
    "schedule-order.yaml": [
        "15: results[0].finetune.lr_schedule: schedule keys out of order: 30 after 60",
        "18: results[0].pretrain.lr_schedule: the first key must be 0, not 30: a schedule must say its first LR",
    ],
    "impossible-schedule.yaml": [
        "15: results[0].finetune.lr_schedule: stage starting at epoch 30 does not fit in a total of 20 epochs",
    ],
    "speedup-below-one.yaml": [
        "13: results[0].compression.speedup: speedup 0.8 is below 1: a speedup is dense/pruned FLOPs (>= 1); "
        "put a fraction of FLOPs saved in flops_reduction_pct (percent)",
    ],
    "accuracy-range.yaml": [
        "12: results[0].top1.mean: must be less than or equal to 100 (got 175.3)",
        "13: results[0].base.top1: must be greater than or equal to 0 (got -1)",
    ],
    "duplicate-ids.yaml": ["14: results[1].id: duplicate result id 'r1' (first at results[0])"],
    "id-mismatch.yaml": ["2: paper.id: id 'some-other-id' does not match the file name 'id-mismatch'"],
    "unsafe-tag.yaml": [
        "13: results[0].notes: tag !!python/object/apply:os.system is not allowed (plain YAML data only)",
    ],
    "empty.yaml": ["1: empty file"],
    "unknown-method.yaml": ["9: results[0].method: unknown method 'L1-nrom'. Did you mean 'L1-norm'?"],
    "string-lr.yaml": ["15: results[0].finetune.lr_schedule: LR '1e-3' is not a number"],
}


def messages(path: Path, registry: Path = BASE) -> list[str]:
    with pytest.raises(ValidationFailed) as info:
        validate([path], registry)
    return [str(p) for p in info.value.problems]


def test_every_fixture_has_an_expectation():
    assert sorted(p.name for p in BAD.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_message(name):
    got = [m.split(".yaml:", 1)[1] for m in messages(BAD / name)]
    assert got == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cli_reports_one_line_per_problem_and_no_traceback(cli, name):
    code, out, err = cli("registry", "validate", str(BAD / name), "--registry", str(BASE))
    assert code == 1
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == len(EXPECTED[name])
    assert all(line.split(":", 1)[0].endswith(name) for line in lines)


def test_all_problems_of_all_files_at_once(tmp_path):
    for p in BASE.glob("*.yaml"):
        shutil.copy(p, tmp_path)
    for p in BAD.glob("*.yaml"):
        shutil.copy(p, tmp_path)
    with pytest.raises(ValidationFailed) as info:
        validate([tmp_path])
    files = {Path(p.file).name for p in info.value.problems}
    assert files == set(EXPECTED)
    assert len(info.value.problems) == sum(len(v) for v in EXPECTED.values())


def test_binary_file(tmp_path):
    p = tmp_path / "binary.yaml"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    fc = check_file(p, "binary.yaml")
    assert [str(x) for x in fc.problems] == ["binary.yaml:1: not a YAML text file (binary content)"]


def test_invalid_utf8(tmp_path):
    p = tmp_path / "latin.yaml"
    p.write_bytes(b"paper:\n  title: caf\xe9\n")
    fc = check_file(p, "latin.yaml")
    assert [str(x) for x in fc.problems] == ["latin.yaml:2: not a YAML text file (invalid UTF-8)"]


_write = write
HEADER = PAPER_HEADER.replace("{year}", "2024")


def test_unquoted_1e_minus_4_is_a_number(tmp_path):
    p = _write(tmp_path, "x.yaml", HEADER.format(id="x") + """results:
  - id: r
    method: L1-norm
    dataset: cifar-10
    network: resnet56
    top1: {mean: 93.1}
    finetune: {epochs: 10, lr_schedule: {type: fixed, lr: 1e-4}, weight_decay: 5e-4}
    sources: [{where: Tab. 6}]
""")
    reg = validate([p], BASE)
    r = reg.find_result("x/r").result
    assert r.finetune.lr_schedule.initial_lr == 1e-4
    assert isinstance(r.finetune.weight_decay, float) and r.finetune.weight_decay == 5e-4


def test_duplicate_yaml_key(tmp_path):
    p = _write(tmp_path, "x.yaml", HEADER.format(id="x") + "  year: 2025\nresults: []\n")
    got = [str(m) for m in check_file(p, "x.yaml").problems]
    assert got == ["x.yaml:7: paper.year: duplicate key"]


def test_several_documents(tmp_path):
    p = _write(tmp_path, "x.yaml", HEADER.format(id="x") + "---\npaper: {}\n")
    got = [str(m) for m in check_file(p, "x.yaml").problems]
    assert got == ["x.yaml:7: more than one YAML document in the file"]


def test_top_level_not_a_mapping(tmp_path):
    p = _write(tmp_path, "x.yaml", "- a\n- b\n")
    got = [str(m) for m in check_file(p, "x.yaml").problems]
    assert got == ["x.yaml:1: a paper file must be a mapping of its fields (paper, networks, methods, results), "
                   "not a list"]


def test_missing_required_fields(tmp_path):
    p = _write(tmp_path, "x.yaml", HEADER.format(id="x") + "results:\n  - id: r\n    method: l1\n")
    got = [str(m) for m in check_file(p, "x.yaml").problems]
    assert got == [
        "x.yaml:8: results[0].dataset: required field is missing",
        "x.yaml:8: results[0].network: required field is missing",
        "x.yaml:8: results[0].sources: required field is missing",
    ]


def test_inferred_path_must_exist(tmp_path):
    p = _write(tmp_path, "x.yaml", HEADER.format(id="x") + """results:
  - id: r
    method: l1
    dataset: cifar-10
    network: resnet56
    top1: {mean: 93.1}
    inferred: {base.identity: "guess"}
    sources: [{where: Tab. 6}]
""")
    got = [str(m) for m in check_file(p, "x.yaml").problems]
    assert got == ["x.yaml:8: results[0]: inferred path 'base.identity' names no value of this result"]


def test_unknown_dataset_did_you_mean(tmp_path):
    p = _write(tmp_path, "x.yaml", HEADER.format(id="x") + """results:
  - id: r
    method: l1
    dataset: imagenet
    network: ResNet-50
    top1: {mean: 93.1}
    sources: [{where: Tab. 6}]
""")
    # the dataset is a file-level check; the network is resolved against the catalog and the networks
    # paper files declare, so it is reported in the registry's context (with the file's other problems)
    got = [m.split("x.yaml:", 1)[1] for m in messages(p)]
    assert got == [
        "10: results[0].dataset: unknown dataset 'imagenet'. Did you mean 'imagenet-1k', 'imagenet-100', 'tiny-imagenet'?",
        "11: results[0].network: unknown network 'ResNet-50'. Did you mean 'resnet50', 'resnet56', 'resnet20'? "
        "(declare it under 'networks:' when the catalog lacks it)",
    ]


def test_every_number_needs_a_source(tmp_path):
    p = _write(tmp_path, "x.yaml", HEADER.format(id="x") + """results:
  - id: r
    method: l1
    dataset: cifar-10
    network: resnet56
    top1: {mean: 93.1, std: 0.1}
    base: {identity: own training, top1: 93.5}
    finetune: {epochs: 10, lr_schedule: "0.01, fixed"}
    sources: [{where: Tab. 6, fields: [top1, base.top1]}]
""")
    got = [str(m) for m in check_file(p, "x.yaml").problems]
    assert got == ["x.yaml:8: results[0]: no source given for base.identity, finetune.epochs, finetune.lr_schedule"]


def test_source_fields_must_name_schema_fields(tmp_path):
    p = _write(tmp_path, "x.yaml", HEADER.format(id="x") + """results:
  - id: r
    method: l1
    dataset: cifar-10
    network: resnet56
    top1: {mean: 93.1}
    sources: [{where: Tab. 6, fields: [top1, finetune.epoch]}]
""")
    got = [str(m) for m in check_file(p, "x.yaml").problems]
    assert got == ["x.yaml:8: results[0]: source field 'finetune.epoch' is not a field of a result"]
