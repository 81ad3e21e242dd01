"""English names that geo databases use where ISO 3166-2 uses the local one.

DB-IP Lite names subdivisions in English ("Lombardy", "North Holland", "Vienna");
ISO 3166-2 and pycountry use the local form ("Lombardia", "Noord-Holland", "Wien"),
and spelling rules cannot bridge those. This table covers the regions that carry
most traffic; every code in it is checked against pycountry by the tests.
"""

ALIASES = """
AE-AZ Abu Dhabi
AE-SH Sharjah
AL-11 Tirana
AM-ER Yerevan
AR-C Buenos Aires F.D.
AT-2 Carinthia
AT-3 Lower Austria
AT-4 Upper Austria
AT-6 Styria
AT-7 Tyrol
AT-9 Vienna
BE-BRU Brussels Capital
BE-VLG Flanders
BE-WAL Wallonia
BG-22 Sofia-grad
BH-13 Manama
BR-DF Federal District
BY-HM Minsk City
CH-BS Basel-City
CH-GE Geneva
CH-GR Grisons
CH-LU Lucerne
CH-SG Saint Gall
CL-RM Santiago Metropolitan
CN-NM Inner Mongolia
CN-XZ Tibet
CO-DC Bogota D.C.
CU-03 Havana
CY-01 Nicosia
CZ-10 Prague
CZ-20 Central Bohemia
CZ-31 South Bohemian
CZ-32 Plzeň Region
CZ-41 Karlovy Vary
CZ-42 Ústí nad Labem
CZ-51 Liberec
CZ-52 Hradec Králové
CZ-63 Vysočina
CZ-64 South Moravian
CZ-71 Olomoucký
CZ-72 Zlín
CZ-80 Moravian-Silesian
DE-BW Baden-Wurttemberg
DE-NI Lower Saxony
DE-NW North Rhine-Westphalia
DE-RP Rhineland-Palatinate
DE-SN Saxony
DE-ST Saxony-Anhalt
DE-TH Thuringia
DK-81 North Denmark
DK-82 Central Jutland
DK-83 South Denmark
DK-84 Capital Region
DK-85 Zealand
DZ-16 Algiers
EG-ALX Alexandria
EG-BA Red Sea
EG-BH Beheira
EG-BNS Beni Suweif
EG-C Cairo
EG-DK Dakahlia
EG-DT Damietta
EG-FYM Faiyum
EG-GH Gharbia
EG-GZ Giza
EG-IS Ismailia
EG-JS South Sinai
EG-KB Qalyubia
EG-KFS Kafr el-Sheikh
EG-KN Qena
EG-MN Minya
EG-MNF Monufia
EG-PTS Port Said
EG-SHG Sohag
EG-SHR Sharqia
EG-SUZ Suez
ES-CL Castille and León
ES-CN Canary Islands
ES-CT Catalonia
ES-IB Balearic Islands
ES-PV Basque Country
ES-VC Valencia
FR-20R Corsica
FR-BRE Brittany
FR-GES Grand Est
FR-NOR Normandy
FR-PAC Provence-Alpes-Côte d'Azur
FR-PDL Pays de la Loire
GR-B Central Macedonia
GR-C West Macedonia
GR-D Epirus
GR-E Thessaly
GR-G West Greece
GR-I Attica
GR-J Peloponnese
GR-M Crete
HR-17 Split-Dalmatia
HR-21 City of Zagreb
ID-JB West Java
ID-JI East Java
ID-JT Central Java
IL-D Southern District
IL-HA Haifa
IL-JM Jerusalem
IL-M Central District
IL-TA Tel Aviv
IL-Z Northern District
IR-03 East Azerbaijan
IR-04 West Azerbaijan
IR-09 Razavi Khorasan
IR-10 Isfahan
IT-21 Piedmont
IT-23 Aosta Valley
IT-25 Lombardy
IT-52 Tuscany
IT-57 The Marches
IT-62 Latium
IT-75 Apulia
IT-82 Sicily
IT-88 Sardinia
JO-AM Amman
KE-30 Nairobi Area
KR-43 North Chungcheong
KR-44 South Chungcheong
KR-45 North Jeolla
KR-46 South Jeolla
KR-47 North Gyeongsang
KR-48 South Gyeongsang
MY-14 Kuala Lumpur
NL-FR Friesland
NL-NB North Brabant
NL-NH North Holland
NL-ZH South Holland
OM-MA Muscat
PL-02 Lower Silesia
PL-06 Lublin
PL-08 Lubusz
PL-10 Łódź Voivodeship
PL-12 Lesser Poland
PL-14 Mazovia
PL-16 Opole Voivodeship
PL-18 Subcarpathia
PL-20 Podlasie
PL-22 Pomerania
PL-24 Silesia
PL-28 Warmia-Masuria
PL-30 Greater Poland
PL-32 West Pomerania
PT-11 Lisbon
RU-KDA Krasnodar Krai
RU-LEN Leningrad Oblast
RU-MOS Moscow Oblast
RU-MOW Moscow
RU-NIZ Nizhny Novgorod Oblast
RU-PER Perm Krai
RU-PRI Primorye
RU-SA Sakha
RU-SPE St.-Petersburg
SA-01 Riyadh Region
SA-02 Mecca Region
SA-03 Medina Region
SA-04 Eastern Province
SE-M Skåne
SK-BC Banska Bystrica
SK-BL Bratislava
SK-KI Kosice
SK-NI Nitra
SK-TA Trnava
SK-ZI Zilina
TH-10 Bangkok
UA-51 Odessa
UZ-TK Tashkent
VN-HN Hanoi
"""
