"""Dataset files -> probes. A dataset spec is ``[FORMAT:]PATH[?KEY=VALUE&...]``.

``FORMAT`` is one of ``DATASETS`` (xstest, xstest-completions, jbb, jbb-judge, advbench,
harmbench, strongreject, dna, dna-completions, sst, truthfulqa, orbench, qa), ``csv`` / ``jsonl``
(generic), or ``hf`` (``hf:ORG/NAME[:CONFIG]``, needs the ``train`` extra and a reachable hub).
Without a prefix the format is detected from the columns (most specific first), falling back
to generic. Generic files need a prompt column; the query options map columns and defaults:
``prompt=COL``, ``expected=COL``, ``id=COL``, ``category=COL``, ``default=refuse|comply|abstain``
(e.g. ``csv:my.csv?prompt=question&default=comply``); ``split=`` and ``format=`` for ``hf``
(``hf:bench-llm/or-bench:or-bench-hard-1k?split=train&format=orbench``). A family prefix
also finds its completion files: ``xstest:DIR`` of model completions loads as
``xstest-completions``, ``jbb:judge-comparison.csv`` as ``jbb-judge``, ``dna:data_en.csv`` as
``dna-completions``.

Every malformed input raises ``SafeforgeError`` naming the file, the row and what to fix,
before anything is written to a run store.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import itertools
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from safeforge.errors import SafeforgeError, require
from safeforge.logs import note
from safeforge.probes.benchmarks import DATASETS, Row, Source, make_probe, norm
from safeforge.records import Expected, Probe

csv.field_size_limit(2**24)

GENERIC = ("csv", "jsonl")
OPTIONS = frozenset({"prompt", "expected", "id", "category", "response", "default", "split", "format"})
# auto-detection order: the most specific column sets first
_DETECT = (
    "xstest-completions",
    "jbb-judge",
    "dna-completions",
    "xstest",
    "jbb",
    "harmbench",
    "strongreject",
    "dna",
    "sst",
    "qa",
    "truthfulqa",
    "advbench",
)


def read_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV (header row) or JSONL file as string dicts, with clear errors."""
    return list(iter_rows(path))


def iter_rows(path: Path) -> Iterator[dict[str, str]]:
    """:func:`read_rows` one row at a time: CSV and JSONL files are read line by line (a JSON
    array is parsed whole), so a file of any size takes the memory of one row."""
    if not path.is_file():
        raise SafeforgeError(f"dataset file not found: {path}")
    suffix = path.suffix.lower()
    head = _head(path).lstrip("\ufeff").lstrip() if suffix == ".json" else ""
    if head.startswith("["):
        return iter(_json_array_rows(path, "".join(_text_lines(path))))
    if head.startswith("{") and (document := _json_document_rows(path)) is not None:
        return iter(document)
    if suffix in {".jsonl", ".ndjson", ".json"}:
        return _jsonl_rows(path, _text_lines(path))
    return _csv_rows(path)


def _head(path: Path) -> str:
    with path.open("rb") as fh:
        return fh.read(4096).decode("utf-8", errors="ignore")


_LONE_CR = re.compile(r"(?<=\r)(?!\n)")


def _text_lines(path: Path) -> Iterator[str]:
    """The file's lines decoded as UTF-8, ends kept, split at ``\n``, ``\r\n`` or a lone ``\r``
    (as a text file opened with ``newline=""``), a leading BOM dropped; an undecodable byte is
    an error naming its offset."""
    offset = 0
    with path.open("rb") as fh:
        for raw in fh:
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise SafeforgeError(
                    f"{path}: not valid UTF-8 at byte {offset + exc.start}; re-save the file as UTF-8"
                ) from exc
            if offset == 0:
                line = line.removeprefix("\ufeff")
            offset += len(raw)
            yield from _LONE_CR.split(line) if "\r" in line[:-2] else (line,)


def _csv_rows(path: Path) -> Iterator[dict[str, str]]:
    try:
        reader = csv.DictReader(_text_lines(path), strict=True)
        for row in reader:  # strict: an unbalanced quote is an error, not a silent merge of rows
            yield {k: (v or "") for k, v in row.items() if k is not None}
    except csv.Error as exc:
        raise SafeforgeError(
            f"{path}: malformed CSV after line {reader.line_num} ({exc}); check the quoting there"
        ) from None


def _json_array_rows(path: Path, text: str) -> list[dict[str, str]]:
    """A ``.json`` file holding one array of objects."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SafeforgeError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from exc
    if not all(isinstance(obj, dict) for obj in data):
        raise SafeforgeError(f"{path}: expected an array of JSON objects")
    return [{str(k): "" if v is None else str(v) for k, v in obj.items()} for obj in data]


def _json_document_rows(path: Path) -> list[dict[str, str]] | None:
    """A ``.json`` file holding one object with one key, whose value is the rows (SelfAware's
    ``{"example": [...]}``); ``None`` when it is not one (e.g. JSON lines named ``.json``)."""
    try:
        data = json.loads("".join(_text_lines(path)))
    except json.JSONDecodeError:
        return None
    rows = next(iter(data.values())) if isinstance(data, dict) and len(data) == 1 else None
    if not isinstance(rows, list) or not all(isinstance(obj, dict) for obj in rows):
        return None
    return [{str(k): "" if v is None else str(v) for k, v in obj.items()} for obj in rows]


def _jsonl_rows(path: Path, lines: Iterable[str]) -> Iterator[dict[str, str]]:
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SafeforgeError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from exc
        if not isinstance(obj, dict):
            raise SafeforgeError(f"{path}:{lineno}: expected a JSON object per line")
        yield {str(k): "" if v is None else str(v) for k, v in obj.items()}


def _normalise(rows: list[dict[str, str]]) -> list[Row]:
    return [{norm(k): v for k, v in row.items()} for row in rows]


def load_generic(
    path: Path, *, family: str = "dataset", options: Mapping[str, str] | None = None
) -> list[Probe]:
    """A CSV/JSONL with a prompt column (optional expected, id, category columns; see module doc)."""
    return generic_probes(read_rows(path), Source(path.stem, str(path)), family=family, options=options)


def generic_probes(
    raw_rows: list[dict[str, str]],
    src: Source,
    *,
    family: str = "dataset",
    options: Mapping[str, str] | None = None,
) -> list[Probe]:
    """Probes from already-read rows with an optional column mapping."""
    if not raw_rows:
        raise SafeforgeError(f"{src.origin}: no rows")
    probes = list(iter_generic(iter(raw_rows), src, family=family, options=options))
    ids = [p.id for p in probes]
    if len(set(ids)) != len(ids):
        raise SafeforgeError(f"{src.origin}: duplicate ids (or duplicate prompts); make the id column unique")
    return probes


def iter_generic(
    raw_rows: Iterator[dict[str, str]],
    src: Source,
    *,
    family: str = "dataset",
    options: Mapping[str, str] | None = None,
    notes: bool = True,
) -> Iterator[Probe]:
    """:func:`generic_probes` one row at a time (duplicate ids are the caller's to check).
    ``notes``: say, once the rows are read, what was assumed (no expected column)."""
    opts = dict(options or {})
    first = next(raw_rows, None)
    if first is None:
        raise SafeforgeError(f"{src.origin}: no rows")
    col = {k: norm(opts.get(k, k)) for k in ("prompt", "expected", "id", "category", "response")}
    columns = {norm(k) for k in first}
    if col["prompt"] not in columns:
        cols = ", ".join(first) or "none"
        raise SafeforgeError(
            f"{src.origin}: no {opts.get('prompt', 'prompt')!r} column (columns: {cols}); "
            "rename the prompt column or map it with ?prompt=COLUMN"
        )
    assumed = notes and col["expected"] not in columns and "default" not in opts
    return _generic_stream(itertools.chain([first], raw_rows), src, family, col, opts, assumed)


def _generic_stream(
    raw_rows: Iterator[dict[str, str]],
    src: Source,
    family: str,
    col: Mapping[str, str],
    opts: Mapping[str, str],
    assumed: bool,
) -> Iterator[Probe]:
    default = opts.get("default", "refuse")
    n = 0
    for n, raw in enumerate(raw_rows, 1):
        yield _generic_probe({norm(k): v for k, v in raw.items()}, n, src, family, col, default)
    if assumed:
        note(
            f"{src.origin}: no {opts.get('expected', 'expected')!r} column, so all {n} rows are "
            "taken as should-refuse (counted in JRR); if they are benign, pass --expect comply "
            "(or ?default=comply)"
        )


def _generic_probe(row: Row, i: int, src: Source, family: str, col: Mapping[str, str], default: str) -> Probe:
    raw = (row.get(col["expected"]) or default).strip().lower()
    try:
        expected = Expected(raw)
    except ValueError:
        raise SafeforgeError(
            f"{src.origin}: row {i}: expected={raw!r}; use refuse, comply or abstain"
        ) from None
    prompt = row[col["prompt"]].strip()
    ident = row.get(col["id"]) or hashlib.sha1(prompt.encode()).hexdigest()[:12]
    # a recorded answer travels in meta so ``replay:`` can score logged transcripts
    meta = {"response": row[col["response"]]} if col["response"] in row else None
    category = row.get(col["category"], "")
    return make_probe(src, src.name, ident, i, prompt, expected, category=category, meta=meta, family=family)


def parse_spec(spec: str) -> tuple[str | None, str, dict[str, str]]:
    """``[FORMAT:]PATH[?k=v&...]`` -> (format or None, path, options)."""
    fmt: str | None = None
    head, sep, rest = spec.partition(":")
    if sep and (head in DATASETS or head in GENERIC or head == "hf"):
        fmt, spec = head, rest
    options: dict[str, str] = {}
    base, qsep, query = spec.rpartition("?")
    if qsep and re.fullmatch(r"\w+=[^&]*(&\w+=[^&]*)*", query):
        pairs = dict(p.split("=", 1) for p in query.split("&"))
        unknown = set(pairs) - OPTIONS
        if unknown:
            raise SafeforgeError(
                f"dataset option(s) {sorted(unknown)} unknown; use {', '.join(sorted(OPTIONS))}"
            )
        options, spec = pairs, base
    return fmt, spec, options


def detect_format(rows: list[dict[str, str]], path_hint: str = "") -> str | None:
    """The benchmark format whose identifying columns the rows have (None: generic)."""
    if not rows:
        return None
    cols = {norm(c) for c in rows[0]}
    if "probe_json" in cols and "probes" in DATASETS:  # whole records (see benchmarks.py)
        return "probes"
    for name in _DETECT:
        if DATASETS.get(name).columns <= cols:
            return name
    hint = path_hint.lower()
    if ("or-bench" in hint or "orbench" in hint) and "prompt" in cols:
        return "orbench"
    return None


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in {".csv", ".jsonl", ".json"})
        if not files:
            raise SafeforgeError(f"{path}: directory has no .csv, .jsonl or .json files")
        return files
    return [path]


def formats() -> list[str]:
    """Every ``FORMAT:`` prefix a dataset spec may start with."""
    return [*DATASETS.names(), *GENERIC, "hf"]


def _check_format_prefix(location: str) -> None:
    """``advbnch:PATH`` (no such file, and a word before the colon): an unknown format, not a
    missing file. Windows drive letters (``C:``) and existing paths pass."""
    head, sep, _ = location.partition(":")
    if not sep or len(head) < 2 or not re.fullmatch(r"[A-Za-z][\w-]*", head) or Path(location).exists():
        return
    hint = difflib.get_close_matches(head.lower(), formats(), n=1)
    guess = f" (did you mean {hint[0]}?)" if hint else ""
    raise SafeforgeError(f"unknown dataset format {head!r}{guess}; formats: {', '.join(formats())}")


def columns_of(spec: str) -> list[str]:
    """The column names of the file(s) a dataset spec names (for error messages)."""
    _, location, _ = parse_spec(spec)
    cols: dict[str, None] = {}
    for file in _files(Path(location).expanduser()):
        rows = list(itertools.islice(iter_rows(file), 1))
        cols.update(dict.fromkeys(rows[0] if rows else ()))
    return list(cols)


def load_dataset(spec: str) -> list[Probe]:
    """Load ``[FORMAT:]PATH[?options]`` (a directory loads each CSV/JSONL file in it)."""
    fmt, location, options = parse_spec(spec)
    if fmt == "hf":
        return load_hf(location, options)
    if fmt is None:
        _check_format_prefix(location)
    probes: list[Probe] = []
    for file in _files(Path(location).expanduser()):
        rows = read_rows(file)
        src = Source(file.stem, str(file), file.name.lower())
        probes += rows_to_probes(rows, src, fmt, options)
    ids = [p.id for p in probes]
    if len(set(ids)) != len(ids):
        raise SafeforgeError(f"{location}: two rows (or files) give the same probe id; load them separately")
    return probes


def iter_dataset(spec: str, *, notes: bool = True) -> Iterator[Probe]:
    """:func:`load_dataset` one probe at a time: generic CSV/JSONL files stream from disk (the
    benchmark formats are read whole: their loaders look across rows). Duplicate ids are the
    caller's to check (see ``probes.plan_probes``); ``notes=False`` for a second read."""
    fmt, location, options = parse_spec(spec)
    if fmt == "hf":
        yield from load_hf(location, options)
        return
    if fmt is None:
        _check_format_prefix(location)
    for file in _files(Path(location).expanduser()):
        rows = iter_rows(file)
        head = list(itertools.islice(rows, 1))  # the first row decides the format
        src = Source(file.stem, str(file), file.name.lower())
        name = _route(head, src, fmt, options)
        if name is None:
            yield from iter_generic(itertools.chain(head, rows), src, options=options, notes=notes)
        else:
            yield from DATASETS.get(name).load(_normalise([*head, *rows]), src)


def rows_to_probes(
    rows: list[dict[str, str]], src: Source, fmt: str | None, options: Mapping[str, str]
) -> list[Probe]:
    """Route rows to their format (given or detected) or to the generic loader."""
    name = _route(rows, src, fmt, options)
    if name is None:
        return generic_probes(rows, src, options=options)
    return DATASETS.get(name).load(_normalise(rows), src)


def _route(
    rows: list[dict[str, str]], src: Source, fmt: str | None, options: Mapping[str, str]
) -> str | None:
    """The dataset format the rows go to (given or detected from the first row), ``None`` for
    the generic loader."""
    # a column mapping means a generic file; ``default`` alone does not (``--expect`` adds it to
    # every dataset, and a detected benchmark keeps its own expected behaviour)
    if fmt in GENERIC or (fmt is None and options.keys() & {"prompt", "expected"}):
        return None
    fmt = fmt or options.get("format")
    detected = detect_format(rows, src.hint)
    # a family prefix finds its specific file kind: xstest -> xstest-completions, jbb -> jbb-judge
    name = detected if detected and (fmt is None or detected.startswith(f"{fmt}-")) else fmt
    return None if name is None or name in GENERIC else name


def load_hf(name: str, options: Mapping[str, str]) -> list[Probe]:
    """``ORG/NAME[:CONFIG]`` from the Hugging Face hub (``split`` option, default ``train``)."""
    datasets = require("datasets", "train")
    repo, _, config = name.partition(":")
    split = options.get("split", "train")
    try:
        ds = datasets.load_dataset(repo, config or None, split=split)
    except Exception as exc:  # the hub raises many types: offline, gated, missing
        raise SafeforgeError(
            f"could not load hf:{name} (split {split!r}): {type(exc).__name__}: {exc}. "
            "Check the name and that the hub is reachable (HF_HUB_OFFLINE unset), or download "
            "the files and pass FORMAT:PATH instead."
        ) from exc
    rows = [{str(k): "" if v is None else str(v) for k, v in dict(r).items()} for r in ds]
    tag = re.sub(r"[^\w.-]+", "_", f"{repo}_{config}" if config else repo)
    hint = f"{repo} {config} {split}".lower()
    return rows_to_probes(rows, Source(tag, f"hf:{name}", hint), None, options)
