"""Each chapter's knobs, declared once: type, allowed values, unit, meaning and the value at each scale.

A chapter module (``tgnlib.knobs.theory``...) declares ``KNOBS``, a :class:`ChapterKnobs`. The
notebook's papermill ``parameters`` cell lists the same names, each ``None`` ("the scale's value");
:func:`tgnlib.chapter.open_chapter` reads them back, refuses unknown names and bad values, and
returns the resolved values, all before any work starts. A test checks that every parameters cell
and its declaration name the same knobs.

Papermill's ``-p`` passes a list as a string (``-p sizes '[4, 6]'``) and ``-y`` passes dictionaries
through JSON, which turns integer keys into strings: both are accepted and converted here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import SimpleNamespace

import yaml

KINDS = ("int", "float", "str", "bool", "path", "list[int]", "list[float]", "list[str]", "dict[int,int]")
SCALE_NAMES = ("ci", "laptop", "full")


class KnobError(ValueError):
    """A knob has a bad value; the message names the knob, the value and what is allowed."""


class _Unset:
    def __repr__(self):
        return "UNSET"


UNSET = _Unset()  # a scale this knob has no value for (the chapter cannot run at that scale yet)


@dataclass(frozen=True)
class Knob:
    """One knob of a chapter.

    Attributes
    ----------
    name : str
        As written in the parameters cell.
    kind : str
        One of :data:`KINDS`.
    meaning : str
        One line, shown in error messages and the knob table.
    unit : str, default ""
        Unit of the value (or of each item), e.g. ``"sweeps"``, ``"tokens"``.
    low, high : float or None, default None
        Inclusive bounds of a number, or of every item of a list or dict value.
    choices : tuple or None, default None
        Allowed values of a ``str`` knob, or of each item of a ``list[str]`` knob.
    nullable : bool, default False
        Whether ``None`` is a value the user may pass (it then means what ``meaning`` says).
    tunable : bool, default True
        ``False`` for a per-scale constant the notebook reads but a user may not set.
    ci, laptop, full : object
        The value at each scale; :data:`UNSET` where the chapter has no preset for that scale yet.
    """

    name: str
    kind: str
    meaning: str
    unit: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple | None = None
    nullable: bool = False
    tunable: bool = True
    ci: object = UNSET
    laptop: object = UNSET
    full: object = UNSET

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"knob {self.name!r}: kind={self.kind!r} is not one of {KINDS}")
        for scale in SCALE_NAMES:
            value = getattr(self, scale)
            if value is not UNSET:
                self.parse(value)  # a preset that breaks its own rules is a bug in the declaration

    def allowed(self) -> str:
        """What values this knob takes, in words."""
        base = {"int": "an integer", "float": "a number", "str": "text", "bool": "True or False", "path": "a folder path",
                "list[int]": "a list of integers", "list[float]": "a list of numbers", "list[str]": "a list of names",
                "dict[int,int]": "a mapping of integers to integers"}[self.kind]
        if self.choices:
            base += f" from {list(self.choices)}"
        if self.low is not None and self.high is not None:
            base += f" in [{self.low:g}, {self.high:g}]"
        elif self.low is not None:
            base += f" >= {self.low:g}"
        elif self.high is not None:
            base += f" <= {self.high:g}"
        if self.unit:
            base += f" ({self.unit})"
        return base + (", or None" if self.nullable else "")

    def _fail(self, value, why: str = ""):
        raise KnobError(f"knob {self.name}={value!r} is not allowed{': ' + why if why else ''}; it must be {self.allowed()} "
                        f"({self.meaning})")

    def _number(self, value, original):
        integer = self.kind in ("int", "list[int]", "dict[int,int]")
        if isinstance(value, bool):
            self._fail(original)
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                self._fail(original)
        if not isinstance(value, (int, float)) or math.isnan(value):
            self._fail(original)
        if integer:
            if float(value) != int(value):
                self._fail(original, f"{value!r} is not an integer")
            value = int(value)
        else:
            value = float(value)
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            self._fail(original, f"{value!r} is out of range")
        return value

    def _text(self, value, original):
        if not isinstance(value, str) or not value:
            self._fail(original)
        if self.choices and value not in self.choices:
            self._fail(original, f"{value!r} is not a choice")
        return value

    def parse(self, value):
        """The validated value, converted to the knob's kind.

        Parameters
        ----------
        value : object
            As papermill delivers it: a number, text, a list, a dict, or a list/dict written as
            JSON or YAML text.

        Returns
        -------
        object

        Raises
        ------
        KnobError
            Naming the knob, the value and what is allowed.
        """
        original = value
        if value is None:
            if self.nullable:
                return None
            self._fail(value)
        if self.kind.startswith(("list", "dict")) and isinstance(value, str):
            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError:
                self._fail(original, "it does not read as a list or mapping")
        if self.kind in ("int", "float"):
            return self._number(value, original)
        if self.kind == "str":
            return self._text(value, original)
        if self.kind == "path":
            if not isinstance(value, str) or not value.strip():
                self._fail(original)
            return value
        if self.kind == "bool":
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            if not isinstance(value, bool):
                self._fail(original)
            return value
        if self.kind.startswith("list"):
            if not isinstance(value, (list, tuple)) or not value:
                self._fail(original, "it must be a non-empty list")
            item = self._text if self.kind == "list[str]" else self._number
            return [item(v, original) for v in value]
        if not isinstance(value, dict) or not value:
            self._fail(original, "it must be a non-empty mapping")
        out = {}
        for k, v in value.items():
            try:
                key = int(k)
            except (TypeError, ValueError):
                self._fail(original, f"key {k!r} is not an integer")
            out[key] = self._number(v, original)
        return out


@dataclass(frozen=True)
class ChapterKnobs:
    """All knobs of one chapter, and the checks that involve several of them.

    Attributes
    ----------
    chapter : str
        Chapter name (``"theory"``...).
    knobs : tuple of Knob
    check : callable or None
        ``check(values)`` on the resolved namespace; raises :class:`KnobError` for a combination
        that cannot run (say, a model that is not available offline while ``offline`` is True).
    """

    chapter: str
    knobs: tuple
    check: object = None
    by_name: dict = field(init=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "by_name", {k.name: k for k in self.knobs})
        if len(self.by_name) != len(self.knobs):
            raise ValueError(f"chapter {self.chapter!r} declares a knob twice")

    @property
    def names(self) -> list[str]:
        """Names of the knobs a user may set (those in the parameters cell)."""
        return [k.name for k in self.knobs if k.tunable]

    def scales(self) -> list[str]:
        """The scales every knob has a value for."""
        return [s for s in SCALE_NAMES if all(getattr(k, s) is not UNSET for k in self.knobs)]

    def resolve(self, scale: str, given: dict) -> SimpleNamespace:
        """The scale's values with the user's knobs applied, every one validated.

        Parameters
        ----------
        scale : str
            One of :meth:`scales`.
        given : dict of str -> object
            Knob name -> value from the parameters cell; ``None`` keeps the scale's value.

        Returns
        -------
        types.SimpleNamespace

        Raises
        ------
        KnobError
            For an unknown knob, a scale without a preset, or a bad value.
        """
        if scale not in self.scales():
            raise KnobError(f"scale={scale!r} is not available for chapter {self.chapter!r}; choose one of {self.scales()}")
        unknown = sorted(set(given) - set(self.names))
        if unknown:
            raise KnobError(f"unknown knob(s) {unknown} for chapter {self.chapter!r}; its knobs are {self.names}")
        values = {}
        for knob in self.knobs:
            value = given.get(knob.name)
            values[knob.name] = knob.parse(getattr(knob, scale) if value is None else value)
        resolved = SimpleNamespace(**values)
        if self.check is not None:
            self.check(resolved)
        return resolved

    def table(self) -> str:
        """The knobs as a Markdown table: name, meaning, allowed values and each scale's value."""
        def show(v):
            return "-" if v is UNSET else f"`{v!r}`"

        rows = ["| knob | meaning | allowed | ci | laptop | full |", "|---|---|---|---|---|---|"]
        for k in self.knobs:
            if k.tunable:
                rows.append(f"| `{k.name}` | {k.meaning} | {k.allowed()} | {show(k.ci)} | {show(k.laptop)} | {show(k.full)} |")
        return "\n".join(rows)


def knobs_of(chapter: str) -> ChapterKnobs:
    """The :class:`ChapterKnobs` declared for a chapter.

    Parameters
    ----------
    chapter : str
        ``"theory"``, ``"spinglass"``, ``"llm_rank"``, ``"brain"`` or ``"tgn"``.

    Returns
    -------
    ChapterKnobs
    """
    import importlib

    chapters = ("theory", "spinglass", "llm_rank", "brain", "tgn")
    if chapter not in chapters:
        raise KnobError(f"chapter={chapter!r} is not one of {chapters}")
    return importlib.import_module(f"{__name__}.{chapter}").KNOBS
