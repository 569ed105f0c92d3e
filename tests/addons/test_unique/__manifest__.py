{
    "name": "Test unique",
    "summary": "A model with unique constraints and no Python check (tests/test_unique.py)",
    "depends": ["base"],
    "data": ["security/ir.model.access.csv"],
}
