{
    "name": "Customer Portal",
    "summary": "Share links: read one document without an account",
    "version": "1.0",
    "depends": ["mail"],
    "data": ["security/ir.model.access.csv"],
}
