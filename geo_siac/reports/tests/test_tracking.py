import re

from geo_siac.reports.tracking import ALPHABET, new_tracking_code, normalize_tracking_code


def test_tracking_codes_are_unique_over_100000_draws_and_readable():
    codes = [new_tracking_code("PA") for _ in range(100_000)]
    assert len(set(codes)) == len(codes)
    pattern = re.compile(rf"^PA-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}$")
    assert all(pattern.match(code) for code in codes)
    assert not set("01ILOU") & set(ALPHABET)


def test_codes_typed_or_dictated_are_normalised():
    assert normalize_tracking_code(" pa 7k3m q9xd ") == "PA-7K3M-Q9XD"
    assert normalize_tracking_code("PA-7K3M-Q9XD") == "PA-7K3M-Q9XD"
