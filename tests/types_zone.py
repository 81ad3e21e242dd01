"""A zone holding every record type of delegated zones (DS, SSHFP, TLSA, NAPTR, SVCB, HTTPS), with
HTTPS hints and targets from a geo service, and what BIND writes for each record."""

ZONE = "types.test"
TEXT = """\
zone: types.test
ns: [ns1.types.test.]
records:
  ns1: {A: 192.0.2.53}
  "@":
    HTTPS: "1 . alpn=h2,h3 port=8443 ipv4hint=192.0.2.1,192.0.2.2 ipv6hint=2001:db8::1
            ech=AEj+DQBEAQAgACBVs1Bx mandatory=port,alpn no-default-alpn"
  svc: {SVCB: "0 www.types.test."}
  svc2: {SVCB: '16 foo.example.org. key667=hello dohpath=/dns-query{?dns}'}
  svc3: {SVCB: '2 . ohttp key65000="a b\\"c"'}
  www: {service: web, HTTPS: "1 . alpn=h2 ipv4hint=service:web ipv6hint=service:web"}
  alias: {HTTPS: "0 www"}
  sub:
    NS: ns.example.net.
    DS:
      - 60485 5 1 2bb183af5f22588179a53b0a98631fad1a292118
      - 60485 ECDSAP256SHA256 2 8ACBB0CD28F41250A80A491389424D341522D946B0DA0C0291F2D3D7 71D7805A
      - 1 14 4 d752c2c51fba0e29aa190570a9d4253e44077a058d3297fa3a5630d5bd012622f97c28acaed313b5c83bb990caa7da85
  host:
    SSHFP: ["1 1 0123456789ABCDEF0123456789ABCDEF01234567",
            "4 2 8254c329a92850f6d539dd376f4816ee2764517da5e0235514af433164480d7a"]
  _443._tcp.www:
    TLSA: ["3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6", "2 0 0 30820307"]
  sip:
    NAPTR:
      - '100 10 "S" "SIP+D2U" "" _sip._udp.types.test.'
      - '102 10 "u" "E2U+sip" "!^.*$!sip:info@example.com!i" .'
      - '103 10 "" "" "!^\\\\+1(.*)!\\\\1!" .'
pools:
  seoul: {members: [192.0.2.10, 192.0.2.11, "2001:db8:1::10"]}
  virginia: {members: [203.0.113.10, "2001:db8:3::10"]}
services:
  web: {method: geo, map: {KR: [seoul], default: [virginia]}}
"""

# Exactly what BIND 9.18's named-compilezone writes for these records (the same data in a BIND
# zone file): gslb's text form and dig's reading of gslb's wire form must both match it.
BIND_WRITES = {
    ("types.test.", "HTTPS"): ['1 . mandatory=alpn,port alpn="h2,h3" no-default-alpn port=8443 '
                               "ipv4hint=192.0.2.1,192.0.2.2 ech=AEj+DQBEAQAgACBVs1Bx ipv6hint=2001:db8::1"],
    ("svc.types.test.", "SVCB"): ["0 www.types.test."],
    ("svc2.types.test.", "SVCB"): ['16 foo.example.org. dohpath="/dns-query{?dns}" key667="hello"'],
    ("svc3.types.test.", "SVCB"): ['2 . ohttp key65000="a b\\"c"'],
    ("alias.types.test.", "HTTPS"): ["0 www.types.test."],
    ("sub.types.test.", "DS"): [
        "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118",
        "60485 13 2 8ACBB0CD28F41250A80A491389424D341522D946B0DA0C0291F2D3D7 71D7805A",
        "1 14 4 D752C2C51FBA0E29AA190570A9D4253E44077A058D3297FA3A5630D5 BD012622F97C28ACAED313B5C83BB990CAA7DA85",
    ],
    ("host.types.test.", "SSHFP"): ["1 1 0123456789ABCDEF0123456789ABCDEF01234567",
                                    "4 2 8254C329A92850F6D539DD376F4816EE2764517DA5E0235514AF4331 64480D7A"],
    ("_443._tcp.www.types.test.", "TLSA"): [
        "3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B566 64C5D3D6", "2 0 0 30820307"],
    ("sip.types.test.", "NAPTR"): ['100 10 "S" "SIP+D2U" "" _sip._udp.types.test.',
                                   '102 10 "u" "E2U+sip" "!^.*$!sip:info@example.com!i" .',
                                   '103 10 "" "" "!^\\\\+1(.*)!\\\\1!" .'],
}
