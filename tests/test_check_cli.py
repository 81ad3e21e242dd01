"""`gslb check`: run as a real command, as an operator or a CI job would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_ZONES = ROOT / "zones"

GOOD = "zone: example.org\nns: [ns1.example.net.]\nrecords:\n  www: {A: 192.0.2.1}\n"
BAD = "zone: example.com\nns: [ns1.example.net.]\nttl: -1\nrecords:\n  www: {A: 192.0.2.300, AAAA: '::g'}\n"


def bad_lines(path: Path) -> list[str]:
    return [
        f"{path}:3: ttl: '-1' is not a TTL (whole seconds from 0 to 2147483647)",
        f"{path}:5: records.www.A: '192.0.2.300' is not an IPv4 address",
        f"{path}:5: records.www.AAAA: '::g' is not an IPv6 address",
    ]


def gslb_check(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "GSLB_CONFIG"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "gslb", "check", *args],
        cwd=cwd, env=full_env, capture_output=True, text=True, timeout=60, check=False,
    )


def test_example_zone_folder_passes(tmp_path: Path) -> None:
    result = gslb_check(str(EXAMPLE_ZONES), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    ok, summary = result.stdout.splitlines()
    assert ok.startswith(f"{EXAMPLE_ZONES / 'example.com.yaml'}: ok (example.com., ")
    assert summary == "checked 1 file: 1 ok, 0 rejected, 0 warnings"


def test_example_zone_file_passes(tmp_path: Path) -> None:
    result = gslb_check(str(EXAMPLE_ZONES / "example.com.yaml"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_bad_file_prints_every_error(tmp_path: Path) -> None:
    bad = tmp_path / "example.com.yaml"
    bad.write_text(BAD)
    result = gslb_check(str(bad), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == bad_lines(bad)
    assert result.stdout == "checked 1 file: 0 ok, 1 rejected, 0 warnings\n"


def test_folder_with_a_good_and_a_bad_file(tmp_path: Path) -> None:
    zones = tmp_path / "zones"
    zones.mkdir()
    (zones / "example.org.yaml").write_text(GOOD)
    (zones / "example.com.yaml").write_text(BAD)
    (zones / ".hidden.yaml").write_text("not: [valid")  # hidden files are skipped
    (zones / "notes.txt").write_text("not a zone")  # so are files without .yaml/.yml
    result = gslb_check(str(zones), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == bad_lines(zones / "example.com.yaml")
    assert result.stdout.splitlines() == [f"{zones / 'example.org.yaml'}: ok (example.org., 2 names)",
                                          "checked 2 files: 1 ok, 1 rejected, 0 warnings"]


def test_several_paths_are_all_checked(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    good = tmp_path / "a" / "example.org.yaml"
    good.write_text(GOOD)
    bad = tmp_path / "b" / "example.com.yaml"
    bad.write_text(BAD)
    result = gslb_check(str(good), str(tmp_path / "b"), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == bad_lines(bad)


def test_same_zone_in_two_files(tmp_path: Path) -> None:
    (tmp_path / "example.org.yaml").write_text(GOOD)
    (tmp_path / "example.org.yml").write_text(GOOD)
    result = gslb_check(str(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{tmp_path / 'example.org.yml'}:1: zone: example.org. is already served from {tmp_path / 'example.org.yaml'}"
    ]


def test_path_without_zone_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "README").write_text("nothing here")
    result = gslb_check(str(empty), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == "checked 0 files: 0 ok, 0 rejected, 0 warnings; 1 path without zone files\n"
    assert result.stderr.splitlines() == [f"{empty}: no zone files (*.yaml, *.yml) found"]


def test_missing_path(tmp_path: Path) -> None:
    result = gslb_check(str(tmp_path / "nowhere"), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"{tmp_path / 'nowhere'}: no zone files (*.yaml, *.yml) found"]


def test_no_path_and_no_config_checks_zones_in_the_current_folder(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE_ZONES, tmp_path / "zones")
    result = gslb_check(cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "zones/example.com.yaml: ok (example.com., " in result.stdout


def write_config(tmp_path: Path, zone_text: str) -> Path:
    """A config in its own folder whose relative `zones:` points at a folder beside it."""
    conf_dir = tmp_path / "etc"
    (conf_dir / "my-zones").mkdir(parents=True)
    (conf_dir / "my-zones" / "example.com.yaml").write_text(zone_text)
    config = conf_dir / "gslb.yaml"
    config.write_text("zones: my-zones\nstate_dir: state\n")
    return config


def test_config_option_names_the_zones_folder(tmp_path: Path) -> None:
    config = write_config(tmp_path, BAD)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = gslb_check("-c", str(config), cwd=elsewhere)
    assert result.returncode == 1
    assert result.stderr.splitlines() == bad_lines(config.parent / "my-zones" / "example.com.yaml")


def test_gslb_config_variable_names_the_zones_folder(tmp_path: Path) -> None:
    config = write_config(tmp_path, GOOD.replace("example.org", "example.com"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = gslb_check(cwd=elsewhere, env={"GSLB_CONFIG": str(config)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{config.parent / 'my-zones' / 'example.com.yaml'}: ok (example.com., 2 names)" in result.stdout


def test_paths_given_win_over_the_config(tmp_path: Path) -> None:
    config = write_config(tmp_path, BAD)
    result = gslb_check("-c", str(config), str(EXAMPLE_ZONES), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_bad_config_file(tmp_path: Path) -> None:
    config = tmp_path / "gslb.yaml"
    config.write_text("zones: zones\nzone: typo\ndns: {max_udp_size: 100}\n")
    result = gslb_check("-c", str(config), str(EXAMPLE_ZONES), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{config}:2: zone: unknown key (expected one of: dns, http, zones, state_dir, geodb, health, log, updates, "
        "dnssec)",
        f"{config}:3: dns.max_udp_size: '100' is not a size from 512 to 65535",
    ]


def test_bad_config_file_from_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "gslb.yaml"
    config.write_text("zones: [a\n")
    result = gslb_check(cwd=tmp_path, env={"GSLB_CONFIG": str(config)})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{config}:1: YAML syntax: the '[' on this line is not closed with ']' (or a ',' is missing between its "
        "entries)"]


def test_missing_config_file(tmp_path: Path) -> None:
    result = gslb_check("-c", str(tmp_path / "absent.yaml"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"{tmp_path / 'absent.yaml'}: cannot read: No such file or directory"]


def test_a_relative_name_that_looks_like_a_full_name_is_a_warning_not_a_rejection(tmp_path: Path) -> None:
    zone = tmp_path / "example.com.yaml"
    zone.write_text("zone: example.com\nns: [ns1.example.net.]\nrecords:\n  www: {A: 192.0.2.1}\n"
                    "  cdn: {CNAME: cdn.example.net}\n  mx-host: {MX: '10 mail.example.org'}\n"
                    "  eu.cdn: {CNAME: cdn.eu.example.net.}\n")
    result = gslb_check(str(zone), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"{zone}:5: warning: records.cdn.CNAME: 'cdn.example.net' has no final dot, so it means "
        "cdn.example.net.example.com.; if you meant cdn.example.net., add the dot",
        f"{zone}:6: warning: records.mx-host.MX: 'mail.example.org' has no final dot, so it means "
        "mail.example.org.example.com.; if you meant mail.example.org., add the dot",
    ]
    assert result.stdout.splitlines()[-1] == "checked 1 file: 1 ok, 0 rejected, 2 warnings"


def test_yaml_mistakes_are_told_in_plain_words_at_their_line(tmp_path: Path) -> None:
    zone = tmp_path / "example.org.yaml"
    zone.write_text(GOOD + "\tftp: {A: 192.0.2.2}\n")
    result = gslb_check(str(zone), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (f"{zone}:5: YAML syntax: a tab where YAML needs spaces: indent with spaces only, "
                             "never with tabs\n")
    zone.write_text(GOOD.replace("records:\n", "records:\n  ftp\n"))
    result = gslb_check(str(zone), cwd=tmp_path)
    assert result.stderr == (f"{zone}:4: YAML syntax: a key without ':' after it (every line of a mapping reads "
                             "'key: value'), or a line indented wrongly\n")


def test_a_misspelt_method_is_one_problem(tmp_path: Path) -> None:
    zone = tmp_path / "example.org.yaml"
    zone.write_text(GOOD + "  app: {service: web}\npools:\n  p: {members: [192.0.2.9]}\n"
                    "services:\n  web: {method: failvoer, pools: [p]}\n")
    result = gslb_check(str(zone), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (f"{zone}:9: services.web.method: 'failvoer' is not one of: geo, nearest, weighted, "
                             "failover, cidr, all, latency, least-loaded (did you mean failover?)\n")
