"""Validation of a workflow document (SPEC §1): every problem at once, with the SPEC's codes.

Each part's shape is checked against the document's schema (engine/schema/document.json);
the graph's rules (ids, containers, edges, cycles, references, each node type's config) are
checked here by hand, one module per concern, all mixed into one pass (`check._Check`).
"""

from engine.validation.check import all_problems, errors_only, validate_document

__all__ = ["all_problems", "errors_only", "validate_document"]
