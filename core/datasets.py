"""Load the datasets beyond the default ML-100K through one interface, downloading them on first use.

Every loader returns the same shape: an interactions frame (user_id, item_id as int64, rating as float32,
timestamp as int64 seconds, rows in the order of the source file) and an item table (item_id, title, year,
genres; missing values where a source has none). Everything is cached under `data_dir/datasets/<name>/`.

Registry (`DATASETS`):
- `ml-100k`: the existing path (`core.dataset`: RecBole's copy of the atomic files), so the rows are the ones
  the catalogue reads; the placeholder item "unknown" and its ratings are left out, as the catalogue does.
- `ml-1m`: GroupLens' `ml-1m.zip` (`ratings.dat` `UserID::MovieID::Rating::Timestamp`, `movies.dat`
  `MovieID::Title (Year)::Genre|Genre` in latin-1).
- `amazon-<category>`: Amazon Review Data (2018), the 5-core review file of one category, gzipped JSON lines
  (`reviewerID`, `asin`, `overall`, `unixReviewTime`, review text we do not read), from
  `https://datarepo.eng.ucsd.edu/mcauley_group/data/amazon_v2/categoryFilesSmall/<Category>_5.json.gz`
  (older links on jmcauley.ucsd.edu/data/amazon_v2/ serve the same files). String ids are mapped to ints
  1..n in sorted order of the original ids (deterministic, independent of file order); `user_map` and
  `item_map` keep the originals. The 2018 files repeat some reviews: only the first row of each
  (user, item) pair is kept. Titles and categories come from `meta_<Category>.json.gz` if you put that
  file in the cache folder (it is large and optional; it is not downloaded).

A local copy: pass `local_path` (the archive, or for ML-1M also the extracted folder), or put the file where
the download would land: `data_dir/datasets/ml-1m/ml-1m.zip` (checked against the known checksum), or its
`ratings.dat` and `movies.dat` in that same folder (unzipping `ml-1m.zip` inside `data_dir/datasets/` does it),
`data_dir/datasets/amazon-movies-tv/Movies_and_TV_5.json.gz`. A failed download says exactly that path.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import json
import logging
import re
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from .errors import UserError
from .hashing import content_hash

log = logging.getLogger(__name__)

COLUMNS = ("user_id", "item_id", "rating", "timestamp")
ITEM_COLUMNS = ("item_id", "title", "year", "genres")
CHUNK = 1 << 20
TIMEOUT_SECONDS = 30
USER_AGENT = "convrec/0.1 (dataset loader)"

ML1M_URL = "https://files.grouplens.org/datasets/movielens/ml-1m.zip"
# Not computed here (GroupLens is unreachable from this machine); taken from published sources:
# md5 is the value GroupLens publishes beside the archive (ml-1m.zip.md5), quoted identically by many
# independent projects; sha256 is the value pinned by TensorFlow's examples
# (lite/examples/recommendation/ml/data/example_generation_movielens.py, MOVIELENS_ZIP_HASH).
ML1M_CHECKSUMS = ("md5:c4d9eecfca2ab87c1945afe126590906",
                  "sha256:a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20")

AMAZON_URL = "https://datarepo.eng.ucsd.edu/mcauley_group/data/amazon_v2/categoryFilesSmall/{category}_5.json.gz"
# Categories of the 2018 release a film recommender may want; the key follows `amazon-`. No checksums are
# published for these files: a download is checked for its length and its JSON-lines format only.
AMAZON_CATEGORIES = {
    "movies-tv": "Movies_and_TV",
    "books": "Books",
    "kindle-store": "Kindle_Store",
    "cds-vinyl": "CDs_and_Vinyl",
    "digital-music": "Digital_Music",
    "video-games": "Video_Games",
}
DATASETS: tuple[str, ...] = ("ml-100k", "ml-1m", *(f"amazon-{key}" for key in AMAZON_CATEGORIES))

_TITLE_YEAR = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})\)\s*$")


@dataclass(frozen=True, eq=False)
class LoadedDataset:
    """Interactions and items of one dataset, with its user and item ids (ascending, as in the interactions)."""

    name: str
    interactions: pd.DataFrame  # user_id, item_id, rating, timestamp; source file order
    items: pd.DataFrame  # item_id, title, year (Int64, NA when unknown), genres ("A|B", NA when unknown)
    user_ids: np.ndarray
    item_ids: np.ndarray
    user_map: pd.DataFrame | None = None  # user_id, original_id, for sources with string ids
    item_map: pd.DataFrame | None = None  # item_id, original_id
    source: Path | None = None

    def by_user_time(self) -> pd.DataFrame:
        """Interactions sorted by user, then timestamp, ties in file order (the catalogue's order)."""
        return self.interactions.sort_values(["user_id", "timestamp"], kind="stable").reset_index(drop=True)


def load_dataset(name: str, data_dir: Path, *, url: str | None = None, local_path: Path | None = None,
                 checksum: str | None = None, show_progress: bool = False) -> LoadedDataset:
    """Load a registered dataset, downloading it into `data_dir/datasets/<name>/` on first use.

    `url` replaces the official address (a mirror); the known checksum then no longer applies, so pass
    `checksum` ("sha256:<hex>" or "md5:<hex>") to verify the mirror's file. `local_path` reads your own copy
    and never touches the network; it is checked against `checksum` only when you give one.
    """
    folder = Path(data_dir) / "datasets" / name
    if name == "ml-100k":
        if url is not None:
            raise UserError("ml-100k comes from the RecBole wheel, not a url; pass local_path to use your own "
                            "folder of ml-100k atomic files")
        return load_ml100k(Path(data_dir), local_path)
    if name == "ml-1m":
        return load_ml1m(folder, url=url, local_path=local_path, checksum=checksum, show_progress=show_progress)
    if name.startswith("amazon-") and name.removeprefix("amazon-") in AMAZON_CATEGORIES:
        return load_amazon(name, folder, url=url, local_path=local_path, checksum=checksum,
                           show_progress=show_progress)
    raise UserError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")


# ----- download -------------------------------------------------------------------------------------------


def parse_checksum(text: str) -> tuple[str, str]:
    """Split "sha256:<hex>" into ("sha256", "<hex>"), refusing an algorithm hashlib lacks."""
    algo, _, digest = text.partition(":")
    if not digest or algo not in hashlib.algorithms_guaranteed:
        raise UserError(f"checksum {text!r}: write it as sha256:<hex> or md5:<hex>")
    return algo, digest.strip().lower()


def checksum_mismatch(path: Path, checksums: tuple[str, ...]) -> str | None:
    """Describe the first checksum `path` fails ("sha256 <got> instead of <expected>"), or None."""
    if not checksums:
        return None
    expected = [parse_checksum(c) for c in checksums]
    digests = {algo: hashlib.new(algo) for algo, _ in expected}
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            for digest in digests.values():
                digest.update(block)
    for algo, want in expected:
        got = digests[algo].hexdigest()
        if got != want:
            return f"{algo} {got} instead of {want}"
    return None


def verify_file(path: Path, checksums: tuple[str, ...]) -> None:
    """Check a file against every given checksum; a mismatch is a UserError naming the file."""
    problem = checksum_mismatch(path, checksums)
    if problem:
        raise UserError(f"{path}: checksum mismatch ({problem}); the file is corrupt or not the published one: "
                        "delete it and download it again")


def download(url: str, target: Path, *, checksums: tuple[str, ...] = (), show_progress: bool = False) -> Path:
    """Stream `url` to `target` through a `.part` file, verify length and checksums, then rename atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    hint = f"download it yourself and put it at {target}"
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    received, total = 0, None
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response, part.open("wb") as out:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            with tqdm(total=total, unit="B", unit_scale=True, desc=target.name, disable=not show_progress) as bar:
                while block := response.read(CHUNK):
                    out.write(block)
                    received += len(block)
                    bar.update(len(block))
    except (OSError, http.client.HTTPException, ValueError) as exc:  # URLError and timeouts are OSErrors
        part.unlink(missing_ok=True)
        reason = exc if isinstance(exc, urllib.error.HTTPError) else getattr(exc, "reason", None) or exc
        raise UserError(f"could not download {url}: {one_line(reason)}; {hint}") from None
    if total is not None and received != total:
        part.unlink(missing_ok=True)
        raise UserError(f"could not download {url}: got {received} of {total} bytes; {hint}")
    problem = checksum_mismatch(part, checksums)
    if problem:
        part.unlink(missing_ok=True)
        raise UserError(f"{target.name} downloaded from {url} fails its checksum ({problem}); nothing was kept: "
                        f"try again, or {hint}")
    part.replace(target)
    log.info("Downloaded %s (%d bytes) to %s", url, received, target)
    return target


def one_line(reason: object) -> str:
    """An exception or reason as a single line."""
    text = " ".join(str(reason).split())
    return text or type(reason).__name__


def expected_checksums(official: tuple[str, ...], url: str | None, checksum: str | None) -> tuple[str, ...]:
    """The checksum to enforce: the caller's, else the known one when reading from the official address."""
    if checksum is not None:
        parse_checksum(checksum)
        return (checksum,)
    return official if url is None else ()


# ----- MovieLens ------------------------------------------------------------------------------------------


def load_ml100k(data_dir: Path, local_path: Path | None) -> LoadedDataset:
    """ML-100K through the existing reader, so rows and items match the catalogue's."""
    from .catalogue import Catalogue
    from .dataset import ensure_dataset, read_tables

    folder = ensure_dataset(data_dir, local_path)
    tables = read_tables(folder)
    catalogue = Catalogue.from_tables(tables)
    kept = tables.inter["item_id"].isin(catalogue.items)
    interactions = typed_interactions(tables.inter.loc[kept, list(COLUMNS)])
    items = pd.DataFrame({
        "item_id": catalogue.item_ids,
        "title": [catalogue.items[i].raw_title for i in catalogue.item_ids],
        "year": pd.array([catalogue.items[i].year for i in catalogue.item_ids], dtype="Int64"),
        "genres": ["|".join(catalogue.items[i].genres) or pd.NA for i in catalogue.item_ids],
    })
    return LoadedDataset("ml-100k", interactions, items, np.array(sorted(catalogue.users), dtype=np.int64),
                         catalogue.item_ids, source=folder)


def load_ml1m(folder: Path, *, url: str | None, local_path: Path | None, checksum: str | None,
              show_progress: bool) -> LoadedDataset:
    """ML-1M from your copy, the extracted cache, the cached zip, or a fresh download (in that order)."""
    members = ("movies.dat", "ratings.dat")
    if local_path is not None:
        local_path = Path(local_path)
        if local_path.is_dir():
            source = local_path
        elif local_path.is_file():
            verify_file(local_path, (checksum,) if checksum else ())
            source = extract_zip(local_path, folder, members)
        else:
            raise UserError(f"{local_path}: not found (give the ml-1m.zip archive or its extracted folder)")
    elif all((folder / name).is_file() for name in members):
        source = folder
    else:
        archive = folder / "ml-1m.zip"
        checks = expected_checksums(ML1M_CHECKSUMS, url, checksum)
        if archive.is_file():
            verify_file(archive, checks)
        else:
            download(url or ML1M_URL, archive, checksums=checks, show_progress=show_progress)
        source = extract_zip(archive, folder, members)
    interactions = read_ml1m_ratings(source / "ratings.dat")
    items = read_ml1m_movies(source / "movies.dat")
    unknown = np.setdiff1d(interactions["item_id"].unique(), items["item_id"].to_numpy())
    if len(unknown):
        raise UserError(f"{source / 'ratings.dat'}: {len(unknown)} movie ids have no row in movies.dat "
                        f"(e.g. {int(unknown[0])})")
    return with_ids("ml-1m", interactions, items, source=source)


def extract_zip(archive: Path, folder: Path, members: tuple[str, ...]) -> Path:
    """Extract the named files (wherever they sit in the zip) into `folder`; return `folder`.

    Each file is written beside its final name and renamed in `members` order, so a crash never leaves a
    half-written file under the final name (the loader looks for the last member to know it is done).
    """
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=folder))
    try:
        with zipfile.ZipFile(archive) as bundle:
            by_name = {Path(info.filename).name: info for info in bundle.infolist() if not info.is_dir()}
            missing = [m for m in members if m not in by_name]
            if missing:
                raise UserError(f"{archive}: no {', '.join(missing)} inside; is it the right archive?")
            for name in members:
                with bundle.open(by_name[name]) as src, (staging / name).open("wb") as dst:
                    shutil.copyfileobj(src, dst, CHUNK)
        for name in members:
            (staging / name).replace(folder / name)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise UserError(f"{archive}: not a readable zip archive ({one_line(exc)}); delete it and download it "
                        "again") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def read_double_colon(path: Path, names: tuple[str, ...], encoding: str) -> pd.DataFrame:
    """Read a MovieLens `::`-separated file as strings (the C parser, after turning `::` into tabs)."""
    if not path.is_file():
        raise UserError(f"{path}: file not found")
    text = path.read_bytes().decode(encoding).replace("::", "\t")
    try:
        frame = pd.read_csv(io.StringIO(text), sep="\t", header=None, names=list(names), dtype=str,
                            keep_default_na=False, quoting=3)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UserError(f"{path}: not a '::'-separated file with {len(names)} fields ({one_line(exc)})") from None
    if frame.empty:
        raise UserError(f"{path}: no rows")
    return frame


def numeric_column(frame: pd.DataFrame, column: str, path: Path, dtype: str) -> pd.Series:
    """Convert one string column, naming the first bad line in a UserError."""
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna().to_numpy()
    if bad.any():
        line = int(bad.nonzero()[0][0]) + 1
        raise UserError(f"{path}: line {line}: {column} {frame[column].iloc[line - 1]!r} is not a number")
    return values.astype(dtype)


def read_ml1m_ratings(path: Path) -> pd.DataFrame:
    """ratings.dat: UserID::MovieID::Rating::Timestamp, in file order."""
    frame = read_double_colon(path, COLUMNS, "latin-1")
    return pd.DataFrame({
        "user_id": numeric_column(frame, "user_id", path, "int64"),
        "item_id": numeric_column(frame, "item_id", path, "int64"),
        "rating": numeric_column(frame, "rating", path, "float32"),
        "timestamp": numeric_column(frame, "timestamp", path, "int64"),
    })


def read_ml1m_movies(path: Path) -> pd.DataFrame:
    """movies.dat (latin-1): MovieID::Title (Year)::Genre|Genre; the year is split off the title."""
    frame = read_double_colon(path, ("item_id", "raw_title", "genres"), "latin-1")
    titles, years = [], []
    for raw in frame["raw_title"]:
        match = _TITLE_YEAR.match(raw)
        titles.append(match.group("title") if match else raw.strip())
        years.append(int(match.group("year")) if match else None)
    return pd.DataFrame({
        "item_id": numeric_column(frame, "item_id", path, "int64"),
        "title": titles,
        "year": pd.array(years, dtype="Int64"),
        "genres": frame["genres"].replace("", pd.NA),
    })


# ----- Amazon ---------------------------------------------------------------------------------------------


def load_amazon(name: str, folder: Path, *, url: str | None, local_path: Path | None, checksum: str | None,
                show_progress: bool) -> LoadedDataset:
    """One category's 2018 5-core reviews, with string ids mapped to ints and the originals kept."""
    category = AMAZON_CATEGORIES[name.removeprefix("amazon-")]
    if local_path is not None:
        path = Path(local_path)
        if not path.is_file():
            raise UserError(f"{path}: file not found (give the {category}_5.json.gz review file)")
        verify_file(path, (checksum,) if checksum else ())
    else:
        path = folder / f"{category}_5.json.gz"
        if path.is_file():
            verify_file(path, expected_checksums((), url, checksum))
        else:
            checks = expected_checksums((), url, checksum)
            download(url or AMAZON_URL.format(category=category), path, checksums=checks, show_progress=show_progress)
    arrays = amazon_arrays(path, folder, show_progress=show_progress)
    interactions = pd.DataFrame({"user_id": arrays["user_codes"] + 1, "item_id": arrays["item_codes"] + 1,
                                 "rating": arrays["ratings"], "timestamp": arrays["times"]})
    before = len(interactions)
    interactions = interactions.drop_duplicates(["user_id", "item_id"], keep="first").reset_index(drop=True)
    if len(interactions) < before:
        log.info("%s: dropped %d repeated (user, item) reviews, kept the first of each", path.name,
                 before - len(interactions))
    user_map = pd.DataFrame({"user_id": np.arange(1, len(arrays["users"]) + 1, dtype=np.int64),
                             "original_id": arrays["users"].astype(object)})
    item_map = pd.DataFrame({"item_id": np.arange(1, len(arrays["items"]) + 1, dtype=np.int64),
                             "original_id": arrays["items"].astype(object)})
    meta = read_amazon_meta(path.parent / f"meta_{category}.json.gz", item_map)
    return with_ids(name, interactions, meta, source=path, user_map=user_map, item_map=item_map)


def amazon_arrays(path: Path, folder: Path, *, show_progress: bool) -> dict[str, np.ndarray]:
    """Parse a review file into id codes (0-based, sorted by original id), ratings and times; cache as .npz.

    Parsing millions of JSON lines takes minutes; the cache is keyed by the file's path, size and mtime.
    """
    stat = path.stat()
    cache = folder / f"parsed-{content_hash(str(path.resolve()), stat.st_size, stat.st_mtime_ns)}.npz"
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as saved:
            return {key: saved[key] for key in saved.files}
    users, items, ratings, times = read_amazon_reviews(path, show_progress=show_progress)
    user_codes, user_originals = pd.factorize(pd.Series(users, dtype=object), sort=True)
    item_codes, item_originals = pd.factorize(pd.Series(items, dtype=object), sort=True)
    arrays = {"user_codes": user_codes.astype(np.int64), "item_codes": item_codes.astype(np.int64),
              "ratings": np.asarray(ratings, dtype=np.float32), "times": np.asarray(times, dtype=np.int64),
              "users": np.asarray(user_originals, dtype=str), "items": np.asarray(item_originals, dtype=str)}
    folder.mkdir(parents=True, exist_ok=True)
    part = cache.with_name(cache.name + ".part")
    with part.open("wb") as out:
        np.savez(out, **arrays)
    part.replace(cache)
    return arrays


def read_amazon_reviews(path: Path, *, show_progress: bool = False
                        ) -> tuple[list[str], list[str], list[float], list[int]]:
    """Read reviewerID, asin, overall and unixReviewTime from gzipped JSON lines, in file order."""
    users: list[str] = []
    items: list[str] = []
    ratings: list[float] = []
    times: list[int] = []
    try:
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for number, line in enumerate(tqdm(lines, desc=path.name, unit=" reviews", disable=not show_progress),
                                          start=1):
                if not line.strip():
                    continue
                try:
                    review = json.loads(line)
                    users.append(str(review["reviewerID"]))
                    items.append(str(review["asin"]))
                    ratings.append(float(review["overall"]))
                    times.append(int(review["unixReviewTime"]))
                except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                    raise UserError(f"{path}: line {number}: not a review with reviewerID, asin, overall and "
                                    f"unixReviewTime ({one_line(exc)})") from None
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not a gzipped JSON-lines file ({one_line(exc)})") from None
    if not users:
        raise UserError(f"{path}: no reviews")
    return users, items, ratings, times


def read_amazon_meta(path: Path, item_map: pd.DataFrame) -> pd.DataFrame:
    """Item table: ids with their asin, plus title and categories when the optional meta file is present."""
    items = pd.DataFrame({"item_id": item_map["item_id"], "title": pd.NA, "year": pd.array([pd.NA] * len(item_map),
                          dtype="Int64"), "genres": pd.NA, "original_id": item_map["original_id"]})
    items["title"] = items["title"].astype(object)
    items["genres"] = items["genres"].astype(object)
    if not path.is_file():
        return items
    row_of = {asin: row for row, asin in enumerate(item_map["original_id"])}
    titles = items["title"].to_numpy(copy=True)
    genres = items["genres"].to_numpy(copy=True)
    try:
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    meta = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise UserError(f"{path}: line {number}: not JSON ({one_line(exc)})") from None
                row = row_of.get(str(meta.get("asin", "")))
                if row is None:
                    continue
                if meta.get("title"):
                    titles[row] = str(meta["title"]).strip()
                categories = [str(c) for c in meta.get("category") or [] if str(c).strip()]
                if categories:
                    genres[row] = "|".join(categories)
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not a gzipped JSON-lines file ({one_line(exc)})") from None
    items["title"] = titles
    items["genres"] = genres
    return items


# ----- shared ---------------------------------------------------------------------------------------------


def typed_interactions(frame: pd.DataFrame) -> pd.DataFrame:
    """The four columns with the project's dtypes and a fresh index."""
    return pd.DataFrame({
        "user_id": frame["user_id"].to_numpy(dtype=np.int64),
        "item_id": frame["item_id"].to_numpy(dtype=np.int64),
        "rating": frame["rating"].to_numpy(dtype=np.float32),
        "timestamp": frame["timestamp"].to_numpy(dtype=np.int64),
    })


def with_ids(name: str, interactions: pd.DataFrame, items: pd.DataFrame, *, source: Path,
             user_map: pd.DataFrame | None = None, item_map: pd.DataFrame | None = None) -> LoadedDataset:
    """Bundle a loaded dataset; its id arrays are the users and items that have interactions."""
    interactions = typed_interactions(interactions)
    return LoadedDataset(name, interactions, items.reset_index(drop=True),
                         np.unique(interactions["user_id"].to_numpy()), np.unique(interactions["item_id"].to_numpy()),
                         user_map=user_map, item_map=item_map, source=source)

