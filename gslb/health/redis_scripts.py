"""The Redis keys gslb uses and the Lua scripts that change them.

Each change is one script, so it is atomic in Redis and announced on the channel in the order it
was made. Verdicts and probers are written only when newer than what is stored (newest receive
time wins: servers that hear the same reports in a different order still agree). Override changes
take a number from a counter, which every server uses to apply them in the same order. The
announcements' JSON is made in Python and only prefixed here: Lua's JSON encoder rounds numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

PREFIX = "gslb:"
VERDICTS = PREFIX + "verdicts"  # hash: "<target>/<prober>" -> verdict JSON (with "received")
PROBERS = PREFIX + "probers"  # hash: prober name -> {"last_report", "location"?, "datacenter"?}
OVERRIDES = PREFIX + "overrides"  # hash: [zone, kind, name, address] as JSON -> override JSON
AUDIT = PREFIX + "audit"  # list: audit entries (JSON), oldest first, capped
SEQUENCE = PREFIX + "seq"  # counter: the number of the latest override change
EPOCH = PREFIX + "epoch"  # random id of this data set: set by the server that seeded it
CHANNEL = PREFIX + "changes"  # pub/sub: "<seq> <json>" per change

# Shared by the two scripts that keep the newest of two timed JSON values.
_NEWER = """
local function put(key, field, time, value, name)
  local old = redis.call('HGET', key, field)
  if old then
    local ok, data = pcall(cjson.decode, old)
    if ok and type(data) == 'table' and tonumber(data[name]) and tonumber(data[name]) >= time then
      return 0
    end
  end
  redis.call('HSET', key, field, value)
  return 1
end
"""

# KEYS: verdicts, probers. ARGV: channel, message, verdict count, then (field, received, value)
# per verdict, then (prober, last_report, value) per prober. Returns the number of verdicts stored.
RECORD = _NEWER + """
local count = tonumber(ARGV[3])
local stored = 0
local i = 4
for _ = 1, count do
  stored = stored + put(KEYS[1], ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], 'received')
  i = i + 3
end
while i <= #ARGV do
  put(KEYS[2], ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], 'last_report')
  i = i + 3
end
redis.call('PUBLISH', ARGV[1], ARGV[2])
return stored
"""

_ANNOUNCE = """
redis.call('RPUSH', KEYS[2], ARGV[3])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[4]), -1)
local seq = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[1], seq .. ' ' .. ARGV[5])
return seq
"""

# KEYS: overrides, audit, seq. ARGV: channel, field, audit entry, audit limit, message body, value.
SET_OVERRIDE = """
redis.call('HSET', KEYS[1], ARGV[2], ARGV[6])
""" + _ANNOUNCE

# Same KEYS and ARGV (without a value). Returns 0 when there was no such override.
LIFT_OVERRIDE = """
if redis.call('HDEL', KEYS[1], ARGV[2]) == 0 then
  return 0
end
""" + _ANNOUNCE

# Same, with ARGV[6] = now: only the first server to claim an expired override removes it
# and writes the audit entry, however many servers expire it at the same moment.
EXPIRE_OVERRIDE = """
local current = redis.call('HGET', KEYS[1], ARGV[2])
if not current then
  return 0
end
local ok, data = pcall(cjson.decode, current)
local expires = ok and type(data) == 'table' and tonumber(data['expires'])
if not expires or expires > tonumber(ARGV[6]) then
  return 0
end
redis.call('HDEL', KEYS[1], ARGV[2])
""" + _ANNOUNCE

# KEYS: epoch, overrides, audit. ARGV: new epoch, override count, (field, value) per override,
# then the audit entries. A data set without an epoch (a new Redis, or one restarted without
# persistence) is made from the state of the first server that connects. Returns {seeded, epoch}.
SEED = """
if redis.call('SETNX', KEYS[1], ARGV[1]) == 0 then
  return {0, redis.call('GET', KEYS[1])}
end
redis.call('DEL', KEYS[2], KEYS[3])
local count = tonumber(ARGV[2])
local i = 3
for _ = 1, count do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  i = i + 2
end
while i <= #ARGV do
  redis.call('RPUSH', KEYS[3], ARGV[i])
  i = i + 1
end
return {1, ARGV[1]}
"""

# KEYS: a hash of timed JSON values. ARGV: cutoff, the name of the time field. Drops entries
# older than the cutoff (targets that left every config, probers that were retired).
PRUNE = """
local all = redis.call('HGETALL', KEYS[1])
local removed = 0
for i = 1, #all, 2 do
  local ok, data = pcall(cjson.decode, all[i + 1])
  local time = ok and type(data) == 'table' and tonumber(data[ARGV[2]])
  if not time or time < tonumber(ARGV[1]) then
    redis.call('HDEL', KEYS[1], all[i])
    removed = removed + 1
  end
end
return removed
"""


@dataclass(frozen=True)
class Scripts:
    """The scripts registered with one client (EVALSHA, loaded again if Redis forgot them)."""

    record: AsyncScript
    set_override: AsyncScript
    lift_override: AsyncScript
    expire_override: AsyncScript
    seed: AsyncScript
    prune: AsyncScript

    @classmethod
    def register(cls, client: Redis) -> Scripts:
        return cls(*(client.register_script(text) for text in
                     (RECORD, SET_OVERRIDE, LIFT_OVERRIDE, EXPIRE_OVERRIDE, SEED, PRUNE)))
