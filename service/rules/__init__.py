"""Pure, I/O-free clinical rule engines (issue 4).

Each module holds one family of rules and reads its numbers from ``config.clinical_data``:
``scales``, ``trials``, ``eligibility``, ``screening``, ``checklist``, ``motor_threshold``,
``safety_table``, ``protocols``, ``dose``, ``adverse_events`` and ``gates`` (the one function the
session-start gate calls). Invalid input raises ``errors.RuleInputError`` naming the field.
"""
