"""Decision rules of lesson 06 (the diagnostics). Pure functions of the `healthy()` checks
(one dict per network: max_saturation, activation_std_spread, grad_std_spread,
update_log10_distance_from_-3, mean_val_accuracy); the tests make each verdict flip."""

from __future__ import annotations

from _verdict import Rule

SATURATED = 0.20       # a layer with more than 20% of |tanh| > 0.97 is flagged
VANISHING_SPREAD = 100  # activation std varying more than 100x across layers is flagged
DECADE = 1.0           # update:data within one decade of 1e-3 counts as "near 1e-3"


def _flags(check: dict) -> dict:
    return {"saturation": check["max_saturation"] > SATURATED,
            "vanishing": check["activation_std_spread"] > VANISHING_SPREAD,
            "update ratio": check["update_log10_distance_from_-3"] > DECADE}


def decide_diagnostics(checks: dict) -> tuple[str, str]:
    """The table must flag 'too large' (saturation) and 'too small' (vanishing) and flag
    neither fault for 'gain 5/3' and 'too large + BN'."""
    flags = {name: _flags(check) for name, check in checks.items()}
    found = [flags["too large"]["saturation"], flags["too small"]["vanishing"]]
    clean = [not (flags[n]["saturation"] or flags[n]["vanishing"])
             for n in ("gain 5/3", "too large + BN")]
    text = "; ".join(f"{n}: " + ", ".join(k for k, v in f.items() if v) if any(f.values())
                     else f"{n}: nothing flagged" for n, f in flags.items())
    if all(found) and all(clean):
        return "reproduced", text + "; both faults found, both fixes clean"
    if any(found):
        return "reproduced in part", text
    return "not reproduced", text


DIAGNOSTICS = Rule(
    "diagnostics", "per-layer statistics find a badly initialised net, and show the fix",
    f"flag saturation when a layer has > {SATURATED:.0%} of |tanh| > 0.97, vanishing when the "
    f"activation std varies > {VANISHING_SPREAD}x across layers; reproduced if 'too large' is "
    "flagged for saturation, 'too small' for vanishing, and neither 'gain 5/3' nor 'too large "
    "+ BN' is flagged; reproduced in part if one fault is found; not reproduced otherwise",
    decide_diagnostics)


def decide_update_ratio(checks: dict) -> tuple[str, str]:
    """Rule of thumb: update:data near 1e-3 means healthy."""
    near = {n: c["update_log10_distance_from_-3"] <= DECADE for n, c in checks.items()}
    healthy_near = near["gain 5/3"] and near["too large + BN"]
    sick_flagged = [not near["too large"], not near["too small"]]
    text = ", ".join(f"{n}: {c['update_log10_distance_from_-3']:.2f} decades"
                     for n, c in checks.items())
    if healthy_near and all(sick_flagged):
        return "reproduced", text + "; healthy nets near 1e-3, both faulty ones far"
    if healthy_near and any(sick_flagged):
        return "reproduced in part", text + "; one faulty net looks as healthy as the fixed ones"
    return "not reproduced", text


UPDATE_RATIO = Rule(
    "update-ratio", "an update:data ratio near 1e-3 is healthy (Karpathy)",
    f"'near' = every hidden weight within {DECADE:g} decade of 1e-3 in the last quarter of "
    "training; reproduced if the two fixed nets are near and both faulty ones are not; "
    "reproduced in part if the fixed nets are near but one faulty net is too; otherwise not "
    "reproduced",
    decide_update_ratio)
