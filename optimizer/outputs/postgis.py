"""`lifecircle city --db postgresql://…`: each circle's status, coverage and selected sites in PostGIS.

Three tables, created when missing (PostGIS is created too when the role may do so):

``lifecircle_circles``
    one row per circle: ``circle_id`` (primary key), ``status``, ``error``, ``resumed``,
    ``budget``, ``spent``, ``objective``, ``seconds``, ``scenario_checksum``, ``crs`` (the
    scenario's), ``boundary`` (``boundary.geojson``, geometry in EPSG:4490, or NULL) and
    ``written_at``.
``lifecircle_sites``
    one row per selected site: ``circle_id``, ``site_id`` (together the primary key), ``name``,
    ``facility_type``, ``cost`` and ``geom`` (Point, EPSG:4490, CGCS2000 longitude/latitude; one
    CRS for the whole city, as ``city.geojson``).
``lifecircle_coverage``
    one row per circle and group: ``circle_id``, ``group_name`` (the primary key), ``population``,
    ``covered_before``, ``covered_after``.

Each circle is written in one transaction: its ``lifecircle_circles`` row is inserted or updated
(``on conflict do update``), its sites and coverage rows are deleted and inserted again. So a
resumed run updates rows and never duplicates them, a circle solved again replaces its rows, and a
run killed mid-write leaves every circle either as it was or wholly new. The URI is checked (and
the tables made) before any circle is solved: a bad one is one line, exit 2, within seconds, with
its password masked.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from lifecircle.optimizer.errors import LifecircleError, ScenarioError
from lifecircle.optimizer.inputs.postgis import connect, make_engine, mask_uri, scrub

logger = logging.getLogger(__name__)

CIRCLES_TABLE, SITES_TABLE, COVERAGE_TABLE = "lifecircle_circles", "lifecircle_sites", "lifecircle_coverage"
DB_SRID = 4490  # CGCS2000 longitude/latitude, as city.geojson
OPTION = "--db"

_DDL = (
    f"""create table if not exists {CIRCLES_TABLE} (
        circle_id text primary key, status text not null, error text, resumed boolean,
        budget double precision, spent double precision, objective double precision,
        seconds double precision, scenario_checksum text, crs text,
        boundary geometry(Geometry, {DB_SRID}), written_at timestamptz not null default now())""",
    f"""create table if not exists {SITES_TABLE} (
        circle_id text not null references {CIRCLES_TABLE} (circle_id) on delete cascade,
        site_id text not null, name text, facility_type text not null, cost double precision,
        geom geometry(Point, {DB_SRID}), primary key (circle_id, site_id))""",
    f"""create table if not exists {COVERAGE_TABLE} (
        circle_id text not null references {CIRCLES_TABLE} (circle_id) on delete cascade,
        group_name text not null, population double precision, covered_before double precision,
        covered_after double precision, primary key (circle_id, group_name))""",
)
_UPSERT_CIRCLE = f"""
    insert into {CIRCLES_TABLE} (circle_id, status, error, resumed, budget, spent, objective, seconds,
                                 scenario_checksum, crs, boundary, written_at)
    values (:circle_id, :status, :error, :resumed, :budget, :spent, :objective, :seconds, :checksum, :crs,
            ST_GeomFromText(CAST(:boundary AS text), {DB_SRID}), now())
    on conflict (circle_id) do update set
        status = excluded.status, error = excluded.error, resumed = excluded.resumed,
        budget = excluded.budget, spent = excluded.spent, objective = excluded.objective,
        seconds = excluded.seconds, scenario_checksum = excluded.scenario_checksum, crs = excluded.crs,
        boundary = excluded.boundary, written_at = now()"""
_INSERT_SITE = f"""
    insert into {SITES_TABLE} (circle_id, site_id, name, facility_type, cost, geom)
    values (:circle_id, :site_id, :name, :facility_type, :cost,
            ST_SetSRID(ST_MakePoint(CAST(:lon AS double precision), CAST(:lat AS double precision)), {DB_SRID}))"""
_INSERT_COVERAGE = f"""
    insert into {COVERAGE_TABLE} (circle_id, group_name, population, covered_before, covered_after)
    values (:circle_id, :group_name, :population, :covered_before, :covered_after)"""


class CityDb:
    """An open ``--db`` target: :func:`open_city_db` made it, :meth:`write_circle` writes a circle."""

    def __init__(self, engine, uri: str):
        self.engine, self.uri = engine, uri
        self.written = 0

    @property
    def masked_uri(self) -> str:
        return mask_uri(self.uri)

    def write_circle(self, circle, row: dict, run, folder) -> None:
        """Replace ``circle``'s rows in one transaction. ``row`` is its city.csv row (as a dict),
        ``run`` its RunSummary (None when it failed before writing anything), ``folder`` its
        result folder (sites.csv gives names and positions)."""
        from sqlalchemy import text
        from sqlalchemy.exc import SQLAlchemyError

        sites = _site_rows(circle.id, run, Path(folder))
        coverage = [{"circle_id": circle.id, "group_name": g, **c} for g, c in row["coverage"].items()]
        params = {"circle_id": circle.id, "status": row["status"], "error": row["error"] or None,
                  "resumed": bool(row["resumed"]), "budget": row["budget"], "spent": row["spent"],
                  "objective": row["objective"], "seconds": row["seconds"],
                  "checksum": run.scenario_checksum if run else None, "crs": run.crs if run else circle.crs,
                  "boundary": _boundary_wkt(circle)}
        try:
            with self.engine.begin() as conn:
                conn.execute(text(_UPSERT_CIRCLE), params)
                conn.execute(text(f"delete from {SITES_TABLE} where circle_id = :c"), {"c": circle.id})
                conn.execute(text(f"delete from {COVERAGE_TABLE} where circle_id = :c"), {"c": circle.id})
                if sites:
                    conn.execute(text(_INSERT_SITE), sites)
                if coverage:
                    conn.execute(text(_INSERT_COVERAGE), coverage)
        except SQLAlchemyError as error:
            detail = str(getattr(error, "orig", None) or error).strip().splitlines()
            raise ScenarioError(f"{OPTION}: writing circle {circle.id} to {self.masked_uri} failed: "
                                f"{scrub(detail[0] if detail else type(error).__name__, self.uri)[:200]}; "
                                "the results on disk are complete: run again to write the database") from None
        self.written += 1

    def close(self) -> None:
        self.engine.dispose()


def open_city_db(uri: str) -> CityDb:
    """Connect to ``uri``, make sure PostGIS and the three tables exist, and return the target.
    Bad URI, refused connection, missing database or rights: one ScenarioError line (exit 2)."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    engine = make_engine(uri, OPTION)
    try:
        with connect(engine, uri, OPTION) as conn:
            if conn.execute(text("select 1 from pg_type where typname = 'geometry'")).first() is None:
                try:
                    conn.execute(text("create extension if not exists postgis"))
                except SQLAlchemyError as error:
                    first = str(getattr(error, "orig", None) or error).strip().splitlines()
                    raise ScenarioError(f"{OPTION}: the database {mask_uri(uri)} has no PostGIS and this role "
                                        f"cannot create it ({scrub(first[0] if first else '', uri)[:160]}); "
                                        "run CREATE EXTENSION postgis as its owner") from None
            for ddl in _DDL:
                conn.execute(text(ddl))
            conn.commit()
    except SQLAlchemyError as error:
        first = str(getattr(error, "orig", None) or error).strip().splitlines()
        engine.dispose()
        raise ScenarioError(f"{OPTION}: cannot prepare the tables in {mask_uri(uri)}: "
                            f"{scrub(first[0] if first else type(error).__name__, uri)[:200]}") from None
    except LifecircleError:
        engine.dispose()
        raise
    return CityDb(engine, uri)


def _boundary_wkt(circle) -> str | None:
    from lifecircle.optimizer.inputs.geo import read_boundary_lonlat

    boundary = Path(circle.folder) / "boundary.geojson"
    if not boundary.is_file():
        return None
    try:
        return read_boundary_lonlat(boundary, circle.crs).wkt
    except LifecircleError:
        return None  # city.geojson reports it (boundary_error); the database keeps NULL


def _site_rows(circle_id: str, run, folder: Path) -> list:
    """The selected sites of ``run`` with name and position from the circle's sites.csv, the
    position moved to EPSG:4490. A resumed circle whose sites.csv is gone keeps NULL positions."""
    if run is None or not run.selected:
        return []
    import numpy as np

    from lifecircle.optimizer.inputs.geo import transform

    found = {}
    path = folder / "sites.csv"
    if path.is_file():
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for r in csv.DictReader(fh):
                found[r.get("site_id")] = r
    names, xs, ys = [], [], []
    for s in run.selected:
        r = found.get(s.site_id) or {}
        names.append(r.get("name"))
        xs.append(_float(r.get("x")))
        ys.append(_float(r.get("y")))
    lon, lat = np.array(xs, float), np.array(ys, float)
    if run.crs and np.isfinite(lon).any():
        from pyproj import CRS

        lon, lat = transform(lon, lat, CRS.from_user_input(run.crs), CRS.from_epsg(DB_SRID))
    return [{"circle_id": circle_id, "site_id": s.site_id, "name": names[n], "facility_type": s.facility_type,
             "cost": s.cost_cny, "lon": float(lon[n]) if np.isfinite(lon[n]) else None,
             "lat": float(lat[n]) if np.isfinite(lat[n]) else None} for n, s in enumerate(run.selected)]


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
