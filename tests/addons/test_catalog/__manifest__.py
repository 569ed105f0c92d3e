{
    "name": "Test catalog",
    "summary": "Models with every field type, for the kernel's tests",
    "depends": ["base"],
    "data": ["security/ir.model.access.csv"],
}
