{
    "name": "Test RPC public methods",
    "summary": "A model with one @public method and one that is not, for the RPC tests",
    "depends": ["base"],
    "data": ["security/ir.model.access.csv"],
}
