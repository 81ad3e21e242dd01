"""Loading a folder of zones and reloading it: rejected files keep serving their old version."""

from __future__ import annotations

from pathlib import Path

from gslb.wire.constants import RRType
from gslb.wire.name import Name
from gslb.zones.directory import load_zone_paths, reload_zones, zone_files
from gslb.zones.model import Zone
from gslb.zones.zoneset import ZoneSet


def zone_text(zone: str, address: str) -> str:
    return f"zone: {zone}\nns: [ns1.example.net.]\nrecords:\n  www: {{A: {address}}}\n"


def www(zone: Zone) -> list[str]:
    node = zone.node(Name.from_text(f"www.{zone.origin.text}"))
    assert node is not None
    return [rdata.text for rdata in node.rrsets[RRType.A].rdatas]


def served(zones: ZoneSet) -> dict[str, list[str]]:
    return {zone.origin.text: www(zone) for zone in zones}


def test_first_load(tmp_path: Path) -> None:
    (tmp_path / "example.com.yaml").write_text(zone_text("example.com", "192.0.2.1"))
    (tmp_path / "example.org.yml").write_text(zone_text("example.org", "192.0.2.2"))
    zones, report = reload_zones(tmp_path, ZoneSet())
    assert report.ok
    assert [zone.origin.text for zone in report.loaded] == ["example.com.", "example.org."]
    assert report.kept == [] and report.rejected == []
    assert served(zones) == {"example.com.": ["192.0.2.1"], "example.org.": ["192.0.2.2"]}
    assert zones.generation == 1
    assert zones.find(Name.from_text("a.b.www.example.org.")).origin.text == "example.org."
    assert zones.find(Name.from_text("example.net.")) is None


def test_rejected_file_keeps_its_old_version(tmp_path: Path) -> None:
    com = tmp_path / "example.com.yaml"
    org = tmp_path / "example.org.yaml"
    com.write_text(zone_text("example.com", "192.0.2.1"))
    org.write_text(zone_text("example.org", "192.0.2.2"))
    first, _ = reload_zones(tmp_path, ZoneSet())
    old_com = first.get(Name.from_text("example.com."))

    com.write_text(zone_text("example.com", "192.0.2.300"))
    org.write_text(zone_text("example.org", "192.0.2.22"))
    second, report = reload_zones(tmp_path, first)

    assert not report.ok
    assert [error.file for error in report.rejected] == [str(com)]
    assert [str(p) for p in report.rejected[0].problems] == [
        f"{com}:4: records.www.A: '192.0.2.300' is not an IPv4 address"
    ]
    assert report.kept == [old_com]
    assert [zone.origin.text for zone in report.loaded] == ["example.org."]
    assert second.get(Name.from_text("example.com.")) is old_com
    assert served(second) == {"example.com.": ["192.0.2.1"], "example.org.": ["192.0.2.22"]}
    assert second.generation == 2

    # Fixed again: the new version replaces the old one.
    com.write_text(zone_text("example.com", "192.0.2.11"))
    third, report = reload_zones(tmp_path, second)
    assert report.ok and report.kept == []
    assert served(third) == {"example.com.": ["192.0.2.11"], "example.org.": ["192.0.2.22"]}


def test_rejected_file_never_served_before_is_not_served(tmp_path: Path) -> None:
    (tmp_path / "example.com.yaml").write_text(zone_text("example.com", "192.0.2.1"))
    first, _ = reload_zones(tmp_path, ZoneSet())
    (tmp_path / "example.org.yaml").write_text("zone: example.org\n")  # no ns
    second, report = reload_zones(tmp_path, first)
    assert [error.file for error in report.rejected] == [str(tmp_path / "example.org.yaml")]
    assert report.kept == []
    assert served(second) == {"example.com.": ["192.0.2.1"]}


def test_removed_file_is_dropped(tmp_path: Path) -> None:
    (tmp_path / "example.com.yaml").write_text(zone_text("example.com", "192.0.2.1"))
    (tmp_path / "example.org.yaml").write_text(zone_text("example.org", "192.0.2.2"))
    first, _ = reload_zones(tmp_path, ZoneSet())
    (tmp_path / "example.org.yaml").unlink()
    second, report = reload_zones(tmp_path, first)
    assert report.ok
    assert served(second) == {"example.com.": ["192.0.2.1"]}
    assert second.find(Name.from_text("www.example.org.")) is None


def test_removed_folder_drops_everything(tmp_path: Path) -> None:
    zones_dir = tmp_path / "zones"
    zones_dir.mkdir()
    (zones_dir / "example.com.yaml").write_text(zone_text("example.com", "192.0.2.1"))
    first, _ = reload_zones(zones_dir, ZoneSet())
    (zones_dir / "example.com.yaml").unlink()
    zones_dir.rmdir()
    second, report = reload_zones(zones_dir, first)
    assert report.ok and len(second) == 0


def test_second_file_for_the_same_zone_is_rejected(tmp_path: Path) -> None:
    first_file = tmp_path / "example.com.yaml"
    second_file = tmp_path / "example.com.yml"
    first_file.write_text(zone_text("example.com", "192.0.2.1"))
    second_file.write_text(zone_text("example.com.", "192.0.2.2"))
    zones, report = reload_zones(tmp_path, ZoneSet())
    assert [zone.file for zone in report.loaded] == [str(first_file)]
    assert [str(p) for error in report.rejected for p in error.problems] == [
        f"{second_file}:1: zone: example.com. is already served from {first_file}"
    ]
    assert served(zones) == {"example.com.": ["192.0.2.1"]}
    # On the next reload the same: the first file keeps the zone, the second stays rejected.
    again, report = reload_zones(tmp_path, zones)
    assert [error.file for error in report.rejected] == [str(second_file)]
    assert served(again) == {"example.com.": ["192.0.2.1"]}


def test_load_zone_paths_reports_each_file(tmp_path: Path) -> None:
    good = tmp_path / "example.com.yaml"
    bad = tmp_path / "example.org.yaml"
    good.write_text(zone_text("example.com", "192.0.2.1"))
    bad.write_text("zone: example.net\nns: [ns.example.com.]\n")
    report = load_zone_paths([good, bad], lambda origin, content_hash: 7)
    assert [zone.serial for zone in report.loaded] == [7]
    assert [str(p) for p in report.rejected[0].problems] == [
        f"{bad}:1: zone: 'example.net.' does not match the file name (expected example.org.yaml)"
    ]


def test_zone_files_skips_hidden_and_other_files(tmp_path: Path) -> None:
    for name in ("b.example.yaml", "a.example.yml", ".a.example.yaml", "c.example.yaml~", "README.md"):
        (tmp_path / name).write_text("")
    (tmp_path / "sub.yaml").mkdir()
    assert [path.name for path in zone_files(tmp_path)] == ["a.example.yml", "b.example.yaml"]
    assert zone_files(tmp_path / "README.md") == [tmp_path / "README.md"]  # a file named explicitly
    assert zone_files(tmp_path / "missing") == []
