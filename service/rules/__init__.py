"""Pure, I/O-free clinical rule engines (the rules and their sources: ``docs/clinical-rules.md``).

Each module holds one family of rules and reads its numbers from ``config.clinical_data``:
``scales``, ``trials``, ``eligibility``, ``screening``, ``checklist``, ``motor_threshold``,
``safety_table``, ``protocols``, ``dose``, ``adverse_events`` and ``gates`` (the one function the
session-start gate calls). Invalid input raises ``errors.RuleInputError`` naming the field.
"""
