"""Compiled hot paths of screening (numba): candidate ranking and the scoring of names.

The pure-Python code in :mod:`listwatch.screening.compare` and
:meth:`listwatch.screening.index.NameIndex.candidates` defines what a score and a candidate
are, and explains them; the functions here compute the same numbers, on the index's flat
arrays, without building Python objects per candidate (the tests hold the two to the same
results). Strings are ASCII bytes: matching forms (tokens separated by one space), shapes
(``l``/``n`` for Latin or another script, then one kind code per token) and phonetic forms
(the metaphone of each token, then of each pair of neighbouring tokens run together,
separated by one space, empty where a token has none).

String measures are those of rapidfuzz, re-implemented: normalised Levenshtein similarity,
Jaro-Winkler (prefix weight 0.1) and the Indel ratio behind ``fuzz.ratio`` and
``fuzz.token_sort_ratio``. Where the strings fit in a 64-bit word (every token, most whole
names) they run bit-parallel, with no memory allocated per pair: edit distance as Hyyrö
computes it and the longest common subsequence as Allison and Dix do (one side fitting is
enough), Jaro's matched characters as the bits of a word each (both sides fitting).

numba counts the references to an array atomically whenever a function is handed one; so
the scorer reads its arguments through views without a reference
(:func:`_view_without_reference`), the helpers of one pair of names are inlined, and the
transliteration folds are constants rather than arguments.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

import numpy as np
from numba import njit, types
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array

from listwatch.screening.normalize import LOOSE_FOLDS

# How two tokens were aligned (the ``how`` of compare.token_similarity), and its codes here.
HOW_NAMES = ("exact", "number", "initial", "spelling", "phonetic", "skeleton", "joined")
EXACT, NUMBER, INITIAL, SPELLING, PHONETIC, SKELETON, JOINED = range(len(HOW_NAMES))
# Groups of schemata, as indices of the model's weight rows.
GROUP_CODES = {"person": 0, "org": 1, "object": 2}
N_FEATURES = 18
PHONETIC_CONSONANTS = 0.5
JARO_FLOOR = 0.55  # compare.JARO_FLOOR

_SPACE = 32

Array = np.ndarray
_KIND_WORD, _KIND_LEGAL, _KIND_PARTICLE, _KIND_NUMBER = 119, 108, 112, 110  # w l p n


def byte_table(values: list[str]) -> tuple[Array, Array]:
    """ASCII strings run together, and the offset of each (one more offset than strings)."""
    encoded = [v.encode("ascii") for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(e) for e in encoded])
    return np.frombuffer(b"".join(encoded) or b"\0", dtype=np.uint8).copy(), offsets


# The transliteration folds of loose skeletons (normalize's table), as constants of the
# compiled code: a table passed down as arguments costs a reference count at every call.
_FOLD_SOURCES, _FOLD_SOURCE_OFFSETS = byte_table([source for source, _target in LOOSE_FOLDS])
_FOLD_TARGETS, _FOLD_TARGET_OFFSETS = byte_table([target for _source, target in LOOSE_FOLDS])
# Scratch of the string measures, zero between uses: a word of bits per byte value (where
# each byte occurs in a pattern), then two words for Jaro's flags.
_TABLE = 256
SCRATCH_WORDS = _TABLE + 2


# --------------------------------------------------------------------------- references


@intrinsic
def _view_without_reference(typingctx: object, array: types.Array) -> object:
    """A view of ``array`` that holds no reference to it, for an array that outlives the
    call (an argument of the kernel): numba counts references to an array with an atomic
    operation each time it is passed to a function, and the scorer passes its names to its
    helpers tens of times per pair of names, which made those counts a third of its time.
    A view without a reference is never counted (and never frees the array)."""
    if not isinstance(array, types.Array):
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        source = make_array(array)(context, builder, value=args[0])
        view = make_array(array)(context, builder)
        populate_array(
            view,
            data=source.data,
            shape=source.shape,
            strides=source.strides,
            itemsize=source.itemsize,
            meminfo=None,
        )
        return view._getvalue()

    return array(array), codegen


_borrowed = cast("Callable[[Array], Array]", _view_without_reference)


# --------------------------------------------------------------------------- bytes


@njit(cache=True, nogil=True, inline="always")
def _equal(a: np.ndarray, a0: int, a1: int, b: np.ndarray, b0: int, b1: int) -> bool:
    if a1 - a0 != b1 - b0:
        return False
    for k in range(a1 - a0):  # noqa: SIM110 (a loop compiles; a generator does not)
        if a[a0 + k] != b[b0 + k]:
            return False
    return True


@njit(cache=True, nogil=True, inline="always")
def _less(a: np.ndarray, a0: int, a1: int, b: np.ndarray, b0: int, b1: int) -> bool:
    """Whether a < b as Python compares ASCII strings."""
    la, lb = a1 - a0, b1 - b0
    for k in range(min(la, lb)):
        if a[a0 + k] != b[b0 + k]:
            return a[a0 + k] < b[b0 + k]
    return la < lb


@njit(cache=True, nogil=True)
def _split(blob: np.ndarray, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and end of each field of blob[lo:hi] separated by single spaces."""
    count = 1
    for k in range(lo, hi):
        if blob[k] == _SPACE:
            count += 1
    starts = np.empty(count, np.int64)
    ends = np.empty(count, np.int64)
    field = 0
    starts[0] = lo
    for k in range(lo, hi):
        if blob[k] == _SPACE:
            ends[field] = k
            field += 1
            starts[field] = k + 1
    ends[field] = hi
    return starts, ends


@njit(cache=True, nogil=True, inline="always")
def _is_digit(c: int) -> bool:
    return 48 <= c <= 57


@njit(cache=True, nogil=True, inline="always")
def _is_vowel(c: int) -> bool:
    # a e i o u y
    return c == 97 or c == 101 or c == 105 or c == 111 or c == 117 or c == 121


@njit(cache=True, nogil=True)
def _skeleton(a: np.ndarray, a0: int, a1: int) -> np.ndarray:
    """normalize.skeleton: no vowels, no letter twice in a row."""
    out = np.empty(max(1, a1 - a0), np.uint8)
    n = 0
    for k in range(a0, a1):
        c = a[k]
        if _is_vowel(c):
            continue
        if n and out[n - 1] == c:
            continue
        out[n] = c
        n += 1
    return out[:n]


@njit(cache=True, nogil=True, inline="always")
def _skeleton_step(a: np.ndarray, k: int, a1: int, last: int) -> int:
    """The position of the next byte of the skeleton of a[k:a1] after the byte ``last``
    (:func:`_skeleton` without building it), or ``a1`` when there is none."""
    while k < a1 and (_is_vowel(a[k]) or a[k] == last):
        k += 1
    return k


@njit(cache=True, nogil=True, inline="always")
def _skeleton_size(a: np.ndarray, a0: int, a1: int) -> int:
    size = 0
    last = -1
    k = _skeleton_step(a, a0, a1, last)
    while k < a1:
        size += 1
        last = a[k]
        k = _skeleton_step(a, k + 1, a1, last)
    return size


@njit(cache=True, nogil=True, inline="always")
def _same_skeleton(a: np.ndarray, a0: int, a1: int, b: np.ndarray, b0: int, b1: int) -> bool:
    """Whether the skeletons of a[a0:a1] and b[b0:b1] are the same."""
    i = _skeleton_step(a, a0, a1, -1)
    j = _skeleton_step(b, b0, b1, -1)
    while i < a1 and j < b1:
        if a[i] != b[j]:
            return False
        i = _skeleton_step(a, i + 1, a1, a[i])
        j = _skeleton_step(b, j + 1, b1, b[j])
    return i >= a1 and j >= b1


@njit(cache=True, nogil=True)
def _replace_into(
    text: Array, size: int, source: Array, s0: int, s1: int, target: Array, t0: int, t1: int,
    out: Array,
) -> int:  # fmt: skip
    """str.replace of source[s0:s1] by target[t0:t1] in text[:size] (left to right, matches
    do not overlap), written to ``out``; returns the length written."""
    m = s1 - s0
    written = 0
    k = 0
    while k < size:
        if k + m <= size:
            same = True
            for t in range(m):
                if text[k + t] != source[s0 + t]:
                    same = False
                    break
            if same:
                for t in range(t0, t1):
                    out[written] = target[t]
                    written += 1
                k += m
                continue
        out[written] = text[k]
        written += 1
        k += 1
    return written


@njit(cache=True, nogil=True)
def _loose_skeleton(a: np.ndarray, a0: int, a1: int) -> np.ndarray:
    """normalize.loose_skeleton: transliteration variants folded, then the skeleton. The
    folds pass the text back and forth between two buffers (a larger one is made only for a
    fold that could outgrow them: "x" becomes "ks")."""
    size = a1 - a0
    text = np.empty(2 * size + 1, np.uint8)
    spare = np.empty(2 * size + 1, np.uint8)
    text[:size] = a[a0:a1]
    for r in range(len(_FOLD_SOURCE_OFFSETS) - 1):
        s0, s1 = _FOLD_SOURCE_OFFSETS[r], _FOLD_SOURCE_OFFSETS[r + 1]
        t0, t1 = _FOLD_TARGET_OFFSETS[r], _FOLD_TARGET_OFFSETS[r + 1]
        need = size + (size // max(1, s1 - s0)) * max(0, (t1 - t0) - (s1 - s0))
        if need > len(spare):
            spare = np.empty(need, np.uint8)
        size = _replace_into(text, size, _FOLD_SOURCES, s0, s1, _FOLD_TARGETS, t0, t1, spare)
        text, spare = spare, text
    return _skeleton(text, 0, size)


# --------------------------------------------------------------------------- measures


@njit(cache=True, nogil=True, inline="always")
def _pattern_bits(a: Array, a0: int, a1: int, scratch: Array) -> None:
    """Set, in the table of ``scratch`` (one zero word per byte value), the positions of
    each byte of a[a0:a1] (at most 64 bytes); :func:`_clear_bits` puts it back to zero."""
    for i in range(a1 - a0):
        scratch[a[a0 + i]] |= np.uint64(1) << np.uint64(i)


@njit(cache=True, nogil=True, inline="always")
def _clear_bits(a: Array, a0: int, a1: int, scratch: Array) -> None:
    for i in range(a0, a1):
        scratch[a[i]] = 0


@njit(cache=True, nogil=True, inline="always")
def levenshtein(
    a: np.ndarray, a0: int, a1: int, b: np.ndarray, b0: int, b1: int, scratch: Array
) -> int:
    """Edit distance (insertions, deletions, substitutions all cost 1). Bit-parallel
    (Hyyrö) when one side fits in 64 bits, which tokens do; a row of the table otherwise.
    ``scratch``: :data:`SCRATCH_WORDS` zero words, left zero."""
    la, lb = a1 - a0, b1 - b0
    if la > lb:
        a, a0, a1, b, b0, b1, la, lb = b, b0, b1, a, a0, a1, lb, la
    if la == 0:
        return lb
    if la <= 64:
        _pattern_bits(a, a0, a1, scratch)
        one = np.uint64(1)
        positive = ~np.uint64(0)
        negative = np.uint64(0)
        last = one << np.uint64(la - 1)
        distance = la
        for j in range(b0, b1):
            x = scratch[b[j]] | negative
            d0 = (((x & positive) + positive) ^ positive) | x
            hp = negative | ~(d0 | positive)
            hn = positive & d0
            if hp & last:
                distance += 1
            elif hn & last:
                distance -= 1
            x = (hp << one) | one
            negative = x & d0
            positive = (hn << one) | ~(x | d0)
        _clear_bits(a, a0, a1, scratch)
        return distance
    row = np.arange(lb + 1)
    for i in range(1, la + 1):
        previous = row[0]
        row[0] = i
        ca = a[a0 + i - 1]
        for j in range(1, lb + 1):
            current = row[j]
            cost = 0 if ca == b[b0 + j - 1] else 1
            best = previous + cost
            if row[j] + 1 < best:
                best = row[j] + 1
            if row[j - 1] + 1 < best:
                best = row[j - 1] + 1
            row[j] = best
            previous = current
    return int(row[lb])


@njit(cache=True, nogil=True, inline="always")
def levenshtein_similarity(
    a: np.ndarray, a0: int, a1: int, b: np.ndarray, b0: int, b1: int, scratch: Array
) -> float:
    """``rapidfuzz.distance.Levenshtein.normalized_similarity``."""
    maximum = max(a1 - a0, b1 - b0)
    if maximum == 0:
        return 1.0
    return 1.0 - levenshtein(a, a0, a1, b, b0, b1, scratch) / maximum


@njit(cache=True, nogil=True, inline="always")
def _common_subsequence(
    a: Array, a0: int, a1: int, b: Array, b0: int, b1: int, scratch: Array
) -> int:
    """Length of the longest common subsequence; bit-parallel (Allison-Dix) when one side
    fits in 64 bits."""
    la, lb = a1 - a0, b1 - b0
    if la > lb:
        a, a0, a1, b, b0, b1, la, lb = b, b0, b1, a, a0, a1, lb, la
    if la == 0:
        return 0
    if la <= 64:
        _pattern_bits(a, a0, a1, scratch)
        unmatched = ~np.uint64(0)
        for j in range(b0, b1):
            matches = unmatched & scratch[b[j]]
            unmatched = (unmatched + matches) | (unmatched - matches)
        _clear_bits(a, a0, a1, scratch)
        common = 0
        for i in range(la):
            if not (unmatched >> np.uint64(i)) & np.uint64(1):
                common += 1
        return common
    row = np.zeros(lb + 1, np.int64)
    for i in range(la):
        ca = a[a0 + i]
        diagonal = 0
        for j in range(lb):
            above = row[j + 1]
            if ca == b[b0 + j]:
                row[j + 1] = diagonal + 1
            elif row[j] > above:
                row[j + 1] = row[j]
            diagonal = above
    return int(row[lb])


@njit(cache=True, nogil=True, inline="always")
def indel_similarity(
    a: np.ndarray, a0: int, a1: int, b: np.ndarray, b0: int, b1: int, scratch: Array
) -> float:
    """``rapidfuzz.distance.Indel.normalized_similarity`` (``fuzz.ratio`` / 100)."""
    maximum = (a1 - a0) + (b1 - b0)
    if maximum == 0:
        return 1.0
    distance = maximum - 2 * _common_subsequence(a, a0, a1, b, b0, b1, scratch)
    return 1.0 - distance / maximum


@njit(cache=True, nogil=True, inline="always")
def ratio(
    a: np.ndarray, a0: int, a1: int, b: np.ndarray, b0: int, b1: int, scratch: Array
) -> float:
    """``fuzz.ratio(a, b) / 100``."""
    return (100.0 * indel_similarity(a, a0, a1, b, b0, b1, scratch)) / 100.0


@njit(cache=True, nogil=True, inline="always")
def jaro_winkler(
    a: np.ndarray, a0: int, a1: int, b: np.ndarray, b0: int, b1: int, scratch: Array
) -> float:
    """``rapidfuzz.distance.JaroWinkler.similarity`` (prefix weight 0.1)."""
    pattern_len, text_len = a1 - a0, b1 - b0
    prefix = 0
    for k in range(min(min(pattern_len, text_len), 4)):
        if a[a0 + k] != b[b0 + k]:
            break
        prefix += 1
    sim = _jaro(a, a0, a1, b, b0, b1, scratch)
    if sim > 0.7:
        sim += prefix * 0.1 * (1.0 - sim)
        sim = min(sim, 1.0)
    return sim


@njit(cache=True, nogil=True, inline="always")
def _jaro(
    a: np.ndarray, a0: int, a1: int, b: np.ndarray, b0: int, b1: int, scratch: Array
) -> float:
    pattern_len, text_len = a1 - a0, b1 - b0
    if pattern_len == 0 and text_len == 0:
        return 1.0
    if pattern_len == 0 or text_len == 0:
        return 0.0
    if pattern_len == 1 and text_len == 1:
        return 1.0 if a[a0] == b[b0] else 0.0
    s1_end, s2_end = a1, b1
    if text_len > pattern_len:
        bound = text_len // 2 - 1
        if text_len > pattern_len + bound:
            s2_end = b0 + pattern_len + bound
    else:
        bound = pattern_len // 2 - 1
        if pattern_len > text_len + bound:
            s1_end = a0 + text_len + bound
    # The flags of matched characters, as bits of words: the two words after the pattern
    # table of ``scratch`` when both strings fit in one.
    short = pattern_len <= 64 and text_len <= 64
    if short:
        s1_flags, s2_flags = scratch[_TABLE : _TABLE + 1], scratch[_TABLE + 1 : _TABLE + 2]
    else:
        s1_flags = np.zeros((pattern_len + 63) >> 6, np.uint64)
        s2_flags = np.zeros((text_len + 63) >> 6, np.uint64)
    common = 0
    for i in range(s1_end - a0):
        low = max(0, i - bound)
        high = min(i + bound, text_len - 1, s2_end - b0 - 1)
        ca = a[a0 + i]
        for j in range(low, high + 1):
            if not _bit(s2_flags, j) and b[b0 + j] == ca:
                _set_bit(s1_flags, i)
                _set_bit(s2_flags, j)
                common += 1
                break
    transpositions = 0
    if common:
        k = 0
        for i in range(pattern_len):
            if _bit(s1_flags, i):
                j = k
                while j < text_len:
                    if _bit(s2_flags, j):
                        k = j + 1
                        break
                    j += 1
                if a[a0 + i] != b[b0 + j]:
                    transpositions += 1
    if short:
        s1_flags[0] = 0
        s2_flags[0] = 0
    if common == 0:
        return 0.0
    transpositions //= 2
    sim = 0.0
    sim += common / pattern_len
    sim += common / text_len
    sim += (common - transpositions) / common
    return sim / 3.0


@njit(cache=True, nogil=True, inline="always")
def _bit(words: Array, k: int) -> bool:
    return bool((words[k >> 6] >> np.uint64(k & 63)) & np.uint64(1))


@njit(cache=True, nogil=True, inline="always")
def _set_bit(words: Array, k: int) -> None:
    words[k >> 6] |= np.uint64(1) << np.uint64(k & 63)


# --------------------------------------------------------------------------- tokens


@njit(cache=True, nogil=True)
def token_similarity(
    a: np.ndarray, a0: int, a1: int, b: np.ndarray, b0: int, b1: int,
    pa: np.ndarray, pa0: int, pa1: int, pb: np.ndarray, pb0: int, pb1: int,
    person: bool, scratch: Array, winkler: bool = True,
) -> tuple[float, int]:  # fmt: skip
    """compare.token_similarity on bytes; ``pa``/``pb`` ranges are the metaphones
    (``scratch``: see :func:`levenshtein`)."""
    if _equal(a, a0, a1, b, b0, b1):
        return 1.0, EXACT
    if _is_digit(a[a0]) or _is_digit(b[b0]):
        return 0.0, NUMBER
    shortest = min(a1 - a0, b1 - b0)
    if shortest == 1:
        if person and a[a0] == b[b0]:
            return 0.6, INITIAL
        return 0.0, INITIAL
    best = levenshtein_similarity(a, a0, a1, b, b0, b1, scratch)
    how = SPELLING
    if winkler and shortest >= 4 and best >= JARO_FLOOR:
        jw = jaro_winkler(a, a0, a1, b, b0, b1, scratch) - 0.08
        if jw > best:
            best = jw
    if best < 0.9 and shortest >= 3:
        if (
            pa1 > pa0
            and best < 0.85
            and _equal(pa, pa0, pa1, pb, pb0, pb1)
            and _consonants_agree(a, a0, a1, b, b0, b1, scratch)
        ):
            best, how = 0.85, PHONETIC
        if best < 0.8 and _skeleton_size(a, a0, a1) >= 2 and _same_skeleton(a, a0, a1, b, b0, b1):
            best, how = 0.8, SKELETON
    if best < 0.62:
        return 0.0, how
    return best, how


@njit(cache=True, nogil=True)
def _consonants_agree(
    a: Array, a0: int, a1: int, b: Array, b0: int, b1: int, scratch: Array
) -> bool:
    la = _loose_skeleton(a, a0, a1)
    lb = _loose_skeleton(b, b0, b1)
    return levenshtein_similarity(la, 0, len(la), lb, 0, len(lb), scratch) >= PHONETIC_CONSONANTS


# --------------------------------------------------------------------------- names


@njit(cache=True, nogil=True)
def _kind_weights(
    blob: np.ndarray, starts: np.ndarray, ends: np.ndarray, kinds: np.ndarray,
    legal_blob: np.ndarray, legal_offsets: np.ndarray, legal_weights: np.ndarray,
    default_legal: float,
) -> np.ndarray:  # fmt: skip
    """normalize.restore_analysis's weights: legal forms by code, particles 0.3, else 1."""
    weights = np.empty(len(starts), np.float64)
    for t in range(len(starts)):
        kind = kinds[t]
        if kind == _KIND_LEGAL:
            weight = default_legal
            for c in range(len(legal_weights)):
                if _equal(
                    blob, starts[t], ends[t], legal_blob, legal_offsets[c], legal_offsets[c + 1]
                ):
                    weight = legal_weights[c]
                    break
            weights[t] = weight
        elif kind == _KIND_PARTICLE:
            weights[t] = 0.3
        else:
            weights[t] = 1.0
    return weights


@njit(cache=True, nogil=True, inline="always")
def _sorted_tokens(
    blob: np.ndarray, starts: np.ndarray, ends: np.ndarray, pick: np.ndarray
) -> np.ndarray:
    """Indices of the picked tokens in Python's string order (stable)."""
    chosen = np.flatnonzero(pick)
    n = len(chosen)
    for i in range(1, n):
        item = chosen[i]
        k = i - 1
        while k >= 0 and _less(
            blob, starts[item], ends[item], blob, starts[chosen[k]], ends[chosen[k]]
        ):
            chosen[k + 1] = chosen[k]
            k -= 1
        chosen[k + 1] = item
    return chosen


@njit(cache=True, nogil=True, inline="always")
def _joined(
    blob: np.ndarray, starts: np.ndarray, ends: np.ndarray, order: np.ndarray, sep: bool
) -> np.ndarray:
    """The tokens at ``order`` run together (``sep``: with one space between)."""
    size = 0
    for t in order:
        size += ends[t] - starts[t]
    if sep and len(order):
        size += len(order) - 1
    out = np.empty(size, np.uint8)
    k = 0
    for n, t in enumerate(order):
        if sep and n:
            out[k] = _SPACE
            k += 1
        for c in range(starts[t], ends[t]):
            out[k] = blob[c]
            k += 1
    return out


@njit(cache=True, nogil=True, inline="always")
def _initialism(
    s_blob: np.ndarray, s_starts: np.ndarray, s_ends: np.ndarray, s_core: np.ndarray,
    l_blob: np.ndarray, l_starts: np.ndarray, l_ends: np.ndarray, l_kinds: np.ndarray,
    l_core: np.ndarray,
) -> bool:  # fmt: skip
    """compare._initialism: the short name is the initials of the long one."""
    word = -1
    for t in range(len(s_core)):
        if s_core[t]:
            if word >= 0:
                return False
            word = t
    if word < 0:
        return False
    w0, w1 = s_starts[word], s_ends[word]
    size = w1 - w0
    if not 2 <= size <= 8:
        return False
    n = len(l_starts)
    every = np.empty(n, np.uint8)
    cores = np.empty(n, np.uint8)
    words = np.empty(n, np.uint8)
    n_core = n_words = 0
    for t in range(n):
        first = l_blob[l_starts[t]]
        every[t] = first
        if l_core[t]:
            cores[n_core] = first
            n_core += 1
        if l_kinds[t] != _KIND_PARTICLE:
            words[n_words] = first
            n_words += 1
    if n_core < 2:  # the initials of one word and its legal form are no initialism
        return False
    if (
        _equal(s_blob, w0, w1, every, 0, n)
        or _equal(s_blob, w0, w1, cores, 0, n_core)
        or _equal(s_blob, w0, w1, words, 0, n_words)
    ):
        return True
    return size >= 3 and n >= size and _equal(s_blob, w0, w1, every, 0, size)


@njit(cache=True, nogil=True, inline="always")
def _covered(
    a_blob: np.ndarray, a_starts: np.ndarray, a_ends: np.ndarray, a_kinds: np.ndarray,
    b_blob: np.ndarray, b_starts: np.ndarray, b_ends: np.ndarray, b_kinds: np.ndarray,
    kind: int,
) -> tuple[bool, bool]:  # fmt: skip
    """For the tokens of one kind: (a has any, every one of a's is among b's)."""
    has = False
    for i in range(len(a_starts)):
        if a_kinds[i] != kind:
            continue
        has = True
        found = False
        for j in range(len(b_starts)):
            if b_kinds[j] == kind and _equal(
                a_blob, a_starts[i], a_ends[i], b_blob, b_starts[j], b_ends[j]
            ):
                found = True
                break
        if not found:
            return True, False
    return has, True


@njit(cache=True, nogil=True, inline="always")
def _same_number_sets(
    q_blob: np.ndarray, q_starts: np.ndarray, q_ends: np.ndarray, q_kinds: np.ndarray,
    c_blob: np.ndarray, c_starts: np.ndarray, c_ends: np.ndarray, c_kinds: np.ndarray,
    kind: int,
) -> tuple[bool, bool, bool]:  # fmt: skip
    """For the tokens of one kind: (q has any, c has any, the two sets are equal)."""
    any_q, q_in_c = _covered(q_blob, q_starts, q_ends, q_kinds, c_blob, c_starts, c_ends, c_kinds,
                             kind)  # fmt: skip
    any_c, c_in_q = _covered(c_blob, c_starts, c_ends, c_kinds, q_blob, q_starts, q_ends, q_kinds,
                             kind)  # fmt: skip
    return any_q, any_c, q_in_c and c_in_q


@njit(cache=True, nogil=True, inline="always")
def _share_any(
    q_blob: np.ndarray, q_starts: np.ndarray, q_ends: np.ndarray, q_kinds: np.ndarray,
    c_blob: np.ndarray, c_starts: np.ndarray, c_ends: np.ndarray, c_kinds: np.ndarray,
    kind: int,
) -> bool:  # fmt: skip
    for i in range(len(q_starts)):
        if q_kinds[i] != kind:
            continue
        for j in range(len(c_starts)):
            if c_kinds[j] == kind and _equal(
                q_blob, q_starts[i], q_ends[i], c_blob, c_starts[j], c_ends[j]
            ):
                return True
    return False


@njit(cache=True, nogil=True, inline="always")
def _exact_joins(
    a_blob: Array, a_starts: Array, a_ends: Array, a_legal: Array, used_a: Array,
    b_blob: Array, b_starts: Array, b_ends: Array, used_b: Array, flip: bool,
    out_i: Array, out_j: Array, out_sim: Array, out_how: Array, count: int,
) -> int:  # fmt: skip
    """Align each token of ``a`` that is no token of ``b`` but two neighbours of ``b`` run
    together, letter for letter (as pairs of q and c indices: ``flip`` when ``a`` is c);
    returns the count of pairs written."""
    n_b = len(b_starts)
    for i in range(len(a_starts)):
        a0, a1 = a_starts[i], a_ends[i]
        if used_a[i] or a_legal[i] or a1 - a0 < 4:
            continue
        known = False
        for j in range(n_b):
            if _equal(a_blob, a0, a1, b_blob, b_starts[j], b_ends[j]):
                known = True
                break
        if known:
            continue
        for j in range(n_b - 1):
            if used_b[j] or used_b[j + 1]:
                continue
            middle = a0 + b_ends[j] - b_starts[j]
            if middle + b_ends[j + 1] - b_starts[j + 1] != a1:
                continue
            if _equal(a_blob, a0, middle, b_blob, b_starts[j], b_ends[j]) and _equal(
                a_blob, middle, a1, b_blob, b_starts[j + 1], b_ends[j + 1]
            ):
                used_a[i] = True
                used_b[j] = True
                used_b[j + 1] = True
                out_i[count], out_j[count] = (j, i) if flip else (i, j)
                out_sim[count], out_how[count] = 1.0, JOINED
                count += 1
                break
    return count


@njit(cache=True, nogil=True, inline="always")
def _align(
    q_blob: Array, q_starts: Array, q_ends: Array, q_legal: Array,
    q_phon: Array, q_pstarts: Array, q_pends: Array,
    c_blob: Array, c_starts: Array, c_ends: Array, c_legal: Array,
    c_phon: Array, c_pstarts: Array, c_pends: Array,
    person: bool, scratch: Array,
) -> tuple[Array, Array, Array, Array, Array, Array]:  # fmt: skip
    """compare._align: tokens that are two neighbours run together letter for letter,
    then best pairs first, one to one, then neighbours run together and spelt alike."""
    nq, nc = len(q_starts), len(c_starts)
    used_q = np.zeros(nq, np.bool_)
    used_c = np.zeros(nc, np.bool_)
    out_i = np.empty(nq + nc, np.int64)
    out_j = np.empty(nq + nc, np.int64)
    out_sim = np.empty(nq + nc, np.float64)
    out_how = np.empty(nq + nc, np.int64)
    count = _exact_joins(
        q_blob, q_starts, q_ends, q_legal, used_q, c_blob, c_starts, c_ends, used_c, False,
        out_i, out_j, out_sim, out_how, 0,
    )  # fmt: skip
    count = _exact_joins(
        c_blob, c_starts, c_ends, c_legal, used_c, q_blob, q_starts, q_ends, used_q, True,
        out_i, out_j, out_sim, out_how, count,
    )  # fmt: skip
    negs = np.empty(nq * nc, np.float64)
    pi = np.empty(nq * nc, np.int64)
    pj = np.empty(nq * nc, np.int64)
    phow = np.empty(nq * nc, np.int64)
    n = 0
    for i in range(nq):
        if used_q[i]:
            continue
        for j in range(nc):
            if q_legal[i] != c_legal[j] or used_c[j]:
                continue
            if _equal(q_blob, q_starts[i], q_ends[i], c_blob, c_starts[j], c_ends[j]):
                negs[n], pi[n], pj[n], phow[n] = -1.0, i, j, EXACT
                n += 1
                continue
            sim, how = token_similarity(
                q_blob, q_starts[i], q_ends[i], c_blob, c_starts[j], c_ends[j],
                q_phon, q_pstarts[i], q_pends[i], c_phon, c_pstarts[j], c_pends[j],
                person, scratch,
            )  # fmt: skip
            if sim > 0:
                negs[n], pi[n], pj[n], phow[n] = -sim, i, j, how
                n += 1
    order = np.argsort(negs[:n], kind="mergesort")
    for k in order:
        i, j = pi[k], pj[k]
        if used_q[i] or used_c[j]:
            continue
        used_q[i] = True
        used_c[j] = True
        out_i[count], out_j[count], out_sim[count], out_how[count] = i, j, -negs[k], phow[k]
        count += 1
    if used_q.all() and used_c.all():
        return out_i[:count], out_j[:count], out_sim[:count], out_how[:count], used_q, used_c
    # "xiaomi" against "xiao mi": join neighbours on one side, then the other (in one
    # buffer: two neighbours run together are no longer than their name).
    joined = np.empty(max(q_ends[-1] - q_starts[0], c_ends[-1] - c_starts[0]), np.uint8)
    for flip in range(2):
        if flip == 0:
            a_blob, a_starts, a_ends, a_legal, used_a = q_blob, q_starts, q_ends, q_legal, used_q
            b_blob, b_starts, b_ends, used_b = c_blob, c_starts, c_ends, used_c
            a_phon, a_pstarts, a_pends = q_phon, q_pstarts, q_pends
            b_phon, b_pstarts, b_pends = c_phon, c_pstarts, c_pends
        else:
            a_blob, a_starts, a_ends, a_legal, used_a = c_blob, c_starts, c_ends, c_legal, used_c
            b_blob, b_starts, b_ends, used_b = q_blob, q_starts, q_ends, used_q
            a_phon, a_pstarts, a_pends = c_phon, c_pstarts, c_pends
            b_phon, b_pstarts, b_pends = q_phon, q_pstarts, q_pends
        n_b = len(b_starts)
        for i in range(len(a_starts)):
            size = a_ends[i] - a_starts[i]
            if used_a[i] or a_legal[i] or size < 4:
                continue
            for j in range(n_b - 1):
                if used_b[j] or used_b[j + 1]:
                    continue
                first = b_ends[j] - b_starts[j]
                second = b_ends[j + 1] - b_starts[j + 1]
                if abs(first + second - size) > max(2, size // 2):
                    continue
                joined[:first] = b_blob[b_starts[j] : b_ends[j]]
                joined[first : first + second] = b_blob[b_starts[j + 1] : b_ends[j + 1]]
                # the metaphone of the pair run together follows the tokens' own; two words
                # run together are one word spelt alike (no Jaro-Winkler: see compare)
                sim, how = token_similarity(
                    a_blob, a_starts[i], a_ends[i], joined, 0, first + second,
                    a_phon, a_pstarts[i], a_pends[i], b_phon, b_pstarts[n_b + j],
                    b_pends[n_b + j], person, scratch, False,
                )  # fmt: skip
                if sim >= 0.8:
                    used_a[i] = True
                    used_b[j] = True
                    used_b[j + 1] = True
                    if flip:
                        out_i[count], out_j[count] = j, i
                    else:
                        out_i[count], out_j[count] = i, j
                    out_sim[count], out_how[count] = sim, JOINED
                    count += 1
                    break
    return out_i[:count], out_j[:count], out_sim[:count], out_how[:count], used_q, used_c


@njit(cache=True, nogil=True, inline="always")
def _kind_masks(kinds: Array) -> tuple[Array, Array]:
    """Which tokens are legal forms, and which identify (words and numbers)."""
    legal = np.empty(len(kinds), np.bool_)
    core = np.empty(len(kinds), np.bool_)
    for t in range(len(kinds)):
        legal[t] = kinds[t] == _KIND_LEGAL
        core[t] = kinds[t] == _KIND_WORD or kinds[t] == _KIND_NUMBER
    return legal, core


@njit(cache=True, nogil=True)
def _query_parts(
    q_blob: Array, q_starts: Array, q_ends: Array, q_kinds: Array, q_weights: Array
) -> tuple[Array, Array, float, Array, Array, Array]:
    """What :func:`_features` needs of the query alone (worked out once per query): its
    legal-form and identifying tokens, summed weight, the identifying tokens (or all)
    sorted, and those run together with and without spaces."""
    q_legal, q_core = _kind_masks(q_kinds)
    total_q = 0.0
    for t in range(len(q_starts)):
        total_q += q_weights[t]
    q_pick = q_core if q_core.sum() else np.ones(len(q_starts), np.bool_)
    q_sorted = _sorted_tokens(q_blob, q_starts, q_ends, q_pick)
    q_text = _joined(q_blob, q_starts, q_ends, q_sorted, True)
    q_compact = _joined(q_blob, q_starts, q_ends, np.flatnonzero(q_pick), False)
    return q_legal, q_core, total_q, q_sorted, q_text, q_compact


@njit(cache=True, nogil=True, inline="always")
def _features(
    q_blob: Array, q_starts: Array, q_ends: Array, q_kinds: Array, q_weights: Array,
    q_native: bool, q_phon: Array, q_pstarts: Array, q_pends: Array,
    q_parts: tuple[Array, Array, float, Array, Array, Array],
    c_blob: Array, c_starts: Array, c_ends: Array, c_kinds: Array, c_weights: Array,
    c_native: bool, c_phon: Array, c_pstarts: Array, c_pends: Array,
    person: bool, scratch: Array,
) -> tuple[Array, Array, Array, Array, Array, Array, Array]:  # fmt: skip
    """compare._feature_values: the features in the order of compare.FEATURES
    (``q_parts``: :func:`_query_parts` of the query), then the alignment behind them (the
    aligned token pairs as indices ``i``, ``j``, their similarity and how they were
    aligned) and the similarity of each token's match on either side (0: unmatched)."""
    nq, nc = len(q_starts), len(c_starts)
    q_legal, q_core, total_q, q_sorted, q_text, q_compact = q_parts
    c_legal, c_core = _kind_masks(c_kinds)
    pi, pj, psim, phow, used_q, used_c = _align(
        q_blob, q_starts, q_ends, q_legal, q_phon, q_pstarts, q_pends,
        c_blob, c_starts, c_ends, c_legal, c_phon, c_pstarts, c_pends,
        person, scratch,
    )  # fmt: skip
    sim_q = np.zeros(nq, np.float64)
    sim_c = np.zeros(nc, np.float64)
    for k in range(len(pi)):
        i, j, sim = pi[k], pj[k], psim[k]
        if sim > sim_q[i]:
            sim_q[i] = sim
        if sim > sim_c[j]:
            sim_c[j] = sim
        if phow[k] == JOINED:
            if j + 1 < nc and used_c[j + 1]:
                sim_c[j + 1] = max(sim_c[j + 1], sim)
            if i + 1 < nq and used_q[i + 1]:
                sim_q[i + 1] = max(sim_q[i + 1], sim)
    total_c = 0.0
    for t in range(nc):
        total_c += c_weights[t]
    cov_q = 0.0
    if total_q > 0:
        for t in range(nq):
            cov_q += q_weights[t] * sim_q[t]
        cov_q = cov_q / total_q
    cov_c = 0.0
    if total_c > 0:
        for t in range(nc):
            cov_c += c_weights[t] * sim_c[t]
        cov_c = cov_c / total_c
    n_q = n_c = 0
    for t in range(nq):
        if q_core[t] and sim_q[t] == 0:
            n_q += 1
    for t in range(nc):
        if c_core[t] and sim_c[t] == 0:
            n_c += 1
    matched = 0.0
    n_matched = 0
    for t in range(nq):
        if sim_q[t] > 0:
            matched += sim_q[t]
            n_matched += 1
    quality = matched / n_matched if n_matched else 0.0
    any_nq, any_nc, same_numbers = _same_number_sets(
        q_blob, q_starts, q_ends, q_kinds, c_blob, c_starts, c_ends, c_kinds, _KIND_NUMBER
    )
    any_lq, any_lc, _same = _same_number_sets(
        q_blob, q_starts, q_ends, q_kinds, c_blob, c_starts, c_ends, c_kinds, _KIND_LEGAL
    )
    legal_conflict = (
        any_lq
        and any_lc
        and not _share_any(
            q_blob, q_starts, q_ends, q_kinds, c_blob, c_starts, c_ends, c_kinds, _KIND_LEGAL
        )
    )
    core_count_q = int(q_core.sum())
    core_count_c = int(c_core.sum())
    # "core or tokens": the identifying tokens, or all tokens when none identify
    c_pick = c_core if core_count_c else np.ones(nc, np.bool_)
    c_sorted = _sorted_tokens(c_blob, c_starts, c_ends, c_pick)
    same_core = len(q_sorted) == len(c_sorted)
    if same_core:
        for k in range(len(q_sorted)):
            a, b = q_sorted[k], c_sorted[k]
            if not _equal(q_blob, q_starts[a], q_ends[a], c_blob, c_starts[b], c_ends[b]):
                same_core = False
                break
    c_text = _joined(c_blob, c_starts, c_ends, c_sorted, True)
    sorted_ratio = ratio(q_text, 0, len(q_text), c_text, 0, len(c_text), scratch)
    c_compact = _joined(c_blob, c_starts, c_ends, np.flatnonzero(c_pick), False)
    compact_ratio = ratio(q_compact, 0, len(q_compact), c_compact, 0, len(c_compact), scratch)
    initialism = _initialism(
        q_blob, q_starts, q_ends, q_core, c_blob, c_starts, c_ends, c_kinds, c_core
    ) or _initialism(c_blob, c_starts, c_ends, c_core, q_blob, q_starts, q_ends, q_kinds, q_core)
    cross = 1.0 if q_native != c_native else 0.0
    cov_min = cov_q if cov_q < cov_c else cov_c
    fewest = core_count_q if core_count_q < core_count_c else core_count_c
    values = np.empty(N_FEATURES, np.float64)
    values[0] = cov_min
    values[1] = cov_q if cov_q > cov_c else cov_c
    values[2] = quality
    values[3] = float(min(n_q, n_c))
    both = n_q > 0 and n_c > 0
    values[4] = 1.0 if both else 0.0
    values[5] = float(abs(n_q - n_c))
    values[6] = 1.0 if (n_q > 0) != (n_c > 0) else 0.0
    values[7] = (n_q + n_c) / max(1, core_count_q + core_count_c)
    values[8] = 1.0 if (not same_numbers) and (any_nq or any_nc) else 0.0
    values[9] = 1.0 if same_core else 0.0
    values[10] = sorted_ratio
    values[11] = compact_ratio
    values[12] = 1.0 if initialism else 0.0
    values[13] = 1.0 if legal_conflict else 0.0
    values[14] = cross * cov_min
    values[15] = 1.0 if min(len(q_sorted), len(c_sorted)) == 1 else 0.0
    values[16] = 1.0 if fewest >= 2 and not both and n_q + n_c > 0 else 0.0
    values[17] = 1.0 if fewest == 1 and max(core_count_q, core_count_c) >= 3 and not both else 0.0
    return values, pi, pj, psim, phow, sim_q, sim_c


@njit(cache=True, nogil=True)
def _sigmoid(x: float) -> float:
    if x < -40:
        return 0.0
    return 1.0 / (1.0 + math.exp(-x))


@njit(cache=True, nogil=True)
def _parse_shape(shapes: np.ndarray, s0: int, s1: int) -> tuple[bool, np.ndarray]:
    return shapes[s0] == 110, shapes[s0 + 1 : s1]  # "n": written in another script


@njit(cache=True, nogil=True)
def score_names(
    q_form: Array, q_shape: Array, q_weights: Array, q_phon: Array,
    forms: Array, form_offsets: Array, shapes: Array, shape_offsets: Array,
    phonetics: Array, phonetic_offsets: Array, positions: Array, groups: Array,
    legal_blob: Array, legal_offsets: Array, legal_weights: Array, default_legal: float,
    model_weights: Array, model_bias: Array,
) -> tuple[Array, Array]:  # fmt: skip
    """Scores of a query against the indexed names at ``positions`` (``groups``: the row of
    the model for each). Returns the scores and, for each, 1 where the tokens are the same
    (the caller compares native forms to call the names identical), or -1 where the stored
    analysis is inconsistent and the caller must score the name itself."""
    q_form, q_shape, q_weights, q_phon = (
        _borrowed(q_form), _borrowed(q_shape), _borrowed(q_weights), _borrowed(q_phon)
    )  # fmt: skip
    forms, form_offsets = _borrowed(forms), _borrowed(form_offsets)
    shapes, shape_offsets = _borrowed(shapes), _borrowed(shape_offsets)
    phonetics, phonetic_offsets = _borrowed(phonetics), _borrowed(phonetic_offsets)
    legal_blob, legal_offsets = _borrowed(legal_blob), _borrowed(legal_offsets)
    legal_weights = _borrowed(legal_weights)
    q_starts, q_ends = _split(q_form, 0, len(q_form))
    q_native, q_kinds = _parse_shape(q_shape, 0, len(q_shape))
    q_pstarts, q_pends = _split(q_phon, 0, len(q_phon))
    nq = len(q_starts)
    q_parts = _query_parts(q_form, q_starts, q_ends, q_kinds, q_weights)
    scores = np.zeros(len(positions), np.float64)
    same = np.zeros(len(positions), np.int8)
    scratch = np.zeros(SCRATCH_WORDS, np.uint64)
    for n in range(len(positions)):
        p = positions[n]
        f0, f1 = form_offsets[p], form_offsets[p + 1]
        s0, s1 = shape_offsets[p], shape_offsets[p + 1]
        h0, h1 = phonetic_offsets[p], phonetic_offsets[p + 1]
        if f1 == f0 or s1 - s0 < 2:
            same[n] = -1
            continue
        c_starts, c_ends = _split(forms, f0, f1)
        c_native, c_kinds = _parse_shape(shapes, s0, s1)
        c_pstarts, c_pends = _split(phonetics, h0, h1)
        nc = len(c_starts)
        if len(c_kinds) != nc or len(c_pstarts) != 2 * nc - 1:
            same[n] = -1
            continue
        c_weights = _kind_weights(
            forms, c_starts, c_ends, c_kinds, legal_blob, legal_offsets, legal_weights,
            default_legal,
        )  # fmt: skip
        if nq == nc:
            equal = True
            for t in range(nq):
                if not _equal(q_form, q_starts[t], q_ends[t], forms, c_starts[t], c_ends[t]):
                    equal = False
                    break
            if equal:
                same[n] = 1
        group = groups[n]
        values = _features(
            q_form, q_starts, q_ends, q_kinds, q_weights, q_native, q_phon, q_pstarts, q_pends,
            q_parts, forms, c_starts, c_ends, c_kinds, c_weights, c_native, phonetics, c_pstarts,
            c_pends, group == 0, scratch,
        )[0]  # fmt: skip
        total = 0.0
        for k in range(N_FEATURES):
            total += model_weights[group, k] * values[k]
        scores[n] = _sigmoid(model_bias[group] + total)
    return scores, same


@njit(cache=True, nogil=True)
def compare_pair(
    q_form: Array, q_shape: Array, q_weights: Array, q_phon: Array,
    c_form: Array, c_shape: Array, c_weights: Array, c_phon: Array,
    person: bool,
) -> tuple[Array, Array, Array, Array, Array, Array, Array]:  # fmt: skip
    """The features of one pair of names (byte forms as compare.name_bytes gives them, both
    with tokens) and the alignment behind them, as :func:`_features` returns them."""
    q_form, q_shape, q_weights, q_phon = (
        _borrowed(q_form), _borrowed(q_shape), _borrowed(q_weights), _borrowed(q_phon)
    )  # fmt: skip
    c_form, c_shape, c_weights, c_phon = (
        _borrowed(c_form), _borrowed(c_shape), _borrowed(c_weights), _borrowed(c_phon)
    )  # fmt: skip
    q_starts, q_ends = _split(q_form, 0, len(q_form))
    q_native, q_kinds = _parse_shape(q_shape, 0, len(q_shape))
    q_pstarts, q_pends = _split(q_phon, 0, len(q_phon))
    c_starts, c_ends = _split(c_form, 0, len(c_form))
    c_native, c_kinds = _parse_shape(c_shape, 0, len(c_shape))
    c_pstarts, c_pends = _split(c_phon, 0, len(c_phon))
    return _features(
        q_form, q_starts, q_ends, q_kinds, q_weights, q_native, q_phon, q_pstarts, q_pends,
        _query_parts(q_form, q_starts, q_ends, q_kinds, q_weights), c_form, c_starts, c_ends,
        c_kinds, c_weights, c_native, c_phon, c_pstarts, c_pends, person,
        np.zeros(SCRATCH_WORDS, np.uint64),
    )  # fmt: skip


@njit(cache=True, nogil=True)
def _radix_sort(values: Array, low: int, high: int) -> Array:
    """``values`` (non-negative, below ``2**high``) sorted by their bits from ``low`` up,
    keeping the order of values equal there, 11 bits a pass: a few passes over a short
    array whose counts stay in the cache, where a comparison sort of the same thousands
    of numbers takes several times as long."""
    source = values
    target = np.empty_like(values)
    counts = np.empty(2048, np.int64)
    shift = low
    while shift < high:
        counts[:] = 0
        for value in source:
            counts[(value >> shift) & 2047] += 1
        total = 0
        for b in range(2048):
            count = counts[b]
            counts[b] = total
            total += count
        for value in source:
            b = (value >> shift) & 2047
            target[counts[b]] = value
            counts[b] += 1
        source, target = target, source
        shift += 11
    return source


@njit(cache=True, nogil=True)
def _still_in_reach(
    ids: Array, shared: Array, whole: Array, denominator: Array, n: int, limit: int,
    remaining: float, whole_left: bool,
) -> int:  # fmt: skip
    """Keep, in place and in order, the first ``n`` names whose rank could still reach the
    ``limit``-th best lower bound, were they to hold every key left (worth ``remaining``,
    and a whole-name key while ``whole_left``); returns how many are kept. The bound is
    widened by a relative 1e-12 so that rounding never drops a name that ties."""
    lower = np.empty(n, np.float64)
    for e in range(n):
        lower[e] = 2 * shared[e] / denominator[e] + 0.5 * whole[e]
    cut = _kth_largest(lower, limit)
    kept = 0
    for e in range(n):
        upper = 2 * (shared[e] + remaining) / denominator[e] + 0.5 * (
            1.0 if whole_left else whole[e]
        )
        if upper * (1 + 1e-12) >= cut:
            ids[kept], shared[kept], whole[kept] = ids[e], shared[e], whole[e]
            denominator[kept] = denominator[e]
            kept += 1
    return kept


@njit(cache=True, nogil=True)
def _gallop(postings: Array, low: int, end: int, name: int) -> int:
    """The first position from ``low`` in the sorted postings[low:end] holding ``name`` or
    more: steps doubling from ``low``, then a binary search in the last step, so a walk
    through increasing names costs little more than the gaps between them."""
    step = 1
    high = low
    while high < end and postings[high] < name:
        low = high + 1
        high = low + step
        step *= 2
    if high > end:
        high = end
    while low < high:
        middle = (low + high) // 2
        if postings[middle] < name:
            low = middle + 1
        else:
            high = middle
    return low


@njit(cache=True, nogil=True)
def find_hash(hashes: Array, value: int) -> int:
    """The position of ``value`` in ``hashes`` (sorted, distinct), or -1. Hashes are spread
    evenly over 64 bits, so the search starts where ``value`` falls in proportion and
    gallops from there: a few neighbouring reads in place of a binary search's dozen
    far-apart ones over an array of millions."""
    n = len(hashes)
    if n == 0:
        return -1
    guess = min(n - 1, int(float(value) / 2.0**64 * n))
    if hashes[guess] < value:
        low = _gallop(hashes, guess + 1, n, value)
    else:
        # back from the guess, steps doubling, to a position below ``value`` (or 0)
        high = guess
        step = 1
        low = high - step
        while low > 0 and hashes[low] >= value:
            high = low
            step *= 2
            low = high - step
        low = _gallop(hashes, max(low, 0), high, value)
    return low if low < n and hashes[low] == value else -1


@njit(cache=True, nogil=True)
def _kth_largest(values: Array, k: int) -> float:
    """The ``k``-th largest of ``values`` (``np.partition(values, n - k)[n - k]``), with a
    heap of ``k`` values instead of a partition of a copy of them all."""
    heap = values[:k].copy()
    for i in range(k // 2 - 1, -1, -1):
        _sift_down(heap, i)
    for i in range(k, len(values)):
        if values[i] > heap[0]:
            heap[0] = values[i]
            _sift_down(heap, 0)
    return heap[0]


@njit(cache=True, nogil=True)
def _sift_down(heap: Array, i: int) -> None:
    n = len(heap)
    while True:
        smallest = i
        left, right = 2 * i + 1, 2 * i + 2
        if left < n and heap[left] < heap[smallest]:
            smallest = left
        if right < n and heap[right] < heap[smallest]:
            smallest = right
        if smallest == i:
            return
        heap[i], heap[smallest] = heap[smallest], heap[i]
        i = smallest


@njit(cache=True, nogil=True)
def rank_query(
    key_hashes: Array, key_offsets: Array, postings: Array, norms: Array, flat: Array,
    numbers: Array, token_count: int, total: int, max_postings: int, limit: int,
) -> tuple[Array, Array]:  # fmt: skip
    """NameIndex.rank from a query's hashed keys (``flat``, with the group of each in
    ``numbers``: token groups first, then whole-name groups; ``total`` names indexed):
    NameIndex._plan's choice of the postings to read, then :func:`rank_names`, in one
    call."""
    n_keys = len(flat)
    if n_keys == 0:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    starts = np.zeros(n_keys, np.int64)
    ends = np.zeros(n_keys, np.int64)
    sizes = np.zeros(n_keys, np.int64)
    for k in range(n_keys):
        p = find_hash(key_hashes, flat[k])
        if p >= 0:
            starts[k] = key_offsets[p]
            ends[k] = key_offsets[p + 1]
            sizes[k] = ends[k] - starts[k]
    # the norm of the query: the rarity of its tokens' own keys (the first of each group)
    query_norm = 0.0
    for k in range(n_keys):
        if numbers[k] < token_count and (k == 0 or numbers[k - 1] != numbers[k]):
            query_norm += math.log1p(total / max(1, sizes[k]))
    present = np.flatnonzero(sizes > 0)
    if len(present) == 0:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    present = present[np.argsort(sizes[present], kind="mergesort")]
    weights = np.empty(n_keys, np.float64)
    for k in range(n_keys):
        weights[k] = math.log(1 + total / sizes[k]) if sizes[k] else 0.0
    n_groups = numbers[-1] + 1
    read = np.zeros(n_keys, np.bool_)
    group_read = np.zeros(n_groups, np.bool_)
    budget = 0
    n_read = 0
    for key in present:
        if n_read and budget + sizes[key] > max_postings:
            continue
        read[key] = True
        group_read[numbers[key]] = True
        budget += sizes[key]
        n_read += 1
    # the keys read, group by group; in a token group of several keys, lighter keys first
    order = np.empty(n_read, np.int64)
    filled = 0
    for g in range(n_groups):
        first = filled
        for key in present:
            if read[key] and numbers[key] == g:
                order[filled] = key
                filled += 1
        if g < token_count and filled - first > 1:
            members = order[first:filled]
            order[first:filled] = members[np.argsort(weights[members], kind="mergesort")]
    read_starts = np.empty(n_read, np.int64)
    read_ends = np.empty(n_read, np.int64)
    read_weights = np.empty(n_read, np.float64)
    read_kinds = np.empty(n_read, np.int8)
    read_groups = np.empty(n_read, np.int64)
    for r in range(n_read):
        k = order[r]
        g = numbers[k]
        read_starts[r], read_ends[r], read_groups[r] = starts[k], ends[k], g
        if g >= token_count:
            read_kinds[r], read_weights[r] = 2, 0.0
        else:
            alone = (r == 0 or numbers[order[r - 1]] != g) and (
                r == n_read - 1 or numbers[order[r + 1]] != g
            )
            read_kinds[r], read_weights[r] = (0 if alone else 1), weights[k]
    # common keys not read: each unread token's own key, and the whole-name keys not read
    pending = np.empty(n_keys, np.int64)
    n_pending = 0
    pending_extra = 0.0
    for k in range(n_keys):
        g = numbers[k]
        own_key = g < token_count and (k == 0 or numbers[k - 1] != g)
        if own_key and not group_read[g] and sizes[k] > 0:
            pending[n_pending] = k
            n_pending += 1
            pending_extra += weights[k]
    whole = np.empty(n_keys, np.int64)
    n_whole = 0
    for key in present:
        if numbers[key] >= token_count and not group_read[numbers[key]]:
            whole[n_whole] = key
            n_whole += 1
    pending, whole = pending[:n_pending], whole[:n_whole]
    return rank_names(
        postings, norms, query_norm, read_starts, read_ends, read_weights, read_kinds,
        read_groups, starts[pending], ends[pending], weights[pending], pending_extra,
        starts[whole], ends[whole], limit,
    )  # fmt: skip


@njit(cache=True, nogil=True)
def rank_names(
    postings: Array, norms: Array, query_norm: float,
    read_starts: Array, read_ends: Array, read_weights: Array, read_kinds: Array,
    read_groups: Array, pending_starts: Array, pending_ends: Array, pending_weights: Array,
    pending_extra: float, whole_starts: Array, whole_ends: Array, limit: int,
) -> tuple[Array, Array]:  # fmt: skip
    """NameIndex.candidates' ranking: positions and ranks of the ``limit`` best names.

    ``read_*`` are the keys read, in the order the Python code reads them: ``read_kinds``
    0 for a token's only key, 1 for a key of a token group of several (lighter keys
    first; ``read_groups`` tells the groups apart), 2 for a key of the whole name.
    ``pending_*`` are the tokens' own keys not read and ``whole_*`` the whole-name keys
    not read.

    Every posting read becomes one number, its name then its key, and the numbers are
    sorted: each name's keys then come together, in the order they were read, so its
    sum is made in one place with the additions in the Python code's order (the same
    numbers), and the names come out in increasing order, which lets the keys not read
    be checked by walking their sorted postings forward.
    """
    if limit <= 0:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    n_read = len(read_starts)
    key_bits = 1
    while (1 << key_bits) < n_read:
        key_bits += 1
    total = 0
    for k in range(n_read):
        total += read_ends[k] - read_starts[k]
    entries = np.empty(total, np.int64)
    at = 0
    highest = np.int64(0)
    for k in range(n_read):
        for j in range(read_starts[k], read_ends[k]):
            name = np.int64(postings[j])
            if name > highest:
                highest = name
            entries[at] = (name << key_bits) | k
            at += 1
    bits = key_bits
    while (np.int64(1) << (bits - key_bits)) <= highest:
        bits += 1
    # by name only: the keys of a name stay in the order they were read
    entries = _radix_sort(entries, key_bits, bits)
    key_mask = (np.int64(1) << key_bits) - 1
    ids = np.empty(total, np.int64)
    shared_ids = np.empty(total, np.float64)
    whole_ids = np.empty(total, np.float64)
    n = 0
    e = 0
    while e < total:
        name = entries[e] >> key_bits
        shared = 0.0
        whole = 0.0
        best = 0.0  # the best key of the current token group of several keys
        group = -1
        while e < total and entries[e] >> key_bits == name:
            k = entries[e] & key_mask
            kind = read_kinds[k]
            if group >= 0 and not (kind == 1 and read_groups[k] == group):
                shared += best
                group = -1
            if kind == 2:
                whole = 1.0
            elif kind == 0:
                shared += read_weights[k]
            else:
                # lighter keys come first: the last key of the group the name has counts
                group = read_groups[k]
                best = read_weights[k]
            e += 1
        if group >= 0:
            shared += best
        ids[n] = name
        shared_ids[n] = shared
        whole_ids[n] = whole
        n += 1
    ids = ids[:n]
    shared_ids = shared_ids[:n]
    whole_ids = whole_ids[:n]
    denominator = np.empty(n, np.float64)
    for e in range(n):
        norm = np.float64(norms[ids[e]])
        denominator[e] = query_norm + (norm if norm > 1e-3 else 1e-3)
    # The keys not read, one at a time: before each, only the names that could still
    # reach the limit-th best (what the keys left could add, at most) are looked up.
    n_pending = len(pending_starts)
    n_left = n_pending + len(whole_starts)
    remaining = pending_extra
    any_whole = len(whole_starts) > 0
    for r in range(n_left):
        if n > limit:
            n = _still_in_reach(
                ids, shared_ids, whole_ids, denominator, n, limit, remaining, any_whole
            )
        is_token = r < n_pending
        start = pending_starts[r] if is_token else whole_starts[r - n_pending]
        end = pending_ends[r] if is_token else whole_ends[r - n_pending]
        at = start
        for e in range(n):
            at = _gallop(postings, at, end, ids[e])
            if at < end and postings[at] == ids[e]:
                if is_token:
                    shared_ids[e] = shared_ids[e] + pending_weights[r]
                else:
                    whole_ids[e] = 1.0
        if is_token:
            remaining -= pending_weights[r]
    ids, shared_ids, whole_ids = ids[:n], shared_ids[:n], whole_ids[:n]
    denominator = denominator[:n]
    rank = np.empty(n, np.float64)
    for e in range(n):
        rank[e] = 2 * shared_ids[e] / denominator[e] + (0.5 if whole_ids[e] > 0 else 0.0)
    top = np.flatnonzero(rank >= _kth_largest(rank, limit)) if n > limit else np.arange(n)
    # best first, ties by position (the names are in increasing order)
    chosen = top[np.argsort(-rank[top], kind="mergesort")][:limit]
    return ids[chosen], rank[chosen]


# --------------------------------------------------------------------------- compilation


def warm_up() -> float:
    """Compile every kernel (or load them from numba's cache) by screening a company and a
    person against a two-name index; returns the seconds it took. The first compilation on
    a machine takes tens of seconds, so the install scripts run this once, and screening
    processes started later only load the cache."""
    import time

    from listwatch.screening.index import NameIndex, NameRecord
    from listwatch.screening.screen import Query, Screener

    start = time.perf_counter()
    index = NameIndex.build(
        [
            NameRecord("company", "Xiaomi Corporation", "Company", "primary"),
            NameRecord("person", "Ivan Petrovich Sidorov", "Person", "primary"),
        ],
        workers=1,
    )
    screener = Screener(index)
    for name in ("Xiaomi Corp", "Sidorov Ivan"):
        for hit in screener.match(Query(name=name, threshold=0.0)):
            hit.explained()
    return time.perf_counter() - start


if __name__ == "__main__":
    print(f"listwatch: screening kernels ready in {warm_up():.1f} s")
