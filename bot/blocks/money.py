"""Amounts as people read them: from the exact decimal string Shopify sends, never through float, with each
currency's own number of decimals (ISO 4217 minor units: JPY none, KWD three; https://www.iso.org/iso-4217-currency-codes.html,
and Shopify's own `currency_decimals`, https://shopify.dev/docs/api/liquid/filters/money)."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

# Currencies whose minor unit is not 2 (ISO 4217 table A.1); every other code has 2.
MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
                     "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    "CLF": 4, "UYW": 4,
}


def decimals(currency: str) -> int:
    """How many decimals `currency` is written with."""
    return MINOR_UNITS.get((currency or "").upper(), 2)


def format_money(amount: object, currency: str) -> str:
    """"1,240.00 USD", "12,000 JPY", "1.250 KWD"; an amount that is not a number is shown as it came."""
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return f"{amount} {currency}".strip()
    if not value.is_finite():
        return f"{amount} {currency}".strip()
    places = decimals(currency)
    exact = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    return f"{exact:,.{places}f} {currency}".strip()
