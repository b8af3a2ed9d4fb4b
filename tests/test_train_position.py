"""bench/train_position.py: how several labelled sets are weighed against each other, and
where the trainer's randomness comes from."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.train_position import (
    Dataset,
    Params,
    fit_gbdt,
    link_weights,
    predict,
    without_columns,
)


def _dataset(rows: int, seed: int) -> Dataset:
    rng = np.random.default_rng(seed)
    x = rng.random((rows, 3))
    y = (x[:, 0] + 0.2 * rng.random(rows) > 0.6).astype(np.int8)
    return Dataset(x, y, np.arange(rows) // 10, np.zeros(rows, dtype=int),
                   [str(i) for i in range(rows // 10)], ["site"])


def test_link_weights_give_each_set_its_share_of_the_first_sets_total() -> None:
    dev, extra = _dataset(40, 0), _dataset(100, 1)
    w = link_weights([dev, extra], [1.0, 0.3])
    assert len(w) == 140
    assert w[:40].sum() == pytest.approx(40.0)
    assert w[40:].sum() == pytest.approx(12.0)
    assert set(np.round(w[40:], 12)) == {0.12}


def test_link_weights_default_to_one_per_link() -> None:
    assert link_weights([_dataset(40, 0), _dataset(100, 1)], None).tolist() == [1.0] * 140


@pytest.mark.parametrize("weights", [[1.0], [1.0, 0.0], [1.0, -1.0], [1.0, math.nan]])
def test_link_weights_refuse_a_wrong_list(weights: list[float]) -> None:
    with pytest.raises(SystemExit, match="--weights needs 2 positive numbers"):
        link_weights([_dataset(40, 0), _dataset(100, 1)], weights)


def test_unit_weights_fit_the_same_model_as_none() -> None:
    d = _dataset(400, 2)
    p = Params(trees=5, min_leaf=5)
    assert fit_gbdt(d.x, d.y, p) == fit_gbdt(d.x, d.y, p, np.ones(len(d.y)))


def test_weights_move_the_fit_towards_the_heavier_rows() -> None:
    d = _dataset(400, 3)
    p = Params(trees=20, min_leaf=5)
    w = np.where(d.y == 1, 5.0, 1.0)  # body links count five times
    light, heavy = predict(fit_gbdt(d.x, d.y, p), d.x), predict(fit_gbdt(d.x, d.y, p, w), d.x)
    assert heavy.mean() > light.mean()
    assert fit_gbdt(d.x, d.y, p, w)["base"] == pytest.approx(
        math.log(5 * d.y.sum() / (len(d.y) - d.y.sum())))


def test_subsample_one_fits_every_tree_on_all_rows_whatever_the_seed() -> None:
    d = _dataset(400, 4)
    every_row = [fit_gbdt(d.x, d.y, Params(trees=5, min_leaf=5, subsample=1.0, seed=s))
                 for s in (0, 1)]
    assert every_row[0] == every_row[1]
    sampled = [fit_gbdt(d.x, d.y, Params(trees=5, min_leaf=5, seed=s)) for s in (0, 1)]
    assert sampled[0] != sampled[1]  # negative control: 80% of the rows, drawn by the seed


@pytest.mark.parametrize("share", ["0", "-0.5", "1.5", "nan"])
def test_subsample_outside_zero_to_one_is_refused(share: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from bench.train_position import main

    with pytest.raises(SystemExit) as stop:
        main(["--subsample", share, "--no-write"])
    assert stop.value.code == 2
    error = capsys.readouterr().err
    assert f"--subsample must be above 0 and at most 1, not {float(share)}" in error


def _split_features(model: dict) -> set[int]:
    return {f for tree in model["trees"] for f in tree["feature"] if f >= 0}


def test_a_feature_left_out_is_never_split_on_and_never_read() -> None:
    d = _dataset(400, 5)  # column 0 decides the label
    p = Params(trees=10, min_leaf=5)
    assert 0 in _split_features(fit_gbdt(d.x, d.y, p))  # negative control: with it, it leads
    model = fit_gbdt(without_columns(d.x, [0]), d.y, p)
    assert 0 not in _split_features(model)
    scrambled = d.x.copy()
    scrambled[:, 0] = np.random.default_rng(9).random(len(d.y))
    assert predict(model, d.x).tolist() == predict(model, scrambled).tolist()
    assert d.x[:, 0].any()  # the caller's rows are left as they were


def test_without_takes_names_repeated_or_comma_separated() -> None:
    from bench.train_position import FEATURE_NAMES, feature_columns

    assert feature_columns(["depth,page_link_density", "anchor_len", "depth"]) == sorted(
        FEATURE_NAMES.index(n) for n in ("depth", "page_link_density", "anchor_len"))
    assert feature_columns([]) == []


def test_an_unknown_feature_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    from bench.train_position import main

    with pytest.raises(SystemExit) as stop:
        main(["--without", "depth,page_lnk_density", "--no-write"])
    assert stop.value.code == 2
    assert "no feature named page_lnk_density;" in capsys.readouterr().err
