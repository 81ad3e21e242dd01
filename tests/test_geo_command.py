"""`gslb geodb lookup` and `gslb geodb build`, through a small argparse harness like the real CLI's."""

from __future__ import annotations

import argparse
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gslb.commands.geodb import CREDIT, _geodb_spec, register

TEST_CSV = Path(__file__).resolve().parent.parent / "geodb" / "test-city.csv"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gslb")
    commands = parser.add_subparsers(dest="command", required=True)
    register(commands, lambda sub: sub.add_argument("-c", "--config"))
    return parser


def run(*argv: str) -> int:
    args = _parser().parse_args(argv)
    return int(args.func(args))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("geodb") / "test-city.mmdb"
    assert run("geodb", "build", str(TEST_CSV), str(out)) == 0
    return out


def test_build_reports_what_it_wrote(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.mmdb"
    assert run("geodb", "build", str(TEST_CSV), str(out)) == 0
    assert capsys.readouterr().out == f"{out}: 20 networks from {TEST_CSV}\n"


def test_build_prints_every_csv_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "bad.csv"
    source.write_text(
        "network,country,subdivision,continent,latitude,longitude,city\n"
        "127.1.0.0/16,KR,11,AS,37.57,126.98,Seoul\n"
        "127.2.0.0/16,XX,,EU,,,\n"
        "127.3.0.0/33,US,VA,NA,,,\n",
        encoding="utf-8",
    )
    assert run("geodb", "build", str(source), str(tmp_path / "out.mmdb")) == 1
    assert capsys.readouterr().err == (
        f"{source}:3: country: unknown country code 'XX'\n"
        f"{source}:4: network: '127.3.0.0/33' does not appear to be an IPv4 or IPv6 network\n"
    )


def test_build_missing_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("geodb", "build", str(tmp_path / "none.csv"), str(tmp_path / "out.mmdb")) == 1
    assert capsys.readouterr().err.startswith("gslb geodb build: [Errno 2] No such file or directory")


def test_lookup_report(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("geodb", "lookup", "127.1.2.3", "--geodb", str(built)) == 0
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert capsys.readouterr().out == (
        "address:     127.1.2.3\n"
        "network:     127.1.0.0/16\n"
        "country:     KR (South Korea)\n"
        "subdivision: KR-11 (Seoul-teukbyeolsi)\n"
        "continent:   asia\n"
        "coordinates: 37.57, 126.98\n"
        "city:        Seoul\n"
        f"database:    GeoIP2-City (gslb geo database built from test-city.csv), built {today}, {built}\n"
    )


def test_lookup_ipv6_and_namibia(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("geodb", "lookup", "2001:db8:3::1", "--geodb", str(built)) == 0
    report = capsys.readouterr().out
    assert "network:     2001:db8:3::/48\n" in report
    assert "subdivision: US-VA (Virginia)\n" in report
    assert run("geodb", "lookup", "127.8.1.1", "--geodb", str(built)) == 0
    report = capsys.readouterr().out
    assert "country:     NA (Namibia)\n" in report
    assert "continent:   africa\n" in report


def test_lookup_unassigned(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("geodb", "lookup", "127.0.0.1", "--geodb", str(built)) == 0
    report = capsys.readouterr().out
    assert "network:     127.0.0.0/16\ncountry:     -\nsubdivision: -\n" in report
    assert report.endswith("(no location: this network is not in the database)\n")


def test_lookup_bad_address(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("geodb", "lookup", "127.1.2.300", "--geodb", str(built)) == 1
    assert capsys.readouterr().err == "gslb geodb lookup: '127.1.2.300' is not an IP address\n"


def test_lookup_missing_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("geodb", "lookup", "127.1.2.3", "--geodb", str(tmp_path / "none.mmdb")) == 1
    assert capsys.readouterr().err == f"gslb geodb lookup: geo database {tmp_path / 'none.mmdb'}: no such file\n"


def test_spec_falls_back_to_bundled_without_a_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GSLB_CONFIG", raising=False)
    assert _geodb_spec(_parser().parse_args(["geodb", "lookup", "127.1.0.1"])) == "bundled"


def test_geodb_option_wins_over_config() -> None:
    args = _parser().parse_args(["geodb", "lookup", "127.1.0.1", "--geodb", "x.mmdb", "-c", "site.yaml"])
    assert _geodb_spec(args) == "x.mmdb"


def test_real_config_file(built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "gslb.yaml"
    config.write_text(f"geodb: {built}\n", encoding="utf-8")
    assert run("geodb", "lookup", "198.51.100.1", "-c", str(config)) == 0
    assert "subdivision: DE-HE (Hessen)\n" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["geodb", "--help"], ["geodb", "lookup", "--help"]])
def test_help_credits_db_ip(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        _parser().parse_args(argv)
    assert exited.value.code == 0
    assert CREDIT in " ".join(capsys.readouterr().out.split())
    assert CREDIT == "IP geolocation by DB-IP (https://db-ip.com), CC BY 4.0"


def test_runs_as_a_process(built: Path) -> None:
    """The command as an operator runs it: exit codes and streams of a real process."""
    harness = (
        "import argparse, sys\n"
        "from gslb.commands.geodb import register\n"
        "parser = argparse.ArgumentParser(prog='gslb')\n"
        "register(parser.add_subparsers(required=True), lambda p: p.add_argument('-c', '--config'))\n"
        "args = parser.parse_args(sys.argv[1:])\n"
        "sys.exit(args.func(args))\n"
    )
    ok = subprocess.run(
        [sys.executable, "-c", harness, "geodb", "lookup", "::1", "--geodb", str(built)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (ok.returncode, ok.stderr) == (0, "")
    assert "country:     JP (Japan)\n" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-c", harness, "geodb", "lookup", "nowhere", "--geodb", str(built)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (bad.returncode, bad.stdout, bad.stderr) == (1, "", "gslb geodb lookup: 'nowhere' is not an IP address\n")
