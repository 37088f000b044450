"""Scenario layers read from PostgreSQL/PostGIS (issue 17): a table or a query instead of a file.

A scenario names a database layer as a mapping::

    sites: {db: "postgresql://planner@/city?host=/var/run/postgresql", table: idle_sites}
    demand: {db: "postgresql://planner@db.example/city", query: "select * from census where district = '渝中区'"}

The rows are read with SQLAlchemy (driver psycopg 3). When the result has a PostGIS ``geometry``
column, the server gives x and y (``ST_PointOnSurface``: a point itself, polygons and lines a
representative point, as for GeoPackage files) and its SRID is the layer's own CRS. A result without
a geometry column needs ``x`` and ``y`` columns, as a CSV does. Several geometry columns need
``geometry: <column>``.

Connections time out after ``CONNECT_TIMEOUT_S`` (libpq's ``connect_timeout``), so a wrong host,
a refused connection, a missing database or table, or a failing query is one ScenarioError line
(exit 2) within seconds. Passwords never appear in a message: every URI shown goes through
:func:`mask_uri`, and any error text is scrubbed of the password as well. Put passwords in
``~/.pgpass`` or ``PGPASSWORD`` rather than in the YAML; libpq reads both.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from lifecircle.optimizer.errors import ScenarioError

DB_KEYS = ("db", "table", "query", "geometry")
DB_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
# libpq tries each address of a host name in turn, each with this limit: two addresses (IPv4 and
# IPv6) stay inside the 10 s that a bad URI may take to be refused.
CONNECT_TIMEOUT_S = 4
# A query that runs longer than this is cut (a layer is thousands of rows, not a city's history).
STATEMENT_TIMEOUT_S = 120
DRIVER = "postgresql+psycopg"
MASK = "***"


def is_db_uri(text) -> bool:
    """True for ``postgresql://…`` (and ``postgres://``, ``postgresql+psycopg://``) text."""
    return isinstance(text, str) and text.strip().lower().startswith(tuple(f"{s}://" for s in DB_SCHEMES))


def mask_uri(uri: str) -> str:
    """``uri`` with its password (in the user part or a ``password=`` parameter) shown as ``***``."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    try:
        parts = urlsplit(uri)
        netloc = parts.netloc
        if "@" in netloc:
            user, host = netloc.rsplit("@", 1)
            if ":" in user:
                user = user.split(":", 1)[0] + ":" + MASK
            netloc = f"{user}@{host}"
        query = parts.query
        if query:
            pairs = [(k, MASK if k.lower() == "password" else v) for k, v in parse_qsl(query, keep_blank_values=True)]
            query = urlencode(pairs, safe="/*:")
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return "postgresql://" + MASK


def _secrets(uri: str) -> list:
    """The password texts of ``uri`` (user part and ``password=``), to scrub from error messages."""
    from urllib.parse import parse_qsl, unquote, urlsplit

    found = []
    try:
        parts = urlsplit(uri)
        if parts.password:
            found += [parts.password, unquote(parts.password)]
        found += [v for k, v in parse_qsl(parts.query) if k.lower() == "password" and v]
    except ValueError:
        pass
    return [s for s in found if s]


def scrub(text: str, uri: str) -> str:
    """``text`` with every password of ``uri`` replaced by ``***`` and the URI itself masked."""
    text = text.replace(uri, mask_uri(uri))
    for secret in _secrets(uri):
        text = text.replace(secret, MASK)
    return text


@dataclass(frozen=True)
class DbLayer:
    """A scenario layer held in a database: ``table`` or ``query`` at ``uri``.

    ``str()`` is how messages name it (``table idle_sites``, ``query of 'sites'``); it never holds
    the URI, so no message built from it can leak a password. ``name`` is the same text (messages
    call ``.name`` on file paths)."""

    key: str
    uri: str
    table: str | None = None
    query: str | None = None
    geometry: str | None = None

    def __str__(self) -> str:
        return f"table {self.table}" if self.table else f"query of '{self.key}'"

    @property
    def name(self) -> str:
        return str(self)

    @property
    def masked_uri(self) -> str:
        return mask_uri(self.uri)

    @property
    def suffix(self) -> str:  # file-like callers ask for it: a database layer is no vector file
        return ""


def db_layer(value: dict, key: str, where: str) -> DbLayer:
    """Check a scenario's ``{db: URI, table: name}`` or ``{db: URI, query: SQL}`` mapping."""
    for k in value:
        if k not in DB_KEYS:
            raise ScenarioError(f"{where}: unknown key '{key}.{k}'; allowed with db: {', '.join(DB_KEYS)}")
    uri = value.get("db")
    if not is_db_uri(uri):
        shown = mask_uri(uri) if isinstance(uri, str) else repr(uri)
        raise ScenarioError(f"{where}: field '{key}.db': {shown!r} is not a database URI; expected "
                            "postgresql://user@host/dbname (or ?host=/socket/folder)")
    table, query = value.get("table"), value.get("query")
    if (table is None) == (query is None):
        raise ScenarioError(f"{where}: field '{key}': give exactly one of 'table' or 'query' with 'db'")
    for name, text in (("table", table), ("query", query), ("geometry", value.get("geometry"))):
        if text is not None and (not isinstance(text, str) or not text.strip()):
            raise ScenarioError(f"{where}: field '{key}.{name}': expected text, got {text!r}")
    return DbLayer(key, uri.strip(), table and table.strip(), query and query.strip(), value.get("geometry"))


def make_engine(uri: str, where: str):
    """A SQLAlchemy engine for ``uri`` (psycopg 3, no pool, ``CONNECT_TIMEOUT_S``); a URI that does
    not parse is one ScenarioError line with the URI masked."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError
    from sqlalchemy.pool import NullPool

    try:
        url = make_url(uri)
    except (ArgumentError, ValueError):
        raise ScenarioError(f"{where}: {mask_uri(uri)!r} is not a database URI; expected "
                            "postgresql://user@host/dbname") from None
    if url.drivername not in DB_SCHEMES:
        raise ScenarioError(f"{where}: {mask_uri(uri)!r} is not a PostgreSQL URI; expected postgresql://…")
    if not url.database:
        raise ScenarioError(f"{where}: {mask_uri(uri)} names no database; expected postgresql://user@host/dbname")
    try:
        import psycopg  # noqa: F401 - the driver SQLAlchemy will load
    except ImportError:  # pragma: no cover - psycopg is a dependency
        raise ScenarioError(f"{where}: reading PostgreSQL needs the psycopg package (pip install 'psycopg[binary]')") from None
    options = f"-c statement_timeout={STATEMENT_TIMEOUT_S * 1000}"
    return create_engine(url.set(drivername=DRIVER), poolclass=NullPool,
                         connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "options": options})


def _reason(error, uri: str) -> str:
    """A database error in a few plain words: the server's first line, scrubbed of passwords."""
    orig = getattr(error, "orig", None) or error
    text = str(orig).strip()
    lower = text.lower()
    if "connection refused" in lower or "no such file or directory" in lower:
        return "connection refused (is the server running, and are host and port right?)"
    if "timeout expired" in lower or "timed out" in lower:
        return f"no answer within {CONNECT_TIMEOUT_S} s"
    if "could not translate host name" in lower or "name or service not known" in lower:
        return "unknown host name"
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(orig).__name__)
    # libpq prefixes "connection to server at ... failed: "; the reason follows it
    if "failed: " in first:
        first = first.rsplit("failed: ", 1)[1]
    for level in ("FATAL:", "ERROR:"):  # the server's severity adds nothing to the reason
        if first.startswith(level):
            first = first[len(level):].strip()
    return scrub(first, uri)[:200]


def connect(engine, uri: str, where: str):
    """An open connection, or one ScenarioError line naming ``where`` and the masked URI."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return engine.connect()
    except SQLAlchemyError as error:
        raise ScenarioError(f"{where}: cannot connect to {mask_uri(uri)}: {_reason(error, uri)}") from None


def _quoted_table(conn, table: str) -> str:
    preparer = conn.dialect.identifier_preparer
    return ".".join(preparer.quote(part) for part in table.split("."))


def _columns(cursor, sql: str, geometry_oids: set) -> tuple[list, list]:
    """(every column name, the PostGIS geometry column names) of ``sql``'s result."""
    cursor.execute(f"select * from ({sql}) as lifecircle_layer limit 0")
    names = [col.name for col in cursor.description]
    return names, [col.name for col in cursor.description if col.type_code in geometry_oids]


# Coordinates are computed by the server (ST_PointOnSurface: a point as it is, a polygon's or a
# line's representative point, GEOS's algorithm as shapely's representative_point), so no geometry
# crosses the wire and none is parsed here: 100,000 points loaded in 1.9 s, against 10.4 s through
# geopandas.read_postgis (benchmarks/bench_china_inputs.py, two runs on the same loaded machine).
_X, _Y, _SRID = "lifecircle_x", "lifecircle_y", "lifecircle_srid"


def read_db_table(layer: DbLayer, where: str):
    """Read a database layer like a vector file: (properties as a DataFrame of strings, x, y, crs
    or None, digest). ``digest`` is a SHA-256 of what was read, for the scenario's checksum."""
    import pandas as pd
    import psycopg
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    uri = layer.uri
    engine = make_engine(uri, where)
    try:
        with connect(engine, uri, where) as conn:
            quote = conn.dialect.identifier_preparer.quote
            if layer.table is not None:
                table = _quoted_table(conn, layer.table)
                if conn.execute(text("select to_regclass(:name)"), {"name": table}).scalar() is None:
                    raise ScenarioError(f"{where}: the database {mask_uri(uri)} has no table {layer.table!r}")
                sql = f"select * from {table}"
            else:
                sql = layer.query.rstrip().rstrip(";")
            oids = {row[0] for row in conn.execute(text("select oid from pg_type where typname = 'geometry'"))}
            # the raw cursor runs the user's SQL as written: no bind-parameter parsing of ':' or '%'
            cursor = conn.connection.driver_connection.cursor()
            try:
                names, geometry_columns = _columns(cursor, sql, oids)
                geometry = layer.geometry
                if geometry is not None and geometry not in geometry_columns:
                    raise ScenarioError(f"{where}: field '{layer.key}.geometry': {layer} has no geometry column "
                                        f"{geometry!r}; its geometry columns: {', '.join(geometry_columns) or 'none'}")
                if geometry is None and len(geometry_columns) > 1:
                    raise ScenarioError(f"{where}: {layer} has {len(geometry_columns)} geometry columns "
                                        f"({', '.join(geometry_columns)}); name one with '{layer.key}.geometry'")
                geometry = geometry or (geometry_columns[0] if geometry_columns else None)
                keep = [c for c in names if c not in geometry_columns]
                select = [f"q.{quote(c)}" for c in keep]
                if geometry is not None:
                    point = f"ST_PointOnSurface(q.{quote(geometry)})"
                    select += [f"ST_X({point}) as {_X}", f"ST_Y({point}) as {_Y}", f"ST_SRID(q.{quote(geometry)}) as {_SRID}"]
                cursor.execute(f"select {', '.join(select) or '1'} from ({sql}) as q")
                frame = pd.DataFrame(cursor.fetchall(), columns=[*keep, *([_X, _Y, _SRID] if geometry else [])])
            finally:
                cursor.close()
    except (SQLAlchemyError, psycopg.Error) as error:  # psycopg's own: the raw cursor
        raise ScenarioError(f"{where}: {layer} cannot be read: {_reason(error, uri)}") from None
    finally:
        engine.dispose()
    return _as_strings(frame, geometry, layer)


def _as_strings(frame, geometry, layer: DbLayer):
    """(DataFrame of strings, x, y, crs, digest) as :func:`geo.read_vector_table` gives a file."""
    from lifecircle.optimizer.inputs.tables import numeric_column

    digest = hashlib.sha256()
    if geometry is not None:
        x = frame.pop(_X).to_numpy(dtype=float, na_value=np.nan)
        y = frame.pop(_Y).to_numpy(dtype=float, na_value=np.nan)
        srids = frame.pop(_SRID)
        missing = ~(np.isfinite(x) & np.isfinite(y))
        if missing.any():
            raise ScenarioError(f"{layer} row {int(np.flatnonzero(missing)[0]) + 1}: no geometry (NULL or empty)")
        crs = _srid_crs(srids, layer)
    plain = frame.astype(str).where(frame.notna(), "")
    plain.columns = [str(c).strip() for c in plain.columns]
    if geometry is None:
        crs = None
        for column in ("x", "y"):
            if column not in plain.columns:
                raise ScenarioError(f"{layer}: no geometry column and no column '{column}'; give a PostGIS "
                                    "geometry or x and y columns")
        x = numeric_column(plain, "x", layer, "row", finite_only=True)
        y = numeric_column(plain, "y", layer, "row", finite_only=True)
    digest.update(plain.to_csv(index=False).encode("utf-8"))
    digest.update(np.ascontiguousarray(x).tobytes() + np.ascontiguousarray(y).tobytes())
    digest.update(str(crs).encode("utf-8"))
    return plain, x, y, crs, digest.hexdigest()


def _srid_crs(srids, layer: DbLayer):
    """The layer's CRS from its geometries' SRID: None for 0 (the layer's crs key applies); one
    ScenarioError line for mixed SRIDs or one pyproj does not know."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    found = sorted({int(v) for v in srids})
    if len(found) > 1:
        raise ScenarioError(f"{layer}: geometries in several SRIDs ({', '.join(map(str, found))}); "
                            "transform them to one (ST_Transform)")
    if not found or found[0] == 0:
        return None
    try:
        return CRS.from_epsg(found[0])
    except CRSError:
        raise ScenarioError(f"{layer}: SRID {found[0]} is not an EPSG code pyproj knows") from None
