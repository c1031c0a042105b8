"""kerasish.optimizers.schedules: Keras's values step by step, configs, and errors."""

from __future__ import annotations

import pytest

from kerasish.optimizers import schedules as S

# Keras 3.15.1 run, torch backend: [float(schedule(i)) for i in range(13)] rounded to 8
# digits, for the same constructor arguments (keras.optimizers.schedules.*).
KERAS = {
    "exp": (
        S.ExponentialDecay(0.1, 3, 0.5),
        [0.1, 0.07937005, 0.06299605, 0.05, 0.03968503, 0.03149803, 0.025, 0.01984251,
         0.01574901, 0.0125, 0.00992126, 0.00787451, 0.00625],
    ),
    "exp_stair": (
        S.ExponentialDecay(0.1, 3, 0.5, staircase=True),
        [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125, 0.00625],
    ),
    "piece": (
        S.PiecewiseConstantDecay([2, 5], [1.0, 0.5, 0.1]),
        [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1],
    ),
    "poly": (
        S.PolynomialDecay(0.1, 5, 0.01, power=0.5),
        [0.1, 0.09049845, 0.0797137, 0.066921, 0.05024923] + [0.01] * 8,
    ),
    "poly_cycle": (
        S.PolynomialDecay(0.1, 5, 0.01, power=2.0, cycle=True),
        [0.1, 0.0676, 0.0424, 0.0244, 0.0136, 0.01, 0.0244, 0.0181, 0.0136, 0.0109, 0.01,
         0.0164, 0.0136],
    ),
    "inv": (
        S.InverseTimeDecay(0.1, 2, 0.5),
        [0.1, 0.08, 0.06666667, 0.05714286, 0.05, 0.04444445, 0.04, 0.03636364, 0.03333334,
         0.03076923, 0.02857143, 0.02666667, 0.025],
    ),
    "inv_stair": (
        S.InverseTimeDecay(0.1, 2, 0.5, staircase=True),
        [0.1, 0.1, 0.06666667, 0.06666667, 0.05, 0.05, 0.04, 0.04, 0.03333334, 0.03333334,
         0.02857143, 0.02857143, 0.025],
    ),
    "cos": (
        S.CosineDecay(0.1, 6, alpha=0.1),
        [0.1, 0.09397115, 0.0775, 0.055, 0.0325, 0.01602886] + [0.01] * 7,
    ),
    "cos_warm": (
        S.CosineDecay(0.0, 6, alpha=0.1, warmup_target=0.2, warmup_steps=4),
        [0.0, 0.05, 0.1, 0.15000001, 0.2, 0.1879423, 0.155, 0.10999999, 0.06499999, 0.03205771,
         0.02, 0.02, 0.02],
    ),
    "restarts": (
        S.CosineDecayRestarts(0.1, 3, t_mul=2.0, m_mul=0.5, alpha=0.1),
        [0.1, 0.0775, 0.0325, 0.055, 0.05198557, 0.04375, 0.0325, 0.02125, 0.01301443, 0.0325,
         0.03211667, 0.03099279, 0.02920495],
    ),
    "restarts_t1": (
        S.CosineDecayRestarts(0.1, 3, t_mul=1.0, m_mul=0.8),
        [0.1, 0.075, 0.025, 0.08000001, 0.06, 0.02000001, 0.064, 0.04800001, 0.01599999, 0.0512,
         0.03840001, 0.0128, 0.04096],
    ),
}  # fmt: skip


@pytest.mark.parametrize("key", sorted(KERAS))
def test_schedules_match_keras_step_by_step(key):
    schedule, expected = KERAS[key]
    got = [schedule(i) for i in range(len(expected))]
    assert got == pytest.approx(expected, rel=1e-6, abs=1e-8)  # Keras computes in float32


@pytest.mark.parametrize("key", sorted(KERAS))
def test_config_round_trips(key):
    schedule, _ = KERAS[key]
    again = S.deserialize(S.serialize(schedule))
    assert type(again) is type(schedule) and again.get_config() == schedule.get_config()
    assert [again(i) for i in range(13)] == [schedule(i) for i in range(13)]


def test_subclass_is_a_schedule_and_deserializable():
    class InvSqrt(S.LearningRateSchedule):
        def __init__(self, scale):
            self.scale = scale

        def __call__(self, step):
            return self.scale / (step + 1) ** 0.5

        def get_config(self):
            return {"scale": self.scale}

    again = S.deserialize(S.serialize(InvSqrt(0.4)))
    assert isinstance(again, InvSqrt) and again(3) == 0.2


def test_a_subclass_cannot_take_a_built_in_schedule_s_name():
    # a file naming "CosineDecay" builds kerasish's CosineDecay, whatever else got defined
    class CosineDecay(S.LearningRateSchedule):
        def __call__(self, step):
            return 0.0

    built = S.deserialize(
        {"class_name": "CosineDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 10}}
    )
    assert type(built) is S.CosineDecay


def test_errors_follow_keras():
    with pytest.raises(ValueError, match="decay_steps"):
        S.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="first_decay_steps"):
        S.CosineDecayRestarts(0.1, 0)
    with pytest.raises(ValueError, match="1 less than the length of values"):
        S.PiecewiseConstantDecay([1, 2], [1.0])
    with pytest.raises(NotImplementedError, match="must override `__call__"):
        S.LearningRateSchedule()(0)
    with pytest.raises(ValueError, match="class_name among"):
        S.deserialize({"class_name": "Nope", "config": {}})
    with pytest.raises(TypeError, match="Expected a LearningRateSchedule"):
        S.serialize(0.1)
