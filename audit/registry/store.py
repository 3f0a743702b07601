"""Loading and validating the registry: ``registry/<paper-id>.yaml`` files, checked as a whole.

Every problem in every file is collected first and reported at once as
``file:line: field.path: message`` (see :class:`audit.errors.ValidationFailed`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from audit.names import name_key, unknown_name
from pydantic import BaseModel

from audit.core import catalog
from audit.core.catalog import NETWORKS_FILE, Network
from audit.core.schedule import format_schedule
from audit.errors import AuditError, Problem, UnknownName, ValidationFailed
from audit.io.loader import Loaded, display_path, load_model
from audit.io.paths import default_registry_dir
from audit.registry.schema import MethodDecl, Paper, PaperFile, Result

__all__ = [
    "ENV_VAR", "LOCK_TIMEOUT_S", "Added", "Entry", "Registry", "ResultRow", "add_paper", "build", "check_file",
    "cross_check", "declared_networks", "default_registry_dir", "duplicate_result_ids", "load_registry", "lock_path", "registry_dir",
    "printed_texts", "registry_files", "validate",
]

ENV_VAR = "PRUNE_AUDIT_REGISTRY"


def registry_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--registry DIR``, else ``$PRUNE_AUDIT_REGISTRY``, else the shipped registry."""
    if explicit:
        chosen = Path(explicit)
    elif os.environ.get(ENV_VAR):
        chosen = Path(os.environ[ENV_VAR])
    else:
        return default_registry_dir()
    if not chosen.is_dir():
        raise AuditError(f"{chosen}: registry directory does not exist")
    return chosen


# ---------------------------------------------------------------------- one file
def _file_rules(fc: Loaded[PaperFile]) -> list[Problem]:
    """Rules of a paper file beyond its schema, on the raw data (so they are reported beside schema
    problems): the name ``<paper-id>.yaml``, the id matching it, unique result ids."""
    problems: list[Problem] = []
    data = fc.data
    path = fc.path or Path(fc.display)
    stem = path.name[: -len(".yaml")] if path.name.endswith(".yaml") else path.stem
    if not path.name.endswith(".yaml"):
        problems.append(Problem(fc.display, 1, "", "registry files must be named <paper-id>.yaml"))
    paper = data.get("paper")
    if isinstance(paper, dict) and isinstance(paper.get("id"), str) and paper["id"] != stem:
        problems.append(fc.problem(("paper", "id"), f"id {paper['id']!r} does not match the file name {stem!r}"))
    problems.extend(duplicate_result_ids(fc))
    return problems


def duplicate_result_ids(fc: Loaded[Any]) -> list[Problem]:
    """A problem for every ``results[i].id`` that an earlier result of the same file already uses."""
    results = fc.data.get("results") if isinstance(fc.data, dict) else None
    problems: list[Problem] = []
    if isinstance(results, list):
        seen: dict[str, int] = {}
        for i, r in enumerate(results):
            if isinstance(r, dict) and isinstance(r.get("id"), str):
                rid = r["id"]
                if rid in seen:
                    problems.append(fc.problem(("results", i, "id"),
                                               f"duplicate result id {rid!r} (first at results[{seen[rid]}])"))
                else:
                    seen[rid] = i
    return problems


def check_file(path: Path, display: str | None = None, text: str | None = None) -> Loaded[PaperFile]:
    """Parse and validate one paper file (file-local checks only; see :func:`build` for the rest);
    ``text`` is its content when already read."""
    return load_model(path, PaperFile, noun="a paper file", display=display, checks=[_file_rules], text=text)


# ---------------------------------------------------------------------- the registry
@dataclass(frozen=True)
class Entry:
    """One result in its registry context."""

    paper: Paper
    result: Result
    method: str
    """Canonical method name."""
    file: str
    line: int
    printed: Mapping[str, str] = field(default_factory=dict)
    """The text of every number of the result as written in its file, by dotted path within the
    result (``top1.mean`` -> ``"93.50"``): the printed precision sets the tolerance of
    ``registry check``."""

    @property
    def key(self) -> str:
        """Globally unique id ``paper-id/result-id``."""
        return f"{self.paper.id}/{self.result.id}"

    @property
    def label(self) -> str:
        r = self.result
        own = "" if r.reimplementation_of is None else " (reimpl.)"
        variant = f" [{r.variant}]" if r.variant else ""
        return f"{self.method}{own}{variant}"


@dataclass
class Registry:
    """All paper files of one registry directory, validated together."""

    root: Path
    papers: dict[str, PaperFile]
    files: dict[str, Path]
    methods: dict[str, MethodDecl]
    method_paper: dict[str, str]
    entries: list[Entry]
    networks: dict[str, Network] = field(default_factory=dict)
    """Networks declared by paper files (``networks:``), beside the catalog's."""

    @property
    def all_networks(self) -> dict[str, Network]:
        """The catalog's networks and those the paper files declare, by id."""
        return {**catalog.NETWORKS, **self.networks}

    def network(self, name: str) -> Network:
        """The network ``name`` from the catalog or a paper file's declaration; :class:`UnknownName`."""
        return catalog.network(name, self.networks)

    @cached_property
    def _method_keys(self) -> dict[str, str]:
        keys: dict[str, str] = {}
        for name, decl in self.methods.items():
            for alias in (name, *decl.aliases):
                keys[name_key(alias)] = name
        return keys

    def resolve_method(self, name: str) -> str:
        """Canonical name of a method given any alias; :class:`UnknownName` otherwise."""
        found = self._method_keys.get(name_key(name))
        if found is None:
            names = list(self.methods)
            for decl in self.methods.values():
                names.extend(decl.aliases)
            raise UnknownName.of("method", name, names)
        return found

    def results_of(self, method: str) -> list[Entry]:
        canonical = self.resolve_method(method)
        return [e for e in self.entries if e.method == canonical]

    def find_result(self, key: str) -> Entry:
        for e in self.entries:
            if e.key == key:
                return e
        raise UnknownName.of("result", key, [e.key for e in self.entries])

    def find_paper(self, paper_id: str) -> PaperFile:
        if paper_id not in self.papers:
            raise UnknownName.of("paper", paper_id, self.papers)
        return self.papers[paper_id]

    def lookup(self, name: str) -> tuple[str, list[Entry]]:
        """Everything ``registry show NAME`` can mean: a method, a paper or a result key."""
        if name in self.papers:
            return "paper", [e for e in self.entries if e.paper.id == name]
        if "/" in name and any(e.key == name for e in self.entries):
            return "result", [self.find_result(name)]
        try:
            canonical = self.resolve_method(name)
        except UnknownName:
            known = list(self.papers) + list(self.methods)
            for decl in self.methods.values():
                known.extend(decl.aliases)
            raise UnknownName.of("method or paper", name, known) from None
        return "method", [e for e in self.entries if e.method == canonical]


class ResultRow(BaseModel):
    """One registry result as a flat row (``registry list --json`` / ``--csv``): the values as
    reported (accuracies in percent, speedup = dense/pruned FLOPs rounded to 4 decimals, schedules
    in the canonical form ``0:1e-2,30:1e-3; total=60``); ``None`` = not reported."""

    key: str
    method: str
    variant: str | None
    pipeline: str
    reimplementation_of: str | None
    dataset: str
    network: str
    top1: float | None
    """Top-1 (printed, from the error rate, or base + printed change; see ``derived``)."""
    top1_change: float | None
    """Top-1 change pruned - base (printed in either sign convention, or computed)."""
    top1_std: float | None
    runs: int | None
    runs_at_least: bool
    """True when ``runs`` is a lower bound ("at least three runs")."""
    top5: float | None
    speedup: float | None
    base_identity: str | None
    base_top1: float | None
    finetune_epochs: int | None
    finetune_schedule: str | None
    prune_epochs: int | None
    setup_tag: str | None
    source: str
    """Every source, ``paper where`` joined with ``; ``."""
    derived: str
    """The fields of this row that are derived from printed values, space-separated
    (``top1 speedup``), empty when every value is printed."""

    @classmethod
    def of(cls, entry: Entry) -> ResultRow:
        """The row of a registry entry."""
        r = entry.result
        ft = r.finetune
        return cls(
            key=entry.key, method=entry.method, variant=r.variant, pipeline=r.pipeline,
            reimplementation_of=r.reimplementation_of, dataset=r.dataset, network=r.network,
            top1=r.top1_value, top1_change=r.top1_gain,
            top1_std=None if r.top1 is None else r.top1.std, runs=None if r.top1 is None else r.top1.runs,
            runs_at_least=r.top1 is not None and r.top1.runs_bound == "at-least",
            top5=None if r.top5 is None else r.top5.value,
            speedup=None if r.speedup is None else round(r.speedup, 4), base_identity=r.base.identity,
            base_top1=r.base.top1, finetune_epochs=None if ft is None else ft.epochs,
            finetune_schedule=None if ft is None or ft.lr_schedule is None else format_schedule(ft.lr_schedule),
            prune_epochs=None if r.prune is None else r.prune.epochs, setup_tag=r.setup_tag,
            source="; ".join(f"{s.paper or entry.paper.id} {s.where}" for s in r.sources),
            derived=" ".join(dict.fromkeys(_ROW_NAMES.get(d.path, d.path) for d in r.derived_values())),
        )


_ROW_NAMES = {"compression.speedup": "speedup", "top1_change": "top1_change", "top1": "top1", "top5": "top5",
              "compression.flops_reduction_pct": "flops_reduction_pct",
              "compression.params_reduction_pct": "params_reduction_pct"}


def cross_check(checks: list[Loaded[PaperFile]]) -> tuple[list[Problem], dict[str, MethodDecl], dict[str, str]]:
    """Registry-wide checks: unique paper ids, unique method names/aliases, resolvable references."""
    problems: list[Problem] = []
    methods: dict[str, MethodDecl] = {}
    method_paper: dict[str, str] = {}
    owner_of_key: dict[str, tuple[str, str]] = {}  # name key -> (method, file that declares it)
    papers: dict[str, str] = {}
    loaded = [fc for fc in checks if fc.model is not None]
    for fc in loaded:
        assert fc.model is not None
        pid = fc.model.paper.id
        if pid in papers:
            problems.append(fc.problem(("paper", "id"), f"paper id {pid!r} is already used by {papers[pid]}"))
        papers[pid] = fc.display
    # A method belongs to the earliest paper that declares it (by year, then id): a later paper that
    # declares it again is the error, whatever its file name.
    for fc in sorted(loaded, key=lambda f: (f.model.paper.year, f.model.paper.id)):  # type: ignore[union-attr]
        assert fc.model is not None
        for i, decl in enumerate(fc.model.methods):
            owner = owner_of_key.get(name_key(decl.name))
            if owner is not None:
                problems.append(fc.problem(("methods", i, "name"),
                                           f"method {owner[0]!r} is also declared by {owner[1]}: a method is "
                                           "declared by exactly one paper (cite it in results instead)"))
                continue
            mine: set[str] = set()
            for j, alias in enumerate((decl.name, *decl.aliases)):
                key = name_key(alias)
                path: tuple[Any, ...] = ("methods", i, "name") if j == 0 else ("methods", i, "aliases", j - 1)
                if not key:
                    problems.append(fc.problem(path, "a method name needs letters or digits"))
                elif key in owner_of_key and key not in mine:
                    other, where = owner_of_key[key]
                    problems.append(fc.problem(path, f"{alias!r} is already a name of method {other!r} ({where})"))
                else:
                    owner_of_key[key] = (decl.name, fc.display)
                    mine.add(key)
            methods[decl.name] = decl
            method_paper[decl.name] = fc.model.paper.id
    known_names = sorted({alias for d in methods.values() for alias in (d.name, *d.aliases)})
    networks, net_problems = declared_networks(loaded)
    problems.extend(net_problems)
    pool: dict[str, Any] = {**catalog.NETWORKS, **networks}
    for fc in checks:  # on the raw data, so a file with other problems still hears of its networks
        for raw_id in _raw_network_ids(fc):
            pool.setdefault(raw_id, None)
    for fc in checks:
        results = fc.data.get("results") if isinstance(fc.data, dict) else None
        for i, r in enumerate(results if isinstance(results, list) else []):
            name = r.get("network") if isinstance(r, dict) else None
            if isinstance(name, str) and name and "\n" not in name and name not in pool:
                problems.append(fc.problem(("results", i, "network"), unknown_name("network", name, pool)
                                           + " (declare it under 'networks:' when the catalog lacks it)"))
    result_keys = {f"{fc.model.paper.id}/{r.id}" for fc in loaded for r in fc.model.results}  # type: ignore[union-attr]
    for fc in checks:
        if fc.model is None:
            continue
        for i, r in enumerate(fc.model.results):
            if r.reproduces is not None and r.reproduces not in result_keys:
                problems.append(fc.problem(("results", i, "reproduces"),
                                           unknown_name("result", r.reproduces, sorted(result_keys))))
            if name_key(r.method) not in owner_of_key:
                path = ("results", i, "method")
                problems.append(fc.problem(path, unknown_name("method", r.method, known_names)))
            if r.reimplementation_of is not None and r.reimplementation_of not in papers:
                path = ("results", i, "reimplementation_of")
                problems.append(fc.problem(path, unknown_name("paper", r.reimplementation_of, papers)))
    return problems, methods, method_paper


def _raw_network_ids(fc: Loaded[Any]) -> list[str]:
    """Ids under ``networks:`` of a file's raw data (also of a file that did not validate)."""
    nets = fc.data.get("networks") if isinstance(fc.data, dict) else None
    return [n["id"] for n in nets if isinstance(n, dict) and isinstance(n.get("id"), str)] \
        if isinstance(nets, list) else []


def declared_networks(loaded: list[Loaded[PaperFile]]) -> tuple[dict[str, Network], list[Problem]]:
    """The networks paper files declare under ``networks:``, and a problem for each that is already a
    catalog network (by id or alias) or is declared by another file too (naming both files)."""
    keys: dict[str, str] = {}
    for net in catalog.NETWORKS.values():
        for name in (net.id, *net.aliases):
            keys[name_key(name)] = f"the network catalog ({NETWORKS_FILE})"
    out: dict[str, Network] = {}
    problems: list[Problem] = []
    for fc in loaded:
        assert fc.model is not None
        for i, net in enumerate(fc.model.networks):
            clash = next((keys[name_key(n)] for n in (net.id, *net.aliases) if name_key(n) in keys), None)
            if clash is not None:
                problems.append(fc.problem(("networks", i, "id"),
                                           f"network {net.id!r} (or an alias of it) is already declared by {clash}"))
                continue
            for name in (net.id, *net.aliases):
                keys[name_key(name)] = fc.display
            out[net.id] = net
    return out, problems


def registry_files(root: Path) -> list[Path]:
    """The paper files of a registry directory (``*.yaml``, ``*.yml``, except the network catalog
    ``networks.yaml``), sorted by name."""
    return sorted(p for p in root.iterdir()
                  if p.is_file() and p.suffix in (".yaml", ".yml") and p.name != NETWORKS_FILE)


def build(checks: list[Loaded[PaperFile]], root: Path) -> Registry:
    """Cross-check file checks and assemble a :class:`Registry`; raise with every problem found."""
    problems = [p for fc in checks for p in fc.problems]
    cross, methods, method_paper = cross_check(checks)
    problems.extend(cross)
    if problems:
        raise ValidationFailed(problems)
    keys: dict[str, str] = {}
    for name, decl in methods.items():
        for alias in (name, *decl.aliases):
            keys[name_key(alias)] = name
    papers: dict[str, PaperFile] = {}
    files: dict[str, Path] = {}
    entries: list[Entry] = []
    for fc in checks:
        assert fc.model is not None
        papers[fc.model.paper.id] = fc.model
        files[fc.model.paper.id] = fc.path or Path(fc.display)
        for i, r in enumerate(fc.model.results):
            entries.append(Entry(paper=fc.model.paper, result=r, method=keys[name_key(r.method)],
                                 file=fc.display, line=fc.line("results", i), printed=printed_texts(fc, i)))
    networks, _ = declared_networks(checks)
    return Registry(root=root, papers=papers, files=files, methods=methods, method_paper=method_paper,
                    entries=entries, networks=networks)


def printed_texts(fc: Loaded[Any], index: int) -> dict[str, str]:
    """The numbers of ``results[index]`` of a file as written, by dotted path within the result
    (list items as ``path[i]``)."""
    out: dict[str, str] = {}
    for path, text in fc.texts.items():
        if len(path) > 2 and path[0] == "results" and path[1] == index:
            dotted = ""
            for part in path[2:]:
                dotted += f"[{part}]" if isinstance(part, int) else (f".{part}" if dotted else str(part))
            out[dotted] = text
    return out


def load_registry(path: str | os.PathLike[str] | None = None) -> Registry:
    """Load and validate a whole registry directory (see :func:`registry_dir`).

    Raises :class:`ValidationFailed` with every problem of every file, :class:`AuditError` when the
    directory holds no paper file.
    """
    root = registry_dir(path)
    files = registry_files(root)
    if not files:
        raise AuditError(f"registry {display_path(root)} holds no paper files (*.yaml)")
    return build([check_file(p) for p in files], root)


# ---------------------------------------------------------------------- adding a paper
def lock_path(root: Path) -> Path:
    """The lock file that serialises the writers of registry ``root``: in the system's temporary
    directory, named by the registry's resolved path, so the registry itself holds only paper files."""
    import hashlib
    import tempfile

    digest = hashlib.sha256(str(root.resolve()).encode("utf-8", "surrogatepass")).hexdigest()[:20]
    return Path(tempfile.gettempdir()) / f"prune-audit-registry-{digest}.lock"
LOCK_TIMEOUT_S = 60.0
"""How long ``registry add`` waits for another writer, in seconds."""


@dataclass(frozen=True)
class Added:
    """A paper file copied into a registry by :func:`add_paper`."""

    paper_id: str
    results: int
    """Number of results in the file."""
    target: Path
    """Where it was written."""


def add_paper(file: Path, registry: str | os.PathLike[str] | None = None,
              timeout: float = LOCK_TIMEOUT_S) -> Added:
    """Validate ``file`` against the registry and copy it in, atomically and under the registry's lock.

    The lock (``filelock``, on :func:`lock_path`) is taken first and the
    registry is read as it is then, so parallel adds of conflicting papers leave a valid registry
    with one of them; the file's bytes are read once and exactly what was validated is written
    (temporary file + ``os.replace``).  Temporary files left by a killed writer are removed under
    the lock.  Raises :class:`ValidationFailed` (every problem of the file and every conflict with the
    registry) or :class:`AuditError` (no such file, the paper is already there, the lock is held
    longer than ``timeout`` seconds, the registry is not writable).
    """
    from filelock import FileLock, Timeout

    from audit.io import yamlio
    from audit.io.atomic import atomic_write_text, remove_stale_temps

    root = registry_dir(registry)
    if not file.is_file():
        raise AuditError(f"{display_path(file)}: no such file")
    try:
        text = yamlio.read_text(file, display_path(file))
    except yamlio.YamlProblems as exc:
        raise ValidationFailed(exc.problems) from None
    lock = FileLock(str(lock_path(root)), timeout=timeout)
    try:
        with lock:
            remove_stale_temps(root)
            new = check_file(file, text=text)
            target = root / file.name
            if new.model is not None and target.exists():
                raise AuditError(f"{display_path(file)}: paper {new.model.paper.id!r} is already in the registry "
                                 f"({display_path(target)}); edit that file instead")
            build([check_file(p) for p in registry_files(root)] + [new], root)  # every problem and conflict
            assert new.model is not None
            try:
                atomic_write_text(target, text)
            except OSError as exc:
                raise AuditError(f"{display_path(target)}: cannot write: {exc.strerror or exc}") from None
            return Added(new.model.paper.id, len(new.model.results), target)
    except Timeout:
        raise AuditError(f"{display_path(root)}: another writer has held the registry lock ({lock_path(root)}) "
                         f"for {timeout:g} s; try again") from None
    except OSError as exc:
        raise AuditError(f"{display_path(root)}: cannot lock the registry: {exc.strerror or exc}") from None


def validate(paths: Iterable[Path], registry: str | os.PathLike[str] | None = None) -> Registry:
    """Validate files or directories; single files are checked in the context of the registry.

    A file given explicitly replaces the registry file of the same name, so that a paper file
    may refer to methods declared elsewhere in the registry.
    """
    root = registry_dir(registry)
    explicit: list[Path] = []
    dirs: list[Path] = []
    for p in paths:
        if p.is_dir():
            dirs.append(p)
        elif p.exists():
            explicit.append(p)
        else:
            raise AuditError(f"{p}: no such file or directory")
    if dirs:
        files = [f for d in dirs for f in registry_files(d)]
        context_root = dirs[0]
    else:
        files = []
        context_root = root
    if explicit:
        names = {p.name for p in explicit}
        if not dirs:
            files = [f for f in registry_files(root) if f.name not in names]
        files = [f for f in files if f.name not in names] + explicit
    checks = [check_file(f) for f in files]
    return build(checks, context_root)
