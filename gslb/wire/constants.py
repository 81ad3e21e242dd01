"""DNS numbers used across the server (RFC 1035, 6891, 7871, 5001 and the IANA registries)."""

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
    OPT = 41
    DS = 43
    RRSIG = 46
    NSEC = 47
    DNSKEY = 48
    CDS = 59
    CDNSKEY = 60
    NXNAME = 128  # RFC 9824: a meta-type only seen in a compact denial's NSEC bitmap
    IXFR = 251
    AXFR = 252
    MAILB = 253
    MAILA = 254
    ANY = 255
    CAA = 257


class RRClass(IntEnum):
    IN = 1
    CH = 3
    ANY = 255


class Rcode(IntEnum):
    NOERROR = 0
    FORMERR = 1
    SERVFAIL = 2
    NXDOMAIN = 3
    NOTIMP = 4
    REFUSED = 5
    BADVERS = 16  # extended: carried in the OPT record


class Opcode(IntEnum):
    QUERY = 0


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
