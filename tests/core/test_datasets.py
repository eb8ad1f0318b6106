"""Dataset loaders: real downloads from a local HTTP server, parsing of tiny archives in each source format,
checksum and network failures as one-line UserErrors, and local copies used without the network."""

from __future__ import annotations

import gzip
import hashlib
import json
import socket
import threading
import zipfile
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from convrec.core.catalogue import Catalogue
from convrec.core.datasets import DATASETS, ML1M_CHECKSUMS, load_dataset
from convrec.core.errors import UserError

from ..fixtures import interactions as tiny_interactions

RATINGS = [  # UserID::MovieID::Rating::Timestamp, deliberately not sorted by user or time
    "2::3::5::978300760",
    "1::1::4::978302109",
    "1::2::3::978301968",
    "2::1::1::978298413",
    "1::3::2::978300275",
]
MOVIES = [  # latin-1 titles, a year-less title and an aliased title
    "1::Toy Story (1995)::Animation|Children's|Comedy",
    "2::Cité des enfants perdus, La (City of Lost Children, The) (1995)::Adventure|Sci-Fi",
    "3::Untitled Festival Cut::Drama",
]
REVIEWS = [  # Amazon 2018 5-core JSON lines; string ids, one repeated (user, item) review
    {"overall": 5.0, "verified": True, "reviewTime": "11 9, 2012", "reviewerID": "UZZ", "asin": "B0002",
     "reviewerName": "z", "reviewText": "Great.", "summary": "ok", "unixReviewTime": 1352419200},
    {"overall": 3.0, "reviewerID": "UAA", "asin": "B0002", "unixReviewTime": 1352419300, "reviewText": "Meh"},
    {"overall": 4.0, "reviewerID": "UAA", "asin": "0001", "unixReviewTime": 1352419100},
    {"overall": 1.0, "reviewerID": "UZZ", "asin": "B0002", "unixReviewTime": 1352419999, "style": {"Format:": "DVD"}},
    {"overall": 2.0, "reviewerID": "UMM", "asin": "0001", "unixReviewTime": 1352410000},
]


def write_ml1m_zip(path: Path, ratings: list[str] = RATINGS) -> Path:
    """A zip laid out like GroupLens' ml-1m.zip: files inside an ml-1m/ folder, movies.dat in latin-1."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("ml-1m/", "")
        bundle.writestr("ml-1m/ratings.dat", "\n".join(ratings) + "\n")
        bundle.writestr("ml-1m/movies.dat", ("\n".join(MOVIES) + "\n").encode("latin-1"))
        bundle.writestr("ml-1m/users.dat", "1::F::1::10::48067\n2::M::56::16::70072\n")
        bundle.writestr("ml-1m/README", "tiny fixture\n")
    return path


def write_reviews(path: Path, reviews: list[dict] = REVIEWS, extra: str = "") -> Path:
    """Gzipped JSON lines, one review per line."""
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write("".join(json.dumps(r) + "\n" for r in reviews) + extra)
    return path


def sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


class _Handler(SimpleHTTPRequestHandler):
    """Serves the folder; `/truncated` promises 1000 bytes and sends 10."""

    def do_GET(self) -> None:  # noqa: N802 (the base class's name)
        if self.path == "/truncated":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTP server on 127.0.0.1 serving a fresh folder: (base url, folder)."""
    root = tmp_path / "www"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture()
def closed_url() -> str:
    """A URL on a local port that nothing listens on (connection refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/ml-1m.zip"


def test_registry_names() -> None:
    assert DATASETS[:2] == ("ml-100k", "ml-1m")
    assert "amazon-movies-tv" in DATASETS
    with pytest.raises(UserError, match="choose one of: ml-100k, ml-1m, amazon-movies-tv"):
        load_dataset("ml-20m", Path("unused"))


def test_known_ml1m_checksums_are_well_formed() -> None:
    algos = dict(c.split(":") for c in ML1M_CHECKSUMS)
    assert len(algos["md5"]) == 32 and len(algos["sha256"]) == 64


def test_ml1m_downloads_through_http_and_parses(served: tuple[str, Path], tmp_path: Path) -> None:
    base, root = served
    archive = write_ml1m_zip(root / "ml-1m.zip")
    data_dir = tmp_path / "data"
    loaded = load_dataset("ml-1m", data_dir, url=f"{base}/ml-1m.zip", checksum=sha256(archive))

    frame = loaded.interactions
    assert list(frame.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert [str(t) for t in frame.dtypes] == ["int64", "int64", "float32", "int64"]
    assert frame.to_numpy().tolist() == [[int(x) for x in row.split("::")] for row in RATINGS]  # file order
    assert loaded.user_ids.tolist() == [1, 2] and loaded.item_ids.tolist() == [1, 2, 3]
    items = loaded.items.set_index("item_id")
    assert items.loc[1, "title"] == "Toy Story" and items.loc[1, "year"] == 1995
    assert items.loc[2, "title"] == "Cité des enfants perdus, La (City of Lost Children, The)"
    assert items.loc[2, "genres"] == "Adventure|Sci-Fi"
    assert items.loc[3, "title"] == "Untitled Festival Cut" and pd.isna(items.loc[3, "year"])
    cached = data_dir / "datasets" / "ml-1m"
    assert (cached / "ml-1m.zip").read_bytes() == archive.read_bytes()
    assert not list(cached.glob("*.part")) and (cached / "ratings.dat").is_file()
    assert loaded.by_user_time()["timestamp"].tolist() == [978300275, 978301968, 978302109, 978298413, 978300760]


def test_cached_copy_is_reused_without_network(served: tuple[str, Path], tmp_path: Path, closed_url: str) -> None:
    base, root = served
    archive = write_ml1m_zip(root / "ml-1m.zip")
    data_dir = tmp_path / "data"
    first = load_dataset("ml-1m", data_dir, url=f"{base}/ml-1m.zip", checksum=sha256(archive))
    again = load_dataset("ml-1m", data_dir, url=closed_url)
    pd.testing.assert_frame_equal(first.interactions, again.interactions)


def test_checksum_mismatch_names_the_file_and_keeps_nothing(served: tuple[str, Path], tmp_path: Path) -> None:
    base, root = served
    write_ml1m_zip(root / "ml-1m.zip")
    data_dir = tmp_path / "data"
    with pytest.raises(UserError) as caught:
        load_dataset("ml-1m", data_dir, url=f"{base}/ml-1m.zip", checksum="sha256:" + "0" * 64)
    message = str(caught.value)
    assert "ml-1m.zip" in message and "checksum" in message and "\n" not in message
    assert not list((data_dir / "datasets" / "ml-1m").iterdir())


def test_known_checksum_guards_a_copy_put_in_the_cache(tmp_path: Path) -> None:
    folder = tmp_path / "datasets" / "ml-1m"
    folder.mkdir(parents=True)
    fake = write_ml1m_zip(folder / "ml-1m.zip")  # not GroupLens' archive: the published md5 must reject it
    with pytest.raises(UserError, match=f"{fake}: checksum mismatch \\(md5 "):
        load_dataset("ml-1m", tmp_path)


def test_unreachable_host_is_one_line_with_the_target_path(tmp_path: Path, closed_url: str) -> None:
    with pytest.raises(UserError) as caught:
        load_dataset("ml-1m", tmp_path, url=closed_url)
    message = str(caught.value)
    target = tmp_path / "datasets" / "ml-1m" / "ml-1m.zip"
    assert message.startswith(f"could not download {closed_url}: ")
    assert message.endswith(f"download it yourself and put it at {target}")
    assert "refused" in message.lower() and "\n" not in message
    assert not target.exists() and not target.with_name("ml-1m.zip.part").exists()


def test_missing_file_and_truncated_body_are_user_errors(served: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = served
    with pytest.raises(UserError, match="HTTP Error 404"):
        load_dataset("ml-1m", tmp_path, url=f"{base}/nothing.zip")
    with pytest.raises(UserError, match="could not download .*/truncated: .*put it at"):
        load_dataset("ml-1m", tmp_path, url=f"{base}/truncated")
    assert not list((tmp_path / "datasets" / "ml-1m").glob("*.part"))


def test_local_copy_is_used_without_network(tmp_path: Path, closed_url: str) -> None:
    archive = write_ml1m_zip(tmp_path / "my-ml-1m.zip")
    loaded = load_dataset("ml-1m", tmp_path / "data", url=closed_url, local_path=archive)
    assert len(loaded.interactions) == 5
    extracted = tmp_path / "extracted"
    with zipfile.ZipFile(archive) as bundle:
        bundle.extractall(extracted)
    from_folder = load_dataset("ml-1m", tmp_path / "other", url=closed_url, local_path=extracted / "ml-1m")
    pd.testing.assert_frame_equal(loaded.interactions, from_folder.interactions)
    with pytest.raises(UserError, match="my-ml-1m.zip: checksum mismatch"):
        load_dataset("ml-1m", tmp_path / "data", local_path=archive, checksum="md5:" + "0" * 32)


def test_extracted_folder_in_the_cache_is_used(tmp_path: Path, closed_url: str) -> None:
    with zipfile.ZipFile(write_ml1m_zip(tmp_path / "x.zip")) as bundle:
        bundle.extractall(tmp_path / "data" / "datasets")
    assert len(load_dataset("ml-1m", tmp_path / "data", url=closed_url).interactions) == 5


def test_bad_rows_and_archives_name_the_file(tmp_path: Path) -> None:
    archive = write_ml1m_zip(tmp_path / "bad.zip", ratings=[*RATINGS[:2], "3::x::4::978300000"])
    with pytest.raises(UserError, match=r"ratings.dat: line 3: item_id 'x' is not a number"):
        load_dataset("ml-1m", tmp_path / "a", local_path=archive)
    not_zip = tmp_path / "b" / "datasets" / "ml-1m" / "ml-1m.zip"
    not_zip.parent.mkdir(parents=True)
    not_zip.write_text("<html>a login page</html>")
    with pytest.raises(UserError, match="ml-1m.zip: not a readable zip archive"):
        load_dataset("ml-1m", tmp_path / "b", url="http://127.0.0.1:1/ignored", checksum=None)


def test_amazon_download_maps_string_ids_deterministically(served: tuple[str, Path], tmp_path: Path) -> None:
    base, root = served
    source = write_reviews(root / "Movies_and_TV_5.json.gz")
    data_dir = tmp_path / "data"
    loaded = load_dataset("amazon-movies-tv", data_dir, url=f"{base}/Movies_and_TV_5.json.gz")

    assert loaded.user_map["original_id"].tolist() == ["UAA", "UMM", "UZZ"]  # sorted originals -> 1..n
    assert loaded.item_map["original_id"].tolist() == ["0001", "B0002"]
    frame = loaded.interactions
    assert [str(t) for t in frame.dtypes] == ["int64", "int64", "float32", "int64"]
    # file order; the repeated (UZZ, B0002) review is dropped, the first one kept
    assert frame.to_numpy().tolist() == [[3, 2, 5.0, 1352419200], [1, 2, 3.0, 1352419300],
                                         [1, 1, 4.0, 1352419100], [2, 1, 2.0, 1352410000]]
    assert loaded.items["original_id"].tolist() == ["0001", "B0002"] and loaded.items["title"].isna().all()
    cached = data_dir / "datasets" / "amazon-movies-tv" / "Movies_and_TV_5.json.gz"
    assert cached.read_bytes() == source.read_bytes()

    with gzip.open(cached.parent / "meta_Movies_and_TV.json.gz", "wt", encoding="utf-8") as meta:
        meta.write(json.dumps({"asin": "B0002", "title": "Heat", "category": ["Movies & TV", "Drama"]}) + "\n")
        meta.write(json.dumps({"asin": "ZZZZ", "title": "not rated"}) + "\n")
    again = load_dataset("amazon-movies-tv", data_dir, url="http://127.0.0.1:1/unused")
    titled = again.items.set_index("original_id")
    assert titled.loc["B0002", "title"] == "Heat" and titled.loc["B0002", "genres"] == "Movies & TV|Drama"
    assert pd.isna(titled.loc["0001", "title"])
    pd.testing.assert_frame_equal(frame, again.interactions)  # served from the parsed cache


def test_amazon_bad_line_and_local_copy(tmp_path: Path, closed_url: str) -> None:
    good = write_reviews(tmp_path / "mine.json.gz")
    loaded = load_dataset("amazon-movies-tv", tmp_path / "data", url=closed_url, local_path=good)
    assert len(loaded.interactions) == 4
    bad = write_reviews(tmp_path / "bad.json.gz", extra='{"reviewerID": "U1", "overall": 5}\n')
    with pytest.raises(UserError, match=r"bad.json.gz: line 6: not a review .*'asin'"):
        load_dataset("amazon-movies-tv", tmp_path / "data", local_path=bad)
    plain = tmp_path / "plain.json.gz"
    plain.write_text(json.dumps(REVIEWS[0]))
    with pytest.raises(UserError, match="plain.json.gz: not a gzipped JSON-lines file"):
        load_dataset("amazon-movies-tv", tmp_path / "data", local_path=plain)


def test_ml100k_goes_through_the_existing_reader(tiny_dataset_dir: Path, tiny_catalogue: Catalogue,
                                                 tmp_path: Path) -> None:
    loaded = load_dataset("ml-100k", tmp_path, local_path=tiny_dataset_dir)
    rows = [r for r in tiny_interactions() if r[1] in tiny_catalogue.items]  # "unknown" item left out
    assert loaded.interactions.to_numpy().tolist() == [list(r) for r in rows]
    assert np.array_equal(loaded.item_ids, tiny_catalogue.item_ids)
    by_catalogue = tiny_catalogue.interactions[["user_id", "item_id", "rating", "timestamp"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(loaded.by_user_time(), by_catalogue, check_dtype=False)
    items = loaded.items.set_index("item_id")
    assert items.loc[9, "title"] == "Usual Suspects, The" and items.loc[9, "year"] == 1995
    with pytest.raises(UserError, match="ml-100k comes from the RecBole wheel"):
        load_dataset("ml-100k", tmp_path, url="http://127.0.0.1:1/x")
