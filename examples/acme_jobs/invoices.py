"""``acme-invoice-total``: a plain handler of the validated payload."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.jobs.job_types import job_type

CENT = Decimal("0.01")


class InvoiceLine(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    description: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=1, le=1_000_000)
    unit_price: Decimal = Field(ge=0, le=1_000_000, decimal_places=4, alias="unitPrice")


class InvoicePayload(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    currency: str = Field(pattern=r"^[A-Z]{3}$")
    lines: list[InvoiceLine] = Field(min_length=1, max_length=500)
    tax_rate_percent: Decimal = Field(default=Decimal(0), ge=0, le=100, alias="taxRatePercent")


@job_type(
    "acme-invoice-total",
    payload=InvoicePayload,
    example={"currency": "EUR", "taxRatePercent": 23,
             "lines": [{"description": "widget", "quantity": 3, "unitPrice": "2.50"}]},
    description="ACME: an invoice's subtotal, tax and total, to the cent (half up).",
)
def invoice_total(payload: InvoicePayload) -> dict[str, Any]:
    # Decimal, not float: 3 x 0.10 must be 0.30, and amounts go back as strings so
    # that no JSON reader turns them into floats again.
    subtotal = sum((line.unit_price * line.quantity for line in payload.lines), Decimal(0))
    subtotal = subtotal.quantize(CENT, ROUND_HALF_UP)
    tax = (subtotal * payload.tax_rate_percent / 100).quantize(CENT, ROUND_HALF_UP)
    return {
        "currency": payload.currency,
        "lines": len(payload.lines),
        "subtotal": str(subtotal),
        "tax": str(tax),
        "total": str(subtotal + tax),
    }
