{
    "name": "Sales (documentation example)",
    "depends": ["base"],
    "data": ["security/doc_sale_security.xml", "security/ir.model.access.csv"],
}
