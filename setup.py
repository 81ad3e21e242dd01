"""The optional C helper for batched UDP system calls; everything else is in pyproject.toml.

`optional=True`: where it cannot be compiled (no compiler, not Linux), gslb installs without
it and answers UDP through asyncio instead (gslb/dns/udp.py).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("gslb.dns._udpbatch", ["gslb/dns/_udpbatch.c"], optional=True)])
