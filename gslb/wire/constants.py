"""DNS numbers used across the server (RFC 1035, 2136, 6891, 7871, 5001, 8945 and the IANA registries)."""

from enum import IntEnum


class RRType(IntEnum):
    A = 1
    NS = 2
    CNAME = 5
    SOA = 6
    PTR = 12
    HINFO = 13
    MX = 15
    TXT = 16
    AAAA = 28
    SRV = 33
    NAPTR = 35
    OPT = 41
    DS = 43
    SSHFP = 44
    RRSIG = 46
    NSEC = 47
    DNSKEY = 48
    TLSA = 52
    CDS = 59
    CDNSKEY = 60
    SVCB = 64
    HTTPS = 65
    NXNAME = 128  # RFC 9824: a meta-type only seen in a compact denial's NSEC bitmap
    TKEY = 249
    TSIG = 250
    IXFR = 251
    AXFR = 252
    MAILB = 253
    MAILA = 254
    ANY = 255
    CAA = 257


class RRClass(IntEnum):
    IN = 1
    CH = 3
    NONE = 254  # RFC 2136: deletes a given record, or says an RRset does not exist
    ANY = 255


class Rcode(IntEnum):
    NOERROR = 0
    FORMERR = 1
    SERVFAIL = 2
    NXDOMAIN = 3
    NOTIMP = 4
    REFUSED = 5
    YXDOMAIN = 6  # RFC 2136: a name exists that should not
    YXRRSET = 7
    NXRRSET = 8
    NOTAUTH = 9  # not authoritative for the zone (RFC 2136), or TSIG failed (RFC 8945)
    NOTZONE = 10  # a name outside the zone of an UPDATE
    BADVERS = 16  # extended: carried in the OPT record
    BADCOOKIE = 23  # extended (RFC 7873)


class Opcode(IntEnum):
    QUERY = 0
    UPDATE = 5


class TsigError(IntEnum):
    """The TSIG record's own error field (RFC 8945 section 4.3); the header then says NOTAUTH."""

    NOERROR = 0
    BADSIG = 16
    BADKEY = 17
    BADTIME = 18
    BADTRUNC = 22


# Header flag bits (in the 16-bit flags word).
FLAG_QR = 0x8000
FLAG_AA = 0x0400
FLAG_TC = 0x0200
FLAG_RD = 0x0100
FLAG_RA = 0x0080
FLAG_CD = 0x0010
OPCODE_MASK = 0x7800
OPCODE_SHIFT = 11

# EDNS option codes.
OPTION_NSID = 3
OPTION_ECS = 8
OPTION_COOKIE = 10  # RFC 7873

EDNS_DO = 0x8000
EDNS_CO = 0x4000  # Compact Answers OK (RFC 9824 section 5.1)

HEADER_SIZE = 12
PLAIN_UDP_LIMIT = 512
TCP_LIMIT = 65535


def type_name(rtype: int) -> str:
    try:
        return RRType(rtype).name
    except ValueError:
        return f"TYPE{rtype}"


def rcode_name(rcode: int) -> str:
    try:
        return Rcode(rcode).name
    except ValueError:
        return f"RCODE{rcode}"


def is_meta_type(rtype: int) -> bool:
    """OPT, and the Q-types and meta-types of 128 to 255 (RFC 6895 section 3.1): never data."""
    return rtype == RRType.OPT or 128 <= rtype <= 255


def class_name(rclass: int) -> str:
    try:
        return RRClass(rclass).name
    except ValueError:
        return f"CLASS{rclass}"
