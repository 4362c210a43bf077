"""Translations of the claim texts: one catalogue per language, ``derivations/i18n/<lang>.toml``.

Each entry is keyed by claim id and records ``source``, a hash of the English text it translates
(title, assumptions, step justifications, declared facts), so an entry whose English has changed since
it was translated is *stale* and a test fails on it. The math is never translated: every ``$...$`` span
and backticked identifier of a translation must be the English one, in the same order.

    python -m derivations.i18n ko              the state of every entry (missing, stale, bad spans)
    python -m derivations.i18n ko --skeleton   TOML entries to fill in for the missing and stale claims
"""

from derivations.i18n.catalogue import (
    TEXT_FIELDS,
    english_texts,
    load,
    problems,
    source_hash,
    spans,
    translated,
)

__all__ = ["TEXT_FIELDS", "english_texts", "load", "problems", "source_hash", "spans", "translated"]
