"""Payments pages, one module per page group (batches, mandates, payments, statements, dunning)."""
