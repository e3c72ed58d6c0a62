"""Sentences that can be said in another language: English text that remembers its template.

The metrics layer writes its verdicts and reasons in English ("not enough data (n = 12, minimum 30)"),
and the CLI, the JSON output and the tests read them as plain strings. The dashboard must say the same
sentence in German, and a finished English sentence cannot be translated reliably. So a sentence is built
as a :class:`Text`: a ``str`` holding the English, which also keeps its *template* (a gettext message id,
``"not enough data (n = {n}, minimum {minimum})"``) and its *values*. The dashboard looks the template up
in its German catalog and fills in the values (:func:`say`); everything else keeps using the English
string unchanged.

Values that are words to be translated too ("hotline", a nested clause) are themselves :class:`Text`;
plain strings are data (an account, a formatted number) and are kept verbatim. Numbers are formatted the
English way by the caller; the dashboard rewrites them in the reader's number format afterwards.

Where this sits: in the kernel, because metrics (which write the sentences) and dashboard (which
translates them) may both import the kernel, and neither may import the other's words.
``tests/dashboard/test_i18n.py`` finds every ``Text("...")`` template in the code and fails when one has
no German.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


class Text(str):
    """English text (it *is* the string) with the template and values it was made from."""

    __slots__ = ("template", "values")
    template: str
    values: Mapping[str, Any]

    def __new__(cls, template: str, /, **values: Any) -> Text:
        english = template.format(**values) if values else template
        made = super().__new__(cls, english)
        made.template, made.values = template, values
        return made

    def __reduce__(self) -> tuple[Any, ...]:  # pickled (a cache, a worker): keep the template
        return (_rebuild, (self.template, dict(self.values)))


def _rebuild(template: str, values: dict[str, Any]) -> Text:
    return Text(template, **values)


def join(parts: list[str], separator: str = "; ") -> Text | str:
    """Sentences joined by a separator, each translatable on its own (``{0}; {1}``)."""
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    template = separator.join(f"{{{n}}}" for n in range(len(parts)))
    made = Text.__new__(Text, template.format(*parts))  # positional: English built directly
    made.template, made.values = template, {str(n): p for n, p in enumerate(parts)}
    return made


def say(text: Any, translate: Callable[[str], str]) -> str:
    """``text`` in the language ``translate`` stands for (a template -> translated template lookup).

    A :class:`Text` is translated by its template, its :class:`Text` values recursively; a plain string
    is returned as it is (data, or an English sentence nobody made translatable).
    """
    if not isinstance(text, Text):
        return str(text)
    if not text.values:
        return translate(text.template)
    values = {k: say(v, translate) if isinstance(v, Text) else v for k, v in text.values.items()}
    template = translate(text.template)
    if all(k.isdigit() for k in values):
        return template.format(*(values[str(n)] for n in range(len(values))))
    return template.format(**values)
