"""Realistic manifest rows of returnees from scam compounds: Indonesian names (single names,
two and three parts), ages from 15 to 45 (about one in twelve a child, some with only an
estimated age or presumed children), origins weighted to NTT, NTB and Jawa Barat, exploited
in Myanmar or Cambodia. Deterministic for a seed; no real person."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from datetime import date

from service.arrivals.manifest import COLUMNS

GIVEN_F = (
    "Siti",
    "Dewi",
    "Sri",
    "Nur",
    "Maria",
    "Yuliana",
    "Ani",
    "Rina",
    "Wulan",
    "Fitri",
    "Agustina",
    "Yohana",
    "Ratna",
    "Lestari",
    "Intan",
    "Novita",
    "Selvi",
    "Marlina",
)
GIVEN_M = (
    "Yohanes",
    "Agus",
    "Budi",
    "Ahmad",
    "Muhammad",
    "Dedi",
    "Yosef",
    "Fransiskus",
    "Rizky",
    "Andi",
    "Hendra",
    "Petrus",
    "Lalu",
    "Iwan",
    "Arif",
    "Dimas",
    "Stefanus",
)
FAMILY = (
    "Bria",
    "Seran",
    "Taek",
    "Nahak",
    "Lado",
    "Saputra",
    "Hidayat",
    "Pratama",
    "Nugraha",
    "Setiawan",
    "Kurniawan",
    "Rahayu",
    "Wahyudi",
    "Mulyadi",
    "Sumarni",
    "Tefa",
    "Kolo",
    "Fahmi",
    "Hakim",
    "Sanjaya",
)
ORIGINS = (
    ("Nusa Tenggara Timur", ("Kupang", "Timor Tengah Selatan", "Belu", "Malaka", "Sikka"), 4),
    ("Nusa Tenggara Barat", ("Lombok Timur", "Lombok Tengah", "Sumbawa", "Bima"), 3),
    ("Jawa Barat", ("Cianjur", "Sukabumi", "Indramayu", "Karawang", "Bandung"), 3),
    ("Jawa Timur", ("Malang", "Banyuwangi", "Jember"), 1),
    ("Sumatera Utara", ("Medan", "Deli Serdang"), 1),
)
PLACES = {"MM": ("Myawaddy", "Shwe Kokko", "KK Park"), "KH": ("Sihanoukville", "Bavet")}
MISSIONS = {"MM": "KBRI Yangon", "KH": "KBRI Phnom Penh"}


def returnees(
    count: int, seed: int = 2025, today: date = date(2025, 3, 18)
) -> Iterator[dict[str, str]]:
    rng = random.Random(seed)
    provinces = [p for p, _, weight in ORIGINS for _ in range(weight)]
    districts = {p: d for p, d, _ in ORIGINS}
    for _ in range(count):
        female = rng.random() < 0.35
        given = rng.choice(GIVEN_F if female else GIVEN_M)
        parts = rng.choice((1, 2, 2, 2, 3))
        name = " ".join([given, *rng.sample(FAMILY, parts - 1)]) if parts > 1 else given
        age = rng.choice(range(15, 18)) if rng.random() < 0.08 else rng.randint(18, 45)
        country = "MM" if rng.random() < 0.8 else "KH"
        province = rng.choice(provinces)
        row = {
            "nama_lengkap": name,
            "jenis_kelamin": "perempuan" if female else "laki-laki",
            "kewarganegaraan": "ID",
            "provinsi_asal": province,
            "kabupaten_kota_asal": rng.choice(districts[province]),
            "saluran_rujukan": "embassy",
            "organisasi_perujuk": MISSIONS[country],
            "negara_eksploitasi": country,
            "tempat_eksploitasi": rng.choice(PLACES[country]),
            "jenis_eksploitasi": "forced_criminality",
            "cara_perekrutan": rng.choice(
                ("online_advertisement", "family_or_friend", "job_offer")
            ),
            "cara_pengendalian": "withheld_documents, restricted_movement",
            "sektor_kerja": "online scam",
        }
        if rng.random() < 0.85:
            born = date(today.year - age, rng.randint(1, 12), rng.randint(1, 28))
            row["tanggal_lahir"] = born.isoformat()
        elif age < 18 and rng.random() < 0.5:
            row["diduga_anak"] = "ya"
        else:
            row["perkiraan_usia"] = str(age)
        if rng.random() < 0.6:
            row["jenis_dokumen"], row["nomor_dokumen"] = (
                "passport",
                f"C{rng.randint(1000000, 9999999)}",
            )
        yield row


def manifest_csv(rows: Iterator[dict[str, str]] | list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.header for c in COLUMNS])
    for row in rows:
        writer.writerow([row.get(c.header, "") for c in COLUMNS])
    return out.getvalue().encode()
