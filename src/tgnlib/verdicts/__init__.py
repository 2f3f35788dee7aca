"""Verdict rules: one pure, documented, tested function per claim of the paper.

A rule takes the numbers a chapter measured and returns a :class:`Verdict`: one of five outcomes and
a one-line reason. Every rule first checks its preconditions (enough sizes, seeds or instances; a
budget at which the comparison means something; the thing compared actually working) and returns
*not decided at this scale* with what would decide it when they fail. It then applies the claim's
test. The rule's wording lives in the function's docstring, under a ``Rule`` heading;
:func:`rule_text` hands that text to the chapter, so the prose a reader sees and the code that
decides cannot drift apart.

What the outcomes mean, the same in every chapter:

* *reproduced*: the claim holds under the stated test;
* *partly*: a named, non-trivial part of the claim holds. Beating the method's own base dynamics,
  an effect any regulariser gives, or one statistic out of several that disagree, is not a part;
* *not reproduced*: the test ran with its preconditions met and the claim failed it;
* *not decided at this scale*: the run is too small or too noisy, or a precondition failed;
  the reason says which and what would decide;
* *not testable here*: the data or hardware the test needs is out of reach of this machine.

One module per chapter: :mod:`~tgnlib.verdicts.theory`, :mod:`~tgnlib.verdicts.spinglass`,
:mod:`~tgnlib.verdicts.llm_rank`, :mod:`~tgnlib.verdicts.brain` and :mod:`~tgnlib.verdicts.tgn`.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass

REPRODUCED = "reproduced"
PARTLY = "partly"
NOT_REPRODUCED = "not reproduced"
NOT_DECIDED = "not decided at this scale"
NOT_TESTABLE = "not testable here"
OUTCOMES = (REPRODUCED, PARTLY, NOT_REPRODUCED, NOT_DECIDED, NOT_TESTABLE)

# Relative tolerance under which two measured numbers count as equal (a tie is never a win).
RTOL = 1e-6


@dataclass(frozen=True)
class Verdict:
    """A claim's outcome and the one-line reason for it.

    Attributes
    ----------
    outcome : str
        One of :data:`OUTCOMES`.
    reason : str
        Why, in one line, with the numbers that decided; for *not decided at this scale*, also
        what would decide.
    """

    outcome: str
    reason: str

    def __post_init__(self):
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome={self.outcome!r} is not one of {OUTCOMES}")
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise ValueError("a verdict needs a one-line reason")

    def __str__(self) -> str:
        return f"{self.outcome}: {self.reason}"


def reproduced(reason: str) -> Verdict:
    """A *reproduced* verdict with its reason."""
    return Verdict(REPRODUCED, reason)


def partly(reason: str) -> Verdict:
    """A *partly* verdict; the reason names the part that holds and the part that does not."""
    return Verdict(PARTLY, reason)


def not_reproduced(reason: str) -> Verdict:
    """A *not reproduced* verdict with its reason."""
    return Verdict(NOT_REPRODUCED, reason)


def not_decided(reason: str) -> Verdict:
    """A *not decided at this scale* verdict; the reason says what failed and what would decide."""
    return Verdict(NOT_DECIDED, reason)


def not_testable(reason: str) -> Verdict:
    """A *not testable here* verdict; the reason names the data or hardware out of reach."""
    return Verdict(NOT_TESTABLE, reason)


def weakest(verdicts) -> Verdict:
    """The weakest of several verdicts on one claim (say, one per model).

    *Not testable here* outranks everything, then *not decided at this scale*; otherwise the order
    is not reproduced < partly < reproduced. Ties keep the first.

    Parameters
    ----------
    verdicts : iterable of Verdict
        At least one.

    Returns
    -------
    Verdict
    """
    verdicts = list(verdicts)
    if not verdicts:
        raise ValueError("weakest() needs at least one verdict")
    rank = {NOT_TESTABLE: 0, NOT_DECIDED: 1, NOT_REPRODUCED: 2, PARTLY: 3, REPRODUCED: 4}
    return min(verdicts, key=lambda v: rank[v.outcome])


def _check_finite(**values) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise ValueError(f"{name}={value!r} must be a number (not NaN)")


def is_below(a: float, b: float, *, rtol: float = RTOL, atol: float = 0.0) -> bool:
    """``a < b`` by more than the tolerance: a tie within float noise is not "below".

    Parameters
    ----------
    a, b : float
    rtol : float, default :data:`RTOL`
        Relative to the larger magnitude of the two.
    atol : float, default 0.0
        Absolute margin, in the numbers' own unit (say, energy per spin).

    Returns
    -------
    bool
    """
    _check_finite(a=a, b=b)
    return b - a > atol + rtol * max(abs(a), abs(b))


def is_tie(a: float, b: float, *, rtol: float = RTOL, atol: float = 0.0) -> bool:
    """Whether ``a`` and ``b`` are equal within the tolerance of :func:`is_below`."""
    return not is_below(a, b, rtol=rtol, atol=atol) and not is_below(b, a, rtol=rtol, atol=atol)


def rule_text(rule) -> str:
    """The ``Rule`` section of a rule function's docstring, as one Markdown paragraph.

    Chapters display this text next to the verdict, so the rule a reader sees is the rule that ran.

    Parameters
    ----------
    rule : callable
        A verdict rule of this package.

    Returns
    -------
    str
        ``"**Verdict rule (ours).** "`` followed by the section's text, lines joined.
    """
    lines = inspect.getdoc(rule).splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Rule" and lines[i + 1].strip().startswith("----"))
    except (StopIteration, IndexError):
        raise ValueError(f"{rule.__qualname__} has no 'Rule' section in its docstring") from None
    body = []
    for i, line in enumerate(lines[start + 2:]):
        following = lines[start + 3 + i] if start + 3 + i < len(lines) else ""
        if following.strip().startswith("----") and line.strip():
            break
        body.append(line.strip())
    text = " ".join(" ".join(body).split())
    return f"**Verdict rule (ours).** {text}"


__all__ = ["OUTCOMES", "REPRODUCED", "PARTLY", "NOT_REPRODUCED", "NOT_DECIDED", "NOT_TESTABLE", "RTOL", "Verdict",
           "reproduced", "partly", "not_reproduced", "not_decided", "not_testable", "weakest", "is_below", "is_tie",
           "rule_text"]
