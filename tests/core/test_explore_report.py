"""The explore figure's title says what the surfaces were measured on: every sample of each
split, or a subsample with its size, the split's size and the largest standard errors."""

from __future__ import annotations

from losspattern_core.explore.report import measured_on


def split(exact: bool, samples: int, of: int) -> dict:
    return {"exact": exact, "samples": samples, "of": of, "max_loss_stderr": 0.0123,
            "max_accuracy_stderr": 0.0045}


def test_exact_splits_say_every_sample_was_used():
    text = measured_on({"train": split(True, 60000, 60000), "test": split(True, 10000, 10000)})
    assert text == ("measured by evaluating the network: train 60,000 samples, exact; "
                    "test 10,000 samples, exact")


def test_a_subsample_states_its_size_and_standard_errors():
    text = measured_on({"train": split(False, 3000, 60000), "test": split(True, 355, 355)})
    assert "train subsample 3,000 of 60,000 (max SE 1.2e-02 nats, 4.5e-03 acc)" in text
    assert "test 355 samples, exact" in text
