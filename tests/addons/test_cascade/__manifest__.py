{
    "name": "Test cascade",
    "summary": "Partners in teams of units, for the rule values' cascade tests",
    "depends": ["base"],
    "data": ["security/ir.model.access.csv"],
}
