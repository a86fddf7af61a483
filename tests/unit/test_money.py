"""Amounts from Shopify's decimal strings, with each currency's decimals, never through float."""

import pytest

from bot.blocks.money import decimals, format_money


@pytest.mark.parametrize("amount, currency, shown", [
    ("1240.00", "USD", "1,240.00 USD"),
    ("12000", "JPY", "12,000 JPY"),           # no minor unit
    ("12000.00", "JPY", "12,000 JPY"),
    ("1.250", "KWD", "1.250 KWD"),             # three decimals
    ("0.1", "BHD", "0.100 BHD"),
    ("99999999999999999.99", "USD", "99,999,999,999,999,999.99 USD"),  # float would print ...000.00
    ("0.105", "EUR", "0.10 EUR"),              # banker's rounding of a half cent, exactly, not 0.10499…
    ("2.675", "USD", "2.68 USD"),              # float(2.675) is 2.67499…: a float formatter says 2.67
    ("n/a", "USD", "n/a USD"),
    ("NaN", "USD", "NaN USD"),
])
def test_format_money(amount, currency, shown):
    assert format_money(amount, currency) == shown


def test_decimals_default_to_two_and_ignore_case():
    assert (decimals("usd"), decimals("jpy"), decimals("kwd"), decimals("")) == (2, 0, 3, 2)
