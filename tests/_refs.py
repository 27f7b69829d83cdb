"""Comparison helpers for tests against the printed reference values of docs/physics.md §13."""


def assert_printed(value, ref: str, slack: float = 1e-9):
    """|value - ref| <= half a unit of the last printed digit of ``ref`` (+ tiny relative slack)."""
    mant = ref.lower().split("e")[0]
    exp = int(ref.lower().split("e")[1]) if "e" in ref.lower() else 0
    ndec = len(mant.split(".")[1]) if "." in mant else 0
    r = float(ref)
    assert abs(float(value) - r) <= 0.5 * 10.0 ** (exp - ndec) * (1 + 1e-6) + slack * abs(r), (value, ref)
