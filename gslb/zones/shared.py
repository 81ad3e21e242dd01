"""Datacenters, checks and pools written once, in `_shared.yaml` of the zone folder, for every zone.

Several zones (example.com, example.net, example.co.kr) usually run on the same datacenters. The
shared file holds those three sections, in the zone file syntax; every zone of the folder that
steers (has any of the steering sections) gets them as if they were written in it, and may still
define names of its own. A name defined both in the shared file and in a zone is an error in the
zone, naming both places. Pools of the shared file name only datacenters and checks of the shared
file.

A check used by several zones is still one probe target: targets are keyed by address and check
settings (gslb.health.targets), whichever zone they come from. While the shared file has a problem,
no steered zone of the folder loads (each keeps serving its previous version), since any of them
may use what is broken; zones without steering load as usual.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from gslb.common.problems import Problems
from gslb.common.settings import empty_map
from gslb.common.yamldoc import YMap, parse_yaml_bytes, read_file_bytes
from gslb.zones.errors import ZoneFileError
from gslb.zones.policy import parse_shared_sections
from gslb.zones.policy_model import SHARED_SECTIONS, SharedDefinitions

SHARED_FILE = "_shared.yaml"


def shared_file(folder: Path) -> Path:
    return folder / SHARED_FILE


def load_shared(folder: Path) -> SharedDefinitions | None:
    """The folder's shared definitions, None without a shared file; raises ZoneFileError listing every problem."""
    path = shared_file(folder)
    if not path.is_file():
        return None
    file = str(path)
    problems = Problems(file)
    data = read_file_bytes(path, problems, ZoneFileError)
    doc = parse_yaml_bytes(data, problems, ZoneFileError)
    if doc is None:
        doc = empty_map(1)
    if not isinstance(doc, YMap):
        problems.add(1, "", f"the shared file must be a mapping with: {', '.join(SHARED_SECTIONS)}")
        problems.raise_if_any(ZoneFileError)
    for key in doc:
        if key not in SHARED_SECTIONS:
            problems.add(doc.line_of(key), key, f"unknown key (expected one of: {', '.join(SHARED_SECTIONS)}; "
                                                "services and records belong in the zone files)")
    datacenters, checks, pools = parse_shared_sections(doc, problems)
    problems.raise_if_any(ZoneFileError)
    lines = {(section, name): doc[section].line_of(name)
             for section in SHARED_SECTIONS if isinstance(doc.get(section), YMap) for name in doc[section]}
    return SharedDefinitions(file, datacenters, checks, pools, lines, hashlib.sha256(data).digest())
