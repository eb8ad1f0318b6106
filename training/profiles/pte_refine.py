"""Profile-then-Embed (PtE), profile stage: candidate selection and bidirectional refinement, cached and batched.

Candidates. PtE samples several profiles per user and scores them with a group-relative reward, the
advantage GRPO computes: (r - mean) / std within the user's group. Offline the candidates are controlled
variations (`pte_writer.UserVariant`: history window, number of neighbours, template order). The reward has
two parts, each normalised within the group before they are added (their raw scales differ by an order of
magnitude, so unnormalised the larger would decide alone):
- collaborative alignment: how much more the candidate's embedding resembles the user's own training films
  than films at large, c . (mean(own item vectors) - mean(all item vectors)), i.e. the candidate's mean cosine
  to the user's films minus its mean cosine to the catalogue. Cosine to the user's films alone would reward
  generic text that sits near every film; subtracting the catalogue's mean keeps what is specific to the user.
- distinctiveness: 1 - the mean cosine to the neighbours' canonical (first) candidates, so a profile that
  could belong to any of the neighbours loses to one that tells this user apart.
The best candidate is kept. This applies the reward without updating the writer: fine-tuning an LLM writer
with GRPO is beyond a 2-core CPU. `SelectionConfig.for_ranker` gives the settings of the ablations
(`pte_no_select`: the first candidate; `pte_no_collab_reward`: distinctiveness only).

Refinement. Round 0 is the selected user profiles and the item profiles. Round k writes each user profile
from their own round-0 facts plus what stands out among the round k-1 profiles of their films, and each item
profile from its round-0 facts plus what stands out among the round k-1 profiles of its raters. "Stands out":
a tag (an audience group, a genre, an era, a film) carried by a clearly larger share of the linked profiles
than of all linked profiles over all rows (at least `MIN_LIFT` times), by at least `MIN_SUPPORT` of them and a
tenth; ranked by share * log(lift). Tags the profile already states are not repeated, so every round adds
only what the other side knows. `round_changes` reports what each round changed.

Every text goes through a `TextStore` keyed by a hash of its facts and the writer, in batches with a
progress bar: a second run writes nothing, an interrupted one keeps its finished batches.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np
import scipy.sparse as sp

from convrec.core.catalogue import AUDIENCE_MIN_LIFT
from convrec.core.phrasing import join_words, occupation_plural

from ..text_inputs import item_text
from .pte_writer import (
    DEFAULT_CANDIDATES,
    GENDER_NAMES,
    Facts,
    OfflinePtEWriter,
    PtEData,
    PtEWriter,
    Role,
    UserVariant,
    item_facts,
    user_facts,
)
from .store import FailureGuard, TextFallback, TextStore, generate_texts

log = logging.getLogger(__name__)

K = TypeVar("K")
Embed = Callable[[list[str]], np.ndarray]  # texts -> (n, dim) unit rows, e.g. EmbeddingCache.encode
DEFAULT_ROUNDS = 1
MIN_LIFT = AUDIENCE_MIN_LIFT
MIN_SUPPORT = 3  # linked profiles that must carry a tag before it is stated
MIN_SUPPORT_SHARE = 0.1
IDENTITY_KINDS = frozenset({"age", "gender", "occupation"})
TAGS_PER_STATEMENT = 3


# ----- candidate selection ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SelectionConfig:
    """Which candidates are written and which reward parts choose among them (switchable for ablations)."""

    select: bool = True
    collab_reward: bool = True
    distinct_reward: bool = True
    candidates: tuple[UserVariant, ...] = DEFAULT_CANDIDATES

    @classmethod
    def for_ranker(cls, name: str) -> SelectionConfig:
        """The selection of a PtE ranker by name: 'pte_no_select', 'pte_no_collab_reward', else the full one."""
        if name == "pte_no_select":
            return cls(select=False)
        if name == "pte_no_collab_reward":
            return cls(collab_reward=False)
        return cls()


@dataclass(frozen=True)
class GroupScore:
    """One user's candidates: each reward part, the reward and its group-relative advantage."""

    alignment: np.ndarray
    distinctiveness: np.ndarray
    reward: np.ndarray
    advantage: np.ndarray

    @property
    def chosen(self) -> int:
        """The candidate with the highest advantage (the first among equals)."""
        return int(np.argmax(self.advantage))


def group_advantage(rewards: np.ndarray) -> np.ndarray:
    """GRPO's group-relative advantage (r - mean) / std within one group (population std; zeros if all equal)."""
    rewards = np.asarray(rewards, dtype=np.float64)
    std = float(rewards.std()) if len(rewards) else 0.0
    if std < 1e-12:
        return np.zeros_like(rewards)
    return (rewards - rewards.mean()) / std


def score_group(candidates: np.ndarray, direction: np.ndarray, neighbours: np.ndarray,
                config: SelectionConfig) -> GroupScore:
    """Score one user's candidate vectors (c, d).

    `direction` is mean(own film vectors) - mean(all film vectors), `neighbours` (m, d) the neighbours'
    canonical profile vectors (m may be 0).
    """
    alignment = candidates @ direction if config.collab_reward else np.zeros(len(candidates))
    distinct = (1.0 - (candidates @ neighbours.T).mean(axis=1) if config.distinct_reward and len(neighbours)
                else np.zeros(len(candidates)))
    reward = group_advantage(alignment) + group_advantage(distinct)
    return GroupScore(np.asarray(alignment, dtype=np.float64), np.asarray(distinct, dtype=np.float64), reward,
                      group_advantage(reward))


def select_candidates(data: PtEData, texts: Mapping[int, list[str]], embed: Embed,
                      config: SelectionConfig) -> dict[int, GroupScore]:
    """Score every user's candidate texts (first = canonical) and return the scores of users with a choice."""
    users = [u for u, group in texts.items() if len(set(group)) > 1]
    if not users:
        return {}
    unique = list(dict.fromkeys(t for u in texts for t in texts[u]))
    position = {t: i for i, t in enumerate(unique)}
    vectors = np.asarray(embed(unique), dtype=np.float64)
    directions = _alignment_directions(data, embed) if config.collab_reward else {}
    canonical = {u: vectors[position[group[0]]] for u, group in texts.items()}
    dim = vectors.shape[1]
    scores = {}
    for user in users:
        group = vectors[[position[t] for t in texts[user]]]
        near = [canonical[n] for n in data.neighbours.get(user, ()) if n in canonical]
        scores[user] = score_group(group, directions.get(user, np.zeros(dim)),
                                   np.array(near) if near else np.zeros((0, dim)), config)
    return scores


def _alignment_directions(data: PtEData, embed: Embed) -> dict[int, np.ndarray]:
    """Per user, mean(own training film vectors) - mean(all film vectors).

    A film is its title, year and genres (`item_text`), what a profile names it by. The longer search documents
    took as long to encode as a third of the candidates (35 s on 2 cores; reports/pte.md).
    """
    ids = data.matrix.item_ids
    items = data.catalogue.items
    texts = [item_text(items[int(i)]) for i in ids]
    item_vectors = np.asarray(embed(texts), dtype=np.float64)
    r = data.matrix.matrix.astype(np.float64)
    counts = np.asarray(r.sum(axis=1)).reshape(-1)
    own = (r @ item_vectors) / np.maximum(counts, 1.0)[:, None]
    centre = item_vectors.mean(axis=0)
    return {int(u): own[row] - centre for row, u in enumerate(data.matrix.user_ids) if counts[row] > 0}


# ----- refinement --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Standout:
    """A tag that stands out among a profile's linked profiles: its share there and its lift over all rows."""

    tag: str
    share: float
    lift: float

    @property
    def kind(self) -> str:
        """The tag's kind: age, gender, occupation, genre, era or film."""
        return self.tag.partition(":")[0]


def standouts(links: sp.csr_matrix, linked_tags: list[tuple[str, ...]],
              exclude: list[frozenset[str]]) -> list[list[Standout]]:
    """Per row of `links` (rows x linked profiles, 0/1), the tags that stand out among its linked profiles.

    Share: the fraction of the row's linked profiles carrying the tag; base: the same fraction over every
    link of every row (so a tag all films carry is never news); kept with lift >= `MIN_LIFT`, support >=
    `MIN_SUPPORT` and a tenth of the row, not in the row's `exclude`; best share * log(lift) first, then by tag.
    """
    vocabulary: dict[str, int] = {}
    for tags in linked_tags:
        for tag in tags:
            vocabulary.setdefault(tag, len(vocabulary))
    names = np.array(list(vocabulary), dtype=object)
    indptr, indices = [0], []
    for tags in linked_tags:
        indices.extend(sorted({vocabulary[t] for t in tags}))
        indptr.append(len(indices))
    carried = sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(linked_tags), len(vocabulary)))
    counts = sp.csr_matrix(links.astype(np.float64) @ carried)
    sizes = np.asarray(links.sum(axis=1)).reshape(-1)
    base = np.asarray(counts.sum(axis=0)).reshape(-1) / max(float(links.nnz), 1.0)
    out: list[list[Standout]] = []
    for row in range(links.shape[0]):
        start, end = counts.indptr[row], counts.indptr[row + 1]
        cols, values = counts.indices[start:end], counts.data[start:end]
        if not len(cols):
            out.append([])
            continue
        share = values / sizes[row]
        lift = share / base[cols]
        keep = (lift >= MIN_LIFT) & (values >= max(MIN_SUPPORT, math.ceil(MIN_SUPPORT_SHARE * sizes[row])))
        ranked = sorted(((str(names[c]), float(s), float(lf)) for c, s, lf, k in zip(cols, share, lift, keep,
                                                                                    strict=True) if k),
                        key=lambda t: (-t[1] * math.log(t[2]), t[0]))
        out.append([Standout(t, s, lf) for t, s, lf in ranked if t not in exclude[row]])
    return out


def tag_phrase(tag: str, data: PtEData) -> str:
    """How a tag reads in a sentence: 'age:18-24' -> 'people aged 18-24', 'film:50' -> 'Star Wars'."""
    kind, _, value = tag.partition(":")
    if kind == "age":
        return f"people aged {value}"
    if kind == "gender":
        return GENDER_NAMES.get(value, value)
    if kind == "occupation":
        return occupation_plural(value)
    if kind == "era":
        return f"films from the {value}"
    if kind == "film":
        item = data.catalogue.items.get(int(value))
        return item.title if item is not None else value
    return value


def _pick(found: list[Standout], kinds: Callable[[str], bool]) -> list[Standout]:
    return [s for s in found if kinds(s.kind)][:TAGS_PER_STATEMENT]


def _listed(found: list[Standout], data: PtEData) -> str:
    return join_words(f"{tag_phrase(s.tag, data)} ({round(100 * s.share)}%)" for s in found)


@dataclass(frozen=True)
class _Wording:
    """How a refinement states what stands out on the other side ({} is the list of standouts)."""

    identity: str
    themes: str
    films: str
    replaces_broad_audience: bool = False  # an item's "a broad audience: nothing stands out" gives way


USER_WORDING = _Wording("their films draw {} more than films at large (share of their films)",
                        "Their films' profiles often name {} (share of their films).",
                        "Those who rate their films also rate {}.")
ITEM_WORDING = _Wording("its raters' profiles name {} more than raters at large (share of its raters)",
                        "Its raters' profiles often name {} (share of its raters).",
                        "Its raters often rate highest {}.", replaces_broad_audience=True)


def refine_user(base: Facts, found: list[Standout], data: PtEData) -> Facts:
    """A user's round-0 facts plus what stands out among their films' previous-round profiles."""
    return _refined(base, found, data, USER_WORDING)


def refine_item(base: Facts, found: list[Standout], data: PtEData) -> Facts:
    """An item's round-0 facts plus what stands out among its raters' previous-round profiles."""
    return _refined(base, found, data, ITEM_WORDING)


def _refined(base: Facts, found: list[Standout], data: PtEData, wording: _Wording) -> Facts:
    identity = _pick(found, lambda k: k in IDENTITY_KINDS)
    themes = _pick(found, lambda k: k in {"genre", "era"})
    films = _pick(found, lambda k: k == "film")
    clauses = [wording.identity.format(_listed(identity, data))] if identity else []
    if wording.replaces_broad_audience and clauses and not base.identity_tags:  # it would contradict them
        base = replace(base, identity=())
    sentences = []
    if themes:
        sentences.append(wording.themes.format(_listed(themes, data)))
    if films:
        sentences.append(wording.films.format(join_words(tag_phrase(s.tag, data) for s in films)))
    return base.extended(clauses, sentences, [s.tag for s in identity], [s.tag for s in themes + films])


def refine_round(data: PtEData, user_base: Mapping[int, Facts], item_base: Mapping[int, Facts],
                 users_prev: Mapping[int, Facts], items_prev: Mapping[int, Facts]
                 ) -> tuple[dict[int, Facts], dict[int, Facts]]:
    """Round k from round k-1: users from their films' profiles, films from their raters' profiles."""
    matrix = data.matrix
    user_ids = [int(u) for u in matrix.user_ids]
    item_ids = [int(i) for i in matrix.item_ids]
    r = matrix.matrix
    item_found = standouts(r, [items_prev[i].tags if i in items_prev else () for i in item_ids],
                           [frozenset(user_base[u].tags) if u in user_base else frozenset() for u in user_ids])
    user_found = standouts(sp.csr_matrix(r.T), [users_prev[u].tags if u in users_prev else () for u in user_ids],
                           [frozenset((*item_base[i].tags, f"film:{i}")) if i in item_base else frozenset()
                            for i in item_ids])  # a film's raters rating it highly is no news about it
    users = {u: refine_user(user_base[u], item_found[row], data) for row, u in enumerate(user_ids) if u in user_base}
    items = {i: refine_item(item_base[i], user_found[col], data) for col, i in enumerate(item_ids) if i in item_base}
    return users, items


# ----- the whole profile stage ----------------------------------------------------------------------------
@dataclass(frozen=True)
class RoundTexts:
    """The user and item profile texts of one round, by id."""

    users: dict[int, str]
    items: dict[int, str]


@dataclass
class PtEProfiles:
    """Every round's texts (round 0 first), the candidate each user kept, their scores and the time per part."""

    rounds: list[RoundTexts]
    chosen: dict[int, UserVariant]
    scores: dict[int, GroupScore]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def users(self) -> dict[int, str]:
        """The final user profiles (the last round's)."""
        return self.rounds[-1].users

    @property
    def items(self) -> dict[int, str]:
        """The final item profiles (the last round's)."""
        return self.rounds[-1].items


def build_pte_profiles(data: PtEData, folder: Path, *, embed: Embed | None = None, writer: PtEWriter | None = None,
                       rounds: int = DEFAULT_ROUNDS, selection: SelectionConfig = SelectionConfig(),
                       batch_size: int = 256,
                       show_progress: bool = False, fallback: PtEWriter | None = None,
                       workers: int = 1) -> PtEProfiles:
    """Write (or read back) the candidates, keep each user's best, then refine for `rounds` rounds.

    `embed` is needed only to select among candidates (without it, or with `selection.select` off, the first
    candidate is kept). With `fallback` (an LLM `writer` with `OfflinePtEWriter()`), a text `writer` fails on is
    written by the fallback and stored under the fallback's identity, so the next run asks `writer` again; one
    guard watches `writer` over the whole run, so a server that is down is given up on once. `workers` > 1
    writes a batch's texts concurrently (a language-model server taking parallel requests).
    """
    writer = writer or OfflinePtEWriter()
    store = TextStore(folder, writer.identity)
    guard = FailureGuard(writer.identity, fallback.identity) if fallback is not None else None
    write = partial(_write_all, store, writer, batch_size=batch_size, show_progress=show_progress, fallback=fallback,
                    guard=guard, workers=workers)
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    user_ids = sorted(set(data.catalogue.users) | set(data.histories))
    variants = selection.candidates if selection.select and embed is not None else selection.candidates[:1]
    candidates = {u: [user_facts(data, u, v) for v in variants] for u in user_ids}
    item_base = {int(i): item_facts(data, int(i)) for i in data.matrix.item_ids}
    timings["round0_facts"] = time.perf_counter() - clock

    clock = time.perf_counter()
    flat = {(u, k): facts for u, group in candidates.items() for k, facts in enumerate(group)}
    written = write("user", flat, desc="PtE user candidates")
    candidate_texts = {u: [written[(u, k)] for k in range(len(group))] for u, group in candidates.items()}
    item_texts_0 = write("item", item_base, desc="PtE item profiles")
    timings["round0_write"] = time.perf_counter() - clock

    clock = time.perf_counter()
    scores = select_candidates(data, candidate_texts, embed, selection) if embed is not None and \
        len(variants) > 1 else {}
    pick = {u: scores[u].chosen if u in scores else 0 for u in user_ids}
    timings["selection"] = time.perf_counter() - clock

    user_base = {u: candidates[u][pick[u]] for u in user_ids}
    history = [RoundTexts({u: candidate_texts[u][pick[u]] for u in user_ids}, item_texts_0)]
    users_prev, items_prev = user_base, item_base
    for k in range(1, rounds + 1):
        clock = time.perf_counter()
        users_prev, items_prev = refine_round(data, user_base, item_base, users_prev, items_prev)
        history.append(RoundTexts(write("user", users_prev, desc=f"PtE users, round {k}"),
                                  write("item", items_prev, desc=f"PtE items, round {k}")))
        timings[f"round{k}"] = time.perf_counter() - clock
    chosen = {u: variants[pick[u]] for u in user_ids}
    return PtEProfiles(rounds=history, chosen=chosen, scores=scores, timings=timings)


def _write_all(store: TextStore, writer: PtEWriter, role: Role, facts: Mapping[K, Facts], *, batch_size: int,
               show_progress: bool, desc: str, fallback: PtEWriter | None = None, guard: FailureGuard | None = None,
               workers: int = 1) -> dict[K, str]:
    """Every profile's text through the store (only the ones not stored yet are written), by the same key.

    With `fallback`, a text `writer` fails on is the fallback's, kept in the fallback's own store (keyed by its
    identity), never in `store`: `guard` (shared by a run's calls) decides when `writer` is given up on.
    """
    keys = {ref: f.key(role, writer.identity) for ref, f in facts.items()}
    jobs = {keys[ref]: (f"{role} {ref}", partial(writer.write, role, f)) for ref, f in facts.items()}
    spare = None
    if fallback is not None:
        spare = TextFallback(store.path.parent, fallback.identity,
                             {keys[ref]: (f.key(role, fallback.identity), partial(fallback.write, role, f))
                              for ref, f in facts.items()},
                             guard or FailureGuard(writer.identity, fallback.identity))
    texts = generate_texts(store, jobs, batch_size=batch_size, show_progress=show_progress, desc=desc,
                           workers=workers, fallback=spare)
    return {ref: texts[key] for ref, key in keys.items()}


def round_changes(rounds: list[RoundTexts]) -> list[dict[str, float]]:
    """Per round after the first: how many user and item texts changed and by how many characters on average."""
    out = []
    for before, after in zip(rounds, rounds[1:], strict=False):
        row: dict[str, float] = {}
        for side, old, new in (("users", before.users, after.users), ("items", before.items, after.items)):
            changed = [k for k in new if old.get(k) != new[k]]
            row[f"{side}_changed"] = len(changed)
            row[f"{side}_chars_added"] = (float(np.mean([len(new[k]) - len(old.get(k, "")) for k in changed]))
                                          if changed else 0.0)
        out.append(row)
    return out


def embedding_movement(before: Mapping[int, str], after: Mapping[int, str], embed: Embed) -> float:
    """Mean cosine distance between two rounds' vectors of the same profiles (0: the round changed nothing)."""
    keys = sorted(set(before) & set(after))
    if not keys:
        return 0.0
    a = np.asarray(embed([before[k] for k in keys]))
    b = np.asarray(embed([after[k] for k in keys]))
    return float(np.mean(1.0 - np.sum(a * b, axis=1)))
